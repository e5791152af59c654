package io.herald.standalone;

import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Mercure client in a real headless Chromium against the real jar: a page served from another
 * origin subscribes with {@code new EventSource(hub + '?topic=...', {withCredentials: true})} and
 * publishes with {@code fetch} (a {@code URLSearchParams} body, {@code Authorization: Bearer}),
 * exactly as Mercure's documentation shows; the hub's CORS setting lets it. A private update reaches
 * the EventSource whose cookie carries a subscriber token for its topic, not the anonymous one.
 * Same harness as {@link DemoBrowserIT} ({@code src/test/node/demo.mjs}); it fails without Node.js,
 * the npm packages or Chromium.
 */
class MercureBrowserIT extends JarTestBase {

  private DemoBrowserIT.Browser browser;

  @BeforeAll
  static void browserInstalled() {
    DemoBrowserIT.browserInstalled();
  }

  @AfterEach
  void closeBrowser() {
    if (browser != null) {
      browser.close();
    }
  }

  @Test
  @DisplayName("EventSource with withCredentials on ?topic= and fetch publishes as Mercure's docs show: public updates reach every subscriber, a private one only the subscriber whose cookie grants its topic")
  void eventSourceAndFetch() throws Exception {
    String topic = "https://example.com/books/" + UUID.randomUUID();
    String publisher = MercurePublishTest.publisherToken(new JsonArray().add("*"));
    String subscriber = MercureSubscribeTest.subscriberToken(new JsonArray().add(topic));
    HttpServer pages = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    String[] hub = new String[1];
    pages.createContext("/", exchange -> {
      byte[] html = page(hub[0], topic, publisher).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
      exchange.sendResponseHeaders(200, html.length);
      try (var body = exchange.getResponseBody()) {
        body.write(html);
      }
    });
    pages.start();
    cleanups.add(() -> pages.stop(0));
    String pageOrigin = "http://127.0.0.1:" + pages.getAddress().getPort();

    herald = HeraldProcess.start("MercureBrowserIT", Map.of(
      "HERALD_GATEWAY_MERCURE_ENABLED", "true",
      "HERALD_GATEWAY_MERCURE_PUBLISHER_JWT_KEY", MercurePublishTest.PUBLISHER_SECRET,
      "HERALD_GATEWAY_MERCURE_SUBSCRIBER_JWT_KEY", MercurePublishTest.SUBSCRIBER_SECRET,
      "HERALD_GATEWAY_MERCURE_ANONYMOUS", "true",
      "HERALD_GATEWAY_MERCURE_CORS_ORIGINS", pageOrigin));
    String gateway = "http://127.0.0.1:" + herald.gatewayPort;
    hub[0] = gateway + "/.well-known/mercure";
    browser = DemoBrowserIT.Browser.start(gateway);
    browser.call(new JsonObject().put("cmd", "goto").put("url", pageOrigin + "/"));

    // The anonymous subscriber first; then the cookie (the same site: 127.0.0.1) for the second one.
    browser.eval("subscribe('anonymous')");
    browser.waitFor("window.opened.includes('anonymous')", 15_000);
    browser.eval("document.cookie = 'mercureAuthorization=" + subscriber + "; path=/'; subscribe('reader'); true");
    browser.waitFor("window.opened.includes('reader')", 15_000);

    String first = (String) browser.eval("publish('{\"status\":\"OutOfStock\"}')");
    assertThat(first).isNotBlank();
    browser.eval("publish('secret', true)");
    browser.eval("publish('{\"status\":\"InStock\"}')");
    browser.waitFor("window.received.reader.length >= 3 && window.received.anonymous.length >= 2", 15_000);
    assertThat(browser.eval("JSON.stringify(window.received.reader.map(e => e.data))"))
      .isEqualTo("[\"{\\\"status\\\":\\\"OutOfStock\\\"}\",\"secret\",\"{\\\"status\\\":\\\"InStock\\\"}\"]");
    assertThat(browser.eval("JSON.stringify(window.received.anonymous.map(e => e.data))"))
      .isEqualTo("[\"{\\\"status\\\":\\\"OutOfStock\\\"}\",\"{\\\"status\\\":\\\"InStock\\\"}\"]");
    assertThat(browser.eval("window.received.reader[0].lastEventId")).as("the update's id, as the publish answered").isEqualTo(first);
    assertThat(browser.eval("window.errors.join(',')")).isEqualTo("");
    assertThat(browser.lastProblems).isEmpty();
  }

  /** The page: Mercure's documented subscribe and publish snippets, wrapped in functions the test calls. */
  private static String page(String hub, String topic, String publisherToken) {
    return "<!doctype html><html><head><meta charset=\"utf-8\"><title>mercure</title></head><body><script>\n"
      + "window.received = {}; window.opened = []; window.errors = [];\n"
      + "function subscribe(name) {\n"
      + "  window.received[name] = [];\n"
      + "  const url = new URL('" + hub + "');\n"
      + "  url.searchParams.append('topic', '" + topic + "');\n"
      + "  const eventSource = new EventSource(url, {withCredentials: true});\n"
      + "  eventSource.onopen = () => window.opened.push(name);\n"
      + "  eventSource.onmessage = e => window.received[name].push({data: e.data, lastEventId: e.lastEventId});\n"
      + "  return true;\n"
      + "}\n"
      + "async function publish(data, isPrivate) {\n"
      + "  const body = new URLSearchParams({topic: '" + topic + "', data: data});\n"
      + "  if (isPrivate) body.append('private', 'on');\n"
      + "  const response = await fetch('" + hub + "', {\n"
      + "    method: 'POST',\n"
      + "    headers: {Authorization: 'Bearer " + publisherToken + "'},\n"
      + "    body: body,\n"
      + "  });\n"
      + "  const text = await response.text();\n"
      + "  if (!response.ok) { window.errors.push(response.status + ' ' + text); }\n"
      + "  return text;\n"
      + "}\n"
      + "</script></body></html>\n";
  }
}
