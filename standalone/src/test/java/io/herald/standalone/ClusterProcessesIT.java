package io.herald.standalone;

import io.herald.common.testing.SseClient;
import io.herald.common.testing.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster as the README runs it: one process per role from its own fat jar, joined over
 * Hazelcast on loopback. A gateway is killed with SIGKILL mid-stream and its client resumes on
 * the other gateway with Last-Event-ID.
 */
class ClusterProcessesIT {

  private final List<Process> processes = new ArrayList<>();
  private final String clusterName = "herald-it-" + ProcessHandle.current().pid();

  private Process role(String jar, String name, Map<String, String> env) throws IOException {
    Path logs = Path.of("target", "it-logs");
    Files.createDirectories(logs);
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-Xmx256m", "-Dhazelcast.wait.seconds.before.join=0", "-jar", Path.of("..", jar).toString(), "--cluster")
      .redirectErrorStream(true).redirectOutput(logs.resolve("cluster-" + name + ".log").toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("HERALD_"));
    pb.environment().put("HERALD_CLUSTER_NAME", clusterName);
    pb.environment().putAll(env);
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  @AfterEach
  void stopAll() {
    processes.forEach(Process::destroyForcibly);
  }

  @Test
  @DisplayName("Role processes form a cluster; a killed gateway's client resumes on the other without loss")
  void separateProcessesAndGatewayFailover() throws Exception {
    int notifierPort = HeraldProcess.freePort();
    int gw1Port = HeraldProcess.freePort();
    int gw2Port = HeraldProcess.freePort();
    role("replay-verticle/target/herald-replay.jar", "replay", Map.of());
    role("notifier-verticle/target/herald-notifier.jar", "notifier", Map.of("HERALD_NOTIFIER_PORT", "" + notifierPort));
    Process gw1 = role("gateway-verticle/target/herald-gateway.jar", "gateway1", Map.of("HERALD_GATEWAY_PORT", "" + gw1Port));
    role("gateway-verticle/target/herald-gateway.jar", "gateway2", Map.of("HERALD_GATEWAY_PORT", "" + gw2Port));

    Vertx vertx = Vertx.vertx();
    try {
      HttpClient http = vertx.createHttpClient();
      SseClient onGw1 = subscribeWhenReady(http, gw1Port, "/events?topic=orders&topic=alerts");
      SseClient onGw2 = subscribeWhenReady(http, gw2Port, "/events?topic=orders");
      Publisher notifier = new Publisher(notifierPort);
      notifier.awaitReady(Duration.ofSeconds(60));

      notifier.publish("{\"topic\":\"orders\",\"data\":\"o1\"}");
      notifier.publish("{\"topic\":\"alerts\",\"data\":\"a1\"}");
      assertThat(onGw1.awaitAppEvents(2, Duration.ofSeconds(15))).extracting(SseEvent::data).containsExactly("o1", "a1");
      assertThat(onGw2.awaitAppEvents(1, Duration.ofSeconds(15))).extracting(SseEvent::data).containsExactly("o1");
      String lastId = onGw1.appEvents().get(1).id();

      gw1.destroyForcibly(); // SIGKILL: no clean end for its clients
      assertThat(gw1.waitFor(10, TimeUnit.SECONDS)).isTrue();
      notifier.publish("{\"topic\":\"orders\",\"data\":\"o2\"}");
      notifier.publish("{\"topic\":\"alerts\",\"data\":\"a2\"}");

      try (SseClient moved = SseClient.open(http, gw2Port, "/events?topic=orders&topic=alerts", "Last-Event-ID", lastId)) {
        assertThat(moved.awaitAppEvents(2, Duration.ofSeconds(15))).extracting(SseEvent::data).containsExactly("o2", "a2");
        notifier.publish("{\"topic\":\"alerts\",\"data\":\"a3\"}");
        assertThat(moved.awaitAppEvents(3, Duration.ofSeconds(15)).get(2).data()).isEqualTo("a3");
      }
      assertThat(onGw2.awaitAppEvents(2, Duration.ofSeconds(15))).extracting(SseEvent::data).containsExactly("o1", "o2");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Subscribes once the gateway is up and has the replay role in reach (503 until then). */
  private SseClient subscribeWhenReady(HttpClient http, int port, String path) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Throwable last = null;
    while (System.nanoTime() < deadline) {
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new AssertionError("a role process exited with " + p.exitValue() + "; see target/it-logs/cluster-*.log");
        }
      }
      if (accepts(port)) {
        try {
          SseClient c = SseClient.open(http, port, path);
          c.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
          return c;
        } catch (Exception | AssertionError e) {
          last = e;
        }
      }
      Thread.sleep(250);
    }
    throw new AssertionError("gateway on " + port + " did not serve " + path + " in 60 s", last);
  }

  /** POSTs to the notifier process's publish API with the development key. */
  private record Publisher(int port) {

    void publish(String body) throws Exception {
      var resp = send(body);
      if (resp.statusCode() != 200) {
        throw new AssertionError("publish answered " + resp.statusCode() + ": " + resp.body());
      }
    }

    void awaitReady(Duration timeout) throws Exception {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        if (accepts(port)) {
          return;
        }
        Thread.sleep(200);
      }
      throw new AssertionError("notifier on " + port + " did not start");
    }

    private java.net.http.HttpResponse<String> send(String body) throws Exception {
      return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + port + "/publish"))
        .header("Authorization", "Bearer dev-publisher-key").header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
