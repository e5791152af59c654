package io.herald.gateway;

import io.herald.testsupport.Await;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway's idle timeout ({@code idleTimeoutSeconds}) cuts connections on which nothing
 * moves, and never one that carries events or heartbeats, on every transport. With a 2 s timeout
 * and 1 s heartbeats, each stream is watched for more than three timeouts, counted in the
 * gateway's own heartbeats: streams of a topic with an event at every heartbeat, and silent
 * streams kept alive by heartbeats alone; a marker on each topic then proves every stream open.
 */
@ExtendWith(VertxExtension.class)
class IdleTimeoutTest {

  private static final int IDLE_SECONDS = 2;
  private static final JsonObject CONFIG = new JsonObject()
    .put("idleTimeoutSeconds", IDLE_SECONDS).put("heartbeatSeconds", 1).put("longPollTimeoutSeconds", 1);
  private static final Duration EVENTUALLY = Duration.ofSeconds(15);

  @Test
  @DisplayName("Streams that carry heartbeats outlive several idle timeouts on SSE, WebSocket, long-poll and SockJS")
  void trafficKeepsStreamsOpen(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, CONFIG, new JsonObject());
         RawHttp sse = RawHttp.open(h.port(), "GET /events?topic=idle HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
         RawHttp sockJsStreaming = RawHttp.open(h.port(),
           "POST /eventbus/000/idlexhr1/xhr_streaming HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
         LongPoller poller = new LongPoller(h.port());
         Ws ws = Ws.open(h.port(), "/ws?topic=idle");
         RawHttp quietSse = RawHttp.open(h.port(), "GET /events?topic=quiet HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
         Ws quietWs = Ws.open(h.port(), "/ws?topic=quiet");
         Ws sockJsWs = Ws.open(h.port(), "/eventbus/000/idlews01/websocket")) {
      sse.awaitText("herald.ready", EVENTUALLY);
      quietSse.awaitText("herald.ready", EVENTUALLY);
      // Watched on the gateway's own clock, the silent SSE stream's 1 s heartbeats: past
      // 3 * IDLE_SECONDS + 1 of them more than three idle timeouts have gone by. An event goes to
      // the busy topic at each heartbeat: events and heartbeats must both count as traffic.
      int round = 0;
      for (int beats = heartbeats(quietSse.text()); beats < 3 * IDLE_SECONDS + 1 && !quietSse.closed();
           beats = heartbeats(quietSse.text())) {
        h.publish("idle", "event " + round++);
        int seen = beats;
        Await.until(() -> "a heartbeat after the " + seen + "th on the silent SSE stream",
          () -> heartbeats(quietSse.text()) > seen || quietSse.closed(), EVENTUALLY);
      }
      int rounds = round;
      Await.until(() -> "long-polls answered: " + poller.answers() + ", failure: " + poller.failure(),
        () -> poller.answers() >= 3 * IDLE_SECONDS || poller.failure() != null, EVENTUALLY);
      poller.stop();
      // Markers published now reach every stream that is still open; a closed one fails here.
      int quietWsBefore = quietWs.texts.get();
      h.publish("idle", "end");
      h.publish("quiet", "end");
      sse.awaitText("data: end", EVENTUALLY);
      quietSse.awaitText("data: end", EVENTUALLY);
      Await.until("the marker on the busy WebSocket", () -> ws.texts.get() > rounds || ws.closed.isDone(), EVENTUALLY);
      Await.until("the marker on the silent WebSocket", () -> quietWs.texts.get() > quietWsBefore || quietWs.closed.isDone(), EVENTUALLY);
      assertThat(sse.closed()).as("SSE stream closed at %s", sse.closedAfter()).isFalse();
      assertThat(sse.text()).contains("data: event 0").contains("data: event " + (rounds - 1));
      assertThat(quietSse.closed()).as("silent SSE stream closed at %s", quietSse.closedAfter()).isFalse();
      assertThat(heartbeats(quietSse.text())).as("SSE heartbeats").isGreaterThanOrEqualTo(3 * IDLE_SECONDS + 1);
      assertThat(sockJsStreaming.closed()).as("SockJS xhr_streaming closed").isFalse();
      assertThat(sockJsStreaming.text()).contains("\nh\n");
      assertThat(ws.closed.isDone()).as("WebSocket closed with %s", ws.closed.getNow(null)).isFalse();
      assertThat(ws.texts.get()).isGreaterThan(rounds);
      assertThat(quietWs.closed.isDone()).as("silent WebSocket closed with %s", quietWs.closed.getNow(null)).isFalse();
      assertThat(quietWs.pings.get()).isGreaterThanOrEqualTo(2 * IDLE_SECONDS);
      assertThat(sockJsWs.closed.isDone()).as("SockJS WebSocket closed with %s", sockJsWs.closed.getNow(null)).isFalse();
      assertThat(sockJsWs.texts.get()).as("SockJS open frame and heartbeats").isGreaterThanOrEqualTo(1 + 2 * IDLE_SECONDS);
      assertThat(poller.failure()).as("long-poll connection").isNull();
      assertThat(poller.answers()).isGreaterThanOrEqualTo(3 * IDLE_SECONDS);
    }
  }

  @Test
  @DisplayName("A connection on which nothing moves is closed by the idle timeout, not before it")
  void silentConnectionsAreClosed(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, CONFIG, new JsonObject())) {
      // Taken before either connection exists: every byte, and so the idle timer, comes later.
      long before = System.nanoTime();
      try (RawHttp keptAlive = RawHttp.open(h.port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
           RawHttp mute = RawHttp.open(h.port(), "")) {
        keptAlive.awaitText("\r\n\r\n", EVENTUALLY);
        keptAlive.awaitClosed(EVENTUALLY);
        mute.awaitClosed(EVENTUALLY);
        assertThat(keptAlive.closedAt() - before).as("kept-alive connection closed, not before the idle timeout")
          .isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(IDLE_SECONDS));
        assertThat(mute.closedAt() - before).as("mute connection closed, not before the idle timeout")
          .isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(IDLE_SECONDS));
      }
    }
  }

  @Test
  @DisplayName("A stream's connection that stays open after the stream ended (token expiry) gets its idle timeout back")
  void endedStreamsConnectionIsIdleAgain(Vertx vertx) throws Exception {
    // An open stream keeps its idle timeout on the gateway's tick, without Vert.x's idle handler;
    // once it ends cleanly the keep-alive connection must be closed as idle like any other.
    // The slow-request guard would close it too, once its timeout is past: not within this test.
    JsonObject jwt = CONFIG.copy().put("authMode", "jwt").put("jwtSecret", SubscriberAuthFixture.SECRET)
      .put("requestTimeoutMillis", 600_000);
    String token = SubscriberAuthFixture.hs256(SubscriberAuthFixture.claims("alice", "idle")
      .put("exp", SubscriberAuthFixture.now() + 2));
    try (GatewayHarness h = new GatewayHarness(vertx, jwt, new JsonObject());
         RawHttp sse = RawHttp.open(h.port(), "GET /events?topic=idle HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
           + "Authorization: Bearer " + token + "\r\n\r\n")) {
      sse.awaitText("herald.ready", EVENTUALLY);
      sse.awaitText("herald.expired", EVENTUALLY);
      // The last chunk: the response ended, the connection (HTTP/1.1, keep-alive) did not.
      sse.awaitText("\r\n0\r\n\r\n", EVENTUALLY);
      sse.awaitClosed(EVENTUALLY);
      assertThat(sse.text()).doesNotContain("Connection: close");
    }
  }

  private static int heartbeats(String stream) {
    int n = 0;
    for (int i = stream.indexOf(":\n\n"); i >= 0; i = stream.indexOf(":\n\n", i + 1)) {
      n++;
    }
    return n;
  }

  /** One HTTP/1.1 request on a plain socket; everything the server sends is kept as text. */
  static final class RawHttp implements AutoCloseable {
    private final Socket socket;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final long opened = System.nanoTime();
    private volatile long closedAt;
    private final Thread reader;

    private RawHttp(Socket socket) {
      this.socket = socket;
      this.reader = new Thread(this::read, "raw-http-reader");
      reader.setDaemon(true);
      reader.start();
    }

    static RawHttp open(int port, String request) throws IOException {
      return open(null, port, request);
    }

    /** From the local address {@code from} (null: any). */
    static RawHttp open(String from, int port, String request) throws IOException {
      Socket s = new Socket();
      if (from != null) {
        s.bind(new java.net.InetSocketAddress(from, 0));
      }
      s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      return new RawHttp(s);
    }

    private void read() {
      byte[] buf = new byte[8192];
      try (InputStream in = socket.getInputStream()) {
        for (int n; (n = in.read(buf)) >= 0; ) {
          synchronized (received) {
            received.write(buf, 0, n);
            received.notifyAll();
          }
        }
      } catch (IOException e) {
        // reset or closed by the test: closed either way
      }
      closedAt = System.nanoTime();
      synchronized (received) {
        received.notifyAll();
      }
    }

    String text() {
      synchronized (received) {
        return received.toString(StandardCharsets.UTF_8);
      }
    }

    boolean closed() {
      return closedAt != 0;
    }

    long closedAt() {
      return closedAt;
    }

    String closedAfter() {
      return closed() ? TimeUnit.NANOSECONDS.toMillis(closedAt - opened) + " ms" : "open";
    }

    void awaitText(String part, Duration timeout) throws InterruptedException {
      awaitText(part, 0, timeout);
    }

    /** Waits for {@code part} at character {@code from} of the text or later. */
    void awaitText(String part, long from, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (received) {
        while (received.toString(StandardCharsets.UTF_8).indexOf(part, (int) from) < 0) {
          long left = deadline - System.nanoTime();
          if (left <= 0 || closed()) {
            throw new AssertionError("no \"" + part + "\" (closed: " + closedAfter() + "); received: " + text());
          }
          TimeUnit.NANOSECONDS.timedWait(received, left);
        }
      }
    }

    void awaitClosed(Duration timeout) throws InterruptedException {
      reader.join(timeout.toMillis());
      if (!closed()) {
        throw new AssertionError("still open after " + timeout + "; received: " + text());
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Long-polls {@code /poll} over one kept-alive connection until stopped. */
  static final class LongPoller implements AutoCloseable {
    private final Socket socket;
    private final Thread thread;
    private final AtomicInteger answers = new AtomicInteger();
    private volatile boolean stopped;
    private volatile String failure;

    LongPoller(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      thread = new Thread(this::run, "long-poller");
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      try {
        InputStream in = socket.getInputStream();
        String cursor = null;
        while (!stopped) {
          String query = "topic=idle" + (cursor == null ? "" : "&lastEventId=" + java.net.URLEncoder.encode(cursor, StandardCharsets.UTF_8));
          socket.getOutputStream().write(("GET /poll?" + query + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          JsonObject page = new JsonObject(readResponse(in));
          cursor = page.getString("id");
          answers.incrementAndGet();
        }
      } catch (Exception e) {
        if (!stopped) {
          failure = e.toString();
        }
      }
    }

    /** The body of one Content-Length response (the gateway's polls are never chunked). */
    private static String readResponse(InputStream in) throws IOException {
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("connection closed by the server after: " + head);
        }
        head.append((char) b);
      }
      int length = -1;
      for (String line : head.toString().split("\r\n")) {
        if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      if (!head.toString().startsWith("HTTP/1.1 200") || length < 0) {
        throw new IOException("unexpected answer: " + head);
      }
      return new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    int answers() {
      return answers.get();
    }

    String failure() {
      return failure;
    }

    void stop() {
      stopped = true;
    }

    @Override
    public void close() throws IOException {
      stopped = true;
      socket.close();
    }
  }

  /** A WebSocket that counts text messages and pings and records its close. */
  static final class Ws implements AutoCloseable {
    final AtomicInteger texts = new AtomicInteger();
    final AtomicInteger pings = new AtomicInteger();
    final CompletableFuture<String> closed = new CompletableFuture<>();
    private WebSocket ws;

    static Ws open(int port, String path) throws Exception {
      Ws c = new Ws();
      c.ws = WsClient.JDK.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create("ws://127.0.0.1:" + port + path), c.listener()).get(10, TimeUnit.SECONDS);
      return c;
    }

    private WebSocket.Listener listener() {
      return new WebSocket.Listener() {
        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
          if (last) {
            texts.incrementAndGet();
          }
          w.request(1);
          return null;
        }

        @Override
        public CompletionStage<?> onPing(WebSocket w, ByteBuffer message) {
          pings.incrementAndGet();
          w.request(1);
          return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
          closed.complete(code + " " + reason);
          return null;
        }

        @Override
        public void onError(WebSocket w, Throwable error) {
          closed.complete(error.toString());
        }
      };
    }

    @Override
    public void close() {
      ws.abort();
    }
  }
}
