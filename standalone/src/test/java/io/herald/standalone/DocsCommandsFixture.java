package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shared harness of the ITs that run the docs' commands as written: the blocks are read from the
 * pages, run with bash (after a prelude) in the repository root, against the all-in-one jar started
 * as the docs start it on the default ports; everything started is stopped after each test.
 */
@ExtendWith(DefaultPorts.class)
abstract class DocsCommandsFixture {

  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path DOCS = ROOT.resolve("docs");
  /** The ports of config/herald.json, which the blocks use. */
  static final int GATEWAY = 8080;
  static final int NOTIFIER = 8081;
  static final int ADMIN = 9090;
  static final Duration STARTUP = Duration.ofSeconds(60);
  static final Duration RUN = Duration.ofSeconds(60);
  /** How long a {@code curl -N} stream stays open: enough for {@code :ok}, the replay and {@code herald.ready}. */
  static final int STREAM_SECONDS = 3;
  static final String DONE = "<<< done";

  static final String PRELUDE = """
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

  final List<Process> started = new ArrayList<>();

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

  /** A call of {@code curl} in a block: its arguments, its output and its exit status (28: stopped by the harness). */
  record Call(String args, String out, int exit) {
  }

  /** A block running in bash behind the prelude; its output (standard error included) goes to a log. */
  final class Shell {
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
  Shell run(String name, String block, Map<String, String> env) throws Exception {
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
  Path startHub(String name, Map<String, String> env) throws Exception {
    Path log = HeraldProcess.LOGS.resolve(name + ".log");
    Files.createDirectories(log.getParent());
    ProcessBuilder pb = new ProcessBuilder(java(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
      "-jar", "standalone/target/herald.jar").directory(ROOT.toFile())
      .redirectErrorStream(true).redirectOutput(log.toFile());
    environment(pb).putAll(env);
    awaitReady(start(pb), ADMIN, log);
    return log;
  }

  Process start(ProcessBuilder pb) throws IOException {
    Process p = pb.start();
    started.add(p);
    return p;
  }

  /** The environment of a documented command: no HERALD_* variable of the build, this JDK's java first on PATH. */
  static Map<String, String> environment(ProcessBuilder pb) {
    Map<String, String> e = pb.environment();
    e.keySet().removeIf(k -> k.startsWith("HERALD_"));
    e.put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + e.getOrDefault("PATH", "/usr/bin:/bin"));
    // The docs' commands as written, less the JIT warm-up before readiness (WarmUpIT tests it).
    e.put("HERALD_ADMIN_WARM_UP_MILLIS", "0");
    return e;
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** Polls the admin port's {@code /ready} until 200; returns its body. Fails with the log if {@code p} exits first. */
  static String awaitReady(Process p, int adminPort, Path log) throws Exception {
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
  static List<Path> tools(String... names) {
    List<Path> out = new ArrayList<>();
    for (String name : names) {
      out.add(ExternalTools.require(name, "install Debian's " + name + " package"));
    }
    return out;
  }

  /** The body of a {@code curl -i} answer. */
  static String body(String response) {
    int at = response.indexOf("\r\n\r\n");
    return at < 0 ? response : response.substring(at + 4);
  }

  /** The {@code data} of a long-poll answer's application frames (those with a topic), as text. */
  static List<String> appData(JsonObject answer) {
    return answer.getJsonArray("events").stream().map(JsonObject.class::cast).filter(f -> f.containsKey("topic"))
      .map(f -> String.valueOf(f.getValue("data"))).toList();
  }

  static String publishId(String topic, String data) throws Exception {
    HttpResponse<String> r = post(NOTIFIER, "/publish", new JsonObject().put("topic", topic).put("data", data).encode(),
      "Authorization", "Bearer " + HeraldProcess.PUBLISHER_KEY);
    assertThat(r.statusCode()).as("POST /publish: " + r.body()).isEqualTo(200);
    return new JsonObject(r.body()).getJsonArray("events").getJsonObject(0).getString("id");
  }

  static String metrics() throws Exception {
    HttpResponse<String> r = get(ADMIN, "/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return HeraldProcess.HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).get(15, TimeUnit.SECONDS);
  }

  static HttpResponse<String> post(int port, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HeraldProcess.HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).get(15, TimeUnit.SECONDS);
  }
}
