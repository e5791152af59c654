package io.herald.bench;

import io.herald.testsupport.RequiredTools;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.herald.testsupport.Ports.freePort;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A smoke run of the benchmark, so that it cannot rot: the real fat jar, 200 streams, a few
 * seconds of broadcast and a small reconnect storm, zero loss and zero duplicates, JSON reports
 * and the HTML chart in {@code bench/target/bench-smoke/} ({@link BenchSoakTest} is the soak).
 * The same against nginx+Nchan when it is installed ({@code bench/nchan.sh available}); skipped
 * with a message otherwise. Not a performance test: nothing here asserts a latency or a rate.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The benchmark's smoke run")
class BenchSmokeTest {

  private final Path out = Path.of(System.getProperty("bench.out", "target"), "bench-smoke");
  private final Path benchDir = Path.of(System.getProperty("bench.dir", "."));
  private final List<Path> results = new ArrayList<>();
  private BenchHub herald;

  @BeforeAll
  void startHerald() throws Exception {
    herald = BenchHub.start(List.of("-Xms256m", "-Xmx256m"), List.of(), Map.of(), out.resolve("herald.log"), 30);
  }

  @AfterAll
  void stop() throws Exception {
    if (herald != null) {
      herald.close();
    }
    if (!results.isEmpty()) {
      List<String> args = new ArrayList<>();
      args.add(out.resolve("report.html").toString());
      results.forEach(p -> args.add(p.toString()));
      Report.main(args.toArray(String[]::new));
    }
  }

  @Test
  @DisplayName("Herald: 200 streams, broadcast for 5 s and a reconnect storm, lose nothing and duplicate nothing")
  void herald() throws Exception {
    String pid = herald.pid();
    String sse = herald.sseUrl();
    String pub = herald.publishUrl();
    Path broadcast = out.resolve("herald-broadcast.json");
    JsonObject b = LoadTool.run("--target", "herald", "--scenario", "broadcast", "--connections", "200", "--rate", "20",
      "--duration", "5", "--warmup-seconds", "1", "--warmup", "false", "--server-jvm", "false", "--source-ips", "2",
      "--sse-url", sse, "--publish-url", pub, "--server-pid", pid, "--group", "smoke-broadcast", "--out", broadcast.toString());
    assertClean(b, broadcast);
    Path storm = out.resolve("herald-storm.json");
    JsonObject s = LoadTool.run("--target", "herald", "--scenario", "storm", "--connections", "200", "--topics", "20",
      "--missed", "3", "--server-jvm", "false", "--source-ips", "2", "--storm-timeout", "20",
      "--sse-url", sse, "--publish-url", pub, "--server-pid", pid, "--group", "smoke-storm", "--out", storm.toString());
    assertThat(s.getJsonObject("storm").getBoolean("exact")).as(s.encodePrettily()).isTrue();
    results.add(storm);
  }

  @Test
  @DisplayName("Herald, as bench/cold-start.sh runs it: the tool warms itself up against its echo hub, waits for the server's pid in a file, then measures that server")
  void coldStartWindow() throws Exception {
    Path pidFile = out.resolve("cold.pid");
    java.nio.file.Files.createDirectories(out);
    java.nio.file.Files.deleteIfExists(pidFile);
    // Written while the tool warms up, as cold-start.sh does once the server is ready.
    Thread writer = new Thread(() -> {
      try {
        Thread.sleep(1500);
        java.nio.file.Files.writeString(pidFile, herald.pid() + "\n");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    writer.start();
    Path targeted = out.resolve("herald-targeted-cold.json");
    JsonObject t = LoadTool.run("--target", "herald", "--scenario", "targeted", "--connections", "100", "--rate", "100",
      "--duration", "3", "--warmup-seconds", "0", "--warmup", "false", "--server-jvm", "false", "--source-ips", "2",
      "--client-warmup-seconds", "2", "--server-pid", "@" + pidFile, "--server-wait-seconds", "60", "--topic-prefix", "smoke-cold",
      "--sse-url", herald.sseUrl(), "--publish-url", herald.publishUrl(), "--group", "smoke-targeted", "--out", targeted.toString());
    writer.join();
    JsonObject warm = t.getJsonObject("clientWarmup");
    assertThat(warm).as(t.encodePrettily()).isNotNull();
    assertThat(warm.getLong("published")).as("the echo hub's events").isPositive();
    assertThat(warm.getLong("received")).as("every echo hub event reached its stream").isEqualTo(warm.getLong("published"));
    assertThat(t.getJsonObject("cpu").getDouble("serverMicrosPerEvent")).as("the server named in the file was measured").isNotNull();
    assertClean(t, targeted, 100);
  }

  @Test
  @DisplayName("nginx+Nchan, when installed: the same broadcast, so the comparison cannot rot either")
  void nchan() throws Exception {
    Path script = benchDir.resolve("nchan.sh");
    if (new ProcessBuilder("bash", script.toString(), "available").start().waitFor() != 0) {
      RequiredTools.missing("nginx with the nchan module is not installed (apt-get install -y nginx libnginx-mod-nchan)");
    }
    int port = freePort();
    Path dir = out.resolve("nchan").toAbsolutePath();
    Process start = new ProcessBuilder("bash", script.toString(), "start", dir.toString(), Integer.toString(port))
      .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String pid = new String(start.getInputStream().readAllBytes()).trim();
    assertThat(start.waitFor()).as("nginx started").isZero();
    try {
      Path broadcast = out.resolve("nchan-broadcast.json");
      JsonObject b = LoadTool.run("--target", "nchan", "--scenario", "broadcast", "--connections", "200", "--rate", "20",
        "--duration", "5", "--warmup-seconds", "1", "--warmup", "false", "--source-ips", "2", "--client-warmup-seconds", "1",
        "--sse-url", "http://127.0.0.1:" + port, "--server-pid", pid, "--group", "smoke-broadcast", "--out", broadcast.toString());
      assertClean(b, broadcast);
      JsonObject warm = b.getJsonObject("clientWarmup");
      assertThat(warm.getLong("received")).as("the echo hub, in Nchan's dialect").isPositive().isEqualTo(warm.getLong("published"));
    } finally {
      new ProcessBuilder("bash", script.toString(), "stop", dir.toString()).inheritIO().start().waitFor(20, TimeUnit.SECONDS);
    }
  }

  private void assertClean(JsonObject r, Path file) {
    assertClean(r, file, 200);
  }

  private void assertClean(JsonObject r, Path file, int streams) {
    assertThat(file).exists();
    JsonObject ev = r.getJsonObject("events");
    assertThat(r.getJsonObject("connections").getInteger("ready")).as(r.encodePrettily()).isEqualTo(streams);
    assertThat(ev.getLong("expected")).as(r.encodePrettily()).isGreaterThan(0);
    assertThat(ev.getLong("lost")).as(r.encodePrettily()).isZero();
    assertThat(ev.getLong("duplicates")).as(r.encodePrettily()).isZero();
    assertThat(ev.getLong("gaps")).as(r.encodePrettily()).isZero();
    assertThat(r.getJsonObject("latencyMs").getLong("count")).as(r.encodePrettily()).isEqualTo(ev.getLong("received"));
    results.add(file);
  }
}
