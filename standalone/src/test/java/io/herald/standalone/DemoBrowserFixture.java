package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Shared harness of the browser ITs of the demo page: the system Chromium driven through
 * {@code src/test/node/demo.mjs} ({@link Browser}), checked installed before any test, with helpers
 * that publish and wait for a hub to serve.
 */
abstract class DemoBrowserFixture extends JarTestBase {

  static final Path NODE_DIR = Path.of("src", "test", "node");
  static final Path SCREENSHOT = Path.of("target", "artifacts", "demo.png").toAbsolutePath();
  static final String HOW_TO_INSTALL =
    "run scripts/test.sh from the repository root: it installs Node.js and Chromium if needed and runs npm ci in standalone/src/test/node";
  static final String STATE = "window.__heraldDemo";

  Browser browser;

  @BeforeAll
  static void browserInstalled() {
    if (!Files.isDirectory(NODE_DIR.resolve("node_modules").resolve("playwright-core"))) {
      fail("the npm playwright-core package is missing (" + NODE_DIR.resolve("node_modules").toAbsolutePath() + "): " + HOW_TO_INSTALL);
    }
    String chromium = System.getenv().getOrDefault("CHROMIUM_PATH", "/usr/bin/chromium");
    if (!Files.isExecutable(Path.of(chromium))) {
      fail("Chromium is missing at " + chromium + " (set CHROMIUM_PATH to use another): " + HOW_TO_INSTALL);
    }
  }

  @AfterEach
  void closeBrowser() {
    if (browser != null) {
      browser.close();
    }
  }

  void awaitServing(String origin, int notifierPort) throws Exception {
    long deadline = System.nanoTime() + HeraldProcess.START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!herald.process.isAlive()) {
        throw new AssertionError("herald exited before it was ready:\n" + herald.logTail());
      }
      try {
        if (get(origin + "/dev/config").statusCode() == 200 && Ports.accepts(notifierPort)) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("herald did not start:\n" + herald.logTail());
  }

  static void publish(int notifierPort, String body) throws Exception {
    HttpResponse<String> r = HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + notifierPort + "/publish"))
        .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + HeraldProcess.PUBLISHER_KEY)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
      HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).as("POST /publish: %s", r.body()).isEqualTo(200);
  }

  static String event(String topic, int n) {
    return "{\"topic\":\"" + topic + "\",\"type\":\"ticket.updated\",\"data\":{\"n\":" + n + "}}";
  }

  static HttpResponse<String> get(String url) throws Exception {
    return HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
      HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  static HttpResponse<String> postGateway(String url, String body) throws Exception {
    return HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
      HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  static final class Browser {
    final Process process;
    final Writer in;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final Path stderr;
    JsonArray lastProblems = new JsonArray();
    JsonArray lastExternal = new JsonArray();

    private Browser(Process process, Path stderr) {
      this.process = process;
      this.stderr = stderr;
      this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            lines.add(line);
          }
        } catch (IOException e) {
          // the process ended
        }
      }, "demo.mjs-stdout");
      reader.setDaemon(true);
      reader.start();
    }

    static Browser start(String origin) throws Exception {
      Files.createDirectories(HeraldProcess.LOGS);
      Path stderr = HeraldProcess.LOGS.resolve("demo.mjs-" + ProcessHandle.current().pid() + "-node.stderr.log").toAbsolutePath();
      Process p = new ProcessBuilder("node", "demo.mjs", origin).directory(NODE_DIR.toFile())
        .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile())).start();
      Browser b = new Browser(p, stderr);
      JsonObject ready = b.answer(90_000);
      if (!ready.getBoolean("ok", false)) {
        b.close();
        throw new AssertionError("demo.mjs could not start Chromium: " + ready.encodePrettily());
      }
      return b;
    }

    private JsonObject answer(long timeoutMillis) throws Exception {
      String line = lines.poll(timeoutMillis, TimeUnit.MILLISECONDS);
      if (line == null) {
        throw new AssertionError("no answer from demo.mjs within " + timeoutMillis + " ms (alive: " + process.isAlive()
          + "); stderr: " + (Files.exists(stderr) ? Files.readString(stderr) : ""));
      }
      JsonObject a = new JsonObject(line);
      lastProblems = a.getJsonArray("problems", new JsonArray());
      lastExternal = a.getJsonArray("external", new JsonArray());
      return a;
    }

    /** Runs a command; returns its value, or fails with what the page held. */
    @SuppressWarnings("unchecked")
    <T> T call(JsonObject command) throws Exception {
      long timeout = command.getLong("timeout", 60_000L) + 30_000;
      in.write(command.encode() + "\n");
      in.flush();
      JsonObject a = answer(timeout);
      if (!a.getBoolean("ok", false)) {
        throw new AssertionError(command.getString("cmd") + " failed: " + a.getString("error") + "\npage state: "
          + a.getValue("state") + "\nproblems: " + a.getValue("problems"));
      }
      return (T) a.getValue("value");
    }

    JsonObject waitFor(String expr, long timeoutMillis) throws Exception {
      return call(new JsonObject().put("cmd", "wait").put("expr", expr).put("timeout", timeoutMillis));
    }

    Object eval(String expr) throws Exception {
      return call(new JsonObject().put("cmd", "eval").put("expr", expr));
    }

    void close() {
      try {
        in.write("{\"cmd\":\"quit\"}\n");
        in.close();
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // killed below
      }
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }
}
