package io.herald.testsupport;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A test SSE client over a real HTTP connection: opens {@code GET path}, parses the stream with
 * {@link SseParser}, and lets a test wait for events. Thread-safe for reading from the test thread.
 */
public final class SseClient implements AutoCloseable {

  private final SseParser parser = new SseParser();
  private final HttpClientResponse response;
  private volatile boolean ended;
  private volatile Runnable onEnd;
  private volatile Throwable failure;
  private final List<Buffer> chunks = new ArrayList<>();

  private SseClient(HttpClientResponse response) {
    this.response = response;
    response.handler(buf -> {
      synchronized (chunks) {
        chunks.add(buf);
      }
      parser.feed(buf.toString());
    });
    response.endHandler(v -> finish(null));
    response.exceptionHandler(this::finish);
    response.request().connection().closeHandler(v -> finish(ended ? null : new java.io.IOException("connection closed")));
  }

  private synchronized void finish(Throwable t) {
    if (ended) {
      return;
    }
    failure = t;
    ended = true;
    Runnable r = onEnd;
    if (r != null) {
      r.run();
    }
  }

  /** Runs {@code r} once when the stream ends, cleanly or not (at once if it already has). */
  public synchronized SseClient onEnd(Runnable r) {
    onEnd = r;
    if (ended) {
      r.run();
    }
    return this;
  }

  /** Connects; the future fails unless the status is 200. Headers: name, value, name, value... */
  public static Future<SseClient> connect(HttpClient client, int port, String path, String... headers) {
    RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port).setURI(path);
    for (int i = 0; i + 1 < headers.length; i += 2) {
      ro.addHeader(headers[i], headers[i + 1]);
    }
    return client.request(ro).compose(req -> {
      // The handlers go on in a listener of the request's own response future: it runs as the
      // head is handled, before the chunks that came with it. A listener further down a
      // compose chain can run later, on another context, and Vert.x drops the chunks that
      // arrive before a response has a handler: the stream then looks empty.
      Future<SseClient> opened = req.response().compose(resp -> {
        if (resp.statusCode() != 200) {
          return resp.body().compose(b -> Future.failedFuture(new IllegalStateException(
            "status " + resp.statusCode() + ": " + b.toString())));
        }
        return Future.succeededFuture(new SseClient(resp));
      });
      req.end();
      return opened;
    });
  }

  /** Blocking connect for tests that run on the test thread. */
  public static SseClient open(HttpClient client, int port, String path, String... headers) throws Exception {
    return Diagnostics.get(connect(client, port, path, headers).toCompletionStage().toCompletableFuture(), 10, "GET " + path);
  }

  public HttpClientResponse response() {
    return response;
  }

  public SseParser parser() {
    return parser;
  }

  public List<SseEvent> events() {
    return parser.events();
  }

  /** Events other than Herald's own control events ({@code herald.*}). */
  public List<SseEvent> appEvents() {
    List<SseEvent> out = new ArrayList<>();
    for (SseEvent e : parser.events()) {
      if (!e.type().startsWith("herald.")) {
        out.add(e);
      }
    }
    return out;
  }

  public boolean ended() {
    return ended;
  }

  public Throwable failure() {
    return failure;
  }

  /** Waits until {@code condition} holds on the events received so far; fails after {@code timeout}. */
  public List<SseEvent> await(Predicate<List<SseEvent>> condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      List<SseEvent> ev = parser.events();
      if (condition.test(ev)) {
        return ev;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("timed out after " + timeout + "; events so far: " + parser.events());
  }

  /** Waits for at least {@code n} app events. */
  public List<SseEvent> awaitAppEvents(int n, Duration timeout) throws InterruptedException {
    await(ev -> appEvents().size() >= n, timeout);
    return appEvents();
  }

  /** Waits until the server ends the stream. */
  public void awaitEnd(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!ended && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    if (!ended) {
      throw new AssertionError("stream did not end within " + timeout);
    }
  }

  /** Everything received, as text. */
  public String raw() {
    StringBuilder sb = new StringBuilder();
    synchronized (chunks) {
      for (Buffer b : chunks) {
        sb.append(b.toString());
      }
    }
    return sb.toString();
  }

  @Override
  public void close() {
    try {
      response.request().connection().close();
    } catch (RuntimeException ignored) {
      // already closed
    }
  }

  /** A promise-friendly sleep for tests on a Vert.x context. */
  public static Future<Void> delay(Vertx vertx, long ms) {
    Promise<Void> p = Promise.promise();
    vertx.setTimer(ms, t -> p.complete());
    return p.future();
  }
}
