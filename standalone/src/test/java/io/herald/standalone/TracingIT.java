package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tracing across a cluster of role processes (one JVM per role, as docs/clustering.md runs
 * them), each exporting to a real OTLP/HTTP receiver: the spans of one publish form one tree,
 * rooted at the producer's {@code traceparent}, whatever process made them.
 */
class TracingIT {

  private static final int STARTUP_SECONDS = 150;

  private final RoleCluster cluster = RoleCluster.fromModule("tracing");
  private final SecureRandom random = new SecureRandom();

  private Process role(String jar, String name, Map<String, String> env) throws IOException {
    ProcessBuilder pb = cluster.builder(jar, name);
    pb.environment().keySet().removeIf(k -> k.startsWith("OTEL_"));
    // Export every 200 ms rather than every 5 s: the test waits for spans, not for the SDK's default.
    pb.environment().put("OTEL_BSP_SCHEDULE_DELAY", "200");
    pb.environment().putAll(env);
    return cluster.start(pb);
  }

  private static Map<String, String> traced(OtlpReceiver receiver, String service, String... more) {
    Map<String, String> env = new java.util.HashMap<>(Map.of("HERALD_TRACING_OTLP_ENDPOINT", receiver.endpoint(),
      "HERALD_TRACING_SERVICE_NAME", service));
    for (int i = 0; i + 1 < more.length; i += 2) {
      env.put(more[i], more[i + 1]);
    }
    return env;
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    cluster.close();
  }

