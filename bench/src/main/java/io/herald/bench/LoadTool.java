package io.herald.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The SSE load tool: opens N streams to one or several gateways (Herald or nginx+Nchan), from
 * several source addresses on 127.0.0.0/8, publishes at a rate and writes a JSON report.
 *
 * <pre>
 * java -jar bench/target/herald-bench.jar --target herald|nchan --scenario broadcast|targeted|storm|saturation
 *   --sse-url http://127.0.0.1:8080[,http://127.0.0.1:8082] --publish-url http://127.0.0.1:8081
 *   --connections 10000 --rate 10 --duration 20 --server-pid PID[,PID] --out result.json
 *   [--publish-via http|bridge|eventbus --bridge-url 127.0.0.1:7001 --cluster-name herald-bench --cluster-members 127.0.0.1:5701]
 * </pre>
 *
 * <p>{@code --publish-via} picks how events reach Herald: {@code POST /publish} (the default), the
 * TCP event-bus bridge ({@link BridgeChannel}) or the clustered event bus ({@link EventBusChannel});
 * the bodies, the lanes that keep a topic's order and the latency clock (publish time in the event
 * to SSE receipt) are the same for all three.
 *
 * Scenarios:
 * <ul>
 *   <li>{@code broadcast}: every stream on one topic; {@code --rate} events/s to it.</li>
 *   <li>{@code targeted}: one topic per stream ({@code --topics} to share); {@code --rate} events/s in total, round-robin.</li>
 *   <li>{@code storm}: streams get one event, drop, miss {@code --missed} events per topic, then all
 *       reconnect at once with {@code Last-Event-ID}; measures the time until every stream has exactly what it missed.
 *       {@code --storm-rounds R} repeats the round R times (the first meets a cold JIT); the last is reported,
 *       with every round's seconds and p99 from request to {@code herald.ready} ({@code readyP99MsPerRound}).</li>
 *   <li>{@code saturation}: broadcast at {@code --start-rate}, times {@code --rate-factor} every
 *       {@code --step-seconds}, until a step loses an event or its p99 exceeds {@code --p99-limit-ms}.</li>
 *   <li>{@code soak}: {@code --connections} streams on {@code --topics} topics that keep leaving,
 *       resuming and being replaced ({@code --churn} per second) while {@code --rate} events/s are
 *       published, for {@code --duration} seconds after {@code --warmup-seconds}; fails when the
 *       server's heap after GC, RSS, open files or event-loop lag grow by more than
 *       {@code --max-growth}, or when an event is lost ({@link Soak}).</li>
 * </ul>
 */
public final class LoadTool {

  private final Args a;
  private final Target target;
  private final String scenario;
  private final int n;
  private final int topicCount;
  private final String[] topics;
  private final List<URI> gateways = new ArrayList<>();
  private final List<String> sourceIps = new ArrayList<>();
  /** The server's processes; with {@code --server-pid @FILE}, known once FILE holds them. */
  private ProcProbe server;
  /** {@code --server-pid @FILE}: where the pids will be written once the server is up; else null. */
  private final Path serverPidFile;
  private final boolean serverJvm;
  private final Stats stats = new Stats();
  private final JsonObject out = new JsonObject();
  private Vertx vertx;
  private final List<HttpClient> clients = new ArrayList<>();
  private final List<Subscriber> subs = new ArrayList<>();
  private Publisher publisher;

