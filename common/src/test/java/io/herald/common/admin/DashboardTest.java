package io.herald.common.admin;

import io.herald.common.ClusterView;
import io.herald.testsupport.IsolatedMetrics;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.Router;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class DashboardTest {

  private final Vertx vertx = Vertx.vertx();
  private final Dashboard dashboard = new Dashboard(vertx, new AdminOptions());

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static JsonObject entry(String node, int connections, long at, long deliveries, long published, Map<String, Integer> topics) {
    return ClusterView.entry(node, connections, topics.keySet(), deliveries, published, topics).put("at", at);
  }

  @Test
  @DisplayName("Every snapshot shows this process's memory: heap live after GC, whether the heap guard refuses publishes, and the replay store's evictions")
  void memory() throws Exception {
    HeapPressure heap = HeapPressure.of(vertx);
    heap.marks(90, 75);
    heap.update(95, 100);
    heap.update(95, 100);
    // A metrics registry of this test's own: the dashboard shows exactly the 7 evictions counted here.
    try (IsolatedMetrics metrics = IsolatedMetrics.start()) {
      HeraldMetrics.get().replayEvicted(7, 7000);
      JsonObject m = dashboard.snapshot(Map.of(), 1000).getJsonObject("memory");
      assertThat(m.getInteger("liveAfterGcPercent")).isEqualTo(95);
      assertThat(m.getBoolean("pressure")).isTrue();
      assertThat(m.getLong("replayEvictedEvents")).isEqualTo(7);
    }
    heap.update(10, 100);
    assertThat(dashboard.snapshot(Map.of(), 2000).getJsonObject("memory").getBoolean("pressure")).isFalse();
  }


  @Test
  @DisplayName("Rates come from successive versions of each entry: deliveries add up per node, the process-wide published count is taken once")
  void ratesPerNode() {
    dashboard.snapshot(Map.of(
      "a/1", entry("a", 2, 1000, 100, 50, Map.of("t1", 2)),
      "a/2", entry("a", 3, 1500, 200, 50, Map.of("t1", 1, "t2", 2)),
      "b/1", entry("b", 1, 1000, 0, 0, Map.of("t3", 1))), 2000);
    JsonObject s = dashboard.snapshot(Map.of(
      "a/1", entry("a", 2, 3000, 140, 70, Map.of("t1", 2)),
      "a/2", entry("a", 3, 3500, 260, 74, Map.of("t1", 1, "t2", 2)),
      "b/1", entry("b", 1, 3000, 10, 0, Map.of("t3", 1))), 4000);

    assertThat(s.getInteger("connections")).isEqualTo(6);
    JsonArray nodes = s.getJsonArray("nodes");
    JsonObject a = nodes.getJsonObject(0);
    assertThat(a.getString("node")).isEqualTo("a");
    assertThat(a.getInteger("connections")).isEqualTo(5);
    assertThat(a.getInteger("instances")).isEqualTo(2);
    assertThat(a.getDouble("deliveriesPerSecond")).isEqualTo(20.0 + 30.0);
    // The freshest entry of a (a/2): 50 -> 74 over 2 s.
    assertThat(a.getDouble("publishedPerSecond")).isEqualTo(12.0);
    assertThat(a.getLong("published")).isEqualTo(74);
    assertThat(nodes.getJsonObject(1).getDouble("deliveriesPerSecond")).isEqualTo(5.0);
    assertThat(s.getJsonArray("topTopics")).containsExactly(
      new JsonObject().put("topic", "t1").put("subscribers", 3),
      new JsonObject().put("topic", "t2").put("subscribers", 2),
      new JsonObject().put("topic", "t3").put("subscribers", 1));
  }

  @Test
  @DisplayName("Presence counts come once per node (the process's, from its freshest entry) and add up across nodes")
  void presencePerNode() {
    JsonArray a = new JsonArray().add(new JsonObject().put("topic", "lobby").put("subscribers", 4));
    JsonObject s = dashboard.snapshot(Map.of(
      "a/1", entry("a", 2, 1000, 0, 0, Map.of()).put("topPresence", a),
      "a/2", entry("a", 2, 1500, 0, 0, Map.of()).put("topPresence", a),
      "b/1", entry("b", 1, 1000, 0, 0, Map.of()).put("topPresence",
        new JsonArray().add(new JsonObject().put("topic", "lobby").put("subscribers", 1)))), 2000);
    assertThat(s.getJsonArray("topPresence")).containsExactly(new JsonObject().put("topic", "lobby").put("subscribers", 5));
  }

  @Test
  @DisplayName("A rate holds between refreshes, reads 0 after a restart, and entries without counters still count their connections")
  void ratesHoldAndReset() {
    dashboard.snapshot(Map.of("a/1", entry("a", 1, 1000, 100, 0, Map.of())), 1000);
    dashboard.snapshot(Map.of("a/1", entry("a", 1, 2000, 110, 0, Map.of())), 2000);
    // The same version again (the gateway has not refreshed yet): the rate holds.
    JsonObject same = dashboard.snapshot(Map.of("a/1", entry("a", 1, 2000, 110, 0, Map.of())), 3000);
    assertThat(same.getJsonArray("nodes").getJsonObject(0).getDouble("deliveriesPerSecond")).isEqualTo(10.0);
    JsonObject restarted = dashboard.snapshot(Map.of("a/1", entry("a", 1, 4000, 3, 0, Map.of())), 4000);
    assertThat(restarted.getJsonArray("nodes").getJsonObject(0).getDouble("deliveriesPerSecond")).isZero();

    JsonObject old = dashboard.snapshot(Map.of("c/1", ClusterView.entry("c", 4, List.of("x"))), 5000);
    assertThat(old.getInteger("connections")).isEqualTo(4);
    assertThat(old.getJsonArray("nodes").getJsonObject(0).getDouble("deliveriesPerSecond")).isZero();
  }

  @Test
  @DisplayName("The stream needs the token, sends snapshots as SSE, admits at most MAX_STREAMS at once, and its timer stops with the last client")
  void streamGuardsAndLimits() throws Exception {
    String token = "dashboard-unit-token-0123";
    Dashboard guarded = new Dashboard(vertx, new AdminOptions(new JsonObject().put("token", token)));
    Router router = Router.router(vertx);
    guarded.mount(router);
    // As AdminServer serves it: HTTP/1.1 without h2c.
    int port = await(vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions().setHttp2ClearTextEnabled(false))
      .requestHandler(router).listen(0, "127.0.0.1")).actualPort();
    HttpClient http = vertx.createHttpClient(new HttpClientOptions(), new PoolOptions().setHttp1MaxSize(Dashboard.MAX_STREAMS + 4));

    assertThat(refusal(http, port, "/dashboard/stream")).contains("status 401", "\"error\":\"unauthorized\"");
    assertThat(refusal(http, port, "/dashboard/stream?token=wrong-token-wrong-token")).contains("status 401");

    List<SseClient> open = new ArrayList<>();
    try {
      for (int i = 0; i < Dashboard.MAX_STREAMS; i++) {
        open.add(SseClient.open(http, port, "/dashboard/stream?token=" + token));
      }
      SseClient first = open.get(0);
      assertThat(first.response().getHeader("Content-Type")).isEqualTo("text/event-stream; charset=utf-8");
      List<SseEvent> got = first.await(l -> l.stream().anyMatch(e -> e.type().equals("snapshot")), Duration.ofSeconds(10));
      JsonObject snapshot = new JsonObject(got.stream().filter(e -> e.type().equals("snapshot")).findFirst().orElseThrow().data());
      assertThat(snapshot.getInteger("streams")).isPositive();
      assertThat(guarded.sampling()).isTrue();
      assertThat(refusal(http, port, "/dashboard/stream?token=" + token)).contains("status 429", "rate_limited");

      open.remove(0).close();
      open.add(awaitOpen(http, port, "/dashboard/stream?token=" + token));
    } finally {
      open.forEach(SseClient::close);
    }
    io.herald.testsupport.Await.until("the sampler stopped after every stream closed", () -> !guarded.sampling(), Duration.ofSeconds(10));
  }

  private static String refusal(HttpClient http, int port, String path) throws Exception {
    try {
      SseClient.open(http, port, path).close();
      throw new AssertionError(path + " was accepted");
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause().getMessage();
    }
  }

  /** Opens a stream, retrying while the server has not yet seen an earlier one close. */
  private static SseClient awaitOpen(HttpClient http, int port, String path) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (true) {
      try {
        return SseClient.open(http, port, path);
      } catch (java.util.concurrent.ExecutionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("Top topics are bounded to ten, most subscribers first")
  void topTopicsBounded() {
    Map<String, Integer> many = new java.util.HashMap<>();
    for (int i = 0; i < 50; i++) {
      many.put("t" + i, i);
    }
    JsonArray top = ClusterView.top(many);
    assertThat(top).hasSize(ClusterView.MAX_TOP_TOPICS);
    assertThat(top.getJsonObject(0).getString("topic")).isEqualTo("t49");
    assertThat(top.getJsonObject(9).getString("topic")).isEqualTo("t40");
  }
}
