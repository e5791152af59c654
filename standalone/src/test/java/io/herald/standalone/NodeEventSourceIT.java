package io.herald.standalone;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A real third-party SSE client that nobody here wrote: the npm {@code eventsource} package (a
 * WHATWG EventSource for Node.js), run by {@code standalone/src/test/node/subscribe.mjs} against
 * the real all-in-one jar. Node.js and the package are installed by {@code scripts/test.sh}.
 */
class NodeEventSourceIT {

  private static final Path NODE_DIR = Path.of("src", "test", "node");
  private static final String TOPIC = "node-demo";
  private static final String HOW_TO_INSTALL =
    "run scripts/test.sh from the repository root: it installs Node.js if needed and runs npm ci in standalone/src/test/node";

  private HeraldProcess herald;
  private final List<NodeClient> clients = new ArrayList<>();

  @BeforeAll
  static void nodeClientInstalled() {
    if (!Files.isDirectory(NODE_DIR.resolve("node_modules").resolve("eventsource"))) {
      fail("the npm eventsource package is missing (" + NODE_DIR.resolve("node_modules").toAbsolutePath() + "): " + HOW_TO_INSTALL);
    }
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      String version = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        fail("`node --version` failed (" + version + "): " + HOW_TO_INSTALL);
      }
    } catch (IOException | InterruptedException e) {
      fail("Node.js (`node`) cannot be run: " + e + ": " + HOW_TO_INSTALL);
    }
  }

  @AfterEach
  void tearDown() {
    clients.forEach(NodeClient::destroy);
    if (herald != null) {
      herald.destroy();
    }
  }

  @Test
  @DisplayName("The npm eventsource client receives published events with their ids, multi-line data intact, and resumes by Last-Event-ID")
  void nodeClientReceivesAndResumes() throws Exception {
    herald = HeraldProcess.start("NodeEventSourceIT", Map.of());
    String url = "http://127.0.0.1:" + herald.gatewayPort + "/events?topic=" + TOPIC;

    NodeClient live = client("live", url, 3, null);
    JsonObject ready = live.awaitReady();
    assertThat(new JsonObject(ready.getString("data")).getJsonArray("topics").getList()).containsExactly(TOPIC);

    List<String> ids = new ArrayList<>();
    ids.add(herald.publishId("{\"topic\":\"node-demo\",\"data\":{\"n\":1}}"));
    ids.add(herald.publishId("{\"topic\":\"node-demo\",\"type\":\"note\",\"data\":\"line1\\nline2\"}"));
    ids.add(herald.publishId("{\"topic\":\"node-demo\",\"data\":{\"n\":3}}"));

    List<JsonObject> got = live.awaitEvents();
    assertThat(got).extracting(j -> j.getString("type")).containsExactly("message", "note", "message");
    assertThat(got).extracting(j -> j.getString("data")).containsExactly("{\"n\":1}", "line1\nline2", "{\"n\":3}");
    assertThat(got).extracting(j -> j.getString("id")).containsExactlyElementsOf(ids);

    // Resume after the first event: the client sends Last-Event-ID and must get exactly the two
    // after it, in order (a replayed first event or a duplicate would come first and fail this).
    List<JsonObject> resumed = client("resume-header", url, 2, ids.get(0)).awaitEvents();
    assertThat(resumed).extracting(j -> j.getString("id")).containsExactly(ids.get(1), ids.get(2));
    assertThat(resumed).extracting(j -> j.getString("data")).containsExactly("line1\nline2", "{\"n\":3}");
    assertThat(resumed).extracting(j -> j.getString("type")).containsExactly("note", "message");
  }

  @Test
  @DisplayName("With gateway.sseCompression accepted, the npm eventsource client gets a gzip stream and decodes every event, small and large, and resumes")
  void gzipStream() throws Exception {
    herald = HeraldProcess.start("NodeEventSourceIT-gzip", Map.of("HERALD_GATEWAY_SSE_COMPRESSION", "accepted"));
    String url = "http://127.0.0.1:" + herald.gatewayPort + "/events?topic=" + TOPIC + "&topic=other";
    NodeClient live = client("gzip", url, 3, null);
    live.awaitReady();
    String big = "x".repeat(4000);
    List<String> ids = new ArrayList<>();
    ids.add(herald.publishId("{\"topic\":\"node-demo\",\"data\":{\"n\":1}}"));
    ids.add(herald.publishId("{\"topic\":\"node-demo\",\"type\":\"note\",\"data\":\"" + big + "\\nline2\"}"));
    ids.add(herald.publishId("{\"topic\":\"node-demo\",\"data\":\"é 中文 \\ud83d\\ude00\"}"));
    List<JsonObject> got = live.awaitEvents();
    assertThat(live.responses).extracting(r -> r.getString("contentEncoding")).containsOnly("gzip");
    assertThat(got).extracting(j -> j.getString("data")).containsExactly("{\"n\":1}", big + "\nline2", "é 中文 \ud83d\ude00");
    assertThat(got).extracting(j -> j.getString("type")).containsExactly("message", "note", "message");

    NodeClient resumed = client("gzip-resume", url, 2, got.get(0).getString("id"));
    assertThat(resumed.awaitEvents()).extracting(j -> j.getString("data")).containsExactly(big + "\nline2", "é 中文 \ud83d\ude00");
    assertThat(resumed.responses).extracting(r -> r.getString("contentEncoding")).containsOnly("gzip");
    assertThat(ids).hasSize(3);
  }

  @Test
  @DisplayName("A client that cannot set headers resumes with the lastEventId query parameter")
  void resumeByQueryParameter() throws Exception {
    herald = HeraldProcess.start("NodeEventSourceIT-query", Map.of());
    String first = herald.publishId("{\"topic\":\"node-demo\",\"data\":\"a\"}");
    String second = herald.publishId("{\"topic\":\"node-demo\",\"data\":\"b\"}");
    String url = "http://127.0.0.1:" + herald.gatewayPort + "/events?topic=" + TOPIC + "&lastEventId=" + first;
    List<JsonObject> resumed = client("resume-query", url, 1, null).awaitEvents();
    assertThat(resumed).hasSize(1);
    assertThat(resumed.get(0).getString("id")).isEqualTo(second);
    assertThat(resumed.get(0).getString("data")).isEqualTo("b");
  }

  private NodeClient client(String name, String url, int count, String lastEventId) throws IOException {
    NodeClient c = new NodeClient(name, url, count, lastEventId);
    clients.add(c);
    return c;
  }

  /** One run of subscribe.mjs: its JSON lines, its stderr in target/it-logs. */
  private static final class NodeClient {

    private final Process process;
    private final Path stderr;
    private final CompletableFuture<JsonObject> ready = new CompletableFuture<>();
    private final List<JsonObject> events = new CopyOnWriteArrayList<>();
    /** Status and Content-Encoding of every response to the stream's requests. */
    private final List<JsonObject> responses = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> outputDone;

    NodeClient(String name, String url, int count, String lastEventId) throws IOException {
      List<String> cmd = new ArrayList<>(List.of("node", "subscribe.mjs", url, String.valueOf(count), "15000", "message,note"));
      if (lastEventId != null) {
        cmd.add(lastEventId);
      }
      Files.createDirectories(HeraldProcess.LOGS);
      stderr = HeraldProcess.LOGS.resolve("NodeEventSourceIT-node-" + name + ".stderr.log").toAbsolutePath();
      process = new ProcessBuilder(cmd).directory(NODE_DIR.toFile()).redirectError(stderr.toFile()).start();
      BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      outputDone = CompletableFuture.runAsync(() -> {
        try {
          String line;
          while ((line = out.readLine()) != null) {
            JsonObject j = new JsonObject(line);
            if (j.containsKey("response")) {
              responses.add(j.getJsonObject("response"));
            } else if (j.getBoolean("ready", false)) {
              ready.complete(j);
            } else {
              events.add(j);
            }
          }
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
    }

    /** The herald.ready event: the subscription is live from here on. */
    JsonObject awaitReady() throws Exception {
      try {
        return ready.get(15, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("node client not ready within 15 s; stderr: " + Files.readString(stderr));
      }
    }

    /** Waits for the client to exit after its events; fails unless it exited 0 (all COUNT events). */
    List<JsonObject> awaitEvents() throws Exception {
      if (!process.waitFor(Duration.ofSeconds(25).toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("node client still running; events so far " + events);
      }
      outputDone.get(5, TimeUnit.SECONDS);
      assertThat(process.exitValue())
        .as("node client exit status (events %s; stderr: %s)", events, Files.readString(stderr)).isZero();
      return List.copyOf(events);
    }

    void destroy() {
      process.destroyForcibly();
    }
  }
}