  LoadTool(Args a) {
    this.a = a;
    this.target = Target.valueOf(a.str("target", "herald").toUpperCase());
    this.scenario = a.str("scenario", "broadcast");
    this.n = a.integer("connections", 1000);
    int defTopics = switch (scenario) {
      case "targeted" -> n;
      case "storm" -> Math.max(1, n / 10);
      case "soak" -> Math.max(1, n / 20);
      default -> 1;
    };
    this.topicCount = a.integer("topics", defTopics);
    String prefix = a.str("topic-prefix", "bench-" + scenario + "-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36));
    this.topics = new String[topicCount];
    for (int i = 0; i < topicCount; i++) {
      topics[i] = topicCount == 1 ? prefix : prefix + "-" + i;
    }
    for (String u : a.str("sse-url", target == Target.NCHAN ? "http://127.0.0.1:8090" : "http://127.0.0.1:8080").split(",")) {
      gateways.add(URI.create(u.trim()));
    }
    int ips = a.integer("source-ips", 1);
    for (int i = 0; i < ips; i++) {
      sourceIps.add(ips == 1 && !a.has("source-ip-base") ? "127.0.0.1" : a.str("source-ip-base", "127.0.0.") + (11 + i));
    }
    String pids = a.str("server-pid", "");
    this.serverJvm = a.flag("server-jvm", target == Target.HERALD);
    this.serverPidFile = pids.startsWith("@") ? Path.of(pids.substring(1)) : null;
    this.server = ProcProbe.parse(serverPidFile == null ? pids : "", serverJvm);
  }

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0 || argv[0].equals("--help")) {
      System.out.println("usage: java -jar herald-bench.jar --target herald|nchan --scenario broadcast|targeted|storm|saturation"
        + " [--sse-url URL[,URL]] [--publish-url URL] [--connections N] [--topics K] [--rate R] [--duration S]"
        + " [--source-ips C] [--server-pid PID[,PID]] [--payload-bytes B] [--out FILE] [--label TEXT]\n"
        + "       --payload-kind x|text: padding of x's (default) or of words and numbers (for compression)\n"
        + "       --publish-via http|bridge|eventbus: publish over HTTP (default), the TCP event-bus bridge"
        + " (--bridge-url HOST:PORT, 127.0.0.1:7001) or the clustered event bus (--cluster-name NAME --cluster-members"
        + " HOST[:PORT],... --cluster-port P: joins the hub's Hazelcast cluster; start it with --cluster)\n"
        + "       --gzip: streams ask for gzip and decode it (start Herald with HERALD_GATEWAY_SSE_COMPRESSION=accepted)\n"
        + "       --client-warmup-seconds S: first warm this tool's own code for S s against an echo hub inside it"
        + " (the server sees none of it), so that a fresh load-tool JVM does not add its JIT to the window\n"
        + "       --server-pid @FILE: wait (after the client warm-up) until FILE holds the server's pid, then start\n"
        + "       soak: --scenario soak [--churn C] [--warmup-seconds W] [--max-growth 0.10] [--lag-floor-ms 2]\n"
        + "       java -cp herald-bench.jar io.herald.bench.Report OUT.html RESULT.json...\n"
        + "       java -cp herald-bench.jar org.openjdk.jmh.Main   (JMH benchmarks)");
      return;
    }
    JsonObject result = run(argv);
    System.exit(result.getBoolean("ok", false) ? 0 : 1);
  }

  /** Runs one scenario and returns (and writes, with {@code --out}) its JSON report. */
  public static JsonObject run(String... argv) throws Exception {
    return new LoadTool(new Args(argv)).run();
  }

  /** One HTTP client per source address, each with a pool big enough for its share of the streams. */
  private List<HttpClient> httpClients() {
    int perClient = n / sourceIps.size() + 64;
    List<HttpClient> out = new ArrayList<>();
    for (String ip : sourceIps) {
      // --gzip: the streams ask for gzip (Accept-Encoding) and are decoded here, as a browser does.
      out.add(vertx.createHttpClient(new HttpClientOptions().setLocalAddress(ip).setIdleTimeout(0).setKeepAlive(true)
          .setConnectTimeout(30_000).setDecompressionSupported(a.flag("gzip", false)),
        new PoolOptions().setHttp1MaxSize(perClient).setMaxWaitQueueSize(-1)));
    }
    return out;
  }

  JsonObject run() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(a.integer("event-loops", Runtime.getRuntime().availableProcessors())));
    try {
      clientWarmUp();
      if (serverPidFile != null) {
        server = ProcProbe.parse(awaitServer(serverPidFile, a.integer("server-wait-seconds", 900)), serverJvm);
        System.out.println("  server up, pid " + server.roots() + ": measuring");
      }
      clients.addAll(httpClients());
      String pubUrl = a.str("publish-url", target == Target.NCHAN ? gateways.get(0).toString() : "http://127.0.0.1:8081");
      String via = a.str("publish-via", "http");
      publisher = new Publisher(vertx, target, pubUrl, a.str("key", "dev-publisher-key"), topics,
        Publisher.padding(a.integer("payload-bytes", 64), a.str("payload-kind", "x")), channel(via));
      out.put("label", a.str("label", target.name().toLowerCase() + " " + scenario + ("http".equals(via) ? "" : " via " + via)))
        .put("group", a.str("group", scenario + "-" + n))
        .put("target", target.name().toLowerCase())
        .put("scenario", scenario)
        .put("startedAt", Instant.now().toString())
        .put("machine", new JsonObject().put("cores", Runtime.getRuntime().availableProcessors())
          .put("loadAverage1mAtStart", ProcProbe.loadAverage()))
        .put("params", new JsonObject().put("connections", n).put("topics", topicCount)
          .put("gateways", new JsonArray(gateways.stream().map(URI::toString).toList()))
          .put("sourceIps", sourceIps.size()).put("payloadBytes", a.integer("payload-bytes", 64))
          .put("payloadKind", a.str("payload-kind", "x")).put("gzip", a.flag("gzip", false))
          .put("publishVia", via)
          .put("rate", a.dbl("rate", 10)).put("durationSeconds", a.integer("duration", 10))
          .put("connectConcurrency", a.integer("connect-concurrency", 1000))
          .put("clientEventLoops", a.integer("event-loops", Runtime.getRuntime().availableProcessors())));
      double clientCpu0 = ProcProbe.selfCpuSeconds();
      switch (scenario) {
        case "broadcast", "targeted" -> fanOut();
        case "storm" -> storm();
        case "saturation" -> saturation();
        case "soak" -> new Soak(a, vertx, clients, publisher, gateways, topics, server, stats, out).run();
        default -> throw new IllegalArgumentException("unknown --scenario " + scenario);
      }
      out.put("clientCpuSeconds", round(ProcProbe.selfCpuSeconds() - clientCpu0, 2));
      out.put("connections", connections());
      boolean ok = out.getJsonObject("events") == null || out.getJsonObject("events").getLong("lost", 0L) == 0
        && out.getJsonObject("events").getLong("duplicates", 0L) == 0;
      if (out.containsKey("storm")) {
        ok = out.getJsonObject("storm").getBoolean("exact", false);
      }
      if (out.containsKey("soak")) {
        ok = out.getJsonObject("soak").getBoolean("ok", false);
      }
      out.put("ok", ok && stats.failed.get() == 0);
      String file = a.str("out", "");
      if (!file.isEmpty()) {
        Path p = Path.of(file);
        if (p.getParent() != null) Files.createDirectories(p.getParent());
        Files.writeString(p, out.encodePrettily());
      }
      System.out.println(summary());
      return out;
    } finally {
      for (Subscriber s : subs) s.close();
      if (publisher != null) publisher.close().await(20, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** {@code --client-warmup-seconds}: the load tool's own JIT, against an echo hub in this JVM (the server sees none of it). */
  private void clientWarmUp() throws Exception {
    int seconds = a.integer("client-warmup-seconds", 0);
    if (seconds > 0) {
      JsonObject w = ClientWarmUp.run(vertx, target, Math.min(n, 200), Math.max(100, Math.min(a.dbl("rate", 10), 1000)),
        seconds, Publisher.padding(a.integer("payload-bytes", 64), a.str("payload-kind", "x")));
      out.put("clientWarmup", w);
      System.out.printf("  client warm-up: %d events in %d s against an echo hub in this JVM (p99 %.1f ms)%n",
        w.getLong("received"), seconds, w.getDouble("p99Ms"));
    }
  }

  /**
   * {@code --server-pid @FILE}: waits until FILE holds the server's pids (whoever starts the
   * server writes them once it is ready), so that this tool can warm itself up before the server
   * starts and measure it from its first moments; at most {@code seconds}.
   */
  private static String awaitServer(Path file, int seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      if (Files.exists(file)) {
        String pids = Files.readString(file).trim();
        if (!pids.isEmpty()) {
          return pids;
        }
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("no server pid in " + file + " within " + seconds + " s");
  }

  /**
   * The channel of {@code --publish-via}: null for {@code http} (the default), the TCP bridge at
   * {@code --bridge-url host:port}, or the clustered event bus ({@code --cluster-name},
   * {@code --cluster-members}, {@code --cluster-port}: the {@code cluster} options of Herald).
   */
  private PublishChannel channel(String via) throws Exception {
    if (!"http".equals(via) && target != Target.HERALD) {
      throw new IllegalArgumentException("--publish-via " + via + " is for --target herald only");
    }
    String key = a.str("key", "dev-publisher-key");
    int lanes = Math.min(topicCount, Publisher.LANES);
    switch (via) {
      case "http":
        return null;
      case "bridge": {
        URI u = URI.create("tcp://" + a.str("bridge-url", "127.0.0.1:7001").replaceFirst("^tcp://", ""));
        return BridgeChannel.connect(vertx, u.getHost(), u.getPort(), lanes, key).await(20, TimeUnit.SECONDS);
      }
      case "eventbus": {
        JsonObject cluster = new JsonObject().put("name", a.str("cluster-name", "herald"))
          .put("members", new JsonArray(List.of(a.str("cluster-members", "127.0.0.1").split(","))))
          .put("port", a.integer("cluster-port", 5701));
        return EventBusChannel.join(cluster).await(60, TimeUnit.SECONDS);
      }
      default:
        throw new IllegalArgumentException("unknown --publish-via " + via + " (http, eventbus or bridge)");
    }
  }

  // ---- scenarios ---------------------------------------------------------------------------

  private void fanOut() throws Exception {
    memoryBaseline();
    connectAll();
    out.put("memory", memoryConnected());
    warmPublish(a.dbl("rate", 10));
    JsonObject phase = publishPhase(a.dbl("rate", 10), a.integer("duration", 10), true);
    out.put("events", phase.getJsonObject("events"));
    out.put("latencyMs", phase.getJsonObject("latencyMs"));
    out.put("throughput", phase.getJsonObject("throughput"));
    out.put("cpu", phase.getJsonObject("cpu"));
    out.put("wire", phase.getJsonObject("wire"));
    out.put("timeline", phase.getJsonArray("timeline"));
  }

  private void saturation() throws Exception {
    memoryBaseline();
    connectAll();
    out.put("memory", memoryConnected());
    double rate = a.dbl("start-rate", 50);
    warmPublish(rate);
    double factor = a.dbl("rate-factor", 2);
    int steps = a.integer("max-steps", 8);
    double limitMs = a.dbl("p99-limit-ms", 100);
    JsonArray all = new JsonArray();
    JsonObject best = null;
    for (int i = 0; i < steps; i++) {
      JsonObject step = publishPhase(rate, a.integer("step-seconds", 5), false);
      JsonObject ev = step.getJsonObject("events");
      double p99 = step.getJsonObject("latencyMs").getDouble("p99");
      boolean pass = ev.getLong("lost") == 0 && ev.getLong("duplicates") == 0 && ev.getLong("publishFailed") == 0 && p99 <= limitMs;
      step.put("rate", rate).put("pass", pass);
      step.remove("timeline");
      all.add(step);
      System.out.printf("  step %.0f ev/s: deliveries/s %.0f p99 %.1f ms lost %d -> %s%n", rate,
        step.getJsonObject("throughput").getDouble("deliveriesPerSecond"), p99, ev.getLong("lost"), pass ? "pass" : "FAIL");
      if (!pass) break;
      best = step;
      rate *= factor;
    }
    out.put("steps", all);
    out.put("p99LimitMs", limitMs);
    out.put("saturation", best == null ? new JsonObject().put("passed", false) : new JsonObject().put("passed", true)
      .put("rate", best.getDouble("rate"))
      .put("deliveriesPerSecond", best.getJsonObject("throughput").getDouble("deliveriesPerSecond"))
      .put("p99Ms", best.getJsonObject("latencyMs").getDouble("p99"))
      .put("serverMicrosPerDelivery", best.getJsonObject("cpu").getValue("serverMicrosPerDelivery")));
  }

  private void storm() throws Exception {
    int missed = a.integer("missed", 5);
    connectAll();
    // One event per topic so that every stream holds a real event id to resume from.
    Future.join(publisher.publish(topicCount)).await(60, TimeUnit.SECONDS);
    waitFor(() -> subs.stream().allMatch(s -> !s.ready || s.lastN >= 1), 30_000);
    // Round 1 meets a cold JIT on the server (connection setup and resume run interpreted at
    // first); later rounds show a server that has been up for a while. The last round is the
    // figure; every round's time is kept.
    int rounds = a.integer("storm-rounds", 1);
    JsonArray times = new JsonArray();
    JsonArray readyP99 = new JsonArray();
    JsonObject result = null;
    for (int r = 0; r < rounds; r++) {
      result = stormRound(missed);
      times.add(result.getValue("secondsUntilAllCaughtUp"));
      readyP99.add(result.getJsonObject("readyMs").getValue("p99"));
      if (!result.getBoolean("exact")) {
        break;
      }
    }
    out.put("storm", result.put("rounds", times.size()).put("secondsPerRound", times).put("readyP99MsPerRound", readyP99));
  }

  /** Drops every stream, publishes {@code missed} events per topic, resumes all: one round. */
  private JsonObject stormRound(int missed) throws Exception {
    List<String> ids = new ArrayList<>();
    for (Subscriber s : subs) {
      ids.add(s.lastId);
      s.close();
    }
    Thread.sleep(2000);
    // Fresh clients for the reconnects: the old pools still count the connections just closed
    // until they evict them, and 10,000 requests queued behind that cost the tool itself 10 s
    // of CPU and more in a second round.
    for (HttpClient c : clients) {
      c.close();
    }
    clients.clear();
    clients.addAll(httpClients());
    publisher.publishEach(missed).await(120, TimeUnit.SECONDS);
    long dup0 = stats.duplicates.sum();
    long gap0 = stats.gaps.sum();
    long reset0 = stats.resets.sum();
    long recv0 = stats.received.sum();
    int failed0 = stats.failed.get();
    stats.ready.set(0);
    stats.caughtUp.set(0);
    int eligible = 0;
    for (Subscriber s : subs) {
      if (s.lastN >= 1) {
        s.catchUpTo = s.lastN + missed;
        eligible++;
      }
    }
    double cpu0 = server.cpuSeconds();
    double machine0 = ProcProbe.machineCpuSeconds();
    double self0 = ProcProbe.selfCpuSeconds();
    stats.readyLatency.getIntervalHistogram();
    long t0 = System.nanoTime();
    Semaphore permits = new Semaphore(a.integer("storm-concurrency", n));
    for (int i = 0; i < subs.size(); i++) {
      Subscriber s = subs.get(i);
      if (s.catchUpTo == 0) continue;
      URI g = gateways.get(i % gateways.size());
      permits.acquire();
      s.open(clients.get(i % clients.size()), g.getHost(), g.getPort(), ids.get(i)).onComplete(ar -> permits.release());
    }
    double issued = (System.nanoTime() - t0) / 1e9;
    final int goal = eligible;
    boolean all = waitFor(() -> stats.caughtUp.get() >= goal, a.integer("storm-timeout", 60) * 1000L);
    double seconds = (System.nanoTime() - t0) / 1e9;
    Thread.sleep(1000); // late duplicates would show here
    long dups = stats.duplicates.sum() - dup0;
    long gaps = stats.gaps.sum() - gap0;
    long resets = stats.resets.sum() - reset0;
    long received = stats.received.sum() - recv0;
    double cpu = server.cpuSeconds() - cpu0;
    long expected = (long) eligible * missed;
    JsonObject result = new JsonObject().put("clients", eligible).put("missedPerTopic", missed)
      .put("reconnectsIssuedSeconds", round(issued, 3))
      .put("allCaughtUp", all).put("caughtUp", stats.caughtUp.get())
      .put("secondsUntilAllCaughtUp", all ? round(seconds, 3) : null)
      .put("secondsUntilLastStreamOpen", round((stats.lastOpenNanos.get() - t0) / 1e9, 3))
      .put("readyMs", latency(stats.readyLatency.getIntervalHistogram()))
      .put("reconnectFailures", stats.failed.get() - failed0)
      .put("expectedEvents", expected).put("receivedEvents", received)
      .put("duplicates", dups).put("gaps", gaps).put("resets", resets)
      .put("serverCpuSeconds", round(cpu, 2))
      .put("clientCpuSeconds", round(ProcProbe.selfCpuSeconds() - self0, 2))
      .put("machineCpuSeconds", round(ProcProbe.machineCpuSeconds() - machine0, 2))
      .put("loadAverage1m", ProcProbe.loadAverage())
      .put("exact", all && dups == 0 && gaps == 0 && resets == 0 && received == expected);
    Histogram h = stats.latency.getIntervalHistogram();
    out.put("latencyMs", latency(h)).put("latencyNote", "publish-to-receive of the missed events: includes the time they waited while the client was away");
    return result;
  }

  // ---- phases ------------------------------------------------------------------------------

  private long rss0;
  private JsonObject mem0;

  private void memoryBaseline() throws Exception {
    if (!server.enabled()) return;
    if (a.flag("warmup", true)) {
      // Warm the server's code paths with a few streams so that the baseline is not a cold JVM.
      List<Subscriber> warm = new ArrayList<>();
      Stats ws = new Stats();
      int w = Math.min(n, 200);
      List<Future<Void>> f = new ArrayList<>();
      for (int i = 0; i < w; i++) {
        Subscriber s = new Subscriber(i, topics[0] + "-warm", ws, target);
        URI g = gateways.get(i % gateways.size());
        warm.add(s);
        f.add(s.open(clients.get(i % clients.size()), g.getHost(), g.getPort(), null));
      }
      Future.join(f).await(30, TimeUnit.SECONDS);
      Thread.sleep(1000);
      warm.forEach(Subscriber::close);
      Thread.sleep(2000);
    }
    mem0 = server.memory(true);
    rss0 = mem0.getLong("rssKib");
  }

  private JsonObject memoryConnected() throws Exception {
    if (!server.enabled()) return new JsonObject();
    Thread.sleep(2000);
    JsonObject mem1 = server.memory(true);
    int open = stats.ready.get();
    JsonObject m = new JsonObject().put("before", mem0).put("connected", mem1).put("connections", open);
    if (open > 0 && mem0 != null) {
      m.put("rssPerConnectionBytes", (mem1.getLong("rssKib") - rss0) * 1024 / open);
      if (mem1.containsKey("rssAfterGcKib") && mem0.containsKey("rssAfterGcKib")) {
        m.put("rssAfterFullGcPerConnectionBytes", (mem1.getLong("rssAfterGcKib") - mem0.getLong("rssAfterGcKib")) * 1024 / open);
      }
      if (mem1.containsKey("heapAfterGcKib") && mem0.containsKey("heapAfterGcKib")) {
        m.put("heapPerConnectionBytes", (mem1.getLong("heapAfterGcKib") - mem0.getLong("heapAfterGcKib")) * 1024 / open);
      }
      if (mem1.containsKey("nmtOtherCommittedKib") && mem0.containsKey("nmtOtherCommittedKib")) {
        m.put("nmtOtherPerConnectionBytes", (mem1.getLong("nmtOtherCommittedKib") - mem0.getLong("nmtOtherCommittedKib")) * 1024 / open);
      }
    }
    return m;
  }

  private void connectAll() throws Exception {
    Semaphore permits = new Semaphore(a.integer("connect-concurrency", 1000));
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      Subscriber s = new Subscriber(i, topics[i % topicCount], stats, target);
      subs.add(s);
      URI g = gateways.get(i % gateways.size());
      permits.acquire();
      s.open(clients.get(i % clients.size()), g.getHost(), g.getPort(), null).onComplete(ar -> permits.release());
    }
    waitFor(() -> stats.ready.get() + stats.failed.get() >= n, a.integer("connect-timeout", 120) * 1000L);
    connectSeconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("  %d/%d streams ready (%d failed) in %.1f s%n", stats.ready.get(), n, stats.failed.get(), connectSeconds);
    Thread.sleep(a.integer("settle-millis", 1000));
  }

  private double connectSeconds;

  /** Publishes for {@code --warmup-seconds} (2) before measuring, so that neither side is measured cold. */
  private void warmPublish(double rate) throws Exception {
    int s = a.integer("warmup-seconds", 2);
    if (s > 0) {
      JsonObject w = publishPhase(rate, s, false);
      out.put("warmup", new JsonObject().put("seconds", s).put("events", w.getJsonObject("events")));
    }
  }

  /** Publishes at {@code rate} events/s for {@code seconds}, then waits for the stragglers. */
  private JsonObject publishPhase(double rate, int seconds, boolean keepTimeline) throws Exception {
    long[] perTopic = new long[topicCount];
    for (Subscriber s : subs) {
      if (s.ready) perTopic[indexOf(s.topic)]++;
    }
    long acked0 = publisher.ackedTotal();
    long[] ackedBefore = new long[topicCount];
    for (int i = 0; i < topicCount; i++) ackedBefore[i] = publisher.acked.get(i);
    long failed0 = publisher.failed.sum();
    long recv0 = stats.received.sum();
    long dup0 = stats.duplicates.sum();
    long gap0 = stats.gaps.sum();
    stats.latency.getIntervalHistogram(); // discard what came before
    Histogram total = new Histogram(3_600_000_000L, 3);
    JsonArray timeline = new JsonArray();
    double cpu0 = server.cpuSeconds();
    double self0 = ProcProbe.selfCpuSeconds();
    double machine0 = ProcProbe.machineCpuSeconds();
    double steal0 = ProcProbe.stealSeconds();
    long lo0 = ProcProbe.loopbackBytes();
    long start = System.nanoTime();
    long timer = publisher.pace(vertx, start, rate, seconds);
    long lastRecv = recv0;
    long lastSent = 0;
    for (int sec = 1; sec <= seconds; sec++) {
      long wake = start + sec * 1_000_000_000L;
      long sleep = (wake - System.nanoTime()) / 1_000_000;
      if (sleep > 0) Thread.sleep(sleep);
      Histogram h = stats.latency.getIntervalHistogram();
      total.add(h);
      long recv = stats.received.sum();
      long sent = publisher.sent.sum();
      if (keepTimeline) {
        timeline.add(new JsonObject().put("s", sec).put("deliveries", recv - lastRecv).put("published", sent - lastSent)
          .put("p50", ms(h.getValueAtPercentile(50))).put("p99", ms(h.getValueAtPercentile(99))).put("max", ms(h.getMaxValue())));
      }
      lastRecv = recv;
      lastSent = sent;
    }
    vertx.cancelTimer(timer);
    double publishSeconds = (System.nanoTime() - start) / 1e9;
    // Drain: wait for outstanding publishes and deliveries; both count, wherever the backlog sits.
    long drainStart = System.nanoTime();
    waitFor(() -> publisher.inFlight.get() == 0, 30_000);
    long expected = 0;
    for (int i = 0; i < topicCount; i++) expected += (publisher.acked.get(i) - ackedBefore[i]) * perTopic[i];
    final long exp = expected;
    waitFor(() -> stats.received.sum() - recv0 - (stats.duplicates.sum() - dup0) >= exp, a.integer("drain-millis", 15000));
    double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
    total.add(stats.latency.getIntervalHistogram());
    double cpu = server.cpuSeconds() - cpu0;
    double self = ProcProbe.selfCpuSeconds() - self0;
    double machine = ProcProbe.machineCpuSeconds() - machine0;
    double wall = publishSeconds + drainSeconds;
    long received = stats.received.sum() - recv0;
    long dups = stats.duplicates.sum() - dup0;
    long unique = received - dups;
    long published = publisher.ackedTotal() - acked0;
    JsonObject r = new JsonObject();
    r.put("events", new JsonObject().put("published", published).put("publishFailed", publisher.failed.sum() - failed0)
      .put("expected", expected).put("received", received).put("duplicates", dups).put("gaps", stats.gaps.sum() - gap0)
      .put("lost", Math.max(0, expected - unique)).put("drainSeconds", round(drainSeconds, 2))
      .put("publisherMaxInFlight", publisher.maxInFlight.get()).put("firstPublishError", publisher.firstError.get()));
    r.put("latencyMs", latency(total));
    // Over publish time plus drain: a server that falls behind is not credited for its backlog.
    r.put("throughput", new JsonObject().put("deliveriesPerSecond", round(received / wall, 0))
      .put("publishedPerSecond", round(published / publishSeconds, 1)));
    r.put("cpu", new JsonObject().put("serverSeconds", round(cpu, 2))
      .put("serverMicrosPerDelivery", server.enabled() && received > 0 ? round(cpu * 1e6 / received, 2) : null)
      .put("serverMicrosPerEvent", server.enabled() && published > 0 ? round(cpu * 1e6 / published, 2) : null)
      .put("serverCoresBusy", server.enabled() ? round(cpu / (publishSeconds + drainSeconds), 2) : null)
      .put("clientSeconds", round(self, 2))
      .put("clientCoresBusy", round(self / wall, 2))
      // On loopback, who pays for a segment depends on TCP_NODELAY: a server that sends at once
      // also runs the receiver's softirq in its own context, one that waits for the ACK (Nagle,
      // as nginx does on its streams) sends from the load tool's context. Server plus load tool,
      // and the whole machine, per delivery compare the two fairly.
      .put("serverAndClientMicrosPerDelivery", server.enabled() && received > 0 ? round((cpu + self) * 1e6 / received, 2) : null)
      .put("machineSeconds", round(machine, 2))
      .put("machineMicrosPerDelivery", received > 0 ? round(machine * 1e6 / received, 2) : null)
      .put("otherProcessesCoresBusy", server.enabled() ? round(Math.max(0, machine - cpu - self) / wall, 2) : null)
      .put("stealCores", round((ProcProbe.stealSeconds() - steal0) / wall, 2))
      .put("loadAverage1m", ProcProbe.loadAverage()));
    long lo = ProcProbe.loopbackBytes() - lo0;
    r.put("wire", new JsonObject().put("gzip", a.flag("gzip", false)).put("loopbackBytes", lo)
      .put("bytesPerDelivery", received > 0 && lo0 >= 0 ? round((double) lo / received, 1) : null)
      .put("note", "all loopback traffic of the phase (streams and publishes, HTTP framing included) per delivery"));
    r.put("timeline", timeline);
    return r;
  }

  // ---- helpers -----------------------------------------------------------------------------

  private int indexOf(String topic) {
    return topicIndex(topic, topicCount);
  }

  /** The index of a topic of the run in its topic list: the number after the prefix's last dash. */
  static int topicIndex(String topic, int topicCount) {
    if (topicCount == 1) return 0;
    return Integer.parseInt(topic.substring(topic.lastIndexOf('-') + 1));
  }

  private JsonObject connections() {
    return new JsonObject().put("requested", n).put("opened", stats.opened.get()).put("failed", stats.failed.get())
      .put("ready", stats.ready.get()).put("closedByServer", stats.closedByServer.get())
      .put("connectSeconds", round(connectSeconds, 2));
  }

  static JsonObject latency(Histogram h) {
    return new JsonObject().put("count", h.getTotalCount())
      .put("p50", ms(h.getValueAtPercentile(50))).put("p90", ms(h.getValueAtPercentile(90)))
      .put("p99", ms(h.getValueAtPercentile(99))).put("p999", ms(h.getValueAtPercentile(99.9)))
      .put("max", ms(h.getMaxValue())).put("mean", round(h.getMean() / 1000.0, 3));
  }

  private static double ms(long micros) {
    return round(micros / 1000.0, 3);
  }

  static double round(double v, int digits) {
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }

  static boolean waitFor(BooleanSupplier cond, long millis) throws InterruptedException {
    long end = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < end) {
      if (cond.getAsBoolean()) return true;
      Thread.sleep(20);
    }
    return cond.getAsBoolean();
  }

  private String summary() {
    StringBuilder sb = new StringBuilder();
    sb.append(out.getString("label")).append(": ").append(connections().encode());
    for (String k : List.of("memory", "events", "latencyMs", "throughput", "cpu", "wire", "storm", "saturation", "soak")) {
      Object v = out.getValue(k);
      if (v instanceof JsonObject o) {
        JsonObject copy = o.copy();
        copy.remove("before");
        copy.remove("connected");
        sb.append("\n  ").append(k).append(' ').append(copy.encode());
      }
    }
    sb.append("\n  ok ").append(out.getBoolean("ok"));
    return sb.toString();
  }
}
