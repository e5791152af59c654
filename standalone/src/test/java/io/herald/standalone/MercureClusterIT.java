package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.herald.standalone.MercurePublishTest.PUBLISHER_SECRET;
import static io.herald.standalone.MercurePublishTest.SUBSCRIBER_SECRET;
import static io.herald.standalone.MercurePublishTest.enc;
import static io.herald.standalone.MercurePublishTest.form;
import static io.herald.standalone.MercurePublishTest.publisherToken;
import static io.herald.standalone.MercurePublishTest.sign;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Herald as a clustered Mercure hub, in separate JVMs (replay on real Redis, a notifier, two
 * gateways with the hub on, each its own fat jar): subscribers on gateway 1 (a 0.x URI template
 * with a 1.0 exact {@code match} in one stream, and a 1.0 {@code match_urlpattern} stream) receive
 * exactly what is published through gateway 2's {@code POST /.well-known/mercure} (each update
 * once, in publish order per topic), private updates only where their token grants them; after gateway 1 is killed with SIGKILL they reconnect to gateway
 * 2 with the {@code Last-Event-ID} of the last frame they received and get exactly what they
 * missed (each once, in order per topic, private ones only where granted), then live updates.
 * The frame ids are treated as opaque: whatever they are, the last one received is the resume point.
 */
class MercureClusterIT {

