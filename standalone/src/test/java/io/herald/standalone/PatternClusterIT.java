package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pattern subscriptions in a cluster of separate JVMs (replay, notifier, two gateways, each its
 * own fat jar): an event reaches only the gateways holding a matching pattern, and a pattern
 * client whose gateway is killed resumes on the other exactly, topics that first appeared while
 * it was away included.
 */
class PatternClusterIT {

  private static final int STARTUP_SECONDS = 150;
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final RoleCluster cluster = RoleCluster.fromModule("pattern");

  private Process role(String jar, String name, Map<String, String> env) throws IOException {
    return cluster.start(jar, name, env);
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    cluster.close();
  }

  @Test
  @DisplayName("Pattern events reach only the gateway holding the pattern; after kill -9 the client resumes exactly on the other")
  void routedAndResumed() throws Exception {
    int notifierPort = Ports.freePort();
    int gw1Port = Ports.freePort();
    int gw2Port = Ports.freePort();
    int gw1Admin = Ports.freePort();
    int gw2Admin = Ports.freePort();
    role("replay-verticle/target/herald-replay.jar", "replay", Map.of());
    role("notifier-verticle/target/herald-notifier.jar", "notifier", Map.of("HERALD_NOTIFIER_PORT", "" + notifierPort));
    Process gw1 = role("gateway-verticle/target/herald-gateway.jar", "gateway1",
      Map.of("HERALD_GATEWAY_PORT", "" + gw1Port, "HERALD_ADMIN_PORT", "" + gw1Admin));
    role("gateway-verticle/target/herald-gateway.jar", "gateway2",
      Map.of("HERALD_GATEWAY_PORT", "" + gw2Port, "HERALD_ADMIN_PORT", "" + gw2Admin));

    String pattern = "/events?pattern=" + URLEncoder.encode("orders.*", StandardCharsets.UTF_8);
    Vertx vertx = Vertx.vertx();
    try {
      HttpClient http = vertx.createHttpClient();
      SseClient onGw1 = cluster.subscribeWhenReady(http, gw1Port, pattern, Duration.ofSeconds(STARTUP_SECONDS));
      SseClient onGw2 = cluster.subscribeWhenReady(http, gw2Port, "/events?topic=other", Duration.ofSeconds(STARTUP_SECONDS));
      awaitReady(notifierPort);

      publish(notifierPort, "orders.a", "a1");
      publish(notifierPort, "nomatch", "n1");
      publish(notifierPort, "orders.b", "b1");
      publish(notifierPort, "other", "marker1");
      assertThat(onGw1.awaitAppEvents(2, WAIT)).extracting(SseEvent::data).containsExactly("a1", "b1");
      assertThat(onGw2.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("marker1");
      // gateway1 received the two matching events on its pattern address; gateway2, holding no
      // pattern, received none (the marker proves its delivery happened after them).
      assertThat(metric(gw1Admin, "herald_pattern_events_received_total")).isGreaterThanOrEqualTo(2);
      assertThat(metric(gw2Admin, "herald_pattern_events_received_total")).isZero();
      String lastId = onGw1.appEvents().get(1).id();

      gw1.destroyForcibly(); // SIGKILL: no clean end for its clients
      assertThat(gw1.waitFor(10, TimeUnit.SECONDS)).isTrue();
      publish(notifierPort, "orders.a", "a2");
      publish(notifierPort, "orders.new", "new1"); // a topic that did not exist before
      publish(notifierPort, "nomatch", "n2");
      publish(notifierPort, "orders.b", "b2");

      try (SseClient moved = SseClient.open(http, gw2Port, pattern, "Last-Event-ID", lastId)) {
        moved.await(l -> l.stream().anyMatch(e -> "herald.ready".equals(e.type())), WAIT);
        assertThat(moved.events().stream().filter(e -> "reset".equals(e.type()))).isEmpty();
        assertThat(data(moved.appEvents())).containsExactly("a2", "new1", "b2");
        publish(notifierPort, "orders.c", "c1");
        moved.await(l -> l.stream().anyMatch(e -> "c1".equals(e.data())), WAIT);
        assertThat(data(moved.appEvents())).containsExactly("a2", "new1", "b2", "c1");
        // c1 may have come from the log (the pattern channel's catch-up) while the replay role
        // learns the new route: the announcement travels through a cluster that has just lost a
        // member, and is repeated every PatternRoutes.REFRESH_MILLIS. Once routed, pattern events
        // reach gateway 2 on its pattern address, and the client still gets each one once, in order.
        List<String> expected = new java.util.ArrayList<>(List.of("a2", "new1", "b2", "c1"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (metric(gw2Admin, "herald_pattern_events_received_total") < 1) {
          assertThat(System.nanoTime()).as("the replay role routes orders.* to gateway 2").isLessThan(deadline);
          String d = "d" + expected.size();
          publish(notifierPort, "orders.d", d);
          expected.add(d);
          moved.await(l -> l.stream().anyMatch(e -> d.equals(e.data())), WAIT);
        }
        assertThat(data(moved.appEvents())).containsExactlyElementsOf(expected);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static List<String> data(List<SseEvent> events) {
    return events.stream().map(SseEvent::data).collect(Collectors.toList());
  }

  private static void awaitReady(int notifierPort) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STARTUP_SECONDS);
    while (!Ports.accepts(notifierPort)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the notifier did not listen within " + STARTUP_SECONDS + " s");
      }
      Thread.sleep(200);
    }
  }

  private static void publish(int port, String topic, String data) throws Exception {
    String body = new io.vertx.core.json.JsonObject().put("topic", topic).put("data", data).encode();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      HttpResponse<String> r = HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/publish"))
        .header("Authorization", "Bearer dev-publisher-key").header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 || r.statusCode() == 201 || r.statusCode() == 202) {
        return;
      }
      if ((r.statusCode() != 503 && r.statusCode() != 504) || System.nanoTime() > deadline) {
        throw new AssertionError("publish of " + topic + " answered " + r.statusCode() + ": " + r.body());
      }
      Thread.sleep(200); // the cluster is still forming (503): a bounded retry, never an assertion on time
    }
  }

  /** A counter's value from a node's /metrics (0 when not there yet). */
  private static double metric(int adminPort, String name) throws Exception {
    HttpResponse<String> r = HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
      .build(), HttpResponse.BodyHandlers.ofString());
    Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*})? ([0-9.eE+-]+)$").matcher(r.body());
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(2));
    }
    return sum;
  }
}
