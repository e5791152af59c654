package io.herald.standalone;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real third-party SSE client that nobody here wrote: the npm {@code eventsource} package run by
 * Node.js (installed by scripts/test.sh), against the real all-in-one jar.
 */
class NodeEventSourceIT {

  private static final Path NODE_DIR = Path.of("src", "test", "node");

  @BeforeAll
  static void nodeClientInstalled() {
    assertThat(NODE_DIR.resolve("node_modules").resolve("eventsource"))
      .as("the npm client is missing: run scripts/test.sh (it runs npm ci in standalone/src/test/node)")
      .exists();
  }

  /** Runs the node client; returns its event lines once it printed READY (the stream is open). */
  static CompletableFuture<List<JsonObject>> subscribe(String url, int count, String lastEventId) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("node", "subscribe.js", url, String.valueOf(count), "15000", "message,note"));
    if (lastEventId != null) {
      cmd.add(lastEventId);
    }
    Process p = new ProcessBuilder(cmd).directory(NODE_DIR.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<Void> ready = new CompletableFuture<>();
    CompletableFuture<List<JsonObject>> events = CompletableFuture.supplyAsync(() -> {
      List<JsonObject> lines = new ArrayList<>();
      try {
        String line;
        while ((line = out.readLine()) != null) {
          if (line.equals("READY")) {
            ready.complete(null);
          } else {
            lines.add(new JsonObject(line));
          }
        }
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("node client exit status").isZero();
        return lines;
      } catch (Exception e) {
        throw new RuntimeException(e);
      } finally {
        ready.complete(null);
        p.destroyForcibly();
      }
    });
    ready.get(15, TimeUnit.SECONDS);
    return events;
  }

  @Test
  @DisplayName("The npm eventsource client receives published events, multi-line data intact, and resumes by Last-Event-ID")
  void nodeClientReceivesAndResumes() throws Exception {
    try (HeraldProcess herald = HeraldProcess.start("node-eventsource", Map.of())) {
      String url = "http://127.0.0.1:" + herald.gatewayPort + "/events?topic=node-demo";
      CompletableFuture<List<JsonObject>> first = subscribe(url, 3, null);
      List<String> ids = new ArrayList<>();
      for (String body : List.of(
        "{\"topic\":\"node-demo\",\"data\":{\"n\":1}}",
        "{\"topic\":\"node-demo\",\"type\":\"note\",\"data\":\"line1\\nline2\"}",
        "{\"topic\":\"node-demo\",\"data\":{\"n\":3}}")) {
        ids.add(herald.publish(body).getJsonArray("events").getJsonObject(0).getString("id"));
      }
      List<JsonObject> got = first.get(20, TimeUnit.SECONDS);
      assertThat(got).extracting(j -> j.getString("data")).containsExactly("{\"n\":1}", "line1\nline2", "{\"n\":3}");
      assertThat(got).extracting(j -> j.getString("type")).containsExactly("message", "note", "message");
      assertThat(got).extracting(j -> j.getString("id")).containsExactlyElementsOf(ids);

      // Resume from the first event: the client sends Last-Event-ID and gets exactly the two after it.
      List<JsonObject> resumed = subscribe(url, 2, ids.get(0)).get(20, TimeUnit.SECONDS);
      assertThat(resumed).extracting(j -> j.getString("id")).containsExactly(ids.get(1), ids.get(2));
      assertThat(resumed.get(0).getString("data")).isEqualTo("line1\nline2");
    }
  }

}
