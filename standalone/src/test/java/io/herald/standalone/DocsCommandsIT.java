package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shell blocks of the docs that run on one machine, taken from the markdown and run as
 * written (as {@link DocsClusterIT} does for the cluster), so a page and what Herald does cannot
 * drift apart: the README's curls, HTTP publishing and the signed webhook (publishing.md),
 * subscriber JWTs and hashed publisher keys (security.md), {@code Last-Event-ID} resumes
 * (replay.md), long-polling and dev mode (clients.md), the usage text (configuration.md), the
 * tuned gateway command line (operations.md) and the Python {@code publish()} of migration.md.
 *
 * <p>The blocks use the default ports (gateway 8080, publish API 8081, admin 9090), so these tests
 * use them too: each waits until they are free and kills what it started. A harness prelude (not
 * part of any block) makes each {@code curl} wait until the hub is ready, as a reader waits for
 * the start-up lines, ends a stream ({@code curl -N}) after a few seconds, as a reader's Ctrl-C,
 * and marks each call's output; a hub the block starts logs to a file of its own. Output goes to
 * {@code target/it-logs/docs-*.log}.
 */
class DocsCommandsIT {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path DOCS = ROOT.resolve("docs");
  /** The ports of config/herald.json, which the blocks use. */
  private static final int GATEWAY = 8080;
  private static final int NOTIFIER = 8081;
  private static final int ADMIN = 9090;
  private static final Duration STARTUP = Duration.ofSeconds(60);
  private static final Duration RUN = Duration.ofSeconds(60);
  /** How long a {@code curl -N} stream stays open: enough for {@code :ok}, the replay and {@code herald.ready}. */
  private static final int STREAM_SECONDS = 3;
  private static final String DONE = "<<< done";

  private static final String PRELUDE = """
    # DocsCommandsIT's harness, not part of the documented block: the output of a hub the block
    # starts goes to a log of its own; each curl waits (at most 30 s) until the hub's admin port
    # says it is ready, a stream (-N) ends after a few seconds, and each call's output is marked.
    java() { command java "$@" >> "$DOCS_HUB_LOG" 2>&1; }
    curl() {
      local i
      for i in $(seq 1 120); do
        command curl -sf -o /dev/null --max-time 2 "$DOCS_READY_URL" && break
        if [ "$i" -eq 120 ]; then printf '\\n<<< hub not ready at %s\\n' "$DOCS_READY_URL"; exit 97; fi
        sleep 0.25
      done
      local limit=30
      case " $* " in *" -N "*) limit=$DOCS_STREAM_SECONDS ;; esac
      printf '\\n>>> curl %s\\n' "$*"
      command curl -sS --max-time "$limit" "$@"
      printf '\\n<<< exit %d\\n' "$?"
    }
    """;

  private final List<Process> started = new ArrayList<>();

