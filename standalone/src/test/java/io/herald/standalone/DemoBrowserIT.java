package io.herald.standalone;

import io.herald.testsupport.Ports;
import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The JavaScript client ({@code /herald.js}) and the demo page at {@code /} in a real headless
 * Chromium against the real jar. {@code src/test/node/demo.mjs} (npm {@code playwright-core}
 * driving the system Chromium) runs commands this test sends it, so the test can publish and
 * restart the hub between them. Node.js, the package and Chromium are installed by
 * {@code scripts/test.sh}; the test fails without them.
 */
class DemoBrowserIT extends JarTestBase {

  private static final Path NODE_DIR = Path.of("src", "test", "node");
  private static final Path SCREENSHOT = Path.of("target", "artifacts", "demo.png").toAbsolutePath();
  private static final String HOW_TO_INSTALL =
    "run scripts/test.sh from the repository root: it installs Node.js and Chromium if needed and runs npm ci in standalone/src/test/node";
  private static final String STATE = "window.__heraldDemo";

  private Browser browser;

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

  @Test
  @DisplayName("README's browser snippet, served from another origin: with the defaults onError says cors_blocked and names the origin to allow; with it in HERALD_GATEWAY_ALLOWED_ORIGINS the snippet goes live and gets the greeting")
  void readmeSnippetFromAnotherOrigin() throws Exception {
    String snippet = DocsCommandsIT.block("../README.md", "## In a browser", "html", "Herald.connect");
    AtomicReference<String> gateway = new AtomicReference<>();
    HttpServer pages = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    pages.createContext("/", exchange -> {
      // The snippet as written, pointed at the test's gateway instead of localhost:8080.
      byte[] html = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>snippet</title></head><body>\n"
        + snippet.replace("http://localhost:8080", gateway.get()) + "</body></html>\n").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
      exchange.sendResponseHeaders(200, html.length);
      try (var body = exchange.getResponseBody()) {
        body.write(html);
      }
    });
    pages.start();
    try {
      String pageOrigin = "http://127.0.0.1:" + pages.getAddress().getPort();

      herald = HeraldProcess.start("DemoBrowserIT-snippet-default", Map.of());
      gateway.set("http://127.0.0.1:" + herald.gatewayPort);
      browser = Browser.start(gateway.get());
      browser.call(new JsonObject().put("cmd", "goto").put("url", pageOrigin + "/"));
      String expected = "warning: cors_blocked the gateway at " + gateway.get() + " answered, but without CORS headers that allow this page's origin "
        + pageOrigin + ": list it in gateway.allowedOrigins (HERALD_GATEWAY_ALLOWED_ORIGINS=" + pageOrigin + ")";
      awaitConsole(expected);
      assertThat(browser.eval("h.status")).isEqualTo("offline");
      herald.destroy();

      herald = HeraldProcess.start("DemoBrowserIT-snippet-allowed", Map.of("HERALD_GATEWAY_ALLOWED_ORIGINS", pageOrigin));
      gateway.set("http://127.0.0.1:" + herald.gatewayPort);
      browser.call(new JsonObject().put("cmd", "goto").put("url", pageOrigin + "/"));
      browser.waitFor("h.status === 'live'", 15_000);
      assertThat(browser.eval("h.transport")).isEqualTo("sse");
      String id = herald.publishId("{\"topic\":\"demo\",\"type\":\"greeting\",\"data\":{\"hello\":\"world\"}}");
      browser.waitFor("h.lastEventId === '" + id + "'", 10_000);
    } finally {
      pages.stop(0);
    }
  }

  /** Waits until the page has logged {@code line} ("type: text") on its console. */
  private void awaitConsole(String line) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    JsonArray lines;
    do {
      lines = browser.call(new JsonObject().put("cmd", "console"));
      if (lines.contains(line)) {
        return;
      }
      Thread.sleep(200);
    } while (System.nanoTime() < deadline);
    fail("the page never logged\n  " + line + "\nconsole:\n  " + String.join("\n  ", lines.stream().map(String::valueOf).toList()));
  }

  @Test
  @DisplayName("Demo page: events published over HTTP arrive over SSE in the list (newest first, 100 at most) and as toasts, badge Live; dev publish form; screenshot")
  void liveEventsOnTheDemoPage() throws Exception {
    herald = HeraldProcess.start("DemoBrowserIT-live", Map.of("HERALD_GATEWAY_DEV_MODE", "true"));
    String origin = "http://127.0.0.1:" + herald.gatewayPort;

    // The files, with their types and caching.
    HttpResponse<String> js = get(origin + "/herald.js");
    assertThat(js.statusCode()).isEqualTo(200);
    assertThat(js.headers().firstValue("Content-Type")).hasValue("application/javascript; charset=utf-8");
    assertThat(js.headers().firstValue("Cache-Control")).hasValue("public, max-age=300");
    assertThat(js.body()).contains("root.Herald = Herald");
    HttpResponse<String> page = get(origin + "/");
    assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp ->
      assertThat(csp).startsWith("default-src 'self'; connect-src 'self' ws://127.0.0.1:" + herald.gatewayPort).doesNotContain("unsafe"));
    assertThat(get(origin + "/demo.css").headers().firstValue("Content-Type")).hasValue("text/css; charset=utf-8");
    assertThat(new JsonObject(get(origin + "/dev/config").body()).getBoolean("devMode")).isTrue();

    browser = Browser.start(origin);
    JsonObject nav = browser.call(new JsonObject().put("cmd", "goto").put("url", origin + "/"));
    assertThat(nav.getInteger("status")).isEqualTo(200);
    JsonObject s = browser.waitFor(STATE + " && " + STATE + ".status === 'live' && " + STATE + ".devMode === true", 15_000);
    assertThat(s.getString("transport")).isEqualTo("sse");
    assertThat(browser.eval("document.getElementById('status').textContent")).isEqualTo("Live");
    assertThat(browser.eval("document.getElementById('publish-panel').hidden")).isEqualTo(false);
    // The empty list's hint shows this hub's publish address, not the default port.
    browser.waitFor("document.querySelector('#empty code').textContent.startsWith('curl -X POST http://127.0.0.1:"
      + herald.notifierPort + "/publish ')", 5_000);

    for (int i = 1; i <= 3; i++) {
      herald.publish("{\"topic\":\"demo\",\"type\":\"ticket.updated\",\"data\":{\"ticket\":" + i + ",\"status\":\"open\"}}");
    }
    s = browser.waitFor(STATE + ".received >= 3", 10_000);
    JsonArray events = s.getJsonArray("events");
    assertThat(events).hasSize(3);
    for (int i = 0; i < 3; i++) {
      JsonObject e = events.getJsonObject(i);
      assertThat(e.getString("topic")).isEqualTo("demo");
      assertThat(e.getString("type")).isEqualTo("ticket.updated");
      assertThat(e.getJsonObject("data").getInteger("ticket")).isEqualTo(i + 1);
    }
    assertThat(s.getString("clientLastEventId")).isEqualTo(events.getJsonObject(2).getString("id"));
    // Newest first in the list, and toasts on screen.
    assertThat(browser.eval("[...document.querySelectorAll('#events li .data')].map(n => JSON.parse(n.textContent).ticket).join(',')"))
      .isEqualTo("3,2,1");
    assertThat((Integer) browser.eval("document.querySelectorAll('#toasts .toast').length")).isBetween(1, 4);

    // The dev publish form goes through POST /dev/publish and the event comes back live.
    browser.call(new JsonObject().put("cmd", "fill").put("selector", "#pub-data").put("value", "{\"ticket\":99,\"status\":\"closed\"}"));
    browser.call(new JsonObject().put("cmd", "click").put("selector", "#publish button"));
    s = browser.waitFor(STATE + ".received >= 4", 10_000);
    assertThat(s.getJsonArray("events").getJsonObject(3).getJsonObject("data").getInteger("ticket")).isEqualTo(99);
    browser.waitFor("document.getElementById('pub-result').textContent.startsWith('published')", 5_000);
    browser.call(new JsonObject().put("cmd", "screenshot").put("path", SCREENSHOT.toString()));

    // The list keeps the newest 100.
    StringBuilder batch = new StringBuilder("{\"events\":[");
    for (int i = 0; i < 100; i++) {
      batch.append(i == 0 ? "" : ",").append("{\"topic\":\"demo\",\"type\":\"ticket.updated\",\"data\":{\"n\":").append(i).append("}}");
    }
    assertThat(herald.post("/publish/batch", batch.append("]}").toString()).statusCode()).isEqualTo(200);
    browser.waitFor(STATE + ".received >= 104", 10_000);
    assertThat(browser.eval("document.querySelectorAll('#events li').length")).isEqualTo(100);
    assertThat(browser.eval("JSON.parse(document.querySelector('#events li .data').textContent).n")).isEqualTo(99);
    assertThat(browser.eval("JSON.parse(document.querySelector('#events li:last-child .data').textContent).n")).as("the oldest kept").isEqualTo(0);

    // A browser without EventSource falls back to the next transport, the WebSocket.
    browser.call(new JsonObject().put("cmd", "goto").put("url", origin + "/").put("noEventSource", true));
    s = browser.waitFor(STATE + " && " + STATE + ".status === 'live'", 15_000);
    assertThat(s.getString("transport")).isEqualTo("websocket");
    herald.publish("{\"topic\":\"demo\",\"type\":\"ticket.created\",\"data\":\"over websocket\"}");
    s = browser.waitFor(STATE + ".received >= 1", 10_000);
    assertThat(s.getJsonArray("events").getJsonObject(0).getString("data")).isEqualTo("over websocket");
    assertThat(s.getJsonArray("events").getJsonObject(0).getString("topic")).isEqualTo("demo");

    JsonObject last = browser.call(new JsonObject().put("cmd", "state"));
    assertThat(browser.lastProblems).isEmpty();
    assertThat(browser.lastExternal).isEmpty();
    assertThat(last).isNotNull();
    assertThat(SCREENSHOT).isRegularFile();
    assertThat(Files.size(SCREENSHOT)).isGreaterThan(10_000);
  }

  @Test
  @DisplayName("Hub restart (Redis replay store): the page reconnects by itself and shows the events published while it was cut off exactly once")
  void reconnectsAfterHubRestart() throws Exception {
    Map<String, String> env = HeraldProcess.redisStore(System.nanoTime() + "-demo");
    herald = HeraldProcess.start("DemoBrowserIT-restart-1", env);
    // The second run takes the same ports, so the page's URLs still work.
    env.put("HERALD_GATEWAY_PORT", String.valueOf(herald.gatewayPort));
    env.put("HERALD_NOTIFIER_PORT", String.valueOf(herald.notifierPort));
    env.put("HERALD_ADMIN_PORT", String.valueOf(herald.adminPort));
    String origin = "http://127.0.0.1:" + herald.gatewayPort;
    String topic = "tickets-" + System.nanoTime();

    browser = Browser.start(origin);
    browser.call(new JsonObject().put("cmd", "goto").put("url", origin + "/?topic=" + topic));
    browser.waitFor(STATE + " && " + STATE + ".status === 'live'", 15_000);
    assertThat(new JsonObject(get(origin + "/dev/config").body()).getBoolean("devMode")).isFalse();
    assertThat(browser.eval("document.getElementById('publish-panel').hidden")).isEqualTo(true);
    assertThat(postGateway(origin + "/dev/publish", "{\"topic\":\"x\",\"data\":1}").statusCode()).as("no dev mode: 404").isEqualTo(404);

    herald.publish(event(topic, 1));
    herald.publish(event(topic, 2));
    browser.waitFor(STATE + ".received >= 2", 10_000);

    // The hub dies; the page goes offline. Its network is cut too, so that it cannot come back
    // before the events it is to miss are published.
    herald.destroy();
    browser.waitFor(STATE + ".status !== 'live'", 15_000);
    browser.call(new JsonObject().put("cmd", "offline").put("value", true));
    // launch(), not start(): the process object's port fields are fresh free ports, but the env
    // above makes it listen on the first run's, which are waited for and published to here.
    int notifierPort = Integer.parseInt(env.get("HERALD_NOTIFIER_PORT"));
    herald = HeraldProcess.launch("DemoBrowserIT-restart-2", env);
    awaitServing(origin, notifierPort);
    for (int i = 3; i <= 5; i++) {
      publish(notifierPort, event(topic, i));
    }
    browser.call(new JsonObject().put("cmd", "offline").put("value", false));
    JsonObject s = browser.waitFor(STATE + ".received >= 5 && " + STATE + ".status === 'live'", 45_000);
    publish(notifierPort, event(topic, 6));
    // A marker after the last event: a duplicate of any earlier one would arrive before it.
    publish(notifierPort, event(topic, 7));
    s = browser.waitFor(STATE + ".received >= 7", 10_000);

    List<Integer> seen = new ArrayList<>();
    for (Object o : s.getJsonArray("events")) {
      seen.add(((JsonObject) o).getJsonObject("data").getInteger("n"));
    }
    assertThat(seen).as("every event exactly once, in order").containsExactly(1, 2, 3, 4, 5, 6, 7);
    assertThat(s.getJsonArray("resets")).as("history survived the restart: no reset").isEmpty();
    assertThat(s.getString("transport")).isEqualTo("sse");
    assertThat(s.getJsonArray("statuses").stream().map(String::valueOf).toList()).containsSubsequence("live", "live");
    assertThat(browser.eval("document.querySelectorAll('#events li').length")).isEqualTo(7);
    assertThat(browser.eval("document.getElementById('status').textContent")).isEqualTo("Live");
    assertThat(browser.lastProblems).isEmpty();
  }

  @Test
  @DisplayName("Hub serving long-poll only: the client tries SSE (404), then WebSocket, then settles on long-poll and receives events with their topic")
  void fallsBackToLongPoll() throws Exception {
    // No /events to probe for readiness: launched, then awaited on /dev/config.
    herald = HeraldProcess.launch("DemoBrowserIT-longpoll", Map.of("HERALD_GATEWAY_TRANSPORTS", "longpoll",
      "HERALD_GATEWAY_LONG_POLL_TIMEOUT_SECONDS", "5"));
    String origin = "http://127.0.0.1:" + herald.gatewayPort;
    awaitServing(origin, herald.notifierPort);
    assertThat(get(origin + "/events?topic=demo").statusCode()).isEqualTo(404);

    browser = Browser.start(origin);
    browser.call(new JsonObject().put("cmd", "goto").put("url", origin + "/?topic=demo,alerts"));
    JsonObject s = browser.waitFor(STATE + " && " + STATE + ".status === 'live'", 20_000);
    assertThat(s.getString("transport")).isEqualTo("longpoll");
    assertThat(s.getJsonArray("transports").stream().map(String::valueOf).distinct().toList())
      .containsExactly("sse", "websocket", "longpoll");
    herald.publish("{\"topic\":\"demo\",\"type\":\"ticket.updated\",\"data\":{\"n\":1}}");
    herald.publish("{\"topic\":\"alerts\",\"type\":\"alert\",\"data\":\"disk full\"}");
    s = browser.waitFor(STATE + ".received >= 2", 10_000);
    // Past one long-poll timeout (its empty answer, seen by the browser), the polls go on and deliver.
    int pollsBefore = browser.<JsonArray>call(new JsonObject().put("cmd", "polls")).size();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!browser.<JsonArray>call(new JsonObject().put("cmd", "polls")).stream().skip(pollsBefore).anyMatch(n -> ((Number) n).intValue() == 0)) {
      assertThat(System.nanoTime()).as("an empty long-poll answer (the timeout) after the first events").isLessThan(deadline);
      Thread.sleep(100);
    }
    herald.publish("{\"topic\":\"demo\",\"type\":\"ticket.updated\",\"data\":{\"n\":3}}");
    s = browser.waitFor(STATE + ".received >= 3", 10_000);
    JsonArray events = s.getJsonArray("events");
    assertThat(events).hasSize(3);
    assertThat(events.getJsonObject(0).getString("topic")).isEqualTo("demo");
    assertThat(events.getJsonObject(1).getString("topic")).isEqualTo("alerts");
    assertThat(events.getJsonObject(1).getString("data")).isEqualTo("disk full");
    assertThat(s.getString("status")).isEqualTo("live");
    assertThat(s.getString("clientLastEventId")).isNotBlank();
    assertThat(browser.lastProblems).isEmpty();
  }

  @Test
  @DisplayName("The demo page subscribes to a pattern in Chromium: every matching topic's events arrive with their topic, others do not")
  void patternSubscription() throws Exception {
    herald = HeraldProcess.start("DemoBrowserIT-pattern", Map.of());
    String origin = "http://127.0.0.1:" + herald.gatewayPort;
    browser = Browser.start(origin);
    browser.call(new JsonObject().put("cmd", "goto").put("url", origin + "/?topic=demo,tickets.*&transports=websocket"));
    JsonObject s = browser.waitFor(STATE + " && " + STATE + ".status === 'live'", 15_000);
    assertThat(s.getJsonArray("patterns").getList()).containsExactly("tickets.*");
    assertThat(s.getJsonArray("topics").getList()).containsExactly("demo");
    herald.publish(event("tickets.1", 1));
    herald.publish(event("other", 2));
    herald.publish(event("tickets.new", 3)); // a topic nobody published to before; also the marker
    s = browser.waitFor(STATE + ".events.some(e => e.topic === 'tickets.new')", 10_000);
    JsonArray events = s.getJsonArray("events");
    assertThat(events.stream().map(e -> ((JsonObject) e).getString("topic")).toList()).containsExactly("tickets.1", "tickets.new");
    assertThat(browser.lastProblems).isEmpty();
  }

  private void awaitServing(String origin, int notifierPort) throws Exception {
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

  private static void publish(int notifierPort, String body) throws Exception {
    HttpResponse<String> r = HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + notifierPort + "/publish"))
        .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + HeraldProcess.PUBLISHER_KEY)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
      HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).as("POST /publish: %s", r.body()).isEqualTo(200);
  }

  private static String event(String topic, int n) {
    return "{\"topic\":\"" + topic + "\",\"type\":\"ticket.updated\",\"data\":{\"n\":" + n + "}}";
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
      HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private static HttpResponse<String> postGateway(String url, String body) throws Exception {
    return HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
      HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  /** demo.mjs: one JSON command a line in, one JSON answer a line out. */
  @Test
  @DisplayName("With gateway.sseCompression accepted, Chromium's EventSource gets a gzip stream and the demo page shows every event, small and 4 KB")
  void gzipStreamInChromium() throws Exception {
    herald = HeraldProcess.start("DemoBrowserIT-gzip", Map.of("HERALD_GATEWAY_SSE_COMPRESSION", "accepted"));
    String origin = "http://127.0.0.1:" + herald.gatewayPort;
    browser = Browser.start(origin);
    browser.call(new JsonObject().put("cmd", "goto").put("url", origin + "/"));
    JsonObject s = browser.waitFor(STATE + " && " + STATE + ".status === 'live'", 15_000);
    assertThat(s.getString("transport")).isEqualTo("sse");
    // What Chromium itself asked for and was sent, on a stream of its own.
    assertThat(browser.<String>call(new JsonObject().put("cmd", "eval").put("expr",
      "(async () => { const c = new AbortController(); const r = await fetch('/events?topic=demo', { signal: c.signal });"
        + " const e = r.headers.get('content-encoding'); c.abort(); return e; })()"))).isEqualTo("gzip");
    String big = "y".repeat(4096);
    herald.publish("{\"topic\":\"demo\",\"type\":\"ticket.updated\",\"data\":{\"ticket\":1}}");
    herald.publish("{\"topic\":\"demo\",\"type\":\"ticket.updated\",\"data\":{\"ticket\":2,\"note\":\"" + big + "\"}}");
    herald.publish("{\"topic\":\"demo\",\"type\":\"ticket.updated\",\"data\":{\"ticket\":3}}");
    s = browser.waitFor(STATE + ".received >= 3", 10_000);
    JsonArray events = s.getJsonArray("events");
    assertThat(events).hasSize(3);
    assertThat(events.getJsonObject(1).getJsonObject("data").getString("note")).isEqualTo(big);
    assertThat(events.getJsonObject(2).getJsonObject("data").getInteger("ticket")).isEqualTo(3);
    assertThat(browser.lastProblems).isEmpty();
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
      Path stderr = HeraldProcess.LOGS.resolve("DemoBrowserIT-node.stderr.log").toAbsolutePath();
      Process p = new ProcessBuilder("node", "demo.mjs", origin).directory(NODE_DIR.toFile())
        .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile())).start();
      Browser b = new Browser(p, stderr);
      JsonObject ready = b.answer(30_000);
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
      long timeout = command.getLong("timeout", 15_000L) + 15_000;
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
        in.flush();
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // killed below
      }
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }
}
