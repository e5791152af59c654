package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.testsupport.IsolatedMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.stream.Collectors;

import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The WebSocket transport ({@code GET /ws}) end to end: a real gateway and replay verticle, the JDK's WebSocket client.
 * Frames, resume, data fidelity, heartbeats, metrics and bad requests; who may open a socket and what a socket may
 * send or fail to read: {@link WebSocketTransportGuardTest}.
 */
@ExtendWith(VertxExtension.class)
class WebSocketTransportTest extends WebSocketTransportFixture {

  @Test
  @DisplayName("Metrics by transport move: herald_connections_active and _opened/_closed_total for websocket and longpoll")
  void metricsByTransport() throws Exception {
    // A registry of this test's own: exact values, whatever other tests of the JVM count.
    try (IsolatedMetrics metrics = IsolatedMetrics.start(); GatewayHarness h = new GatewayHarness(metrics.vertx())) {
      var registry = metrics.registry();
      java.util.function.Function<String, Double> active = t -> {
        var g = registry.find("herald_connections_active").tag("transport", t).gauge();
        return g == null ? 0.0 : g.value();
      };
      java.util.function.BiFunction<String, String, Double> count = (name, t) -> {
        var c = registry.find(name).tag("transport", t).counter();
        return c == null ? 0.0 : c.count();
      };
      try (WsClient c = WsClient.open(h.port(), "/ws?topic=metrics")) {
        c.await(f -> !f.isEmpty(), WAIT);
        assertThat(active.apply("websocket")).isEqualTo(1.0);
        assertThat(count.apply("herald_connections_opened", "websocket")).isEqualTo(1.0);
        assertThat(count.apply("herald_connections_closed", "websocket")).isZero();
      }
      awaitCondition(() -> count.apply("herald_connections_closed", "websocket") == 1.0);
      assertThat(active.apply("websocket")).isZero();

      var r = io.herald.testsupport.JdkHttp.send("GET", "http://127.0.0.1:" + h.port() + "/poll?topic=metrics", null);
      assertThat(r.status()).isEqualTo(200);
      assertThat(count.apply("herald_connections_opened", "longpoll")).isEqualTo(1.0);
      awaitCondition(() -> count.apply("herald_connections_closed", "longpoll") == 1.0);
      assertThat(active.apply("longpoll")).isZero();
      assertThat(count.apply("herald_connections_opened", "websocket")).as("nothing else counted").isEqualTo(1.0);
    }
  }


