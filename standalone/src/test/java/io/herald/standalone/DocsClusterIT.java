package io.herald.standalone;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one-machine clusters of docs/clustering.md, run verbatim: the first bash block of "A cluster
 * of role processes" is handed to bash as written (its fixed ports included), then a subscriber
 * on each gateway gets an event published to the notifier, as the page says; the same for the
 * two all-in-one nodes of "Every role on each node", on the Redis of the tests.
 */
@ExtendWith(DefaultPorts.class)
class DocsClusterIT {

  private static final Duration STARTUP = Duration.ofSeconds(90);

  @Test
  @DisplayName("The cluster commands of docs/clustering.md work verbatim: two gateways deliver what the notifier accepts")
  void clusterCommandsVerbatim() throws Exception {
    String block = block("## A cluster of role processes");
    assertThat(block).contains("herald-replay.jar", "herald-notifier.jar", "herald-gateway.jar");
    Path log = Path.of("target", "it-logs", "docs-cluster.log");
    Process shell = run(block, log);
    List<InputStream> streams = new ArrayList<>();
    try {
      for (int admin = 9091; admin <= 9094; admin++) {
        awaitReady(shell, admin, log);
      }
      HttpResponse<InputStream> on8080 = subscribe(8080);
      HttpResponse<InputStream> on8082 = subscribe(8082);
      streams.add(on8080.body());
      streams.add(on8082.body());
      CompletableFuture<String> first = io.herald.testsupport.SseStreams.firstAppData(on8080.body());
      CompletableFuture<String> second = io.herald.testsupport.SseStreams.firstAppData(on8082.body());
      publishUntilAccepted("{\"topic\":\"docs\",\"data\":\"from the docs\"}");
      assertThat(first.get(20, TimeUnit.SECONDS)).isEqualTo("from the docs");
      assertThat(second.get(20, TimeUnit.SECONDS)).isEqualTo("from the docs");
    } finally {
      stop(shell, streams);
    }
  }

  @Test
  @DisplayName("The all-in-one nodes of docs/clustering.md work verbatim on Redis: an event published on node 1 reaches node 2, and a client moving from node 2 to node 1 resumes exactly")
  void allInOneNodesVerbatim() throws Exception {
    String block = block("## Every role on each node");
    assertThat(block).contains("standalone/target/herald.jar --cluster", "HERALD_REPLAY_STORE=redis");
    Path log = Path.of("target", "it-logs", "docs-cluster-nodes.log");
    Process shell = run(block, log);
    String topic = "docs-nodes-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    List<InputStream> streams = new ArrayList<>();
    try {
      awaitReady(shell, 9090, log);
      awaitReady(shell, 9091, log);
      HttpResponse<InputStream> onNode2 = subscribe(8082, topic, null);
      streams.add(onNode2.body());
      CompletableFuture<String[]> first = firstAppEvent(onNode2.body());
      publishUntilAccepted("{\"topic\":\"" + topic + "\",\"data\":\"one\"}");
      String[] one = first.get(20, TimeUnit.SECONDS);
      assertThat(one[1]).isEqualTo("one");
      onNode2.body().close();
      publishUntilAccepted("{\"topic\":\"" + topic + "\",\"data\":\"two\"}");
      HttpResponse<InputStream> onNode1 = subscribe(8080, topic, one[0]);
      streams.add(onNode1.body());
      assertThat(firstAppEvent(onNode1.body()).get(20, TimeUnit.SECONDS)[1]).as("what it missed, from the shared store").isEqualTo("two");
    } finally {
      stop(shell, streams);
    }
  }

  /** The first bash block under {@code heading} in docs/clustering.md. */
  private static String block(String heading) throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "clustering.md"));
    Matcher m = Pattern.compile("```bash\n(.*?)```", Pattern.DOTALL).matcher(doc.substring(doc.indexOf(heading)));
    assertThat(m.find()).as("a bash block under " + heading).isTrue();
    return m.group(1);
  }

  /** Hands {@code block} to bash as written, from the project's root, without the caller's HERALD_ variables. */
  private static Process run(String block, Path log) throws Exception {
    Files.createDirectories(log.getParent());
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", block + "\nwait\n")
      .directory(Path.of("..").toFile())
      .redirectErrorStream(true)
      .redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("HERALD_"));
    pb.environment().put("HERALD_ADMIN_WARM_UP_MILLIS", "0");
    return pb.start();
  }

  private static void stop(Process shell, List<InputStream> streams) throws Exception {
    for (InputStream s : streams) {
      s.close();
    }
    shell.descendants().forEach(ProcessHandle::destroyForcibly);
    shell.destroyForcibly();
    shell.waitFor(20, TimeUnit.SECONDS);
  }

  /** The id and data of the first application event of a stream, read on another thread. */
  private static CompletableFuture<String[]> firstAppEvent(InputStream body) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        var r = new java.io.BufferedReader(new java.io.InputStreamReader(body, java.nio.charset.StandardCharsets.UTF_8));
        String event = "message";
        String id = null;
        String line;
        while ((line = r.readLine()) != null) {
          if (line.startsWith("event: ")) {
            event = line.substring(7);
          } else if (line.startsWith("id: ")) {
            id = line.substring(4);
          } else if (line.startsWith("data: ") && !event.startsWith("herald.")) {
            return new String[] {id, line.substring(6)};
          } else if (line.isEmpty()) {
            event = "message";
            id = null;
          }
        }
        return null;
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  private static void awaitReady(Process shell, int adminPort, Path log) throws Exception {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!shell.isAlive()) {
        throw new AssertionError("the documented commands exited: " + Files.readString(log));
      }
      try {
        HttpResponse<String> r = HeraldProcess.HTTP.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + adminPort + "/ready")).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    throw new AssertionError("admin port " + adminPort + " not ready in " + STARTUP + "; see " + log);
  }

  private static HttpResponse<InputStream> subscribe(int port) throws Exception {
    return subscribe(port, "docs", null);
  }

  private static HttpResponse<InputStream> subscribe(int port, String topic, String lastEventId) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/events?topic=" + topic));
    if (lastEventId != null) {
      req.header("Last-Event-ID", lastEventId);
    }
    HttpResponse<InputStream> r = HeraldProcess.HTTP.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).as("subscribe on " + port).isEqualTo(200);
    return r;
  }

  /** Publishes as the quick start does; retries while the replay role is not yet in reach (503/504). */
  private static void publishUntilAccepted(String body) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    int status = 0;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8081/publish"))
        .header("Authorization", "Bearer dev-publisher-key").header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
      status = r.statusCode();
      if (status == 200) {
        return;
      }
      Thread.sleep(500);
    }
    throw new AssertionError("publish not accepted in 30 s, last status " + status);
  }

}
