package io.herald.standalone;

import io.herald.common.ErrorCode;
import io.herald.testsupport.SseClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Prometheus alert rules shipped in {@code docker/herald-alerts.yml} (and shown in
 * docs/operations.md, which {@code DockerFilesTest} compares), checked by Prometheus's own
 * {@code promtool}: the rules and {@code docker/prometheus.yml} that loads them are valid, and the
 * unit tests of {@code docker/herald-alerts.test.yml} pass (each alert fires on a failing series,
 * not on a healthy one). Then against the real jar: every {@code herald_*} metric the rules query
 * is exported, so no alert watches a series that never exists.
 */
class AlertRulesIT extends JarTestBase {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final String RULES = "docker/herald-alerts.yml";
  private static final Duration WAIT = Duration.ofSeconds(15);

  @Test
  @DisplayName("promtool accepts the alert rules and docker/prometheus.yml, and the unit tests of every alert pass")
  void promtool() throws Exception {
    Path promtool = ExternalTools.require("promtool", "install Debian's prometheus package, which ships it");
    assertThat(run(promtool.toString(), "check", "rules", RULES)).contains("SUCCESS: 8 rules found");
    // Checks the scrape configuration and the rule files it names, relative to it (no host is resolved).
    assertThat(run(promtool.toString(), "check", "config", "docker/prometheus.yml"))
      .contains("SUCCESS: 1 rule files found", "Checking docker/herald-alerts.yml", "SUCCESS: 8 rules found");
    assertThat(run(promtool.toString(), "test", "rules", "docker/herald-alerts.test.yml")).contains("SUCCESS");
  }

  @Test
  @DisplayName("Every herald_* metric the alert rules query is exported by the real jar, and their reasons are Herald's error codes")
  void rulesQueryExportedMetrics() throws Exception {
    // The redis store has breakers (herald_breaker_state), as a production replay role has.
    herald = HeraldProcess.start("alert-rules", HeraldProcess.redisStore("alerts"));
    // The labelled series exist once something happened: a reset (a foreign Last-Event-ID), a
    // delivery (latency), a refused publish.
    vertx = Vertx.vertx();
    try (SseClient sub = SseClient.open(vertx.createHttpClient(), herald.gatewayPort, "/events?topic=alerts",
      "Last-Event-ID", "not-a-cursor")) {
      sub.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
      herald.publish("{\"topic\":\"alerts\",\"data\":1}");
      sub.awaitAppEvents(1, WAIT);
    }
    assertThat(herald.post("/publish", "{\"topic\":\"bad topic\",\"data\":1}").statusCode()).isEqualTo(400);
    String scraped = herald.admin("/metrics").body();
    Set<String> exported = new TreeSet<>();
    for (String line : scraped.split("\n")) {
      if (!line.startsWith("#") && !line.isBlank()) {
        exported.add(line.split("[{ ]", 2)[0]);
      }
    }

    List<String> exprs = exprs();
    Set<String> queried = new TreeSet<>();
    Set<String> reasons = new TreeSet<>();
    Pattern name = Pattern.compile("\\b(herald_[a-z_]+)\\b");
    Pattern reason = Pattern.compile("reason=~?\"([^\"]+)\"");
    for (String expr : exprs) {
      Matcher m = name.matcher(expr);
      while (m.find()) {
        queried.add(m.group(1));
      }
      Matcher r = reason.matcher(expr);
      while (r.find()) {
        reasons.addAll(Arrays.asList(r.group(1).split("\\|")));
      }
    }
    assertThat(queried).as("herald_* metrics the rules query").hasSizeGreaterThan(3);
    assertThat(exported).as("metric families in /metrics of the real jar").containsAll(queried);
    Set<String> codes = new TreeSet<>();
    for (ErrorCode c : ErrorCode.values()) {
      codes.add(c.code());
    }
    assertThat(reasons).as("reason labels the rules match").isNotEmpty();
    assertThat(codes).as("Herald's error codes (the reason label of herald_rejections_total)").containsAll(reasons);

    // HeraldDown watches up{job="herald"}: the job docker/prometheus.yml scrapes Herald under.
    assertThat(exprs).anyMatch(e -> e.contains("up{job=\"herald\"}"));
    assertThat(Files.readString(ROOT.resolve("docker/prometheus.yml"))).contains("- job_name: herald\n");
  }

  @SuppressWarnings("unchecked")
  private static List<String> exprs() throws Exception {
    Map<String, Object> rules = new Yaml().load(Files.readString(ROOT.resolve(RULES)));
    List<String> out = new ArrayList<>();
    for (Object group : (List<Object>) rules.get("groups")) {
      for (Object rule : (List<Object>) ((Map<String, Object>) group).get("rules")) {
        out.add((String) ((Map<String, Object>) rule).get("expr"));
      }
    }
    assertThat(out).hasSize(8);
    return out;
  }

  /** Runs a command in the repository root; fails with its output unless it exits 0 within 30 s. */
  private static String run(String... cmd) throws Exception {
    Path out = Files.createTempFile("alert-rules", ".out");
    try {
      Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true)
        .redirectOutput(out.toFile()).start();
      boolean exited = p.waitFor(30, TimeUnit.SECONDS);
      p.destroyForcibly();
      String text = Files.readString(out, StandardCharsets.UTF_8);
      assertThat(exited).as(String.join(" ", cmd) + " finished within 30 s; output:\n" + text).isTrue();
      assertThat(p.exitValue()).as(String.join(" ", cmd) + " exit status; output:\n" + text).isZero();
      return text;
    } finally {
      Files.deleteIfExists(out);
    }
  }
}
