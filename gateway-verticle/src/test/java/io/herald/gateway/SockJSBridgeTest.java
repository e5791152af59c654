package io.herald.gateway;

import io.herald.common.Event;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SockJS event-bus bridge ({@code /eventbus}) end to end, over SockJS's raw WebSocket
 * endpoint {@code /eventbus/websocket}, which carries the bridge's JSON frames as they are:
 * live events, replay, jwt, default-deny, limits and where the bridge is served. The message cap,
 * refusals and logs (also over SockJS's own WebSocket transport) and {@code xhr_send}:
 * {@link SockJSBridgeWireTest}.
 */
@ExtendWith(VertxExtension.class)
class SockJSBridgeTest extends SockJSBridgeFixture {

  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";

  @Test
  @DisplayName("A registered topic receives every event in order as a rec frame whose body is the JSON frame with a single-topic cursor")
  void liveEvents(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); Bridge b = Bridge.open(h.port(), "")) {
      b.register("orders");
      awaitLive(h, "orders");
      Event json = h.publish("order.created", "{\"id\":7}", true, "orders").get(0);
      Event text = h.publish("orders", "two\nlines");
      h.publish("elsewhere", "not for us");
      List<JsonObject> recs = b.await(f -> f.size() >= 2, WAIT);
      assertThat(recs.get(0)).isEqualTo(new JsonObject().put("type", "rec").put("address", "herald.browser.orders")
        .put("body", new JsonObject().put("id", json.cursor()).put("topic", "orders").put("type", "order.created")
          .put("data", new JsonObject().put("id", 7))));
      assertThat(recs.get(1).getJsonObject("body").getString("data")).isEqualTo("two\nlines");
      assertThat(recs.get(1).getJsonObject("body").getString("id")).isEqualTo(text.cursor());
      // Nothing else (not the other topic's event): a marker published after it comes third.
      h.publish("orders", "marker");
      List<JsonObject> all = b.await(f -> f.size() >= 3, WAIT);
      assertThat(all).hasSize(3);
      assertThat(all.get(2).getJsonObject("body").getString("data")).isEqualTo("marker");
      assertThat(h.gateway.sse().connectionCount()).isEqualTo(1);
    }
  }

  @Test
  @DisplayName("Replay since a cursor answers exactly the missed events, up to where the socket's live events began")
  void replay(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      Event first = h.publish("orders", "e1");
      h.publish("orders", "e2");
      h.publish("orders", "e3");
      try (Bridge b = Bridge.open(h.port(), "")) {
        b.register("orders");
        awaitLive(h, "orders");
        Event live = h.publish("orders", "e4");
        b.await(f -> f.size() >= 1, WAIT);
        b.send("herald.browser.replay", new JsonObject().put("topic", "orders").put("lastEventId", first.cursor()), "r1");
        JsonObject reply = b.await(f -> f.stream().anyMatch(x -> "r1".equals(x.getString("address"))), WAIT).stream()
          .filter(x -> "r1".equals(x.getString("address"))).findFirst().orElseThrow();
        assertThat(reply.getString("type")).isEqualTo("rec");
        JsonObject answer = reply.getJsonObject("body");
        assertThat(answer.getJsonArray("events").stream().map(o -> ((JsonObject) o).getString("data")).collect(Collectors.toList()))
          .containsExactly("e2", "e3");
        assertThat(answer.getBoolean("more")).isFalse();
        // The answer's id is the cursor before the first live event: replay plus live is every event once.
        assertThat(answer.getString("id")).isNotEqualTo(live.cursor());
        assertThat(b.frames().get(0).getJsonObject("body").getString("id")).isEqualTo(live.cursor());
        // The same cursor on /poll resumes where the bridge's frames stand.
        JsonObject poll = new JsonObject(get(h.port(), "/poll?topic=orders&lastEventId=" + first.cursor()).body());
        assertThat(poll.getJsonArray("events")).hasSize(3);
      }
    }
  }

  @Test
  @DisplayName("jwt mode: a topic outside the token is refused on register and on replay, and its events never arrive")
  void jwt(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject())) {
      String news = SubscriberAuthTest.hs256(new JsonObject().put("sub", "alice").put("topics", new JsonArray().add("news.*"))
        .put("exp", System.currentTimeMillis() / 1000 + 3600), SECRET);
      Event secret = h.publish("secret", "s0");
      try (Bridge b = Bridge.open(h.port(), "?access_token=" + news)) {
        b.register("secret");
        JsonObject err = b.await(f -> !f.isEmpty(), WAIT).get(0);
        assertThat(err.getString("type")).isEqualTo("err");
        assertThat(err.getString("address")).isEqualTo("herald.browser.secret");
        assertThat(err.getInteger("failureCode")).isEqualTo(403);
        assertThat(err.getString("message")).isEqualTo("access_denied");
        b.register("news.sport");
        awaitLive(h, "news.sport");
        h.publish("secret", "s1");
        h.publish("news.sport", "goal");
        b.await(f -> f.stream().anyMatch(x -> "rec".equals(x.getString("type"))), WAIT);
        b.send("herald.browser.replay", new JsonObject().put("topic", "secret").put("lastEventId", secret.cursor()), "r2");
        JsonObject refused = b.await(f -> f.stream().anyMatch(x -> "r2".equals(x.getString("address"))), WAIT).stream()
          .filter(x -> "r2".equals(x.getString("address"))).findFirst().orElseThrow();
        assertThat(refused.getString("type")).isEqualTo("err");
        assertThat(refused.getInteger("failureCode")).isEqualTo(403);
        // Nothing of the secret topic arrived: a marker published after it comes right after goal.
        h.publish("news.sport", "marker");
        b.await(f -> f.stream().filter(x -> "rec".equals(x.getString("type"))).count() >= 2, WAIT);
        assertThat(b.frames().stream().filter(f -> "rec".equals(f.getString("type")))
          .map(f -> f.getJsonObject("body").getString("data")).collect(Collectors.toList()))
          .containsExactly("goal", "marker");
        assertThat(b.frames()).noneMatch(f -> f.encode().contains("s1") || f.encode().contains("s0"));
      }
      // Without a token: public topics only (none here).
      try (Bridge b = Bridge.open(h.port(), "")) {
        b.register("news.sport");
        assertThat(b.await(f -> !f.isEmpty(), WAIT).get(0).getInteger("failureCode")).isEqualTo(401);
      }
      // An invalid token: an err frame, then the socket is closed.
      try (Bridge b = Bridge.open(h.port(), "?access_token=not.a.token")) {
        assertThat(b.await(f -> !f.isEmpty(), WAIT).get(0).getString("message")).isEqualTo("unauthorized");
        assertThat(b.closed.get(10, TimeUnit.SECONDS)).isEqualTo(4401);
      }
    }
  }

  @Test
  @DisplayName("Sending or publishing to any other address is refused, and so is registering internal addresses")
  void defaultDeny(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); Bridge b = Bridge.open(h.port(), "")) {
      JsonObject draft = new JsonObject().put("topic", "orders").put("type", "x").put("data", "forged");
      b.send("herald.publish", draft, "p1");
      b.raw(new JsonObject().put("type", "publish").put("address", "herald.replay.append").put("body", draft));
      b.send("herald.replay.read", new JsonObject().put("topic", "orders"), "p2");
      b.raw(new JsonObject().put("type", "register").put("address", "herald.topic.orders"));
      b.raw(new JsonObject().put("type", "register").put("address", "herald.browser.replay"));
      List<JsonObject> frames = b.await(f -> f.size() >= 5, WAIT);
      assertThat(frames).allMatch(f -> "err".equals(f.getString("type")));
      assertThat(h.replay.heads(List.of("orders")).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS)
        .get("orders").seq()).isZero();
      assertThat(h.gateway.sse().heldTopics()).isEmpty();
    }
  }

  @Test
  @DisplayName("Limits apply: maxConnectionsPerIp counts a SockJS session as a connection, and maxTopicsPerConnection its registrations")
  void limits(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxConnectionsPerIp", 1).put("maxTopicsPerConnection", 2);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject()); Bridge first = Bridge.open(h.port(), "")) {
      first.register("a");
      first.register("b");
      first.register("c");
      JsonObject err = first.await(f -> !f.isEmpty(), WAIT).get(0);
      assertThat(err.getString("message")).isEqualTo("too_many_topics");
      try (Bridge second = Bridge.open(h.port(), "")) {
        assertThat(second.await(f -> !f.isEmpty(), WAIT).get(0).getString("message")).isEqualTo("rate_limited");
        assertThat(second.closed.get(10, TimeUnit.SECONDS)).isEqualTo(4429);
      }
      first.close();
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
      try (Bridge third = Bridge.open(h.port(), "")) {
        third.register("a");
        awaitLive(h, "a");
        h.publish("a", "hello");
        assertThat(third.await(f -> !f.isEmpty(), WAIT).get(0).getJsonObject("body").getString("data")).isEqualTo("hello");
      }
    }
  }

  @Test
  @DisplayName("A gateway whose transports leave out sockjs answers 404 under /eventbus; a foreign Origin gets 403")
  void notServed(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("transports", new JsonArray().add("sse"));
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject())) {
      assertThat(get(h.port(), "/eventbus/info").statusCode()).isEqualTo(404);
    }
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      assertThat(get(h.port(), "/eventbus/info").statusCode()).isEqualTo(200);
      HttpResponse<String> foreign = WsClient.JDK.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.port() + "/eventbus/info"))
        .header("Origin", "https://evil.example").build(), HttpResponse.BodyHandlers.ofString());
      assertThat(foreign.statusCode()).isEqualTo(403);
      assertThat(get(h.port(), "/eventbus/iframe.html").statusCode()).isEqualTo(404);
    }
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return WsClient.JDK.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
      HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A bridge client on a WebSocket transport: {@code /eventbus/websocket}, which carries the
   * bridge's JSON frames as they are, or (sockjs) SockJS's own {@code /eventbus/<server>/<session>/websocket},
   * whose messages are SockJS frames ({@code o}, {@code h}, {@code a[...]}, {@code c[...]}) around them.
   * Every bridge frame the server sends, as JSON.
   */
  static final class Bridge implements AutoCloseable {
    private final List<JsonObject> frames = new ArrayList<>();
    private final StringBuilder partial = new StringBuilder();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final boolean sockjs;
    private WebSocket ws;

    private Bridge(boolean sockjs) {
      this.sockjs = sockjs;
    }

    static Bridge open(int port, String query) throws Exception {
      return open(port, "/eventbus/websocket" + query, false);
    }

    /** The SockJS WebSocket transport, a new session. */
    static Bridge openSockJS(int port) throws Exception {
      return open(port, "/eventbus/000/" + Long.toHexString(System.nanoTime()) + "/websocket", true);
    }

    private static Bridge open(int port, String path, boolean sockjs) throws Exception {
      Bridge b = new Bridge(sockjs);
      b.ws = WsClient.JDK.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create("ws://127.0.0.1:" + port + path), b.listener()).get(10, TimeUnit.SECONDS);
      return b;
    }

    /** A bridge frame as it goes on this transport's wire. */
    String wire(JsonObject frame) {
      return sockjs ? new JsonArray().add(frame.encode()).encode() : frame.encode();
    }

    /** Sends a text message in {@code parts} frames, as far as the server lets it (it may close first). */
    synchronized void sendFragmented(String text, int parts) {
      int step = (text.length() + parts - 1) / parts;
      for (int i = 0; i < text.length(); i += step) {
        int end = Math.min(text.length(), i + step);
        try {
          ws.sendText(text.substring(i, end), end == text.length()).orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
        } catch (CompletionException e) {
          if (e.getCause() instanceof java.util.concurrent.TimeoutException) {
            throw e;
          }
          return;
        }
      }
    }

    /** Goes away without a close frame, like a client whose process or network ended. */
    void abort() {
      ws.abort();
    }

    void register(String topic) {
      raw(new JsonObject().put("type", "register").put("address", "herald.browser." + topic));
    }

    void send(String address, JsonObject body, String replyAddress) {
      raw(new JsonObject().put("type", "send").put("address", address).put("body", body).put("replyAddress", replyAddress));
    }

    synchronized void raw(JsonObject frame) {
      ws.sendText(wire(frame), true).orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
    }

    private WebSocket.Listener listener() {
      return new WebSocket.Listener() {
        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
          add(data.toString(), last);
          w.request(1);
          return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
          byte[] bytes = new byte[data.remaining()];
          data.get(bytes);
          add(new String(bytes, StandardCharsets.UTF_8), last);
          w.request(1);
          return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
          closed.complete(statusCode);
          return null;
        }

        @Override
        public void onError(WebSocket w, Throwable error) {
          closed.complete(-1);
        }
      };
    }

    private void add(String text, boolean last) {
      partial.append(text);
      if (last) {
        String message = partial.toString();
        partial.setLength(0);
        List<JsonObject> got = new ArrayList<>();
        if (!sockjs) {
          got.add(new JsonObject(message));
        } else if (message.startsWith("a")) {
          new JsonArray(message.substring(1)).forEach(m -> got.add(new JsonObject((String) m)));
        }
        synchronized (frames) {
          frames.addAll(got);
          frames.notifyAll();
        }
      }
    }

    List<JsonObject> frames() {
      synchronized (frames) {
        return new ArrayList<>(frames);
      }
    }

    List<JsonObject> await(Predicate<List<JsonObject>> done, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (frames) {
        while (!done.test(frames)) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new AssertionError("timed out; frames so far: " + frames);
          }
          TimeUnit.NANOSECONDS.timedWait(frames, left);
        }
        return new ArrayList<>(frames);
      }
    }

    @Override
    public void close() {
      if (ws != null && !ws.isOutputClosed()) {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
      }
      if (ws != null) {
        ws.abort();
      }
    }
  }
}
