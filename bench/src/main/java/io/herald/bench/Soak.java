package io.herald.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The soak scenario: a steady population of streams that keeps changing (every second some
 * streams leave and resume with {@code Last-Event-ID} a moment later, others leave for good and
 * new ones take their place), publishing at a steady rate, for a long time. It reads the server
 * at the start (after a warm-up) and at the end, both times with the churn paused and every
 * stream connected, and fails when any of these grew by more than {@code --max-growth} (10 %),
 * or when any event was lost, duplicated, or replaced by a {@code reset}:
 * <ul>
 *   <li>heap in use after a full GC (jcmd), and RSS after it; the heap's growth must also exceed
 *       {@code --heap-floor-kib} (0: none) to count: a small live heap (13 MB in the CI smoke
 *       run) moves by ±1 MB between full GCs with no trend, more than 10 % of it;</li>
 *   <li>open file descriptors of the server processes ({@code /proc/PID/fd});</li>
 *   <li>event-loop lag, read from outside as the p99 time a trivial request (a 404 from the
 *       gateway's router) takes over the first and the last minute; the growth must also exceed
 *       {@code --lag-floor-ms} (2 ms) to count, since a sub-millisecond p99 moves by more than
 *       10 % with the machine's noise alone.</li>
 * </ul>
 * The warm-up must fill the server's retention (streams resume from it), or its growth during
 * the run is counted as a leak: run the server with a retention the warm-up fills
 * ({@code bench/soak.sh} sets it).
 */
final class Soak {

  private final Args a;
  private final Vertx vertx;
  private final List<HttpClient> clients;
  private final Publisher publisher;
  private final List<URI> gateways;
  private final String[] topics;
  private final ProcProbe server;
  private final Stats stats;
  private final JsonObject out;
  private final SplittableRandom random = new SplittableRandom(42);
  /** The streams the run checks now; a stream that left for good is dropped from it. */
  private final List<Subscriber> active = new ArrayList<>();
  private final Recorder probe = new Recorder(60_000_000L, 3);
  private int nextIndex;
  private long resumes;
  private long replaced;
  /** Streams that left for a moment and have not resumed yet. */
  private final java.util.concurrent.atomic.AtomicInteger away = new java.util.concurrent.atomic.AtomicInteger();

  Soak(Args a, Vertx vertx, List<HttpClient> clients, Publisher publisher, List<URI> gateways, String[] topics,
       ProcProbe server, Stats stats, JsonObject out) {
    this.a = a;
    this.vertx = vertx;
    this.clients = clients;
    this.publisher = publisher;
    this.gateways = gateways;
    this.topics = topics;
    this.server = server;
    this.stats = stats;
    this.out = out;
  }

  void run() throws Exception {
    int n = a.integer("connections", 1000);
    double rate = a.dbl("rate", 100);
    int warmup = a.integer("warmup-seconds", 60);
    int duration = a.integer("duration", 1800);
    int churn = a.integer("churn", Math.max(1, n / 100));
    int window = Math.min(60, Math.max(5, duration / 4));
    double maxGrowth = a.dbl("max-growth", 0.10);
    double lagFloorMs = a.dbl("lag-floor-ms", 2);
    double heapFloorKib = a.dbl("heap-floor-kib", 0);

    for (int i = 0; i < n; i++) {
      join(topics[i % topics.length]);
    }
    LoadTool.waitFor(() -> active.stream().allMatch(s -> s.ready), 120_000);
    long probeTimer = vertx.setPeriodic(200, id -> probeOnce());
    long[] sent = {0};
    long t0 = System.nanoTime();
    long publishTimer = vertx.setPeriodic(10, id -> {
      long due = (long) (rate * (System.nanoTime() - t0) / 1e9) - sent[0];
      if (due > 0) {
        sent[0] += due;
        publisher.publish((int) due);
      }
    });
    try {
      System.out.printf("  soak: %d streams on %d topics, %.0f events/s, %d leave per second; warm-up %d s%n",
        n, topics.length, rate, churn, warmup);
      churnFor(warmup, churn);
      probe.getIntervalHistogram();
      churnFor(window, churn);
      JsonObject start = snapshot(probe.getIntervalHistogram());
      System.out.println("  start " + start.encode());
      churnFor(duration - 2L * window, churn);
      probe.getIntervalHistogram();
      churnFor(window, churn);
      JsonObject end = snapshot(probe.getIntervalHistogram());
      System.out.println("  end   " + end.encode());

      vertx.cancelTimer(publishTimer);
      LoadTool.waitFor(() -> publisher.inFlight.get() == 0, 30_000);
      boolean settled = LoadTool.waitFor(this::allCaughtUp, a.integer("drain-millis", 30_000));
      long behind = 0;
      for (Subscriber s : active) {
        behind += Math.max(0, publisher.acked.get(indexOf(s.topic)) - s.lastN);
      }
      JsonObject growth = new JsonObject();
      List<String> grew = new ArrayList<>();
      for (String k : List.of("heapAfterGcKib", "rssAfterGcKib", "openFds", "lagP99Ms")) {
        if (!start.containsKey(k) || !end.containsKey(k)) continue;
        double s = start.getDouble(k);
        double e = end.getDouble(k);
        double g = s > 0 ? (e - s) / s : 0;
        growth.put(k, LoadTool.round(g, 4));
        boolean over = g > maxGrowth && (!k.equals("lagP99Ms") || e - s > lagFloorMs)
          && (!k.equals("heapAfterGcKib") || e - s > heapFloorKib);
        if (over) grew.add(k);
      }
      JsonObject events = new JsonObject().put("published", publisher.ackedTotal()).put("publishFailed", publisher.failed.sum())
        .put("received", stats.received.sum()).put("duplicates", stats.duplicates.sum()).put("gaps", stats.gaps.sum())
        .put("resets", stats.resets.sum()).put("behindAtEnd", behind).put("settled", settled);
      boolean clean = publisher.failed.sum() == 0 && stats.duplicates.sum() == 0 && stats.gaps.sum() == 0
        && stats.resets.sum() == 0 && behind == 0 && settled;
      out.put("events", events);
      out.put("soak", new JsonObject().put("streams", n).put("topics", topics.length).put("rate", rate)
        .put("churnPerSecond", churn).put("warmupSeconds", warmup).put("durationSeconds", duration)
        .put("windowSeconds", window).put("resumes", resumes).put("replaced", replaced)
        .put("start", start).put("end", end).put("growth", growth).put("maxGrowth", maxGrowth)
        .put("lagFloorMs", lagFloorMs).put("heapFloorKib", heapFloorKib).put("grew", new JsonArray(grew))
        .put("ok", clean && grew.isEmpty()));
      out.put("latencyMs", LoadTool.latency(stats.latency.getIntervalHistogram()));
    } finally {
      vertx.cancelTimer(publishTimer);
      vertx.cancelTimer(probeTimer);
      for (Subscriber s : active) s.close();
    }
  }

  /** Lets {@code seconds} pass with {@code perSecond} streams leaving each second. */
  private void churnFor(long seconds, int perSecond) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      long next = System.nanoTime() + 1_000_000_000L;
      for (int i = 0; i < perSecond && !active.isEmpty(); i++) {
        Subscriber s = active.get(random.nextInt(active.size()));
        if (!s.ready) continue; // still (re)connecting
        s.close();
        if (random.nextBoolean()) {
          // Leaves for a moment, then resumes where it was.
          resumes++;
          away.incrementAndGet();
          long delay = 50 + random.nextInt(3000);
          s.ready = false;
          // The id is read when it resumes: bytes already on their way when it left still count.
          vertx.setTimer(delay, t -> open(s, s.lastId).onComplete(ar -> away.decrementAndGet()));
        } else {
          // Leaves for good; somebody else joins.
          replaced++;
          active.remove(s);
          join(topics[random.nextInt(topics.length)]);
        }
      }
      long sleep = (next - System.nanoTime()) / 1_000_000;
      if (sleep > 0) Thread.sleep(sleep);
    }
    // Snapshots and the end are taken with every stream back.
    LoadTool.waitFor(() -> away.get() == 0 && active.stream().allMatch(s -> s.ready), 60_000);
  }

  private void join(String topic) {
    Subscriber s = new Subscriber(nextIndex++, topic, stats, Target.HERALD);
    active.add(s);
    open(s, null);
  }

  private Future<Void> open(Subscriber s, String lastId) {
    URI g = gateways.get(s.index % gateways.size());
    return s.open(clients.get(s.index % clients.size()), g.getHost(), g.getPort(), lastId);
  }

  private boolean allCaughtUp() {
    for (Subscriber s : active) {
      if (s.lastN < publisher.acked.get(indexOf(s.topic))) return false;
    }
    return true;
  }

  private void probeOnce() {
    URI g = gateways.get(0);
    long t = System.nanoTime();
    clients.get(0).request(new RequestOptions().setMethod(HttpMethod.GET).setHost(g.getHost()).setPort(g.getPort())
        .setURI("/soak-probe"))
      .compose(req -> req.send().compose(resp -> resp.body()))
      .onSuccess(b -> probe.recordValue(Math.min(60_000_000L, (System.nanoTime() - t) / 1000)));
  }

  private JsonObject snapshot(Histogram lag) {
    JsonObject m = server.memory(true);
    m.put("openFds", openFds());
    m.put("lagP99Ms", LoadTool.round(lag.getValueAtPercentile(99) / 1000.0, 3));
    m.put("lagMaxMs", LoadTool.round(lag.getMaxValue() / 1000.0, 3));
    m.put("lagSamples", lag.getTotalCount());
    m.put("streams", active.size());
    m.put("loadAverage1m", ProcProbe.loadAverage());
    return m;
  }

  private long openFds() {
    long total = 0;
    for (long pid : server.processes()) {
      try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
        total += fds.count();
      } catch (IOException | RuntimeException gone) {
        // exited
      }
    }
    return total;
  }

  private int indexOf(String topic) {
    return LoadTool.topicIndex(topic, topics.length);
  }
}
