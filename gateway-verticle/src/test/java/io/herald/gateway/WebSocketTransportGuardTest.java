package io.herald.gateway;

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

import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The WebSocket transport's guards: jwt and token expiry, origins, connection limits, client messages that are
 * too large, binary or not UTF-8, and a client that does not read.
 */
@ExtendWith(VertxExtension.class)
class WebSocketTransportGuardTest extends WebSocketTransportFixture {

  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";

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
