package io.herald.gateway;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A test client of {@code GET /ws} on the JDK's WebSocket: collects every text message as a JSON
 * frame, counts pings, records the close code.
 */
final class WsClient implements AutoCloseable {

  static final HttpClient JDK = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();

  private final List<JsonObject> frames = new ArrayList<>();
  /** The text of every frame, as received (guarded by {@code frames}). */
  private final List<String> texts = new ArrayList<>();
  private final StringBuilder partial = new StringBuilder();
  final AtomicInteger pings = new AtomicInteger();
  final CompletableFuture<Integer> closed = new CompletableFuture<>();
  volatile String closeReason;
  private WebSocket ws;

  private WsClient() {
  }

  /** Opens {@code ws://127.0.0.1:port + path} with headers as name, value pairs. */
  static WsClient open(int port, String path, String... headers) throws Exception {
    WsClient c = new WsClient();
    WebSocket.Builder b = JDK.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    c.ws = b.buildAsync(URI.create("ws://127.0.0.1:" + port + path), c.listener()).get(10, TimeUnit.SECONDS);
    return c;
  }

  /** The HTTP status of a refused upgrade (fails when the upgrade succeeds). */
  static int refusedStatus(int port, String path, String... headers) throws Exception {
    try (WsClient c = open(port, path, headers)) {
      throw new AssertionError("the upgrade of " + path + " succeeded");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException h) {
        return h.getResponse().statusCode();
      }
      throw e;
    }
  }

  private WebSocket.Listener listener() {
    return new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          JsonObject frame = new JsonObject(partial.toString());
          synchronized (frames) {
            texts.add(partial.toString());
            frames.add(frame);
            frames.notifyAll();
          }
          partial.setLength(0);
        }
        webSocket.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
        pings.incrementAndGet();
        webSocket.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closeReason = reason;
        closed.complete(statusCode);
        return null;
      }

      @Override
      public void onError(WebSocket webSocket, Throwable error) {
        closed.complete(-1);
      }
    };
  }

  WebSocket socket() {
    return ws;
  }

  List<JsonObject> frames() {
    synchronized (frames) {
      return new ArrayList<>(frames);
    }
  }

  /** Frames of events (not herald.ready, reset or herald.expired). */
  /** The text of every frame so far, as the gateway wrote it. */
  List<String> texts() {
    synchronized (frames) {
      return new ArrayList<>(texts);
    }
  }

  List<JsonObject> appFrames() {
    return frames().stream().filter(f -> f.containsKey("topic")).collect(Collectors.toList());
  }

  List<JsonObject> await(Predicate<List<JsonObject>> done, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (frames) {
      while (!done.test(frames)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          String seen = frames.toString();
          throw new AssertionError("timed out; " + frames.size() + " frames so far: "
            + (seen.length() > 2000 ? seen.substring(0, 2000) + "..." : seen));
        }
        TimeUnit.NANOSECONDS.timedWait(frames, left);
      }
      return new ArrayList<>(frames);
    }
  }

  List<JsonObject> awaitAppFrames(int n, Duration timeout) throws InterruptedException {
    await(f -> f.stream().filter(x -> x.containsKey("topic")).count() >= n, timeout);
    return appFrames();
  }

  int awaitClose(Duration timeout) throws Exception {
    return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
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
