package io.herald.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Warms the load tool's own code before a measured window ({@code --client-warmup-seconds}): the
 * SSE parser, the HTTP publisher and the histograms run for a few seconds against an echo hub
 * inside this JVM, on loopback, so that a window measured by a fresh load-tool JVM does not carry
 * the client's JIT (its first second's p99 was 29 to 53 ms against Nchan and Herald alike, warm
 * or cold, and 4 to 17 ms in the seconds after). The server under test sees none of it.
 *
 * <p>The echo hub speaks just enough of both targets: {@code GET /events?topic=} (with
 * {@code herald.ready}) and {@code /sub?id=}, {@code POST /publish}, {@code /publish/batch} and
 * {@code /pub?id=}; every published {@code data} goes to the topic's streams as one SSE event.
 * It is a stand-in for the server only in this warm-up, never in a measurement.
 */
final class ClientWarmUp {

  private ClientWarmUp() {
  }

  /**
   * Runs {@code streams} subscribers on {@code streams} topics and publishes {@code rate}
   * events/s to them for {@code seconds}; returns what arrived ({@code published},
   * {@code received}, {@code p99Ms}) for the report.
   */
  static JsonObject run(Vertx vertx, Target target, int streams, double rate, int seconds, String padding) throws Exception {
    HttpServer hub = vertx.createHttpServer().requestHandler(new Echo(target)::handle);
    hub.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setIdleTimeout(0).setKeepAlive(true),
      new PoolOptions().setHttp1MaxSize(streams + 8).setMaxWaitQueueSize(-1));
    String[] topics = new String[streams];
    for (int i = 0; i < streams; i++) {
      topics[i] = "client-warmup-" + i;
    }
    Stats stats = new Stats();
    List<Subscriber> subs = new ArrayList<>();
    Publisher publisher = new Publisher(vertx, target, "http://127.0.0.1:" + hub.actualPort(), "client-warmup", topics, padding);
    try {
      List<Future<Void>> opened = new ArrayList<>();
      for (int i = 0; i < streams; i++) {
        Subscriber s = new Subscriber(i, topics[i], stats, target);
        subs.add(s);
        opened.add(s.open(client, "127.0.0.1", hub.actualPort(), null));
      }
      Future.join(opened).await(20, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (stats.ready.get() + stats.failed.get() < streams && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      // The pacing and the per-second reading of the measured windows (LoadTool.publishPhase).
      long start = System.nanoTime();
      long timer = publisher.pace(vertx, start, rate, seconds);
      Histogram total = new Histogram(3_600_000_000L, 3);
      for (int sec = 1; sec <= seconds; sec++) {
        long sleep = (start + sec * 1_000_000_000L - System.nanoTime()) / 1_000_000;
        if (sleep > 0) {
          Thread.sleep(sleep);
        }
        total.add(stats.latency.getIntervalHistogram());
      }
      vertx.cancelTimer(timer);
      Thread.sleep(200);
      total.add(stats.latency.getIntervalHistogram());
      return new JsonObject().put("seconds", seconds).put("streams", streams).put("published", publisher.sent.sum())
        .put("received", stats.received.sum()).put("p99Ms", total.getValueAtPercentile(99) / 1000.0);
    } finally {
      subs.forEach(Subscriber::close);
      publisher.close().await(10, TimeUnit.SECONDS);
      client.close().await(10, TimeUnit.SECONDS);
      hub.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** The echo hub: streams by topic, each publish written to them as {@code id:} and {@code data:} lines. */
  private static final class Echo {

    private final Target target;
    /** Concurrent: nothing here assumes the server's connections share one event loop. */
    private final Map<String, List<HttpServerResponse>> streams = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong seq = new java.util.concurrent.atomic.AtomicLong();

    Echo(Target target) {
      this.target = target;
    }

    void handle(HttpServerRequest req) {
      String path = req.path();
      if (req.method() == HttpMethod.GET && ("/events".equals(path) || "/sub".equals(path))) {
        String topic = req.getParam("/events".equals(path) ? "topic" : "id");
        HttpServerResponse resp = req.response().setChunked(true).putHeader("Content-Type", "text/event-stream");
        resp.write(target.readyEvent() ? ": ok\n\nevent: herald.ready\ndata: {}\n\n" : ": ok\n\n");
        streams.computeIfAbsent(topic, t -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(resp);
        req.connection().closeHandler(v -> {
          List<HttpServerResponse> list = streams.get(topic);
          if (list != null) {
            list.remove(resp);
          }
        });
        return;
      }
      if (req.method() != HttpMethod.POST) {
        req.response().setStatusCode(404).end();
        return;
      }
      req.body().onSuccess(body -> {
        JsonArray ids = new JsonArray();
        if ("/pub".equals(path)) {
          ids.add(deliver(req.getParam("id"), body.toString()));
        } else if ("/publish".equals(path)) {
          JsonObject e = body.toJsonObject();
          ids.add(deliver(e.getString("topic"), e.getValue("data").toString()));
        } else if ("/publish/batch".equals(path)) {
          for (Object o : body.toJsonObject().getJsonArray("events")) {
            JsonObject e = (JsonObject) o;
            ids.add(deliver(e.getString("topic"), e.getValue("data").toString()));
          }
        } else {
          req.response().setStatusCode(404).end();
          return;
        }
        req.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("events", ids).encode());
      });
    }

    private JsonObject deliver(String topic, String data) {
      String id = topic + ":" + seq.incrementAndGet();
      Buffer frame = Buffer.buffer("id: " + id + "\ndata: " + data + "\n\n");
      for (HttpServerResponse r : streams.getOrDefault(topic, List.of())) {
        r.write(frame);
      }
      return new JsonObject().put("topic", topic).put("id", id);
    }
  }
}
