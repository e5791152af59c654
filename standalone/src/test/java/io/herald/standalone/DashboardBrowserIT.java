package io.herald.standalone;

import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The admin dashboard in a real headless Chromium: the real jar runs with an admin token, SSE
 * subscribers and a publisher make its numbers move, and {@code src/test/node/dashboard.mjs}
 * (npm {@code playwright-core} driving the system Chromium) opens the page, waits until it is
 * live and has drawn two snapshots, checks what it shows and saves a screenshot to
 * {@code target/artifacts/dashboard.png}. Node.js, the package and Chromium are installed by
 * {@code scripts/test.sh}; the test fails without them.
 */
class DashboardBrowserIT {

  private static final Path NODE_DIR = Path.of("src", "test", "node");
  private static final Path SCREENSHOT = Path.of("target", "artifacts", "dashboard.png").toAbsolutePath();
  private static final String TOKEN = "dashboard-it-token-0123456789";
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String HOW_TO_INSTALL =
    "run scripts/test.sh from the repository root: it installs Node.js and Chromium if needed and runs npm ci in standalone/src/test/node";

  private final java.net.http.HttpClient plain = java.net.http.HttpClient.newBuilder()
    .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
  private final List<SseClient> subscribers = new ArrayList<>();
  private HeraldProcess herald;
  private Vertx vertx;
  private ScheduledExecutorService publisher;
  private Process browser;

