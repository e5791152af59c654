package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.testsupport.SseStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code scripts/aot-cache.sh}, the script the image build trains Java 25's AOT cache with
 * (docs/operations.md, "AOT cache"): run on the built all-in-one jar with a short warm-up, it
 * writes the cache; the jar started on Java 25 with {@code -XX:AOTCache} then opens and uses it
 * (the JVM's own {@code -Xlog:aot} lines say so; {@code -XX:AOTMode=on} makes an unusable cache
 * a start failure instead of a warning), becomes ready and delivers a published event. A role's
 * jar (the gateway's) trains the same way, clustered and alone, as the role images do. Java 25 is
 * required: without it the test fails.
 */
class AotCacheIT {

  /** Where Temurin 25 is on the project's machines and CI; HERALD_TEST_JAVA25 overrides it. */
  static final Path JAVA25 = Path.of(System.getenv().getOrDefault("HERALD_TEST_JAVA25",
    "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"));
  /** The training run's and the test run's JVM options (they must match: see the script). */
  static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC");

  private Process training;
  private HeraldProcess hub;
  private Process gateway;

  @AfterEach
  void stop() {
    if (training != null) {
      training.descendants().forEach(ProcessHandle::destroyForcibly);
      training.destroyForcibly();
    }
    if (hub != null) {
      hub.destroy();
    }
    if (gateway != null) {
      gateway.destroyForcibly();
    }
  }

  /**
   * Runs scripts/aot-cache.sh on {@code jar} into {@code cache} with Java 25, {@link #JVM_OPTIONS}
   * and {@code settings} (HERALD_* and AOT_* of the caller's only); fails unless it ends within
   * 180 s with status 0. Returns its output; the JVM's goes to {@code name}-jvm.log.
   */
  private String train(Path jar, Path cache, String name, Map<String, String> settings) throws Exception {
    Files.createDirectories(HeraldProcess.LOGS);
    Files.deleteIfExists(cache);
    Path trainLog = HeraldProcess.LOGS.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "scripts", "aot-cache.sh").toString(), jar.toString(), cache.toString())
      .redirectErrorStream(true).redirectOutput(trainLog.toFile())
      .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("HERALD_") || k.startsWith("AOT_"));
    env.putAll(Map.of("JAVA", JAVA25.toString(), "JAVA_OPTS", String.join(" ", JVM_OPTIONS),
      "AOT_READY_SECONDS", "90", "AOT_EXIT_SECONDS", "60",
      "AOT_LOG", HeraldProcess.LOGS.resolve(name + "-jvm.log").toAbsolutePath().toString()));
    env.putAll(settings);
    training = pb.start();
    boolean ended = training.waitFor(180, TimeUnit.SECONDS);
    String out = Files.readString(trainLog, StandardCharsets.UTF_8);
    assertThat(ended).as("aot-cache.sh still running after 180 s:\n" + out).isTrue();
    assertThat(training.exitValue()).as("aot-cache.sh failed:\n" + out).isZero();
    return out;
  }

  private static void requireJava25() {
    if (!Files.isExecutable(JAVA25)) {
      throw new AssertionError("Java 25 is required for the AOT cache test and is not at " + JAVA25
        + ": install Temurin 25 (eclipse-temurin 25 JDK) there, or set HERALD_TEST_JAVA25 to a Java 25 java binary");
    }
  }

  @Test
  @DisplayName("scripts/aot-cache.sh writes an AOT cache for the jar, and the jar started on Java 25 with it uses it, is ready and delivers events")
  void trainsAndUsesTheCache() throws Exception {
    requireJava25();
    // Training: the same jar path (relative to this module, as the hub below runs it) and options.
    Path cache = HeraldProcess.LOGS.resolve("herald-aot-it.aot").toAbsolutePath();
    String out = train(HeraldProcess.JAR, cache, "aot-train", Map.of(
      "HERALD_ADMIN_WARM_UP_MILLIS", "3000", "HERALD_ADMIN_WARM_UP_PUBLISHES", "2000", "AOT_PUBLISHES", "100"));
    assertThat(out).contains("ready; warm-up ended after", "100 publishes delivered to 4 SSE streams", "wrote " + cache);
    assertThat(cache).as("the cache file").exists();
    assertThat(Files.size(cache)).as("the cache's size").isPositive();

    // The jar on Java 25 with the cache: -Xlog:aot says whether it was opened and used.
    hub = HeraldProcess.launch("aot-cache", JAVA25,
      List.of(JVM_OPTIONS.get(0), JVM_OPTIONS.get(1), "-XX:AOTCache=" + cache, "-XX:AOTMode=on", "-Xlog:aot"), Map.of());
    hub.awaitReady(Duration.ofSeconds(30));
    HttpResponse<String> ready = hub.admin("/ready");
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (ready.statusCode() != 200 && System.nanoTime() < deadline) {
      Thread.sleep(100);
      ready = hub.admin("/ready");
    }
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    String log = hub.stdout() + hub.stderr();
    assertThat(log).as("the JVM's AOT log:\n" + hub.logTail())
      .contains("Opened AOT cache " + cache + ".")
      .contains("Using AOT-linked classes: true")
      .doesNotContain("Unable to use AOT cache");

    HttpResponse<InputStream> stream = HeraldProcess.HTTP.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + hub.gatewayPort + "/events?topic=aot-it")).timeout(Duration.ofSeconds(30)).build(),
      HttpResponse.BodyHandlers.ofInputStream());
    assertThat(stream.statusCode()).isEqualTo(200);
    try (InputStream body = stream.body()) {
      CompletableFuture<String> first = SseStreams.firstAppData(body);
      hub.publishId("{\"topic\":\"aot-it\",\"data\":\"from the cache\"}");
      assertThat(first.get(20, TimeUnit.SECONDS)).isEqualTo("from the cache");
    }
  }

  @Test
  @DisplayName("a role's jar (the gateway's) trains clustered and alone, as the role images do (AOT_ARGS=--cluster, AOT_PUBLISHES=0), and the role started clustered with the cache uses it and becomes ready")
  void trainsARoleClusteredAndAlone() throws Exception {
    requireJava25();
    Path jar = Path.of("..", "gateway-verticle", "target", "herald-gateway.jar");
    assertThat(jar).as("the gateway's fat jar (built before the standalone module)").isRegularFile();
    Path cache = HeraldProcess.LOGS.resolve("herald-gateway-aot-it.aot").toAbsolutePath();
    // The warm-up's bound counts its private cluster's forming (5 to 6 s): 9 s leave it a few to run.
    String out = train(jar, cache, "aot-train-gateway", Map.of(
      "AOT_ARGS", "--cluster", "AOT_PUBLISHES", "0", "HERALD_ADMIN_WARM_UP_MILLIS", "9000"));
    assertThat(out).contains("ready; warm-up ended after", "wrote " + cache).doesNotContain("publishes delivered");
    String jvmLog = Files.readString(HeraldProcess.LOGS.resolve("aot-train-gateway-jvm.log"), StandardCharsets.UTF_8);
    assertThat(jvmLog).as("the training gateway warmed up in its private cluster")
      .contains("clustered with a stand-in replay member in a private cluster");
    assertThat(Files.size(cache)).as("the cache's size").isPositive();

    // The gateway, clustered, on Java 25 with the cache (-XX:AOTMode=on: an unusable cache fails the start).
    int admin = Ports.freePort();
    int http = Ports.freePort();
    int hazelcast = Ports.freePort();
    Path log = HeraldProcess.LOGS.resolve("aot-gateway.log");
    List<String> cmd = new java.util.ArrayList<>(List.of(JAVA25.toString()));
    cmd.addAll(JVM_OPTIONS);
    cmd.addAll(List.of("-XX:AOTCache=" + cache, "-XX:AOTMode=on", "-Xlog:aot", "-jar", jar.toString(), "--cluster"));
    ProcessBuilder run = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
      .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Map<String, String> runEnv = run.environment();
    runEnv.keySet().removeIf(k -> k.startsWith("HERALD_"));
    runEnv.putAll(Map.of("HERALD_GATEWAY_HOST", "127.0.0.1", "HERALD_GATEWAY_PORT", "" + http, "HERALD_ADMIN_PORT", "" + admin,
      "HERALD_ADMIN_WARM_UP_MILLIS", "0", "HERALD_CLUSTER_NAME", "herald-aot-it-" + ProcessHandle.current().pid(),
      "HERALD_CLUSTER_PORT", "" + hazelcast, "HERALD_CLUSTER_MEMBERS", "127.0.0.1:" + hazelcast));
    gateway = run.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    int status = 0;
    while (status != 200 && System.nanoTime() < deadline && gateway.isAlive()) {
      try {
        status = HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/ready"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
      } catch (java.io.IOException notYet) {
        status = 0;
      }
      if (status != 200) {
        Thread.sleep(200);
      }
    }
    String gatewayLog = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(status).as("the gateway's /ready; its log:\n" + gatewayLog).isEqualTo(200);
    assertThat(gatewayLog).as("the JVM's AOT log")
      .contains("Opened AOT cache " + cache + ".")
      .contains("Using AOT-linked classes: true")
      .doesNotContain("Unable to use AOT cache");
  }
}