  @BeforeEach
  void defaultPortsFree() throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    for (int port : new int[] {GATEWAY, NOTIFIER, ADMIN}) {
      while (Ports.accepts(port)) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("127.0.0.1:" + port + " is still in use after 60 s: the documented commands run on "
            + "the default ports 8080, 8081 and 9090; stop what listens there");
        }
        Thread.sleep(250);
      }
    }
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    started.clear();
  }

  // ---------------------------------------------------------------- README.md, publishing.md

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

  // ---------------------------------------------------------------- security.md

  @Test
  @DisplayName("security.md, subscriber JWT: the minted token reads its topics, the public topic needs none, user:bob gets 403 access_denied")
  void subscriberJwt() throws Exception {
    tools("curl", "openssl");
    String block = block("security.md", "## Subscriber authentication (JWT)", "bash", "HERALD_GATEWAY_AUTH_MODE=jwt");
    assertThat(block).contains("java -jar standalone/target/herald.jar &");

    List<Call> calls = run("docs-jwt", block, Map.of()).finish();

    assertThat(calls).hasSize(3);
    assertThat(calls.get(0).args()).contains("Authorization: Bearer ey");
    assertThat(calls.get(0).exit()).as("the stream stays open until curl stops it").isEqualTo(28);
    assertThat(calls.get(0).out()).contains("event: herald.ready\ndata: {\"topics\":[\"news.sport\",\"user:alice\"]}");
    assertThat(calls.get(1).exit()).isEqualTo(28);
    assertThat(calls.get(1).out()).contains("event: herald.ready\ndata: {\"topics\":[\"status\"]}");
    assertThat(calls.get(2).exit()).isZero();
    assertThat(calls.get(2).out()).startsWith("HTTP/1.1 403");
    JsonObject refused = new JsonObject(body(calls.get(2).out()));
    assertThat(refused.getString("error")).isEqualTo("access_denied");
    assertThat(refused.getString("topic")).isEqualTo("user:bob");
  }

  @Test
  @DisplayName("security.md's hashed publisher key and publishing.md's signed webhook: the key publishes, the webhook delivery is accepted")
  void publisherKeyAndWebhook() throws Exception {
    tools("curl", "openssl");
    String keyBlock = block("security.md", "## Publisher authentication", "bash", "openssl rand -hex 32");
    String webhookBlock = block("publishing.md", "## Signed webhooks", "bash", "X-Herald-Signature: sha256=");
    Matcher secret = Pattern.compile("secret='([^']+)'").matcher(webhookBlock);
    assertThat(secret.find()).as("the webhook block sets secret='...'").isTrue();

    // The block prints the line for the configuration, then publishes: start the hub with that
    // line in between, as its comment says (the block's curl waits until the hub is ready).
    Shell keys = run("docs-publisher-key", keyBlock, Map.of());
    String hashed = keys.await(Pattern.compile("(?m)^(sha256:[0-9a-f]{64})$"), Duration.ofSeconds(15)).group(1);
    Path hubLog = startHub("docs-publisher-key-hub", Map.of(
      "HERALD_NOTIFIER_PUBLISHER_KEYS", hashed,
      "HERALD_NOTIFIER_WEBHOOK_SECRETS", "n8n=" + secret.group(1)));
    List<Call> published = keys.finish();
    assertThat(published).hasSize(1);
    assertThat(published.get(0).exit()).isZero();
    JsonObject stored = new JsonObject(published.get(0).out()).getJsonArray("events").getJsonObject(0);
    assertThat(stored.getString("topic")).isEqualTo("orders.eu");
    assertThat(stored.getLong("seq")).isEqualTo(1L);
    // Only the hash is configured: the development key is refused, and no key is logged as plain.
    assertThat(post(NOTIFIER, "/publish", "{\"topic\":\"orders.eu\",\"data\":1}", "Authorization", "Bearer dev-publisher-key")
      .statusCode()).isEqualTo(401);
    assertThat(Files.readString(hubLog)).doesNotContain("configured in plain text", "development publisher key is accepted");

    List<Call> hook = run("docs-webhook", webhookBlock, Map.of()).finish();
    assertThat(hook).hasSize(1);
    assertThat(hook.get(0).exit()).isZero();
    JsonObject event = new JsonObject(hook.get(0).out()).getJsonArray("events").getJsonObject(0);
    assertThat(event.getString("topic")).isEqualTo("workflows");
    assertThat(metrics()).contains("herald_events_published_total{source=\"webhook\"} 1.0",
      "herald_events_published_total{source=\"http\"} 1.0");
  }

  // ---------------------------------------------------------------- replay.md, clients.md

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

  // ---------------------------------------------------------------- migration.md

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

  // ---------------------------------------------------------------- configuration.md, operations.md

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

  // ---------------------------------------------------------------- helpers

  /** A call of {@code curl} in a block: its arguments, its output and its exit status (28: stopped by the harness). */
  record Call(String args, String out, int exit) {
  }

  /** A block running in bash behind the prelude; its output (standard error included) goes to a log. */
  private final class Shell {
    private final Process process;
    private final Path log;

    Shell(Process process, Path log) {
      this.process = process;
      this.log = log;
    }

    String output() throws IOException {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    /** Waits until the output matches; fails with the output after the timeout or when bash ends first. */
    Matcher await(Pattern pattern, Duration timeout) throws Exception {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        Matcher m = pattern.matcher(output());
        if (m.find()) {
          return m;
        }
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new AssertionError("waited for /" + pattern + "/ in " + log
            + (process.isAlive() ? " for " + timeout.toSeconds() + " s" : ": bash exited with " + process.exitValue())
            + "; output:\n" + output());
        }
        Thread.sleep(100);
      }
    }

    /** Waits for the block's end and returns its curl calls. */
    List<Call> finish() throws Exception {
      await(Pattern.compile(Pattern.quote(DONE)), RUN);
      String out = output();
      List<Call> calls = new ArrayList<>();
      Matcher m = Pattern.compile("(?s)\n>>> curl ([^\n]*)\n(.*?)\n<<< exit (\\d+)\n").matcher(out);
      while (m.find()) {
        calls.add(new Call(m.group(1), m.group(2).strip(), Integer.parseInt(m.group(3))));
      }
      System.out.printf("DocsCommandsIT: %s ran %d curl call(s); output in %s%n", log.getFileName(), calls.size(), log);
      return calls;
    }
  }

  /** Runs {@code block} with bash in the repository root, after the prelude; the shell stays until what it started ends. */
  private Shell run(String name, String block, Map<String, String> env) throws Exception {
    Path log = HeraldProcess.LOGS.resolve(name + ".log");
    Files.createDirectories(log.getParent());
    String script = PRELUDE + "\n" + block + "\nprintf '\\n" + DONE + "\\n'\nwait\n";
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(ROOT.toFile())
      .redirectErrorStream(true).redirectOutput(log.toFile())
      .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Path hubLog = HeraldProcess.LOGS.resolve(name + "-hub.log");
    Files.deleteIfExists(hubLog);
    Map<String, String> e = environment(pb);
    e.put("DOCS_HUB_LOG", hubLog.toAbsolutePath().toString());
    e.put("DOCS_READY_URL", "http://127.0.0.1:" + ADMIN + "/ready");
    e.put("DOCS_STREAM_SECONDS", String.valueOf(STREAM_SECONDS));
    e.putAll(env);
    return new Shell(start(pb), log);
  }

  /** The all-in-one jar as the docs start it ({@code java -jar standalone/target/herald.jar}, default ports); waits until ready. */
  private Path startHub(String name, Map<String, String> env) throws Exception {
    Path log = HeraldProcess.LOGS.resolve(name + ".log");
    Files.createDirectories(log.getParent());
    ProcessBuilder pb = new ProcessBuilder(java(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
      "-jar", "standalone/target/herald.jar").directory(ROOT.toFile())
      .redirectErrorStream(true).redirectOutput(log.toFile());
    environment(pb).putAll(env);
    awaitReady(start(pb), ADMIN, log);
    return log;
  }

  private Process start(ProcessBuilder pb) throws IOException {
    Process p = pb.start();
    started.add(p);
    return p;
  }

  /** The environment of a documented command: no HERALD_* variable of the build, this JDK's java first on PATH. */
  private static Map<String, String> environment(ProcessBuilder pb) {
    Map<String, String> e = pb.environment();
    e.keySet().removeIf(k -> k.startsWith("HERALD_"));
    e.put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + e.getOrDefault("PATH", "/usr/bin:/bin"));
    // The docs' commands as written, less the JIT warm-up before readiness (WarmUpIT tests it).
    e.put("HERALD_ADMIN_WARM_UP_MILLIS", "0");
    return e;
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Polls the admin port's {@code /ready} until 200; returns its body. Fails with the log if {@code p} exits first. */
  private static String awaitReady(Process p, int adminPort, Path log) throws Exception {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("exited with " + p.exitValue() + " before it was ready:\n" + Files.readString(log));
      }
      try {
        HttpResponse<String> r = get(adminPort, "/ready");
        if (r.statusCode() == 200) {
          return r.body();
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof IOException)) {
          throw e;
        }
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("admin port " + adminPort + " not ready in " + STARTUP.toSeconds() + " s:\n" + Files.readString(log));
  }

  /**
   * The fenced block of {@code lang} in docs/{@code page} that comes first after the line
   * {@code start} and contains every marker, without its fences.
   */
  static String block(String page, String start, String lang, String... markers) throws IOException {
    String doc = Files.readString(DOCS.resolve(page));
    int at = doc.indexOf(start);
    assertThat(at).as("%s in docs/%s", start, page).isNotNegative();
    Matcher m = Pattern.compile("(?ms)^```" + Pattern.quote(lang) + "\n(.*?)^```$").matcher(doc);
    int from = at;
    while (m.find(from)) {
      if (Stream.of(markers).allMatch(m.group(1)::contains)) {
        return m.group(1);
      }
      from = m.end();
    }
    throw new AssertionError("no ```" + lang + " block with " + List.of(markers) + " after '" + start + "' in docs/" + page);
  }

  /** Fails the test (or skips it, outside scripts/test.sh) unless every tool is on PATH. */
  private static List<Path> tools(String... names) {
    List<Path> out = new ArrayList<>();
    for (String name : names) {
      out.add(ExternalTools.require(name, "install Debian's " + name + " package"));
    }
    return out;
  }

  /** The body of a {@code curl -i} answer. */
  private static String body(String response) {
    int at = response.indexOf("\r\n\r\n");
    return at < 0 ? response : response.substring(at + 4);
  }

  /** The {@code data} of a long-poll answer's application frames (those with a topic), as text. */
  private static List<String> appData(JsonObject answer) {
    return answer.getJsonArray("events").stream().map(JsonObject.class::cast).filter(f -> f.containsKey("topic"))
      .map(f -> String.valueOf(f.getValue("data"))).toList();
  }

  private static String publishId(String topic, String data) throws Exception {
    HttpResponse<String> r = post(NOTIFIER, "/publish", new JsonObject().put("topic", topic).put("data", data).encode(),
      "Authorization", "Bearer " + HeraldProcess.PUBLISHER_KEY);
    assertThat(r.statusCode()).as("POST /publish: " + r.body()).isEqualTo(200);
    return new JsonObject(r.body()).getJsonArray("events").getJsonObject(0).getString("id");
  }

  private static String metrics() throws Exception {
    HttpResponse<String> r = get(ADMIN, "/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HeraldProcess.HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).get(15, TimeUnit.SECONDS);
  }

  private static HttpResponse<String> post(int port, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HeraldProcess.HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).get(15, TimeUnit.SECONDS);
  }
}