  @Test
  @DisplayName("A socket opens with herald.ready, then every event as one JSON frame with its cursor, topic, type and data")
  void framesInOrder(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); WsClient c = WsClient.open(h.port(), "/ws?topic=orders")) {
      JsonObject ready = c.await(f -> !f.isEmpty(), WAIT).get(0);
      assertThat(ready.fieldNames()).containsExactly("id", "type", "data");
      assertThat(ready.getString("type")).isEqualTo("herald.ready");
      assertThat(ready.getJsonObject("data")).isEqualTo(new JsonObject().put("topics", new JsonArray().add("orders")));
      assertThat(Cursor.parse(ready.getString("id"), 8).position("orders").seq()).isZero();

      Event json = h.publish("order.created", "{\"id\":7,\"total\":12.5}", true, "orders").get(0);
      Event text = h.publish("orders", "first line\nsecond line\r\nthird \"quoted\" é");
      Event textLooksJson = h.publish("note", "{\"not\":\"json\"}", false, "orders").get(0);
      List<JsonObject> ev = c.awaitAppFrames(3, WAIT);
      assertThat(ev.get(0)).isEqualTo(new JsonObject().put("id", json.cursor()).put("topic", "orders").put("type", "order.created")
        .put("data", new JsonObject().put("id", 7).put("total", 12.5)));
      assertThat(ev.get(0).fieldNames()).containsExactly("id", "topic", "type", "data");
      assertThat(ev.get(1)).isEqualTo(new JsonObject().put("id", text.cursor()).put("topic", "orders").put("type", "message")
        .put("data", "first line\nsecond line\r\nthird \"quoted\" é"));
      assertThat(ev.get(2).getValue("data")).isEqualTo("{\"not\":\"json\"}");
      assertThat(ev.get(2).getString("id")).isEqualTo(textLooksJson.cursor());
    }
  }

  @Test
  @DisplayName("Frames of a socket on several topics carry the cursor of all of them; other topics stay out")
  void multiTopic(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx);
         WsClient c = WsClient.open(h.port(), "/ws?topic=a&topic=b");
         WsClient single = WsClient.open(h.port(), "/ws?topic=a")) {
      c.await(f -> !f.isEmpty(), WAIT);
      single.await(f -> !f.isEmpty(), WAIT);
      Event a1 = h.publish("a", "a1");
      Event b1 = h.publish("b", "b1");
      h.publish("elsewhere", "x");
      List<JsonObject> ev = c.awaitAppFrames(2, WAIT);
      assertThat(ev).extracting(f -> f.getString("data")).containsExactly("a1", "b1");
      Cursor last = Cursor.parse(ev.get(1).getString("id"), 8);
      assertThat(last.position("a")).isEqualTo(a1.position());
      assertThat(last.position("b")).isEqualTo(b1.position());
      assertThat(single.awaitAppFrames(1, WAIT).get(0).getString("id")).isEqualTo(a1.cursor());
      // Nothing of "elsewhere": a marker published after it is the third frame.
      h.publish("b", "marker");
      assertThat(c.awaitAppFrames(3, WAIT)).extracting(f -> f.getString("data")).containsExactly("a1", "b1", "marker");
    }
  }

  @Test
  @DisplayName("Resuming with lastEventId (or the Last-Event-ID header) replays exactly what was missed, once, in order, then live")
  void resume(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      String lastId;
      try (WsClient c = WsClient.open(h.port(), "/ws?topic=a&topic=b")) {
        c.await(f -> !f.isEmpty(), WAIT);
        h.publish("a", "a1");
        h.publish("b", "b1");
        lastId = c.awaitAppFrames(2, WAIT).get(1).getString("id");
      }
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
      h.publish("a", "a2");
      h.publish("b", "b2");
      h.publish("a", "a3");
      String resumedId;
      try (WsClient c = WsClient.open(h.port(), "/ws?topic=a&topic=b&lastEventId=" + lastId)) {
        List<JsonObject> frames = c.await(f -> f.stream().anyMatch(x -> "herald.ready".equals(x.getString("type"))), WAIT);
        List<String> replayed = frames.stream().filter(f -> f.containsKey("topic")).map(f -> f.getString("data")).collect(Collectors.toList());
        assertThat(replayed).containsExactly("a2", "a3", "b2");
        assertThat(frames.get(frames.size() - 1).getString("type")).isEqualTo("herald.ready");
        h.publish("b", "b3");
        List<JsonObject> all = c.awaitAppFrames(4, WAIT);
        assertThat(all).extracting(f -> f.getString("data")).containsExactly("a2", "a3", "b2", "b3");
        assertThat(c.frames()).noneMatch(f -> "reset".equals(f.getString("type")));
        resumedId = all.get(3).getString("id");
      }
      h.publish("a", "a4");
      try (WsClient c = WsClient.open(h.port(), "/ws?topic=a&topic=b", "Last-Event-ID", resumedId)) {
        List<JsonObject> ev = c.awaitAppFrames(1, WAIT);
        c.await(f -> f.stream().anyMatch(x -> "herald.ready".equals(x.getString("type"))), WAIT);
        assertThat(c.appFrames()).extracting(f -> f.getString("data")).containsExactly("a4");
        assertThat(ev.get(0).getString("topic")).isEqualTo("a");
      }
    }
  }

  @Test
  @DisplayName("A lastEventId that is not a cursor gets a reset frame per topic, then live events")
  void unknownCursor(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx);
         WsClient c = WsClient.open(h.port(), "/ws?topic=a&lastEventId=garbage")) {
      List<JsonObject> frames = c.await(f -> f.size() >= 2, WAIT);
      assertThat(frames.get(0).getString("type")).isEqualTo("reset");
      assertThat(frames.get(0).getJsonObject("data")).isEqualTo(new JsonObject().put("topic", "a").put("reason", "unknown_last_event_id"));
      assertThat(frames.get(0).getString("id")).isNotEmpty();
      assertThat(frames.get(1).getString("type")).isEqualTo("herald.ready");
      h.publish("a", "live");
      assertThat(c.awaitAppFrames(1, WAIT).get(0).getString("data")).isEqualTo("live");
    }
  }

  @Test
  @DisplayName("Pings every heartbeatSeconds; a socket outlives requestTimeoutMillis; small client messages are ignored")
  void heartbeatAndGuard(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("heartbeatSeconds", 1).put("requestTimeoutMillis", 500).put("idleTimeoutSeconds", 3)
      .put("longPollTimeoutSeconds", 2);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject()); WsClient c = WsClient.open(h.port(), "/ws?topic=a")) {
      c.await(f -> !f.isEmpty(), WAIT);
      c.socket().sendText("hello", true).get(10, java.util.concurrent.TimeUnit.SECONDS);
      // Four pings a second apart: the socket lived past requestTimeoutMillis and idleTimeoutSeconds.
      SseGatewayTest.awaitCondition(() -> c.pings.get() >= 4 || c.closed.isDone());
      assertThat(c.closed).isNotDone();
      assertThat(c.pings.get()).isGreaterThanOrEqualTo(4);
      h.publish("a", "still here");
      assertThat(c.awaitAppFrames(1, WAIT).get(0).getString("data")).isEqualTo("still here");
    }
  }

  @Test
  @DisplayName("JSON data reaches SSE and WebSocket subscribers with the characters it was stored with, numbers digit for digit")
  void exactData(Vertx vertx) throws Exception {
    String pi = "3.14159265358979323846264338327950288";
    String data = "[" + pi + ",1e999999,1e-999999,-0,1.0,123456789012345678901234567890,[[\"\ud83d\ude00\\u0000\"]]]";
    try (GatewayHarness h = new GatewayHarness(vertx); WsClient ws = WsClient.open(h.port(), "/ws?topic=exact");
         io.herald.testsupport.SseClient sse = h.sse("/events?topic=exact")) {
      ws.await(f -> !f.isEmpty(), WAIT);
      sse.await(l -> !l.isEmpty(), WAIT);
      h.publish("message", data, true, "exact");
      assertThat(sse.awaitAppEvents(1, WAIT).get(0).data()).isEqualTo(data);
      ws.awaitAppFrames(1, WAIT);
      assertThat(ws.texts()).anySatisfy(t -> assertThat(t).endsWith(",\"topic\":\"exact\",\"type\":\"message\",\"data\":" + data + "}"));
    }
  }

  @Test
  @DisplayName("Bad requests: no topic 400, a plain GET 400, POST 405, and a transport left out of gateway.transports is 404")
  void badRequestsAndDisabled(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); GatewayLimitsTest.Clients raw = new GatewayLimitsTest.Clients()) {
      GatewayLimitsTest.Reply noTopic = raw.request(h.port(), "127.0.0.2", "/ws", UPGRADE);
      assertThat(noTopic.status()).isEqualTo(400);
      assertThat(new JsonObject(noTopic.body()).getString("error")).isEqualTo("invalid_request");
      assertThat(new JsonObject(noTopic.body()).getString("message")).contains("/ws?topic=NAME");
      assertThat(raw.request(h.port(), "127.0.0.2", "/ws?topic=a").status()).isEqualTo(400);
      GatewayLimitsTest.Reply post = raw.method(h.port(), "127.0.0.2", "POST", "/ws?topic=a", "Content-Length: 0");
      assertThat(post.status()).isEqualTo(405);
      assertThat(post.body()).contains("method_not_allowed");
    }
    JsonObject sseOnly = new JsonObject().put("transports", new JsonArray().add("sse"));
    try (GatewayHarness h = new GatewayHarness(vertx, sseOnly, new JsonObject()); GatewayLimitsTest.Clients raw = new GatewayLimitsTest.Clients()) {
      GatewayLimitsTest.Reply ws = raw.request(h.port(), "127.0.0.2", "/ws?topic=a", UPGRADE);
      assertThat(ws.status()).isEqualTo(404);
      assertThat(ws.body()).contains("not_found");
      assertThat(WsClient.refusedStatus(h.port(), "/ws?topic=a")).isEqualTo(404);
    }
  }
}
