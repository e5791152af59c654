package io.herald.gateway;

import io.herald.gateway.SockJSBridgeTest.Bridge;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.herald.gateway.sockjs.SockJSBridge;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the SockJS bridge accepts on the wire: the client message cap and its close handshake on
 * both WebSocket transports, {@code xhr_send} over plain HTTP, refused registrations, and a client
 * that vanishes without being logged as an error.
 */
@ExtendWith(VertxExtension.class)
class SockJSBridgeWireTest extends SockJSBridgeFixture {

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"raw", "sockjs"})
  @DisplayName("On both WebSocket transports a message at the 16 KB cap is processed; over it, in one frame or in many, it is not, and the socket is closed with 1009")
  void webSocketMessageCap(String transport, Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      try (Bridge b = bridge(h, transport)) {
        String atCap = replayRequest(b, "r1", SockJSBridge.MAX_CLIENT_MESSAGE_BYTES);
        b.sendFragmented(atCap, 3);
        assertThat(b.await(f -> f.stream().anyMatch(x -> "r1".equals(x.getString("address"))), WAIT)).isNotEmpty();
      }
      try (Bridge b = bridge(h, transport)) {
        b.sendFragmented(replayRequest(b, "r2", SockJSBridge.MAX_CLIENT_MESSAGE_BYTES + 1), 1);
        assertThat(b.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1009);
        assertThat(b.frames()).noneMatch(x -> "r2".equals(x.getString("address")));
      }
      try (Bridge b = bridge(h, transport)) {
        // 230 KB in 15 KB frames: each frame is under the cap, the message is not.
        b.sendFragmented(replayRequest(b, "r3", 230 * 1024), 16);
        assertThat(b.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1009);
        assertThat(b.frames()).noneMatch(x -> "r3".equals(x.getString("address")));
      }
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
    }
  }

  @Test
  @DisplayName("Over the cap the bridge sends 1009, then nothing, and ends the connection after the client's close frame: the client sees the status, not a reset")
  void capCloseHandshake(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx);
         WsDeflateTest.RawWs ws = WsDeflateTest.RawWs.open(h.port(), "/eventbus/websocket", "x-none")) {
      ws.sendFrame(1, true, new JsonObject().put("type", "register").put("address", "herald.browser.orders").encode()
        .getBytes(StandardCharsets.UTF_8));
      awaitLive(h, "orders");
      // The first fragment of a message already over the cap.
      ws.sendFrame(1, false, "x".repeat(SockJSBridge.MAX_CLIENT_MESSAGE_BYTES + 1).getBytes(StandardCharsets.UTF_8));
      assertThat(ws.nextClose().closeCode()).isEqualTo(1009);
      // The client, not having read the close yet, goes on: the rest of its message and a ping
      // (which Vert.x would answer with a pong), then it answers the close.
      ws.sendFrame(0, true, "y".repeat(1000).getBytes(StandardCharsets.UTF_8));
      ws.sendFrame(9, true, "ping".getBytes(StandardCharsets.UTF_8));
      ws.sendFrame(8, true, new byte[] {0x03, (byte) 0xf1});
      // Nothing after the close frame, and the connection ends in order (FIN), not with a reset.
      assertThat(ws.in.read()).isEqualTo(-1);
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
    }
  }

  @Test
  @DisplayName("xhr_send takes a chunked body up to 16 KB; more, a broken or an empty body get a 4xx with the catalogue's JSON body")
  void xhrSend(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      String session = "/eventbus/000/" + Long.toHexString(System.nanoTime());
      HttpResponse<String> open = post(h.port(), session + "/xhr", "", false);
      assertThat(open.statusCode()).isEqualTo(200);
      assertThat(open.body()).startsWith("o");
      // SockJS closes the connection after each xhr-polling answer: the answer says so.
      assertThat(open.headers().firstValue("Connection")).hasValue("close");
      String register = new JsonArray().add(new JsonObject().put("type", "register").put("address", "herald.browser.orders").encode()).encode();
      // sockjs-client in Node.js sends its messages without a Content-Length.
      assertThat(post(h.port(), session + "/xhr_send", register, true).statusCode()).isEqualTo(204);
      awaitLive(h, "orders");

      String big = new JsonArray().add("x".repeat(SockJSBridge.MAX_CLIENT_MESSAGE_BYTES)).encode();
      for (boolean chunked : new boolean[] {true, false}) {
        HttpResponse<String> tooLarge = post(h.port(), session + "/xhr_send", big, chunked);
        assertThat(tooLarge.statusCode()).as("chunked %s", chunked).isEqualTo(413);
        assertThat(new JsonObject(tooLarge.body()).getString("error")).isEqualTo("payload_too_large");
      }
      HttpResponse<String> broken = post(h.port(), session + "/xhr_send", "[\"{\\\"type\\\":", true);
      assertThat(broken.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(broken.body()).getString("error")).isEqualTo("malformed_json");
      HttpResponse<String> empty = post(h.port(), session + "/xhr_send", "", false);
      assertThat(empty.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(empty.body()).getString("error")).isEqualTo("invalid_request");
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"raw", "sockjs"})
  @DisplayName("A refused register yields one err frame, for its address, with the status and the error code")
  void refusedRegisterOneError(String transport, Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); Bridge b = bridge(h, transport)) {
      b.raw(new JsonObject().put("type", "register").put("address", "herald.browser.not a topic"));
      b.raw(new JsonObject().put("type", "register").put("address", "herald.topic.orders"));
      // A marker: its answer comes after anything the refusals produced.
      b.send("herald.browser.replay", new JsonObject().put("topic", "orders"), "marker");
      List<JsonObject> frames = b.await(f -> f.stream().anyMatch(x -> "marker".equals(x.getString("address"))), WAIT);
      assertThat(frames).hasSize(3);
      assertThat(frames.subList(0, 2)).allMatch(f -> "err".equals(f.getString("type")));
      assertThat(frames.get(0).getString("address")).isEqualTo("herald.browser.not a topic");
      assertThat(frames.get(0).getInteger("failureCode")).isEqualTo(400);
      assertThat(frames.get(0).getString("message")).isEqualTo("invalid_topic");
      assertThat(frames.get(1).getString("address")).isEqualTo("herald.topic.orders");
      assertThat(frames.get(1).getString("message")).isEqualTo("access_denied");
    }
  }

  @Test
  @DisplayName("A client that goes away without a close frame is not logged at ERROR, on either WebSocket transport")
  void clientGoneIsNotAnError(Vertx vertx) throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    root.addAppender(appender);
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      for (String transport : List.of("raw", "sockjs")) {
        Bridge b = bridge(h, transport);
        b.register("orders");
        awaitLive(h, "orders");
        b.abort();
        awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
      }
      assertThat(h.gateway.sse().heldTopics()).isEmpty();
    } finally {
      root.detachAppender(appender);
    }
    List<ILoggingEvent> events;
    synchronized (appender.list) {
      events = new ArrayList<>(appender.list);
    }
    assertThat(events).as("log events").anyMatch(e -> "connection closed".equals(e.getFormattedMessage()));
    assertThat(events).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.ERROR))
      .extracting(e -> e.getLoggerName() + ": " + e.getFormattedMessage()).isEmpty();
  }

  private static Bridge bridge(GatewayHarness h, String transport) throws Exception {
    return "sockjs".equals(transport) ? Bridge.openSockJS(h.port()) : Bridge.open(h.port(), "");
  }

  /** A replay request padded to exactly {@code bytes} on the transport's wire. */
  private static String replayRequest(Bridge b, String replyAddress, int bytes) {
    JsonObject frame = new JsonObject().put("type", "send").put("address", "herald.browser.replay").put("replyAddress", replyAddress)
      .put("body", new JsonObject().put("topic", "orders").put("pad", ""));
    String wire = b.wire(frame);
    frame.getJsonObject("body").put("pad", "x".repeat(bytes - wire.getBytes(StandardCharsets.UTF_8).length));
    wire = b.wire(frame);
    assertThat(wire.getBytes(StandardCharsets.UTF_8)).hasSize(bytes);
    return wire;
  }

  private static HttpResponse<String> post(int port, String path, String body, boolean chunked) throws Exception {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    HttpRequest.BodyPublisher publisher = chunked
      ? HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes))
      : HttpRequest.BodyPublishers.ofByteArray(bytes);
    return WsClient.JDK.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).POST(publisher)
      .header("Content-Type", "text/plain").build(), HttpResponse.BodyHandlers.ofString());
  }
}
