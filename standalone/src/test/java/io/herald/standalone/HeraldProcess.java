package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
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

  /**
   * Environment for a hub on the Redis replay store (the one with breakers, as in production),
   * under a key prefix of its own ({@code tag} tells runs apart); add to it as needed.
   */
  static Map<String, String> redisStore(String tag) {
    String redis = System.getenv().getOrDefault("HERALD_TEST_REDIS_URL", "redis://127.0.0.1:6379");
    return new java.util.HashMap<>(Map.of("HERALD_REPLAY_STORE", "redis", "HERALD_REPLAY_REDIS_URL", redis,
      "HERALD_REPLAY_REDIS_KEY_PREFIX", "herald-it-" + ProcessHandle.current().pid() + "-" + tag + ":"));
  }

  /** Starts the jar and waits until it serves; fails with the log tail if it does not within 30 s. */
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
    return launch(name, Path.of(System.getProperty("java.home"), "bin", "java"),
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"), env, args);
  }

  /** As {@link #launch(String, Map, String...)}, on the {@code java} binary given with these JVM options. */
  static HeraldProcess launch(String name, Path java, List<String> jvmOptions, Map<String, String> env, String... args)
    throws IOException {
    if (!Files.isRegularFile(JAR)) {
      throw new AssertionError(JAR.toAbsolutePath() + " is missing: the integration tests run in `mvn verify`, after package builds it");
    }
    int gateway = Ports.freePort();
    int notifier = Ports.freePort();
    while (notifier == gateway) {
      notifier = Ports.freePort();
    }
    int admin = Ports.freePort();
    while (admin == gateway || admin == notifier) {
      admin = Ports.freePort();
    }
    Files.createDirectories(LOGS);
    Path log = LOGS.resolve(name + ".log");
    Path err = LOGS.resolve(name + ".stderr.log");
    List<String> cmd = new ArrayList<>(List.of(java.toString()));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", JAR.toString()));
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
    return new HeraldProcess(io.herald.testsupport.ClassDataSharing.start(pb), log, err, gateway, notifier, admin);
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
      if (gatewayAnswers(http) && Ports.accepts(notifierPort)) {
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
  /** Done with the hub: lets it finish recording its class-data archive if it records one, then {@link #kill()}s it. */
  void destroy() {
    io.herald.testsupport.ClassDataSharing.stop(process);
    kill();
  }

  /** The hub crashes: SIGKILL, and up to 10 s for it to be gone. */
  void kill() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
