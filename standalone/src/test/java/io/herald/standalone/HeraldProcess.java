package io.herald.standalone;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real all-in-one fat jar ({@code standalone/target/herald.jar}) run with {@code java -jar} in
 * its own JVM, configured only through {@code HERALD_*} environment variables (free ports on
 * loopback, one-second heartbeats). Its standard output goes to {@code target/it-logs/<name>.log}
 * and its standard error to {@code target/it-logs/<name>.stderr.log}. Tests must call
 * {@link #destroy()} in {@code @AfterEach}.
 */
final class HeraldProcess {

  static final Path JAR = Path.of("target", "herald.jar");
  static final Path LOGS = Path.of("target", "it-logs");
  static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  static final String PUBLISHER_KEY = "dev-publisher-key";

  final Process process;
  final Path log;
  final Path stderrLog;
  final int gatewayPort;
  final int notifierPort;
  final int adminPort;

  private HeraldProcess(Process process, Path log, Path stderrLog, int gatewayPort, int notifierPort, int adminPort) {
    this.adminPort = adminPort;
    this.process = process;
    this.log = log;
    this.stderrLog = stderrLog;
    this.gatewayPort = gatewayPort;
    this.notifierPort = notifierPort;
  }

  /** Starts the jar and waits until it serves; fails with the log tail if it does not within 30 s. */
  /**
   * One role's jar started with {@code --cluster}, as docs/clustering.md runs it: the test's own
   * {@code HERALD_*} variables dropped, the cluster named {@code clusterName}, a free admin port,
   * the per-address limits lifted (every test client comes from loopback), output in
   * {@code target/it-logs/<log>.log}. Callers add their environment (it overrides) and start it.
   */
  static ProcessBuilder clusterRole(String jar, String log, String clusterName, List<String> jvmFlags) throws IOException {
    Files.createDirectories(LOGS);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    command.add("-Dhazelcast.wait.seconds.before.join=0");
    command.addAll(List.of("-jar", Path.of("..", jar).toString(), "--cluster"));
    ProcessBuilder pb = new ProcessBuilder(command)
      .redirectErrorStream(true).redirectOutput(LOGS.resolve(log + ".log").toFile())
      .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("HERALD_"));
    env.put("HERALD_CLUSTER_NAME", clusterName);
    env.put("HERALD_ADMIN_PORT", String.valueOf(freePort()));
    env.put("HERALD_ADMIN_WARM_UP_MILLIS", "0");
    env.put("HERALD_GATEWAY_MAX_CONNECTIONS_PER_IP", "100000");
    env.put("HERALD_GATEWAY_CONNECT_ATTEMPTS_PER_IP_PER_MINUTE", "1000000");
    return pb;
  }

  /**
   * Environment for a hub on the Redis replay store (the one with breakers, as in production),
   * under a key prefix of its own ({@code tag} tells runs apart); add to it as needed.
   */
  static Map<String, String> redisStore(String tag) {
    String redis = System.getenv().getOrDefault("HERALD_TEST_REDIS_URL", "redis://127.0.0.1:6379");
    return new java.util.HashMap<>(Map.of("HERALD_REPLAY_STORE", "redis", "HERALD_REPLAY_REDIS_URL", redis,
      "HERALD_REPLAY_REDIS_KEY_PREFIX", "herald-it-" + ProcessHandle.current().pid() + "-" + tag + ":"));
  }

  static HeraldProcess start(String name, Map<String, String> env, String... args) throws Exception {
    HeraldProcess p = launch(name, env, args);
    try {
      p.awaitReady(START_TIMEOUT);
    } catch (Throwable t) {
      p.destroy();
      throw t;
    }
    return p;
  }

  /**
   * Starts the jar without waiting (for processes expected to fail). {@code env} is applied after
   * the defaults (free ports, loopback, {@code HERALD_GATEWAY_HEARTBEAT_SECONDS=1}), so it can
   * override them.
   */
  static HeraldProcess launch(String name, Map<String, String> env, String... args) throws IOException {
    if (!Files.isRegularFile(JAR)) {
      throw new AssertionError(JAR.toAbsolutePath() + " is missing: the integration tests run in `mvn verify`, after package builds it");
    }
    int gateway = freePort();
    int notifier = freePort();
    while (notifier == gateway) {
      notifier = freePort();
    }
    int admin = freePort();
    while (admin == gateway || admin == notifier) {
      admin = freePort();
    }
    Files.createDirectories(LOGS);
    Path log = LOGS.resolve(name + ".log");
    Path err = LOGS.resolve(name + ".stderr.log");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", JAR.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd)
      .redirectOutput(log.toFile())
      .redirectError(err.toFile())
      .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Map<String, String> e = pb.environment();
    e.keySet().removeIf(k -> k.startsWith("HERALD_"));
    e.put("HERALD_GATEWAY_HOST", "127.0.0.1");
    e.put("HERALD_GATEWAY_PORT", String.valueOf(gateway));
    e.put("HERALD_GATEWAY_HEARTBEAT_SECONDS", "1");
    e.put("HERALD_NOTIFIER_HOST", "127.0.0.1");
    e.put("HERALD_NOTIFIER_PORT", String.valueOf(notifier));
    e.put("HERALD_ADMIN_PORT", String.valueOf(admin));
    // No JIT warm-up before readiness in tests (WarmUpIT tests it): it would add seconds to each start.
    e.put("HERALD_ADMIN_WARM_UP_MILLIS", "0");
    e.putAll(env);
    return new HeraldProcess(pb.start(), log, err, gateway, notifier, admin);
  }

  /**
   * HTTP/1.1 on purpose: the JDK client's default h2c upgrade against Vert.x 5.0.8 sometimes
   * never completed a response body (seen once in a full run, a test stuck for minutes).
   */
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();

  /** GET on the admin server; the whole exchange, body included, is bounded by 15 s. */
  HttpResponse<String> admin(String path) throws Exception {
    return admin(path, null);
  }

  /** GET on the admin server with {@code Authorization: Bearer token} when token is not null. */
  HttpResponse<String> admin(String path, String token) throws Exception {
    java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(
      java.net.URI.create("http://127.0.0.1:" + adminPort + path)).timeout(Duration.ofSeconds(10));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).get(15, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** Polls until {@code GET /events?topic=x} answers 200 and the notifier port accepts a connection. */
  void awaitReady(Duration timeout) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("herald exited with status " + process.exitValue() + " before it was ready:\n" + logTail());
      }
      if (gatewayAnswers(http) && accepts(notifierPort)) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("herald did not start within " + timeout.toSeconds() + " s:\n" + logTail());
  }

  private boolean gatewayAnswers(HttpClient http) {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gatewayPort + "/events?topic=x"))
      .timeout(Duration.ofSeconds(2)).GET().build();
    try {
      HttpResponse<InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      resp.body().close();
      // 401: up, with subscriber authentication on (the probe has no token).
      return resp.statusCode() == 200 || resp.statusCode() == 401;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** {@code POST /publish} with the development key; returns the JSON answer (fails unless 200). */
  JsonObject publish(String body) throws Exception {
    HttpResponse<String> resp = post("/publish", body);
    if (resp.statusCode() != 200) {
      throw new AssertionError("POST /publish answered " + resp.statusCode() + ": " + resp.body());
    }
    return new JsonObject(resp.body());
  }

  /** The id ({@code events[0].id}) the notifier answered for a single-topic publish. */
  String publishId(String body) throws Exception {
    return publish(body).getJsonArray("events").getJsonObject(0).getString("id");
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + notifierPort + path))
        .timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + PUBLISHER_KEY)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
      HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  /** Waits for the process to exit; returns its status, or fails with the log tail. */
  int awaitExit(Duration timeout) throws Exception {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("herald still running after " + timeout.toSeconds() + " s:\n" + logTail());
    }
    return process.exitValue();
  }

  String stdout() throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  String stderr() throws IOException {
    return Files.exists(stderrLog) ? Files.readString(stderrLog, StandardCharsets.UTF_8) : "";
  }

  /** The last lines of standard output and all of standard error, for failure messages. */
  String logTail() throws IOException {
    List<String> lines = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    return "--- " + log + " (last 40 lines) ---\n"
      + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()))
      + "\n--- " + stderrLog + " ---\n" + stderr();
  }

  /** Kills the process (SIGKILL) and its children; safe to call more than once. */
  void destroy() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Opens an SSE stream on {@code port} once the gateway serves it (it answers 503 until the
   * replay role is in reach), within {@code seconds}; fails at once when one of the role
   * processes has exited (their logs are {@code logs}).
   */
  static io.herald.common.testing.SseClient subscribeWhenReady(io.vertx.core.http.HttpClient http, int port, String path,
      List<Process> processes, String logs, int seconds) throws Exception {
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(seconds).toNanos();
    Throwable last = null;
    while (System.nanoTime() < deadline) {
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new AssertionError("a role process exited with " + p.exitValue() + "; see " + logs);
        }
      }
      if (accepts(port)) {
        try {
          io.herald.common.testing.SseClient c = io.herald.common.testing.SseClient.open(http, port, path);
          c.await(l -> !l.isEmpty(), java.time.Duration.ofSeconds(10));
          return c;
        } catch (Exception | AssertionError e) {
          last = e;
        }
      }
      Thread.sleep(250);
    }
    throw new AssertionError("gateway on " + port + " did not serve " + path + " in " + seconds + " s", last);
  }

  static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Ports handed out by {@link #freePort} (below the kernel's ephemeral range) start here. */
  static final int PORT_RANGE_START = 20_000;
  /** ... and end before here: Linux's ephemeral range starts at 32768. */
  static final int PORT_RANGE_END = 32_768;
  private static final java.util.concurrent.atomic.AtomicInteger NEXT_PORT = new java.util.concurrent.atomic.AtomicInteger(
    (int) ((ProcessHandle.current().pid() * 7919 + System.nanoTime()) % (PORT_RANGE_END - PORT_RANGE_START)));

  /**
   * A port for a process the test starts. Not the kernel's pick ({@code new ServerSocket(0)}):
   * that comes from the ephemeral range, where every outgoing connection of every process on
   * the machine also takes its port, so between the pick and the child's bind another
   * connection could take it (seen in CI: a role exited on "port already in use"). Below the
   * ephemeral range only listeners take ports; this JVM walks the range from a per-process
   * starting point, never hands out a port twice, and checks that each is free now.
   */
  static int freePort() throws IOException {
    int span = PORT_RANGE_END - PORT_RANGE_START;
    for (int tries = 0; tries < span; tries++) {
      int port = PORT_RANGE_START + Math.floorMod(NEXT_PORT.getAndIncrement(), span);
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(false);
        s.bind(new InetSocketAddress("0.0.0.0", port));
        return port;
      } catch (IOException taken) {
        // in use: the next one
      }
    }
    throw new IOException("no free port in " + PORT_RANGE_START + "-" + PORT_RANGE_END);
  }
}
