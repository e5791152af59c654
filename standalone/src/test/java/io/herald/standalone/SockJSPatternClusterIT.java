package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import io.herald.testsupport.SseClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A SockJS pattern registration in a cluster of separate JVMs (replay, notifier, two gateways,
 * each its own fat jar), with the official clients in Node.js ({@code src/test/node/sockjs-resume.mjs}):
 * a client registered on {@code orders.*} on gateway 1 receives events live; gateway 1 is killed
 * (SIGKILL); the client registers again on gateway 2 with its cursor (in the register's headers
 * and in its replay) and gets exactly what it missed, a topic first published while it was away
 * included, then live events, each once.
 */
class SockJSPatternClusterIT {

  private static final int STARTUP_SECONDS = 150;
  private static final Path NODE_DIR = Path.of("src", "test", "node");

  private final RoleCluster cluster = RoleCluster.fromModule("sockjspattern");

  @AfterEach
  void stopAll() throws InterruptedException {
    cluster.close();
  }

  @Test
  @DisplayName("A SockJS pattern client resumes exactly on another gateway after its gateway is killed -9")
  void resumesOnAnotherGateway() throws Exception {
    ExternalTools.require("node", "install Node.js 18 or later");
    if (!Files.isDirectory(NODE_DIR.resolve("node_modules").resolve("sockjs-client"))
      || !Files.isDirectory(NODE_DIR.resolve("node_modules").resolve("@vertx"))) {
      fail("npm packages missing: run npm ci in " + NODE_DIR.toAbsolutePath());
    }
    int notifierPort = Ports.freePort();
    int gw1Port = Ports.freePort();
    int gw2Port = Ports.freePort();
    cluster.start("replay-verticle/target/herald-replay.jar", "replay", Map.of());
    cluster.start("notifier-verticle/target/herald-notifier.jar", "notifier", Map.of("HERALD_NOTIFIER_PORT", "" + notifierPort));
    Process gw1 = cluster.start("gateway-verticle/target/herald-gateway.jar", "gateway1",
      Map.of("HERALD_GATEWAY_PORT", "" + gw1Port, "HERALD_ADMIN_PORT", "" + Ports.freePort()));
    cluster.start("gateway-verticle/target/herald-gateway.jar", "gateway2",
      Map.of("HERALD_GATEWAY_PORT", "" + gw2Port, "HERALD_ADMIN_PORT", "" + Ports.freePort()));
    String notifier = "http://127.0.0.1:" + notifierPort;

    Vertx vertx = Vertx.vertx();
    try {
      HttpClient http = vertx.createHttpClient();
      // Both gateways serve, and the cluster delivers (a published event reaches gateway 2).
      try (SseClient probe = cluster.subscribeWhenReady(http, gw2Port, "/events?topic=probe", Duration.ofSeconds(STARTUP_SECONDS))) {
        cluster.subscribeWhenReady(http, gw1Port, "/events?topic=probe", Duration.ofSeconds(STARTUP_SECONDS)).close();
        publishUntil(notifierPort, "probe", probe);
      }

      Path stderr1 = stderr("first");
      Process first = node(stderr1, "first", "http://127.0.0.1:" + gw1Port, notifier);
      CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
        try {
          return new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8)).readLine();
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      String out = line.get(90, TimeUnit.SECONDS);
      JsonObject r1 = new JsonObject(out == null ? "{}" : out);
      assertThat(r1.getBoolean("ok")).as("first run %s; stderr: %s", r1, Files.readString(stderr1)).isTrue();
      List<String> before = data(r1, "events");
      assertThat(before.subList(before.size() - 2, before.size())).containsExactly("a1", "b1");
      String lastId = r1.getString("lastId");

      gw1.destroyForcibly(); // SIGKILL: no clean end for its clients
      assertThat(gw1.waitFor(10, TimeUnit.SECONDS)).isTrue();
      // The client saw its connection go.
      assertThat(first.waitFor(60, TimeUnit.SECONDS)).as("first run ends once its gateway is gone").isTrue();
      assertThat(first.exitValue()).isZero();

      publish(notifierPort, "orders.a", "a2");
      publish(notifierPort, "orders.new", "new1"); // a topic that did not exist before
      publish(notifierPort, "nomatch", "n1");
      publish(notifierPort, "orders.b", "b2");

      Path stderr2 = stderr("resume");
      Process resume = node(stderr2, "resume", "http://127.0.0.1:" + gw2Port, notifier, lastId);
      if (!resume.waitFor(90, TimeUnit.SECONDS)) {
        resume.destroyForcibly();
        throw new AssertionError("resume run still running after 90 s; stderr: " + Files.readString(stderr2));
      }
      String out2 = new String(resume.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      JsonObject r2 = new JsonObject(out2.isEmpty() ? "{}" : out2.substring(out2.lastIndexOf('\n') + 1));
      assertThat(r2.getBoolean("ok")).as("resume run %s; stderr: %s; %s", r2, Files.readString(stderr2),
        cluster.warnings("gateway2", 30)).isTrue();
      assertThat(r2.getJsonArray("replayed").stream().map(o -> ((JsonObject) o).getString("type")))
        .as("no reset: %s", r2).doesNotContain("reset");
      // Replay then live: exactly what was missed, in per-topic order, each once, then c1.
      List<JsonObject> all = frames(r2, "replayed");
      all.addAll(frames(r2, "live"));
      assertThat(all.stream().map(f -> String.valueOf(f.getValue("data"))).collect(Collectors.toList()))
        .as("replayed and live: %s", r2).containsExactlyInAnyOrder("a2", "new1", "b2", "c1");
      assertThat(byTopic(all, "orders.a")).containsExactly("a2");
      assertThat(byTopic(all, "orders.b")).containsExactly("b2");
      assertThat(byTopic(all, "orders.new")).containsExactly("new1");
      assertThat(byTopic(all, "orders.c")).containsExactly("c1");
      // Missed while away: by the replay; published after: live.
      assertThat(data(r2, "replayed")).containsExactlyInAnyOrder("a2", "new1", "b2");
      assertThat(data(r2, "live")).containsExactly("c1");
      assertThat(r2.getJsonArray("errors")).isEmpty();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private Process node(Path stderr, String... args) throws IOException {
    List<String> cmd = new java.util.ArrayList<>(List.of("node", "sockjs-resume.mjs"));
    cmd.add(args[0]);
    cmd.add(args[1]);
    cmd.add(args[2]);
    cmd.add(HeraldProcess.PUBLISHER_KEY);
    for (int i = 3; i < args.length; i++) {
      cmd.add(args[i]);
    }
    return new ProcessBuilder(cmd).directory(NODE_DIR.toFile()).redirectError(stderr.toFile()).start();
  }

  private static Path stderr(String run) throws IOException {
    Files.createDirectories(HeraldProcess.LOGS);
    return HeraldProcess.LOGS.resolve("SockJSPatternClusterIT-" + run + "-node.stderr.log").toAbsolutePath();
  }

  private static List<JsonObject> frames(JsonObject r, String key) {
    return r.getJsonArray(key).stream().map(o -> (JsonObject) o).collect(Collectors.toList());
  }

  private static List<String> data(JsonObject r, String key) {
    return frames(r, key).stream().map(f -> String.valueOf(f.getValue("data"))).collect(Collectors.toList());
  }

  private static List<String> byTopic(List<JsonObject> frames, String topic) {
    return frames.stream().filter(f -> topic.equals(f.getString("topic"))).map(f -> String.valueOf(f.getValue("data")))
      .collect(Collectors.toList());
  }

  /** Publishes to {@code topic} until {@code probe} receives it: the cluster is formed and delivering. */
  private static void publishUntil(int notifierPort, String topic, SseClient probe) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STARTUP_SECONDS);
    while (probe.appEvents().isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no event reached gateway 2 within " + STARTUP_SECONDS + " s");
      }
      publish(notifierPort, topic, "probe");
      try {
        probe.awaitAppEvents(1, Duration.ofSeconds(2));
      } catch (AssertionError notYet) {
        // the cluster is still forming: publish again, within the bounded deadline
      }
    }
  }

  private static void publish(int port, String topic, String data) throws Exception {
    String body = new JsonObject().put("topic", topic).put("data", data).encode();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STARTUP_SECONDS);
    while (true) {
      HttpResponse<String> r;
      try {
        r = HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/publish"))
          .header("Authorization", "Bearer " + HeraldProcess.PUBLISHER_KEY).header("Content-Type", "application/json")
          .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        r = null; // not listening yet
      }
      if (r != null && r.statusCode() >= 200 && r.statusCode() < 300) {
        return;
      }
      if ((r != null && r.statusCode() != 503 && r.statusCode() != 504) || System.nanoTime() > deadline) {
        throw new AssertionError("publish of " + topic + " answered " + (r == null ? "nothing" : r.statusCode() + ": " + r.body()));
      }
      Thread.sleep(200); // the cluster is still forming: a bounded retry, never an assertion on time
    }
  }
}
