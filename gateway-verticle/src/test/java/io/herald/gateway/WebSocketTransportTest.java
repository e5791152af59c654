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

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/** The WebSocket transport ({@code GET /ws}) end to end: a real gateway and replay verticle, the JDK's WebSocket client. */
@ExtendWith(VertxExtension.class)
class WebSocketTransportTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";
  private static final String[] UPGRADE = {"Upgrade: websocket", "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"};

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
  @DisplayName("jwt mode: 401 without a token, 403 for a topic outside the token, and a token never receives other topics, not even by replay")
  void auth(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject());
         GatewayLimitsTest.Clients raw = new GatewayLimitsTest.Clients()) {
      String all = SubscriberAuthTest.hs256(claims("admin", "news.*", "secret"), SECRET);
      String news = SubscriberAuthTest.hs256(claims("alice", "news.*"), SECRET);
      assertThat(WsClient.refusedStatus(h.port(), "/ws?topic=news.a")).isEqualTo(401);
      GatewayLimitsTest.Reply unauthorized = raw.request(h.port(), "127.0.0.2", "/ws?topic=news.a", UPGRADE);
      assertThat(unauthorized.status()).isEqualTo(401);
      assertThat(new JsonObject(unauthorized.body()).getString("error")).isEqualTo("unauthorized");
      assertThat(unauthorized.headers()).containsKey("www-authenticate");
      assertThat(WsClient.refusedStatus(h.port(), "/ws?topic=news.a&topic=secret&access_token=" + news)).isEqualTo(403);
      GatewayLimitsTest.Reply denied = raw.request(h.port(), "127.0.0.2", "/ws?topic=secret", concat(UPGRADE, "Authorization: Bearer " + news));
      assertThat(denied.status()).isEqualTo(403);
      assertThat(new JsonObject(denied.body()).getString("topic")).isEqualTo("secret");

      String cursor;
      try (WsClient admin = WsClient.open(h.port(), "/ws?topic=news.a&topic=secret", "Authorization", "Bearer " + all)) {
        admin.await(f -> !f.isEmpty(), WAIT);
        cursor = admin.frames().get(0).getString("id");
      }
      h.publish("secret", "s1");
      h.publish("news.a", "n1");
      // The cursor names "secret" too: it only positions the topics this token may read.
      try (WsClient alice = WsClient.open(h.port(), "/ws?topic=news.a&lastEventId=" + cursor + "&access_token=" + news)) {
        alice.await(f -> f.stream().anyMatch(x -> "herald.ready".equals(x.getString("type"))), WAIT);
        h.publish("secret", "s2");
        h.publish("news.a", "n2");
        List<JsonObject> ev = alice.awaitAppFrames(2, WAIT);
        assertThat(ev).extracting(f -> f.getString("data")).containsExactly("n1", "n2");
        // Nothing of "secret": a marker published after s2 is the next frame.
        h.publish("news.a", "marker");
        assertThat(alice.awaitAppFrames(3, WAIT)).extracting(f -> f.getString("data")).containsExactly("n1", "n2", "marker");
        assertThat(alice.frames()).noneMatch(f -> "secret".equals(f.getString("topic")) || f.encode().contains("s1") || f.encode().contains("s2"));
      }
    }
  }

  @Test
  @DisplayName("A socket ends when its token expires, after a herald.expired frame, with close code 1008")
  void tokenExpiry(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject())) {
      long now = System.currentTimeMillis() / 1000;
      String token = SubscriberAuthTest.hs256(new JsonObject().put("sub", "alice").put("topics", new JsonArray().add("t"))
        .put("exp", now + 6), SECRET);
      // Long enough for the handshake on a loaded machine; the close comes once it expires.
      try (WsClient c = WsClient.open(h.port(), "/ws?topic=t", "Authorization", "Bearer " + token)) {
        assertThat(c.awaitClose(Duration.ofSeconds(30))).isEqualTo(1008);
        JsonObject last = c.frames().get(c.frames().size() - 1);
        assertThat(last.getString("type")).isEqualTo("herald.expired");
        assertThat(last.getJsonObject("data").getString("reason")).isEqualTo("token_expired");
        assertThat(last.getString("id")).isNotEmpty();
      }
    }
  }

  @Test
  @DisplayName("Limits: maxConnectionsPerIp counts sockets and streams together; a closed socket frees its place")
  void perAddress(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("maxConnectionsPerIp", 2), new JsonObject());
         GatewayLimitsTest.Clients raw = new GatewayLimitsTest.Clients()) {
      WsClient first = WsClient.open(h.port(), "/ws?topic=a");
      try (WsClient second = WsClient.open(h.port(), "/ws?topic=a")) {
        second.await(f -> !f.isEmpty(), WAIT);
        assertThat(WsClient.refusedStatus(h.port(), "/ws?topic=a")).isEqualTo(429);
        GatewayLimitsTest.Reply refused = raw.request(h.port(), "127.0.0.1", "/ws?topic=a", UPGRADE);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.body()).contains("\"error\":\"rate_limited\"");
        assertThat(refused.headers()).containsKey("retry-after");
        assertThat(raw.open(h.port(), "127.0.0.1", "/events?topic=a").status()).isEqualTo(429);
        first.close();
        awaitCondition(() -> h.gateway.sse().limiter().total() == 1);
        assertThat(raw.open(h.port(), "127.0.0.1", "/events?topic=a").status()).isEqualTo(200);
        assertThat(WsClient.refusedStatus(h.port(), "/ws?topic=a")).isEqualTo(429);
      }
      raw.closeAll();
      awaitCondition(() -> h.gateway.sse().limiter().total() == 0 && h.gateway.sse().connectionCount() == 0);
      assertThat(h.gateway.sse().heldTopics()).isEmpty();
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
  @DisplayName("A client message over 4 KB closes the socket with 1009, a binary one with 1003, and frees the connection")
  void clientMessages(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      try (WsClient c = WsClient.open(h.port(), "/ws?topic=a")) {
        c.await(f -> !f.isEmpty(), WAIT);
        c.socket().sendText("x".repeat(4096), true).get(10, java.util.concurrent.TimeUnit.SECONDS);
        c.socket().sendText("y".repeat(2000), false).get(10, java.util.concurrent.TimeUnit.SECONDS);
        c.socket().sendText("y".repeat(2000), false).get(10, java.util.concurrent.TimeUnit.SECONDS);
        c.socket().sendText("y".repeat(200), true).get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(c.awaitClose(WAIT)).isEqualTo(1009);
      }
      try (WsClient c = WsClient.open(h.port(), "/ws?topic=a")) {
        c.await(f -> !f.isEmpty(), WAIT);
        c.socket().sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}), true).get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(c.awaitClose(WAIT)).isEqualTo(1003);
      }
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0 && h.gateway.sse().limiter().total() == 0);
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
  @DisplayName("A text message that is not UTF-8 closes the socket with 1007; UTF-8 split across fragments is accepted")
  void invalidUtf8(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", h.port()), 5000);
      s.setSoTimeout(10_000);
      var out = s.getOutputStream();
      var in = new java.io.DataInputStream(s.getInputStream());
      out.write(("GET /ws?topic=a HTTP/1.1\r\nHost: 127.0.0.1\r\n" + String.join("\r\n", UPGRADE) + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        head.append((char) in.readUnsignedByte());
      }
      assertThat(head.toString()).startsWith("HTTP/1.1 101");
      // "é" (C3 A9) split across a text frame and its continuation: valid, the socket stays open
      out.write(clientFrame(0x01, false, new byte[] {'o', 'k', (byte) 0xc3}));
      out.write(clientFrame(0x00, true, new byte[] {(byte) 0xa9}));
      h.publish("a", "after the split message");
      while (true) {
        int[] opcode = new int[1];
        byte[] payload = serverFrame(in, opcode);
        assertThat(opcode[0]).as("no close yet").isNotEqualTo(8);
        if (opcode[0] == 1 && new String(payload, StandardCharsets.UTF_8).contains("after the split message")) {
          break;
        }
      }
      out.write(clientFrame(0x01, true, new byte[] {'c', 'a', 'f', (byte) 0xe9}));
      while (true) {
        int[] opcode = new int[1];
        byte[] payload = serverFrame(in, opcode);
        if (opcode[0] == 8) {
          assertThat(((payload[0] & 0xff) << 8) | (payload[1] & 0xff)).isEqualTo(1007);
          break;
        }
      }
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
    }
  }

  /** A masked client frame (payload under 126 bytes). */
  private static byte[] clientFrame(int opcode, boolean fin, byte[] payload) {
    byte[] mask = {0x11, 0x22, 0x33, 0x44};
    byte[] f = new byte[6 + payload.length];
    f[0] = (byte) ((fin ? 0x80 : 0) | opcode);
    f[1] = (byte) (0x80 | payload.length);
    System.arraycopy(mask, 0, f, 2, 4);
    for (int i = 0; i < payload.length; i++) {
      f[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
    }
    return f;
  }

  /** The next server frame's payload; its opcode in {@code opcode[0]}. */
  private static byte[] serverFrame(java.io.DataInputStream in, int[] opcode) throws java.io.IOException {
    int b0 = in.readUnsignedByte();
    int b1 = in.readUnsignedByte();
    opcode[0] = b0 & 0x0f;
    long len = b1 & 0x7f;
    if (len == 126) {
      len = in.readUnsignedShort();
    } else if (len == 127) {
      len = in.readLong();
    }
    byte[] payload = new byte[(int) len];
    in.readFully(payload);
    return payload;
  }

  @Test
  @DisplayName("Cross-origin sockets: an allowed origin or the gateway's own is upgraded, another gets 403 before the upgrade")
  void origins(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("allowedOrigins", new JsonArray().add("https://app.example"));
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject());
         GatewayLimitsTest.Clients raw = new GatewayLimitsTest.Clients()) {
      try (WsClient c = WsClient.open(h.port(), "/ws?topic=a", "Origin", "https://app.example")) {
        c.await(f -> !f.isEmpty(), WAIT);
      }
      try (WsClient c = WsClient.open(h.port(), "/ws?topic=a", "Origin", "http://127.0.0.1:" + h.port())) {
        c.await(f -> !f.isEmpty(), WAIT);
      }
      GatewayLimitsTest.Reply evil = raw.request(h.port(), "127.0.0.2", "/ws?topic=a", concat(UPGRADE, "Origin: https://evil.example"));
      assertThat(evil.status()).isEqualTo(403);
      assertThat(new JsonObject(evil.body()).getString("error")).isEqualTo("access_denied");
      assertThat(WsClient.refusedStatus(h.port(), "/ws?topic=a", "Origin", "https://evil.example")).isEqualTo(403);
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

  @Test
  @DisplayName("A client that does not read is cut off once maxWriteQueueBytes wait unsent; others keep receiving")
  void slowConsumer(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxWriteQueueBytes", 16 * 1024);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject());
         Socket stalled = new Socket()) {
      // A raw socket that upgrades and then never reads.
      stalled.setReceiveBufferSize(4096);
      stalled.connect(new InetSocketAddress("127.0.0.1", h.port()), 5000);
      stalled.setSoTimeout(10_000);
      StringBuilder req = new StringBuilder("GET /ws?topic=big HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      for (String header : UPGRADE) {
        req.append(header).append("\r\n");
      }
      stalled.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      byte[] head = new byte[12];
      assertThat(stalled.getInputStream().readNBytes(head, 0, 12)).isEqualTo(12);
      assertThat(new String(head, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 101");
      try (WsClient reader = WsClient.open(h.port(), "/ws?topic=big")) {
        reader.await(f -> !f.isEmpty(), WAIT);
        awaitCondition(() -> h.gateway.sse().connectionCount() == 2);
        String payload = "z".repeat(32 * 1024);
        // One event at a time, each read by the reader before the next: only the stalled socket
        // falls behind, however slow the machine (a reader left behind would be cut off too).
        for (int i = 1; i <= 400 && h.gateway.sse().connectionCount() == 2; i++) {
          h.publish("big", payload);
          int n = i;
          reader.await(f -> f.stream().filter(x -> x.containsKey("topic")).count() >= n, WAIT);
        }
        awaitCondition(() -> h.gateway.sse().connectionCount() == 1);
        assertThat(h.gateway.stats().slowConsumersClosed).isEqualTo(1);
        h.publish("big", "after");
        reader.await(f -> f.stream().anyMatch(x -> "after".equals(x.getValue("data"))), WAIT);
      }
    }
  }

  static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static JsonObject claims(String sub, String... topics) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("sub", sub).put("topics", new JsonArray(List.of((Object[]) topics))).put("exp", now + 600);
  }
}