  @Test
  @DisplayName("A producer's traceparent is the parent of the publish; append and one fan-out per gateway are its children, across JVMs")
  void spanTreeAcrossProcesses() throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver()) {
      int notifierPort = Ports.freePort();
      int gw1Port = Ports.freePort();
      int gw2Port = Ports.freePort();
      int gw3Port = Ports.freePort();
      role("replay-verticle/target/herald-replay.jar", "replay", traced(receiver, "herald-replay"));
      role("notifier-verticle/target/herald-notifier.jar", "notifier",
        traced(receiver, "herald-notifier", "HERALD_NOTIFIER_PORT", "" + notifierPort));
      role("gateway-verticle/target/herald-gateway.jar", "gateway1",
        traced(receiver, "herald-gw1", "HERALD_GATEWAY_PORT", "" + gw1Port));
      role("gateway-verticle/target/herald-gateway.jar", "gateway2",
        traced(receiver, "herald-gw2", "HERALD_GATEWAY_PORT", "" + gw2Port));
      // Tracing off on this one: it gets traced events (the trace rides in the event) and delivers them.
      role("gateway-verticle/target/herald-gateway.jar", "gateway3", Map.of("HERALD_GATEWAY_PORT", "" + gw3Port));

      Vertx vertx = Vertx.vertx();
      try {
        HttpClient http = vertx.createHttpClient();
        SseClient a = subscribeWhenReady(http, gw1Port, "/events?topic=orders");
        SseClient b = subscribeWhenReady(http, gw1Port, "/events?topic=orders");
        SseClient c = subscribeWhenReady(http, gw2Port, "/events?topic=orders");
        SseClient d = subscribeWhenReady(http, gw3Port, "/events?topic=orders");
        awaitPublishes(notifierPort);

        // A new subscription may take a moment to reach every node's routing (a gateway then
        // fills the event from the store, which makes no span by design): publish traced
        // events until one reached both traced gateways live, then check that trace whole.
        String traceId = null;
        String producerSpan = null;
        List<OtlpReceiver.Span> trace = List.of();
        long seq = -1;
        String data = null;
        for (int attempt = 0; attempt < 10; attempt++) {
          String tid = hex(16);
          String sid = hex(8);
          HttpResponse<String> r = publish(notifierPort, "{\"topic\":\"orders\",\"data\":\"o" + attempt + "\"}",
            "00-" + tid + "-" + sid + "-01", "vendor=x");
          assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
          long s = new JsonObject(r.body()).getJsonArray("events").getJsonObject(0).getLong("seq");
          List<OtlpReceiver.Span> got = receiver.await(all -> ofTrace(all, tid).stream()
            .filter(x -> x.name().equals("herald fan-out")).count() >= 2, Duration.ofSeconds(15));
          if (ofTrace(got, tid).stream().filter(x -> x.name().equals("herald fan-out")).count() >= 2) {
            traceId = tid;
            producerSpan = sid;
            seq = s;
            data = "o" + attempt;
            // Each process exports on its own schedule: wait for the publish and the append too.
            trace = receiver.await(all -> ofTrace(all, tid).stream().anyMatch(x -> x.name().equals("herald append"))
                && ofTrace(all, tid).stream().anyMatch(x -> x.name().equals("herald publish")),
              Duration.ofSeconds(15));
            break;
          }
        }
        assertThat(traceId).as("no traced publish reached both traced gateways live; spans: " + receiver.spans()).isNotNull();
        List<OtlpReceiver.Span> spans = ofTrace(trace, traceId);
        long stored = seq;

        OtlpReceiver.Span pub = one(spans, "herald publish");
        assertThat(pub.parentSpanId()).as("the publish's parent is the producer's span").isEqualTo(producerSpan);
        assertThat(pub.service()).isEqualTo("herald-notifier");
        assertThat(pub.resource().get("herald.roles")).isEqualTo("notifier");
        assertThat(pub.kind()).as("SPAN_KIND_SERVER").isEqualTo(2);
        assertThat(pub.attributes()).containsEntry("herald.topic", "orders").containsEntry("herald.seq", seq)
          .containsEntry("herald.events", 1L).containsEntry("herald.source", "http");

        OtlpReceiver.Span append = one(spans, "herald append");
        assertThat(append.parentSpanId()).isEqualTo(pub.spanId());
        assertThat(append.service()).isEqualTo("herald-replay");
        assertThat(append.attributes()).containsEntry("herald.topic", "orders").containsEntry("herald.seq", seq);

        List<OtlpReceiver.Span> fanOuts = spans.stream().filter(x -> x.name().equals("herald fan-out")).toList();
        assertThat(fanOuts).as("one fan-out per traced gateway, not one per connection").hasSize(2);
        assertThat(fanOuts).allSatisfy(f -> {
          assertThat(f.parentSpanId()).isEqualTo(pub.spanId());
          assertThat(f.attributes()).containsEntry("herald.topic", "orders").containsEntry("herald.seq", stored);
        });
        assertThat(fanOuts).extracting(f -> f.service() + " " + f.attributes().get("herald.connections"))
          .containsExactlyInAnyOrder("herald-gw1 2", "herald-gw2 1");

        // Every client got the event, the untraced gateway's too.
        String delivered = data;
        for (SseClient client : List.of(a, b, c, d)) {
          assertThat(client.await(l -> l.stream().anyMatch(e -> delivered.equals(e.data())), Duration.ofSeconds(15)))
            .extracting(SseEvent::data).contains(delivered);
        }

        // An invalid traceparent is ignored, not an error: the publish starts a trace of its own.
        HttpResponse<String> bad = publish(notifierPort, "{\"topic\":\"orders\",\"data\":\"bad\"}", "00-not-a-trace-01", null);
        assertThat(bad.statusCode()).as(bad.body()).isEqualTo(200);
        long badSeq = new JsonObject(bad.body()).getJsonArray("events").getJsonObject(0).getLong("seq");
        List<OtlpReceiver.Span> after = receiver.await(all -> all.stream().anyMatch(x -> x.name().equals("herald publish")
          && Long.valueOf(badSeq).equals(x.attributes().get("herald.seq"))), Duration.ofSeconds(15));
        OtlpReceiver.Span root = after.stream().filter(x -> x.name().equals("herald publish")
          && Long.valueOf(badSeq).equals(x.attributes().get("herald.seq"))).findFirst().orElseThrow();
        assertThat(root.parentSpanId()).isEmpty();

        // The untraced gateway sent nothing: no span from it, its clients served all the same.
        assertThat(receiver.spans()).noneMatch(x -> x.resource().get("herald.roles") == null);
        long traced = receiver.spans().stream().filter(x -> x.name().equals("herald fan-out")).map(OtlpReceiver.Span::service)
          .filter(sv -> !sv.equals("herald-gw1") && !sv.equals("herald-gw2")).count();
        assertThat(traced).isZero();
      } finally {
        vertx.close();
      }
    }
  }

  private static List<OtlpReceiver.Span> ofTrace(List<OtlpReceiver.Span> all, String traceId) {
    return all.stream().filter(s -> traceId.equals(s.traceId())).toList();
  }

  private static OtlpReceiver.Span one(List<OtlpReceiver.Span> spans, String name) {
    List<OtlpReceiver.Span> named = spans.stream().filter(s -> s.name().equals(name)).toList();
    assertThat(named).as(name + " in " + spans).hasSize(1);
    return named.get(0);
  }

  private String hex(int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static HttpResponse<String> publish(int port, String body, String traceparent, String tracestate) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/publish"))
      .timeout(Duration.ofSeconds(30))
      .header("Authorization", "Bearer " + HeraldProcess.PUBLISHER_KEY).header("Content-Type", "application/json");
    if (traceparent != null) {
      req.header("traceparent", traceparent);
    }
    if (tracestate != null) {
      req.header("tracestate", tracestate);
    }
    return HeraldProcess.HTTP.send(req.POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Until the notifier stores a publish (the replay role is in the cluster). */
  private void awaitPublishes(int port) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(STARTUP_SECONDS).toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      if (Ports.accepts(port)) {
        HttpResponse<String> r = publish(port, "{\"topic\":\"warmup\",\"data\":\"w\"}", null, null);
        if (r.statusCode() == 200) {
          return;
        }
        last = r.statusCode() + " " + r.body();
      }
      Thread.sleep(250);
    }
    throw new AssertionError("the notifier did not store a publish in " + STARTUP_SECONDS + " s: " + last);
  }

  private SseClient subscribeWhenReady(HttpClient http, int port, String path) throws Exception {
    return cluster.subscribeWhenReady(http, port, path, Duration.ofSeconds(STARTUP_SECONDS));
  }

}
