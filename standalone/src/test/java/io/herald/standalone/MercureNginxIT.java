package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import io.herald.testsupport.SseClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.herald.standalone.MercureClusterIT.exactly;
import static io.herald.standalone.MercureClusterIT.last;
import static io.herald.standalone.MercureClusterIT.subscriber;
import static io.herald.standalone.MercurePublishTest.PUBLISHER_SECRET;
import static io.herald.standalone.MercurePublishTest.SUBSCRIBER_SECRET;
import static io.herald.standalone.MercurePublishTest.enc;
import static io.herald.standalone.MercurePublishTest.form;
import static io.herald.standalone.MercurePublishTest.publisherToken;
import static io.herald.standalone.NginxFront.UPSTREAM_HEADER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Mercure hub of a cluster behind one address: Debian's nginx with the shipped
 * {@code docker/nginx/herald.conf} ({@link NginxFront}) in front of two gateway processes (with
 * a replay and a notifier process). Subscribers (token in the cookie, or in {@code access_token})
 * and a publisher (form POST, Bearer) use nginx only; after the gateway of a subscriber is killed
 * with SIGKILL, publishes still succeed through nginx, and the subscribers resume through it on
 * the other gateway with {@code Last-Event-ID} (the header, or the {@code lastEventID}
 * parameter): exactly the missed updates, private ones only where granted, then live.
 */
class MercureNginxIT {

  private static final Duration STARTUP = Duration.ofSeconds(150);
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final RoleCluster cluster = new RoleCluster(Path.of(".."), Path.of("target", "it-logs"), "mercure-nginx",
    List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
  private final String base = "https://example.com/" + UUID.randomUUID();
  private final String book1 = base + "/books/1";
  private final String book2 = base + "/books/2";
  private final List<SseClient> streams = new ArrayList<>();
  private NginxFront nginx;
  private Vertx vertx;
  private HttpClient http;

  @AfterEach
  void stopAll() throws Exception {
    streams.forEach(SseClient::close);
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (nginx != null) {
      nginx.close();
    }
    cluster.close();
  }

  @Test
  @DisplayName("Through nginx with the shipped config, one address subscribes and publishes; after kill -9 of a gateway, subscribers resume through it exactly")
  void oneAddress() throws Exception {
    ExternalTools.requireFile(NginxFront.NGINX, "MercureNginxIT needs Debian's nginx (apt-get install nginx)");
    int gw1 = Ports.freePort();
    int gw2 = Ports.freePort();
    cluster.start("replay-verticle/target/herald-replay.jar", "replay", Map.of());
    cluster.start("notifier-verticle/target/herald-notifier.jar", "notifier", Map.of("HERALD_NOTIFIER_PORT", "" + Ports.freePort()));
    Map<Integer, Process> gateways = new LinkedHashMap<>();
    gateways.put(gw1, cluster.start("gateway-verticle/target/herald-gateway.jar", "gateway1", hub(gw1)));
    gateways.put(gw2, cluster.start("gateway-verticle/target/herald-gateway.jar", "gateway2", hub(gw2)));
    nginx = NginxFront.start("MercureNginxIT", gw1, gw2);
    vertx = Vertx.vertx();
    http = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(16)); // one connection per stream
    String anyToken = subscriber(new JsonArray().add("*"));
    for (int port : gateways.keySet()) {
      awaitServes(port, anyToken); // so that nginx finds both ready (a gateway answers 503 until the replay role is in reach)
    }
    awaitPublishing(base + "/warm-up");

    String pattern = "match_urlpattern=" + enc(base + "/books/:id");
    String cookie = "mercureAuthorization=" + subscriber(new JsonArray().add(book1));
    String template = "topic=" + enc(base + "/books/{id}") + "&access_token=" + anyToken;
    SseClient byCookie = open(pattern, "Cookie", cookie);
    SseClient byQuery = open(template);
    assertThat(byCookie.response().getHeader("Content-Type")).startsWith("text/event-stream");
    assertThat(byCookie.response().getHeader("Cache-Control")).contains("no-store");
    publish(book1, "b1 public 1");
    publish(book1, "b1 private 1", "private", "on");
    publish(book2, "b2 private 1", "private", "on");
    publish(book2, "b2 public 1");
    exactly(byCookie, "b1 public 1", "b1 private 1", "b2 public 1");
    exactly(byQuery, "b1 public 1", "b1 private 1", "b2 private 1", "b2 public 1");
    String upstream = byCookie.response().getHeader(UPSTREAM_HEADER);
    assertThat(upstream).as("the test's upstream header").isNotNull();
    String cookieLast = last(byCookie).id();
    String queryLast = last(byQuery).id();

    cluster.kill(gateways.get(NginxFront.upstreamPort(upstream))); // SIGKILL
    byCookie.awaitEnd(WAIT);
    // nginx cannot connect to the dead gateway and passes each publish to the other one.
    publish(book2, "b2 private 2", "private", "on");
    publish(book1, "b1 public 2");
    publish(book1, "b1 private 2", "private", "on");
    publish(book2, "b2 public 2");

    SseClient cookieBack = open(pattern, "Cookie", cookie, "Last-Event-ID", cookieLast);
    assertThat(cookieBack.response().getHeader(UPSTREAM_HEADER)).as("resumed on the surviving gateway").isNotEqualTo(upstream);
    assertThat(cookieBack.response().getHeader("Last-Event-ID")).as("the answer's Last-Event-ID passes nginx")
      .isNotNull().isNotEqualTo("earliest");
    exactly(cookieBack, "b1 public 2", "b1 private 2", "b2 public 2");
    byQuery.close();
    SseClient queryBack = open(template + "&lastEventID=" + enc(queryLast));
    exactly(queryBack, "b2 private 2", "b1 public 2", "b1 private 2", "b2 public 2");

    publish(book1, "b1 private 3", "private", "on");
    publish(book2, "b2 private 3", "private", "on");
    publish(book2, "b2 public 3");
    exactly(cookieBack, "b1 public 2", "b1 private 2", "b2 public 2", "b1 private 3", "b2 public 3");
    exactly(queryBack, "b2 private 2", "b1 public 2", "b1 private 2", "b2 public 2", "b1 private 3", "b2 private 3", "b2 public 3");
    cluster.assertAlive();
  }

