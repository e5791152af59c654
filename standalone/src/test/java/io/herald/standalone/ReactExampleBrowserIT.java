package io.herald.standalone;

import com.sun.net.httpserver.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The React example of the client package ({@code clients/js/examples/react}: the hook
 * {@code useHerald} from {@code dist/react.mjs}, React from the package's node_modules, no bundler)
 * in a real headless Chromium against the real jar, served from its own origin as an application
 * would be. Driven by {@code src/test/node/demo.mjs} like {@link DemoBrowserIT}. Node.js, the npm
 * packages of both folders and Chromium are installed by {@code scripts/test.sh}; the test fails
 * without them.
 */
class ReactExampleBrowserIT extends JarTestBase {

  private static final Path PACKAGE = Path.of("..", "clients", "js").toAbsolutePath().normalize();
  private static final Path SCREENSHOT = Path.of("target", "artifacts", "react-example.png").toAbsolutePath();
  /** What the static server hands out of clients/js: the example, the builds and React's UMD files. */
  private static final List<String> SERVED = List.of("examples/react/", "dist/", "node_modules/react/umd/", "node_modules/react-dom/umd/");
  private static final String STATE = "window.__heraldReact";

  private DemoBrowserIT.Browser browser;

  @BeforeAll
  static void installed() {
    DemoBrowserIT.browserInstalled();
    if (!Files.isRegularFile(PACKAGE.resolve("node_modules/react/umd/react.production.min.js"))) {
      fail("React is missing from clients/js/node_modules: run scripts/test.sh from the repository root (it runs npm ci in clients/js)");
    }
  }

  @AfterEach
  void closeBrowser() {
    if (browser != null) {
      browser.close();
    }
  }

  @Test
  @DisplayName("React example from another origin: useHerald goes live over SSE, shows published events in order with the cursor of the last, and re-subscribes when the topics change (the old topic's events stop)")
  void hookInTheBrowser() throws Exception {
    HttpServer pages = staticServer();
    try {
      String pageOrigin = "http://127.0.0.1:" + pages.getAddress().getPort();
      herald = HeraldProcess.start("ReactExampleBrowserIT", Map.of("HERALD_GATEWAY_ALLOWED_ORIGINS", pageOrigin));
      String gateway = "http://127.0.0.1:" + herald.gatewayPort;
      String first = "react-a-" + System.nanoTime();
      String second = "react-b-" + System.nanoTime();
      browser = DemoBrowserIT.Browser.start(gateway);
      JsonObject nav = browser.call(new JsonObject().put("cmd", "goto")
        .put("url", pageOrigin + "/examples/react/?gateway=" + gateway + "&topic=" + first));
      assertThat(nav.getInteger("status")).isEqualTo(200);
      browser.waitFor(STATE + " && " + STATE + ".status === 'live'", 15_000);
      assertThat(browser.eval(STATE + ".transport")).isEqualTo("sse");
      assertThat(browser.eval("document.getElementById('status').textContent")).isEqualTo("live");

      String lastId = null;
      for (int i = 1; i <= 3; i++) {
        lastId = herald.publishId("{\"topic\":\"" + first + "\",\"type\":\"ticket.updated\",\"data\":{\"n\":" + i + "}}");
      }
      browser.waitFor(STATE + ".events.length >= 3", 10_000);
      assertThat(browser.eval(STATE + ".events.map(e => e.topic + ':' + e.type + ':' + e.data.n).join(',')"))
        .isEqualTo(first + ":ticket.updated:1," + first + ":ticket.updated:2," + first + ":ticket.updated:3");
      assertThat(browser.eval(STATE + ".lastEventId")).isEqualTo(lastId);
      assertThat(browser.eval("[...document.querySelectorAll('#events li .data')].map(n => JSON.parse(n.textContent).n).join(',')"))
        .as("newest first on the page").isEqualTo("3,2,1");

      // New topics from the form: the hook closes the stream and opens one for them.
      browser.call(new JsonObject().put("cmd", "fill").put("selector", "#topics").put("value", second));
      browser.call(new JsonObject().put("cmd", "click").put("selector", "#subscribe button"));
      browser.waitFor(STATE + ".topics[0] === '" + second + "' && " + STATE + ".status === 'live'", 15_000);
      herald.publish("{\"topic\":\"" + first + "\",\"type\":\"ticket.updated\",\"data\":{\"n\":4}}");
      // The marker, published after: once it is shown, the event of the old topic would have been too.
      String markerId = herald.publishId("{\"topic\":\"" + second + "\",\"type\":\"ticket.created\",\"data\":{\"n\":5}}");
      browser.waitFor(STATE + ".events.some(e => e.data.n === 5)", 10_000);
      assertThat(browser.eval(STATE + ".events.map(e => e.topic + ':' + e.data.n).join(',')"))
        .isEqualTo(first + ":1," + first + ":2," + first + ":3," + second + ":5");
      assertThat(browser.eval(STATE + ".lastEventId")).isEqualTo(markerId);
      assertThat(browser.eval(STATE + ".error")).isNull();

      browser.call(new JsonObject().put("cmd", "screenshot").put("path", SCREENSHOT.toString()));
      browser.call(new JsonObject().put("cmd", "state"));
      assertThat(browser.lastProblems).as("page errors").isEqualTo(new JsonArray());
      assertThat(SCREENSHOT).isRegularFile();
    } finally {
      pages.stop(0);
    }
  }

  /** clients/js over HTTP on a free port, read-only, only the folders in SERVED. */
  private static HttpServer staticServer() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath().substring(1);
      if (path.endsWith("/")) {
        path += "index.html";
      }
      Path file = PACKAGE.resolve(path).normalize();
      String p = path;
      boolean allowed = file.startsWith(PACKAGE) && SERVED.stream().anyMatch(p::startsWith) && Files.isRegularFile(file);
      byte[] body = allowed ? Files.readAllBytes(file) : "not found\n".getBytes();
      String type = !allowed ? "text/plain" : path.endsWith(".html") ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8";
      exchange.getResponseHeaders().set("Content-Type", type);
      exchange.sendResponseHeaders(allowed ? 200 : 404, body.length);
      try (var out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    return server;
  }
}
