package io.herald.standalone;

import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * README's browser snippet and the demo page in Chromium against the real jar: CORS from another
 * origin, live events and toasts, pattern subscriptions, a gzip stream. Reconnection and transport
 * fallback are in {@link DemoBrowserConnectionIT}.
 */
class DemoBrowserIT extends DemoBrowserFixture {

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
}
