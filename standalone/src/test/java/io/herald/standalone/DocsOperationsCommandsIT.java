package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * migration.md's, configuration.md's and operations.md's commands, run as written: the Python
 * publish(), the usage text every jar prints, and the tuned gateway command line.
 */
class DocsOperationsCommandsIT extends DocsCommandsFixture {

  @Test
  @DisplayName("migration.md's Python publish() works as written, and publishing twice with the same event_id stores the event once")
  void pythonPublishIsIdempotent() throws Exception {
    Path python = tools("python3").get(0);
    startHub("docs-python-hub", Map.of());
    String before = new JsonObject(get(GATEWAY, "/poll?topic=user:alice").body()).getString("id");

    String block = block("migration.md", "## Replacing 5–60 s polling", "python", "def publish(");
    // The page's publish API is http://herald-notifier:8081, a host of the reader's network; here
    // the hub listens on loopback. That URL is the only change to the block.
    String url = "http://herald-notifier:8081/publish";
    assertThat(block).containsOnlyOnce(url);
    int call = block.lastIndexOf("\npublish(");
    assertThat(call).as("the block ends with a call of publish()").isPositive();
    String again = block.substring(call + 1).strip();
    String script = block.replace(url, "http://127.0.0.1:" + NOTIFIER + "/publish")
      + "\n# DocsCommandsIT: the same call again, as a retry would\nprint(json.dumps(" + again + "))\n";
    Path file = HeraldProcess.LOGS.resolve("docs-migration-publish.py");
    Files.createDirectories(file.getParent());
    Files.writeString(file, script);

    Path log = HeraldProcess.LOGS.resolve("docs-migration-publish.log");
    ProcessBuilder pb = new ProcessBuilder(python.toString(), file.toAbsolutePath().toString())
      .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("HERALD_KEY", HeraldProcess.PUBLISHER_KEY);
    Process p = start(pb);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("python3 finished; see " + log).isTrue();
    String out = Files.readString(log);
    assertThat(p.exitValue()).as("python3 " + file + ":\n" + out).isZero();

    JsonObject answer = new JsonObject(out.strip().lines().reduce((a, b) -> b).orElseThrow());
    String id = answer.getJsonArray("events").getJsonObject(0).getString("id");
    JsonObject since = new JsonObject(get(GATEWAY, "/poll?topic=user:alice&lastEventId=" + before).body());
    JsonArray events = since.getJsonArray("events");
    assertThat(events).as("events stored after the cursor: %s", since).hasSize(1);
    JsonObject stored = events.getJsonObject(0);
    assertThat(stored.getString("id")).as("the retry is answered with the first event's id").isEqualTo(id);
    assertThat(stored.getString("type")).isEqualTo("notification.created");
    assertThat(stored.getJsonObject("data")).isEqualTo(new JsonObject().put("id", 981).put("text", "Ticket 42 closed"));
    assertThat(metrics()).as("both publishes were accepted").contains("herald_events_published_total{source=\"http\"} 2.0");
  }

  @Test
  @DisplayName("configuration.md's usage text is what every jar prints for --help (standard error, exit status 0)")
  void usageText() throws Exception {
    String usage = block("configuration.md", "# Configuration reference", "text", "usage: java -jar <herald jar>");
    for (String jar : List.of("standalone/target/herald.jar", "replay-verticle/target/herald-replay.jar",
      "notifier-verticle/target/herald-notifier.jar", "gateway-verticle/target/herald-gateway.jar")) {
      Path out = HeraldProcess.LOGS.resolve("docs-usage.out");
      Path err = HeraldProcess.LOGS.resolve("docs-usage.err");
      Files.createDirectories(out.getParent());
      Process p = start(new ProcessBuilder(java(), "-jar", jar, "--help").directory(ROOT.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile()));
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(jar + " --help finished").isTrue();
      assertThat(p.exitValue()).as(jar + " --help exit status").isZero();
      assertThat(Files.readString(err)).as(jar + " --help on standard error").isEqualTo(usage);
      assertThat(Files.readString(out)).as(jar + " --help on standard output").isEmpty();
    }
  }

  @Test
  @DisplayName("operations.md's tuned gateway command line starts a clustered gateway that gets ready and stops on SIGTERM")
  void tunedGatewayCommandLine() throws Exception {
    String block = block("operations.md", "**JVM flags.**", "bash", "herald-gateway.jar");
    String line = block.strip();
    assertThat(line).startsWith("java -Xms1g").endsWith("--cluster").doesNotContain("\n");
    int gateway = Ports.freePort();
    int admin = Ports.freePort();
    Map<String, String> env = new LinkedHashMap<>();
    // Free ports instead of 8080/9090, and a cluster of its own so that it joins no other test's.
    env.put("HERALD_GATEWAY_PORT", String.valueOf(gateway));
    env.put("HERALD_ADMIN_PORT", String.valueOf(admin));
    env.put("HERALD_CLUSTER_NAME", "herald-docs-it-" + ProcessHandle.current().pid());
    int member = Ports.freePort();
    env.put("HERALD_CLUSTER_PORT", String.valueOf(member));
    env.put("HERALD_CLUSTER_MEMBERS", "127.0.0.1:" + member);
    // Environment, not the command line: Hazelcast's join wait, as every cluster test sets it.
    env.put("JAVA_TOOL_OPTIONS", "-Dhazelcast.wait.seconds.before.join=0");
    Path log = HeraldProcess.LOGS.resolve("docs-tuned-gateway.log");
    Files.createDirectories(log.getParent());
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", line).directory(ROOT.toFile())
      .redirectErrorStream(true).redirectOutput(log.toFile());
    environment(pb).putAll(env);
    Process shell = start(pb);

    JsonObject ready = new JsonObject(awaitReady(shell, admin, log));
    assertThat(ready.getString("status")).isEqualTo("UP");
    assertThat(ready.getJsonArray("checks").stream().map(c -> ((JsonObject) c).getString("id")))
      .contains("cluster").anyMatch(id -> id.startsWith("gateway-"));
    assertThat(Ports.accepts(gateway)).as("the gateway listens on " + gateway).isTrue();

    ProcessHandle jvm = Stream.concat(Stream.of(shell.toHandle()), shell.descendants())
      .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false)).findFirst()
      .orElseThrow(() -> new AssertionError("no java process under the shell"));
    // The JVM runs with every flag the line gives (between "java" and "-jar"), not only some.
    List<String> words = List.of(line.split("\\s+"));
    List<String> flags = words.subList(1, words.indexOf("-jar"));
    assertThat(flags).isNotEmpty().allMatch(f -> f.startsWith("-X"));
    assertThat(jvm.info().arguments().map(List::of).orElse(List.of())).containsAll(flags).contains("--cluster");
    jvm.destroy();
    assertThat(jvm.onExit().get(20, TimeUnit.SECONDS).isAlive()).isFalse();
    assertThat(Files.readString(log)).as(log.toString()).contains("shutting down", "stopped");
  }
}
