package io.herald.bench;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.herald.testsupport.Ports.freePort;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real fat jar ({@code herald.jar} system property, else {@code ../standalone/target/herald.jar})
 * started for the bench's tests: on loopback, with the per-address limits a load tool hits lifted,
 * no publish rate limit and no JIT warm-up (these runs check the tool, not the server's speed),
 * ready once its {@code /ready} answers 200. {@link #close} stops it.
 */
final class BenchHub implements AutoCloseable {

  final Process process;
  final int gatewayPort;
  final int notifierPort;

  private BenchHub(Process process, int gatewayPort, int notifierPort) {
    this.process = process;
    this.gatewayPort = gatewayPort;
    this.notifierPort = notifierPort;
  }

  /**
   * Starts the jar with {@code jvmFlags} before {@code -jar} and {@code args} after it, {@code env}
   * over the defaults, its output in {@code log}; waits up to {@code readySeconds} (a deadline, not
   * a speed limit) for it to be ready.
   */
  static BenchHub start(List<String> jvmFlags, List<String> args, Map<String, String> env, Path log, int readySeconds)
    throws Exception {
    Path jar = Path.of(System.getProperty("herald.jar", "../standalone/target/herald.jar"));
    assertThat(jar).as("the fat jar (build standalone first: mvn -B -q install -DskipTests)").exists();
    Files.createDirectories(log.getParent());
    int gatewayPort = freePort();
    int notifierPort = freePort();
    int adminPort = freePort();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags);
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> e = pb.environment();
    e.put("HERALD_GATEWAY_HOST", "127.0.0.1");
    e.put("HERALD_GATEWAY_PORT", Integer.toString(gatewayPort));
    e.put("HERALD_NOTIFIER_HOST", "127.0.0.1");
    e.put("HERALD_NOTIFIER_PORT", Integer.toString(notifierPort));
    e.put("HERALD_ADMIN_PORT", Integer.toString(adminPort));
    e.put("HERALD_ADMIN_WARM_UP_MILLIS", "0");
    e.put("HERALD_GATEWAY_MAX_CONNECTIONS_PER_IP", "100000");
    e.put("HERALD_GATEWAY_CONNECT_ATTEMPTS_PER_IP_PER_MINUTE", "1000000");
    e.put("HERALD_NOTIFIER_PUBLISH_RATE_PER_KEY", "0");
    e.putAll(env);
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    BenchHub hub = new BenchHub(pb.start(), gatewayPort, notifierPort);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(readySeconds);
    while (!ready(adminPort)) {
      assertThat(hub.process.isAlive()).as("herald exited; see " + log).isTrue();
      assertThat(System.nanoTime()).as("herald ready within " + readySeconds + " s; see " + log).isLessThan(end);
      Thread.sleep(100);
    }
    return hub;
  }

  String sseUrl() {
    return "http://127.0.0.1:" + gatewayPort;
  }

  String publishUrl() {
    return "http://127.0.0.1:" + notifierPort;
  }

  String pid() {
    return Long.toString(process.pid());
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }

  private static boolean ready(int adminPort) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + adminPort + "/ready").toURL().openConnection();
      c.setConnectTimeout(500);
      c.setReadTimeout(500);
      return c.getResponseCode() == 200;
    } catch (IOException e) {
      return false;
    }
  }
}