  @BeforeAll
  static void browserInstalled() {
    if (!Files.isDirectory(NODE_DIR.resolve("node_modules").resolve("playwright-core"))) {
      fail("the npm playwright-core package is missing (" + NODE_DIR.resolve("node_modules").toAbsolutePath() + "): " + HOW_TO_INSTALL);
    }
    String chromium = System.getenv().getOrDefault("CHROMIUM_PATH", "/usr/bin/chromium");
    if (!Files.isExecutable(Path.of(chromium))) {
      fail("Chromium is missing at " + chromium + " (set CHROMIUM_PATH to use another): " + HOW_TO_INSTALL);
    }
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        fail("`node --version` failed: " + HOW_TO_INSTALL);
      }
    } catch (IOException | InterruptedException e) {
      fail("Node.js (`node`) cannot be run: " + e + ": " + HOW_TO_INSTALL);
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    if (browser != null) {
      browser.descendants().forEach(ProcessHandle::destroyForcibly);
      browser.destroyForcibly();
    }
    if (publisher != null) {
      publisher.shutdownNow();
    }
    subscribers.forEach(SseClient::close);
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (herald != null) {
      herald.destroy();
    }
  }

  @Test
  @DisplayName("The dashboard goes live in Chromium and charts the connections, rates and top topics of the real jar; its stream needs the token")
  void dashboardInChromium() throws Exception {
    // The Redis replay store, so the process has circuit breakers for the page to show.
    Map<String, String> env = HeraldProcess.redisStore("dashboard");
    // Two gateway instances: the page must add up their entries in the cluster view.
    env.put("HERALD_ADMIN_TOKEN", TOKEN);
    env.put("HERALD_GATEWAY_INSTANCES", "2");
    herald = HeraldProcess.start("DashboardBrowserIT", env);
    String admin = "http://127.0.0.1:" + herald.adminPort;

    // The stream without the token, or with a wrong one: 401 with the error catalogue's JSON.
    for (String path : List.of("/dashboard/stream", "/dashboard/stream?token=not-the-token-0123456789")) {
      HttpResponse<String> refused = get(admin + path);
      assertThat(refused.statusCode()).as(path).isEqualTo(401);
      assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(new JsonObject(refused.body()).getString("error")).isEqualTo("unauthorized");
    }
    // The page itself loads without it, and brings nothing from elsewhere.
    HttpResponse<String> page = get(admin + "/dashboard");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp -> assertThat(csp).contains("default-src 'none'"));
    assertThat(page.body()).doesNotContain("http://", "https://");

    vertx = Vertx.vertx();
    HttpClient http = vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(16));

    // With the token: the gateway's SSE rules, and a snapshot a second.
    try (SseClient stream = SseClient.open(http, herald.adminPort, "/dashboard/stream?token=" + TOKEN)) {
      assertThat(stream.response().getHeader("Content-Type")).isEqualTo("text/event-stream; charset=utf-8");
      assertThat(stream.response().getHeader("Cache-Control")).isEqualTo("no-cache");
      assertThat(stream.response().getHeader("X-Accel-Buffering")).isEqualTo("no");
      List<SseEvent> got = stream.await(l -> l.stream().filter(e -> e.type().equals("snapshot")).count() >= 2, WAIT);
      JsonObject snapshot = new JsonObject(got.stream().filter(e -> e.type().equals("snapshot")).reduce((a, b) -> b).orElseThrow().data());
      assertThat(snapshot.getJsonArray("nodes")).isNotNull();
      assertThat(snapshot.getJsonArray("breakers")).isNotNull();
    }

    // Five subscribers: four on "orders" (one of them also on "alerts"), one more on "alerts".
    for (String topics : List.of("orders", "orders", "orders", "alerts", "alerts&topic=orders")) {
      SseClient c = SseClient.open(http, herald.gatewayPort, "/events?topic=" + topics);
      subscribers.add(c);
      c.await(l -> !l.isEmpty(), WAIT);
    }
    // Traffic all along, so the rates chart has something to show.
    AtomicInteger published = new AtomicInteger();
    publisher = Executors.newSingleThreadScheduledExecutor();
    publisher.scheduleWithFixedDelay(() -> {
      try {
        herald.publish("{\"topic\":\"orders\",\"data\":{\"n\":" + published.incrementAndGet() + "}}");
      } catch (Exception e) {
        // The next one tries again; the browser's assertions tell whether enough got through.
      }
    }, 0, 100, TimeUnit.MILLISECONDS);

    JsonObject result = runBrowser(admin + "/dashboard#token=" + TOKEN, subscribers.size());

    assertThat(result.getBoolean("ok")).as("dashboard.mjs result %s", result.encodePrettily()).isTrue();
    assertThat(result.getInteger("pageStatus")).isEqualTo(200);
    assertThat(result.getString("state")).isEqualTo("live");
    assertThat(result.getString("statusText")).isEqualTo("Live");
    assertThat(result.getInteger("connections")).isEqualTo(5);
    assertThat(result.getString("kpiConnections")).isEqualTo("5");
    JsonObject drawn = result.getJsonObject("drawn");
    assertThat(drawn.getInteger("points")).isGreaterThanOrEqualTo(2);
    assertThat(drawn.getInteger("connections")).isEqualTo(5);
    JsonArray nodes = result.getJsonArray("nodes");
    assertThat(nodes).hasSize(1);
    assertThat(nodes.getJsonObject(0).getInteger("instances")).as("gateway instances in the view").isEqualTo(2);
    assertThat(nodes.getJsonObject(0).getInteger("connections")).isEqualTo(5);
    assertThat(nodes.getJsonObject(0).getDouble("deliveriesPerSecond")).isPositive();
    JsonArray top = result.getJsonArray("topTopics");
    assertThat(top.getJsonObject(0).getString("topic")).isEqualTo("orders");
    assertThat(top.getJsonObject(0).getInteger("subscribers")).isEqualTo(4);
    assertThat(top.getJsonObject(1).getString("topic")).isEqualTo("alerts");
    assertThat(top.getJsonObject(1).getInteger("subscribers")).isEqualTo(2);
    JsonObject painted = result.getJsonObject("paintedPixels");
    assertThat(painted.getInteger("connections")).isPositive();
    assertThat(painted.getInteger("rates")).isPositive();
    assertThat(painted.getInteger("topics")).isPositive();
    assertThat(result.getJsonArray("externalRequests")).isEmpty();
    assertThat(result.getJsonArray("problems")).isEmpty();
    assertThat(result.getJsonArray("badges").stream().map(b -> ((JsonObject) b).getString("name") + "=" + ((JsonObject) b).getString("state")))
      .contains("replay-store-write=CLOSED", "replay-store-read=CLOSED");
    assertThat(result.getJsonObject("withoutToken").getString("state")).isEqualTo("unauthorized");
    assertThat(result.getJsonObject("withoutToken").getInteger("snapshots")).isZero();
    assertThat(SCREENSHOT).isRegularFile();
    assertThat(Files.size(SCREENSHOT)).isGreaterThan(10_000);
  }

  /** Runs dashboard.mjs; returns its JSON line (whatever its exit status, so failures show what the page showed). */
  private JsonObject runBrowser(String url, int expectedConnections) throws Exception {
    Files.createDirectories(HeraldProcess.LOGS);
    Files.deleteIfExists(SCREENSHOT);
    Path stderr = HeraldProcess.LOGS.resolve("DashboardBrowserIT-node.stderr.log").toAbsolutePath();
    browser = new ProcessBuilder("node", "dashboard.mjs", url, SCREENSHOT.toString(), String.valueOf(expectedConnections), "60000")
      .directory(NODE_DIR.toFile()).redirectError(stderr.toFile()).start();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(browser.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    if (!browser.waitFor(240, TimeUnit.SECONDS)) {
      throw new AssertionError("dashboard.mjs still running after 240 s; stderr: " + Files.readString(stderr));
    }
    String stdout = out.get(5, TimeUnit.SECONDS).trim();
    String last = stdout.isEmpty() ? "" : stdout.substring(stdout.lastIndexOf('\n') + 1);
    if (!last.startsWith("{")) {
      throw new AssertionError("dashboard.mjs exited " + browser.exitValue() + " without a result; stdout: " + stdout
        + "; stderr: " + Files.readString(stderr));
    }
    return new JsonObject(last);
  }

  private HttpResponse<String> get(String url) throws Exception {
    return plain.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
      HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }
}
