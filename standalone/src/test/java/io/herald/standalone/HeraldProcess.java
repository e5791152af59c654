package io.herald.standalone;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The real all-in-one fat jar ({@code standalone/target/herald.jar}) in its own JVM, configured
 * through environment variables, its output kept in {@code target/it-logs/<name>.log}.
 */
final class HeraldProcess implements AutoCloseable {

  static final Path JAR = Path.of("target", "herald.jar");

  final Process process;
  final Path log;
  final int gatewayPort;
  final int notifierPort;

  private HeraldProcess(Process process, Path log, int gatewayPort, int notifierPort) {
    this.process = process;
    this.log = log;
    this.gatewayPort = gatewayPort;
    this.notifierPort = notifierPort;
  }

  /** Starts the jar and waits until both ports accept connections. */
  static HeraldProcess start(String name, Map<String, String> env) throws Exception {
    HeraldProcess p = launch(name, env);
    p.awaitPorts(Duration.ofSeconds(30));
    return p;
  }

  /** Starts the jar without waiting (for processes expected to fail). */
  static HeraldProcess launch(String name, Map<String, String> env) throws IOException {
    if (!Files.exists(JAR)) {
      throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: run mvn package (the IT phase runs after it)");
    }
    int gateway = freePort();
    int notifier = freePort();
    Path logs = Path.of("target", "it-logs");
    Files.createDirectories(logs);
    Path log = logs.resolve(name + ".log");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-Xmx256m", "-jar", JAR.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("HERALD_GATEWAY_PORT", String.valueOf(gateway));
    pb.environment().put("HERALD_NOTIFIER_PORT", String.valueOf(notifier));
    pb.environment().put("HERALD_GATEWAY_HOST", "127.0.0.1");
    pb.environment().put("HERALD_NOTIFIER_HOST", "127.0.0.1");
    pb.environment().putAll(env);
    return new HeraldProcess(pb.start(), log, gateway, notifier);
  }

  void awaitPorts(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("herald exited with " + process.exitValue() + ":\n" + logTail());
      }
      if (accepts(gatewayPort) && accepts(notifierPort)) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("herald did not start within " + timeout + ":\n" + logTail());
  }

  /** POST /publish with the development key; returns the JSON answer (fails unless 200). */
  io.vertx.core.json.JsonObject publish(String body) throws Exception {
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpResponse<String> resp = client.send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + notifierPort + "/publish"))
      .header("Authorization", "Bearer dev-publisher-key").header("Content-Type", "application/json")
      .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    if (resp.statusCode() != 200) {
      throw new AssertionError("publish answered " + resp.statusCode() + ": " + resp.body());
    }
    return new io.vertx.core.json.JsonObject(resp.body());
  }

  String logTail() throws IOException {
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