  private static final Duration STARTUP = Duration.ofSeconds(150);
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final RoleCluster cluster = new RoleCluster(Path.of(".."), Path.of("target", "it-logs"), "mercure",
    List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
  private final String base = "https://example.com/" + UUID.randomUUID();
  private final String book1 = base + "/books/1";
  private final String book2 = base + "/books/2";
  private final String other = base + "/other";
  private final String author1 = base + "/authors/1";
  private final String author2 = base + "/authors/2";
  private final String author3 = base + "/authors/3";
  private final List<SseClient> streams = new ArrayList<>();
  private Vertx vertx;
  private HttpClient http;
  private int publishPort;

  @AfterEach
  void stopAll() throws Exception {
    streams.forEach(SseClient::close);
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    cluster.close();
  }

  @Test
  @DisplayName("Mercure subscribers on one gateway get what is published through another, private ones only where granted, and after kill -9 resume exactly on the other")
  void publishAnywhereResumeAnywhere() throws Exception {
    int notifierPort = Ports.freePort();
    int gw1Port = Ports.freePort();
    int gw2Port = Ports.freePort();
    Map<String, String> replay = new HashMap<>();
    replay.put("HERALD_REPLAY_STORE", "redis");
    replay.put("HERALD_REPLAY_REDIS_URL", System.getenv().getOrDefault("HERALD_TEST_REDIS_URL", "redis://127.0.0.1:6379"));
    replay.put("HERALD_REPLAY_REDIS_KEY_PREFIX", "herald-mercure-cluster-it-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID() + ":");
    cluster.start("replay-verticle/target/herald-replay.jar", "replay", replay);
    cluster.start("notifier-verticle/target/herald-notifier.jar", "notifier", Map.of("HERALD_NOTIFIER_PORT", "" + notifierPort));
    Process gw1 = cluster.start("gateway-verticle/target/herald-gateway.jar", "gateway1", hub(gw1Port));
    cluster.start("gateway-verticle/target/herald-gateway.jar", "gateway2", hub(gw2Port));
    publishPort = gw2Port;
    vertx = Vertx.vertx();
    http = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(16)); // one connection per stream

    // S1: a 0.x URI template and a 1.0 exact match in one stream; its token grants book 1 and other.
    String s1Query = "topic=" + enc(base + "/books/{id}") + "&match=" + enc(other);
    String s1Token = "Bearer " + subscriber(new JsonArray().add(book1).add(other));
    // S2: a 1.0 URL pattern; its token grants author 1 only.
    String s2Query = "match_urlpattern=" + enc(base + "/authors/:id");
    String s2Token = "Bearer " + subscriber(new JsonArray().add(author1));
    SseClient s1 = openWhenReady(gw1Port, s1Query, s1Token);
    SseClient s2 = openWhenReady(gw1Port, s2Query, s2Token);
    awaitPublishing(base + "/warm-up");

    publish(book1, "b1 public 1");
    publish(book2, "b2 private 1", "private", "on");
    publish(author1, "a1 private 1", "private", "on");
    publish(book1, "b1 private 1", "private", "");
    publish(base + "/unmatched", "nobody");
    publish(other, "o public 1");
    publish(author2, "a2 private 1", "private", "on");
    publish(other, "o private 1", "private", "on");
    publish(author2, "a2 public 1");
    publish(book2, "b2 public 1");
    // Each private update a stream must not get is followed, on the same topic, by a public one it gets.
    exactly(s1, "b1 public 1", "b1 private 1", "o public 1", "o private 1", "b2 public 1");
    exactly(s2, "a1 private 1", "a2 public 1");
    assertThat(s1.appEvents()).extracting(SseEvent::id).doesNotContainNull().doesNotHaveDuplicates();
    String s1Last = last(s1).id();
    String s2Last = last(s2).id();

    cluster.kill(gw1); // SIGKILL: no clean end for its subscribers
    publish(book2, "b2 private 2", "private", "on");
    publish(book1, "b1 public 2");
    publish(author1, "a1 public 2");
    publish(other, "o private 2", "private", "on");
    publish(author2, "a2 private 2", "private", "on");
    publish(author3, "a3 public 1"); // a topic that did not exist before
    publish(book1, "b1 private 2", "private", "on");
    publish(author1, "a1 private 2", "private", "on");
    publish(other, "o public 2");
    publish(book2, "b2 public 2");

    SseClient s1Back = open(gw2Port, s1Query, s1Token, "Last-Event-ID", s1Last);
    SseClient s2Back = open(gw2Port, s2Query, s2Token, "Last-Event-ID", s2Last);
    List<String> s1Missed = exactly(s1Back, "b1 public 2", "o private 2", "b1 private 2", "o public 2", "b2 public 2");
    List<String> s2Missed = exactly(s2Back, "a1 public 2", "a3 public 1", "a1 private 2");

    // Live again, on the gateway that took them over; nothing withheld or already seen comes after.
    publish(book2, "b2 private 3", "private", "on");
    publish(author2, "a2 private 3", "private", "on");
    publish(other, "o private 3", "private", "on");
    publish(book2, "b2 public 3");
    publish(author1, "a1 private 3", "private", "on");
    publish(author2, "a2 public 3");
    List<String> s1All = exactly(s1Back, "b1 public 2", "o private 2", "b1 private 2", "o public 2", "b2 public 2",
      "o private 3", "b2 public 3");
    assertThat(s1All.subList(0, s1Missed.size())).as("the missed updates, then live ones").isEqualTo(s1Missed);
    List<String> s2All = exactly(s2Back, "a1 public 2", "a3 public 1", "a1 private 2", "a1 private 3", "a2 public 3");
    assertThat(s2All.subList(0, s2Missed.size())).as("the missed updates, then live ones").isEqualTo(s2Missed);
    cluster.assertAlive();
  }

  private Map<String, String> hub(int port) {
    return Map.of("HERALD_GATEWAY_PORT", "" + port, "HERALD_GATEWAY_MERCURE_ENABLED", "true",
      "HERALD_GATEWAY_MERCURE_PUBLISHER_JWT_KEY", PUBLISHER_SECRET,
      "HERALD_GATEWAY_MERCURE_SUBSCRIBER_JWT_KEY", SUBSCRIBER_SECRET);
  }

  /** A 0.x subscriber token: the mercure claim's subscribe selectors. */
  static String subscriber(JsonArray subscribe) throws Exception {
    return sign(new JsonObject().put("mercure", new JsonObject().put("subscribe", subscribe)), SUBSCRIBER_SECRET, "JWT");
  }

  private SseClient open(int port, String query, String token, String... headers) throws Exception {
    String[] all = new String[headers.length + 2];
    all[0] = "Authorization";
    all[1] = token;
    System.arraycopy(headers, 0, all, 2, headers.length);
    SseClient s = SseClient.open(http, port, "/.well-known/mercure?" + query, all);
    streams.add(s);
    return s;
  }

  /** Opens a stream once the gateway serves it (503 until the replay role is in reach). */
  private SseClient openWhenReady(int port, String query, String token) throws Exception {
    SseClient[] opened = new SseClient[1];
    cluster.retryUntilDone("gateway on " + port + " serving Mercure", STARTUP, () -> {
      if (!Ports.accepts(port)) {
        return "not listening";
      }
      try {
        opened[0] = open(port, query, token);
        return null;
      } catch (Exception e) {
        return e.toString();
      }
    });
    return opened[0];
  }

  /** Publishes to a topic no one reads until the hub answers 200 (503 while the cluster forms). */
  private void awaitPublishing(String topic) throws Exception {
    cluster.retryUntilDone("publishing through gateway 2", STARTUP, () -> {
      HttpResponse<String> r = post(topic, "warm-up");
      return r != null && r.statusCode() == 200 ? null : r == null ? "no answer" : r.statusCode() + " " + r.body();
    });
  }

  /** Publishes through gateway 2 as Mercure's documentation shows (form POST, Bearer token). */
  private void publish(String topic, String data, String... fields) throws Exception {
    HttpResponse<String> r = post(topic, data, fields);
    assertThat(r).as("publish of %s", data).isNotNull();
    assertThat(r.statusCode()).as("publish of %s: %s", data, r.body()).isEqualTo(200);
    assertThat(r.body()).as("the update's id").isNotBlank();
  }

  private HttpResponse<String> post(String topic, String data, String... fields) throws Exception {
    List<String> pairs = new ArrayList<>(List.of("topic", topic, "data", data));
    pairs.addAll(List.of(fields));
    try {
      return MercurePublishTest.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + publishPort + "/.well-known/mercure"))
        .timeout(WAIT).header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", "Bearer " + publisherToken(new JsonArray().add("*")))
        .POST(HttpRequest.BodyPublishers.ofString(form(pairs.toArray(new String[0])))).build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException notListening) {
      return null;
    }
  }

  /**
   * Waits until every one of {@code expected} (in publish order; an update's topic is its first
   * word) has arrived on {@code s}, then asserts that the stream holds exactly them, each once,
   * in publish order within each topic (Herald orders a stream per topic; updates of different
   * topics may interleave otherwise, in a cluster). Returns the updates as received.
   */
  static List<String> exactly(SseClient s, String... expected) throws InterruptedException {
    List<String> want = List.of(expected);
    s.await(l -> data(l).containsAll(want), WAIT);
    List<String> got = data(s.appEvents());
    assertThat(got).containsExactlyInAnyOrderElementsOf(want);
    for (String topic : want.stream().map(MercureClusterIT::topicOf).distinct().toList()) {
      assertThat(got.stream().filter(d -> topicOf(d).equals(topic)).toList()).as("the updates of %s in %s", topic, got)
        .isEqualTo(want.stream().filter(d -> topicOf(d).equals(topic)).toList());
    }
    return got;
  }

  static String topicOf(String update) {
    return update.substring(0, update.indexOf(' '));
  }

  static List<String> data(List<SseEvent> events) {
    return events.stream().map(SseEvent::data).toList();
  }

  static SseEvent last(SseClient s) {
    List<SseEvent> events = s.appEvents();
    return events.get(events.size() - 1);
  }
}
