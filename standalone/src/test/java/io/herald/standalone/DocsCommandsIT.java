package io.herald.standalone;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * README.md's, publishing.md's, replay.md's and clients.md's commands, run as written: the quick
 * start's curls, Last-Event-ID replay, long-poll and dev mode. security.md's are in
 * {@link DocsSecurityCommandsIT}, migration.md's, configuration.md's and operations.md's in
 * {@link DocsOperationsCommandsIT}.
 */
class DocsCommandsIT extends DocsCommandsFixture {

  @Test
  @DisplayName("README's subscribe and publish curls, and publishing.md's: the stream carries each greeting with the id its publish answered")
  void quickStartCurls() throws Exception {
    tools("curl");
    startHub("docs-quick-start-hub", Map.of());
    String subscribe = block("../README.md", "Subscribe in one terminal:", "bash", "curl -N");
    String readmePublish = block("../README.md", "Publish from another:", "bash", "/publish");
    String httpPublish = block("publishing.md", "## HTTP (`POST /publish`)", "bash", "/publish");

    // The stream is read while it is open: it is killed after the test, not ended by the harness.
    Shell stream = run("docs-readme-subscribe", subscribe, Map.of("DOCS_STREAM_SECONDS", "60"));
    stream.await(Pattern.compile("event: herald.ready\ndata: \\{\"topics\":\\[\"demo\"]}"), Duration.ofSeconds(20));
    List<String> ids = new ArrayList<>();
    for (String block : List.of(readmePublish, httpPublish)) {
      List<Call> calls = run("docs-" + (ids.isEmpty() ? "readme" : "publishing") + "-publish", block, Map.of()).finish();
      assertThat(calls).hasSize(1);
      assertThat(calls.get(0).exit()).isZero();
      JsonObject stored = new JsonObject(calls.get(0).out()).getJsonArray("events").getJsonObject(0);
      assertThat(stored.fieldNames()).containsExactlyInAnyOrder("topic", "seq", "epoch", "id");
      assertThat(stored.getLong("seq")).isEqualTo(ids.size() + 1L);
      ids.add(stored.getString("id"));
    }
    for (String id : ids) {
      stream.await(Pattern.compile(Pattern.quote("id: " + id + "\nevent: greeting\ndata: {\"hello\":\"world\"}\n")),
        Duration.ofSeconds(10));
    }
  }

  @Test
  @DisplayName("replay.md's Last-Event-ID curls replay exactly what followed the cursor; clients.md's long-poll waits for the next event")
  void lastEventIdAndLongPoll() throws Exception {
    tools("curl");
    startHub("docs-replay-hub", Map.of());
    String one = publishId("demo", "one");
    publishId("demo", "two");
    String three = publishId("demo", "three");

    String replayBlock = block("replay.md", "## Cursors and `Last-Event-ID`", "bash", "Last-Event-ID: $ID");
    List<Call> replay = run("docs-replay", replayBlock, Map.of("ID", one)).finish();
    assertThat(replay).hasSize(3);
    Call live = replay.get(0);
    assertThat(live.exit()).isEqualTo(28);
    assertThat(live.out()).contains("event: herald.ready\ndata: {\"topics\":[\"demo\"]}")
      .doesNotContain("data: one", "data: two", "data: three");
    Call resumed = replay.get(1);
    assertThat(resumed.args()).contains("Last-Event-ID: " + one);
    assertThat(resumed.exit()).isEqualTo(28);
    assertThat(resumed.out()).contains("data: two\n", "data: three\n").doesNotContain("data: one");
    assertThat(resumed.out().indexOf("data: two")).isLessThan(resumed.out().indexOf("data: three"));
    Call polled = replay.get(2);
    assertThat(polled.exit()).isZero();
    assertThat(appData(new JsonObject(polled.out()))).containsExactly("two", "three");

    String pollBlock = block("clients.md", "## Long-polling (`GET /poll`)", "bash", "lastEventId=$ID");
    Shell poll = run("docs-long-poll", pollBlock, Map.of("ID", three));
    // The second call is waiting (the hub counts it as an open long-poll): publish now, it must
    // answer with this event.
    poll.await(Pattern.compile("(?s)>>> curl .*>>> curl "), Duration.ofSeconds(20));
    Pattern waiting = Pattern.compile("(?m)^herald_connections_active\\{[^}]*transport=\"longpoll\"[^}]*\\} 1(\\.0)?$");
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!waiting.matcher(metrics()).find()) {
      assertThat(System.nanoTime()).as("one long-poll open on the hub").isLessThan(deadline);
      Thread.sleep(100);
    }
    String four = publishId("demo", "four");
    List<Call> polls = poll.finish();
    assertThat(polls).hasSize(2);
    JsonObject first = new JsonObject(polls.get(0).out());
    assertThat(first.getString("id")).isNotEmpty();
    assertThat(first.getJsonArray("events").getJsonObject(0).getString("type")).isEqualTo("herald.ready");
    JsonObject next = new JsonObject(polls.get(1).out());
    assertThat(appData(next)).containsExactly("four");
    assertThat(next.getJsonArray("events").getJsonObject(0).getString("id")).isEqualTo(four);
  }

  @Test
  @DisplayName("clients.md's dev mode: the hub started as written accepts POST /dev/publish without a publisher key")
  void devModePublish() throws Exception {
    tools("curl");
    String block = block("clients.md", "## The demo page (`GET /`)", "bash", "/dev/publish");
    String start = "HERALD_GATEWAY_DEV_MODE=true java -jar standalone/target/herald.jar\n";
    assertThat(block).startsWith(start);
    // A reader runs the hub in one terminal and curl in another; one script runs it in the background.
    String script = start.replace("\n", " &\n") + block.substring(start.length());

    List<Call> calls = run("docs-dev-mode", script, Map.of()).finish();

    assertThat(calls).hasSize(1);
    assertThat(calls.get(0).exit()).isZero();
    JsonObject stored = new JsonObject(calls.get(0).out()).getJsonArray("events").getJsonObject(0);
    assertThat(stored.getString("topic")).isEqualTo("demo");
    assertThat(stored.getLong("seq")).isEqualTo(1L);
    assertThat(new JsonObject(get(GATEWAY, "/dev/config").body()).getBoolean("devMode")).isTrue();
    // /dev/publish forwards over the event bus to herald.publish.
    assertThat(metrics()).contains("herald_events_published_total{source=\"eventbus\"} 1.0");
  }
}