  private static Map<String, String> hub(int port) {
    return Map.of("HERALD_GATEWAY_PORT", "" + port, "HERALD_GATEWAY_MERCURE_ENABLED", "true",
      "HERALD_GATEWAY_MERCURE_PUBLISHER_JWT_KEY", PUBLISHER_SECRET,
      "HERALD_GATEWAY_MERCURE_SUBSCRIBER_JWT_KEY", SUBSCRIBER_SECRET,
      "HERALD_GATEWAY_TRUSTED_PROXIES", "127.0.0.1");
  }

  /** A Mercure stream through nginx. Headers: name, value, name, value... */
  private SseClient open(String query, String... headers) throws Exception {
    SseClient s = SseClient.open(http, nginx.port, "/.well-known/mercure?" + query, headers);
    streams.add(s);
    return s;
  }

  /** Waits until the gateway on {@code port} serves a Mercure stream itself (503 until the replay role is in reach). */
  private void awaitServes(int port, String token) throws Exception {
    cluster.openWhenServed(http, port, "/.well-known/mercure?match=" + enc(base + "/probe"), STARTUP,
      "Authorization", "Bearer " + token).close();
  }

  /** Publishes through nginx until the hub answers 200 (503 while the cluster forms). */
  private void awaitPublishing(String topic) throws Exception {
    cluster.retryUntilDone("publishing through nginx", STARTUP, () -> {
      HttpResponse<String> r = post(topic, "warm-up");
      return r != null && r.statusCode() == 200 ? null : r == null ? "no answer" : r.statusCode() + " " + r.body();
    });
  }

  private void publish(String topic, String data, String... fields) throws Exception {
    HttpResponse<String> r = post(topic, data, fields);
    assertThat(r).as("publish of %s", data).isNotNull();
    assertThat(r.statusCode()).as("publish of %s: %s", data, r.body()).isEqualTo(200);
  }

  /** A form POST through nginx, as Mercure's documentation shows; null when nginx does not answer. */
  private HttpResponse<String> post(String topic, String data, String... fields) throws Exception {
    List<String> pairs = new ArrayList<>(List.of("topic", topic, "data", data));
    pairs.addAll(List.of(fields));
    try {
      return MercurePublishTest.HTTP.send(HttpRequest.newBuilder(nginx.uri("/.well-known/mercure"))
        .timeout(WAIT).header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", "Bearer " + publisherToken(new JsonArray().add("*")))
        .POST(HttpRequest.BodyPublishers.ofString(form(pairs.toArray(new String[0])))).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    }
  }
}
