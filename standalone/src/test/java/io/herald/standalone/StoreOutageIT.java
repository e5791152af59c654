package io.herald.standalone;

import io.herald.common.testing.PostgresServerProcess;
import io.herald.common.testing.RedisServerProcess;
import io.herald.common.testing.SseClient;
import io.herald.common.testing.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The documented fallback when the durable replay store's server dies, on the real jar against
 * a private Redis or PostgreSQL that the test kills (the shared servers stay up): live delivery
 * goes on, the breaker opens and shows in {@code /health} and {@code /metrics}, a resume the
 * store cannot serve gets {@code reset}, a resume inside the outage is served, and when the
 * server is back the hub returns to it by itself.
 */
class StoreOutageIT extends JarTestBase {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @Test
  @DisplayName("Redis replay store killed mid-stream: live delivery goes on, breaker opens, resumes reset, recovery is automatic")
  void redisOutage() throws Exception {
    RedisServerProcess redis = new RedisServerProcess().start();
    cleanups.add(redis);
    outage("redis", Map.of("HERALD_REPLAY_REDIS_URL", redis.url()), redis::kill, redis::restart);
  }

  @Test
  @DisplayName("PostgreSQL replay store killed mid-stream: live delivery goes on, breaker opens, resumes reset, recovery is automatic")
  void postgresOutage() throws Exception {
    PostgresServerProcess pg = new PostgresServerProcess().start();
    cleanups.add(pg);
    outage("postgres", Map.of("HERALD_REPLAY_POSTGRES_URL", pg.url()), pg::kill, pg::restart);
  }

  interface Action {
    void run() throws Exception;
  }

  private void outage(String store, Map<String, String> storeEnv, Action kill, Action restart) throws Exception {
    Map<String, String> env = new java.util.HashMap<>(storeEnv);
    env.put("HERALD_REPLAY_STORE", store);
    env.put("HERALD_REPLAY_STORE_TIMEOUT_MILLIS", "500");
    herald = HeraldProcess.start("outage-" + store, env);
    vertx = Vertx.vertx();
    HttpClient http = vertx.createHttpClient();

    SseClient live = SseClient.open(http, herald.gatewayPort, "/events?topic=t");
    live.await(l -> !l.isEmpty(), WAIT);
    JsonObject first = published(herald.publish("{\"topic\":\"t\",\"data\":\"d1\"}"));
    String beforeOutage = herald.publishId("{\"topic\":\"t\",\"data\":\"d2\"}");
    assertThat(live.awaitAppEvents(2, WAIT)).extracting(SseEvent::data).containsExactly("d1", "d2");
    String durableEpoch = first.getString("epoch");

    kill.run();
    // Every publish is still accepted and delivered live, from the outage store's epoch.
    List<String> outageIds = new ArrayList<>();
    String outageEpoch = null;
    for (int i = 3; i <= 9; i++) {
      JsonObject e = published(herald.publish("{\"topic\":\"t\",\"data\":\"d" + i + "\"}"));
      assertThat(e.getString("epoch")).isNotEqualTo(durableEpoch);
      outageIds.add(e.getString("id"));
      if (outageEpoch == null) {
        outageEpoch = e.getString("epoch");
      }
      assertThat(e.getString("epoch")).as("one outage, one epoch").isEqualTo(outageEpoch);
    }
    List<SseEvent> seen = live.await(l -> dataOf(l).contains("d9"), WAIT);
    assertThat(dataOf(seen)).containsSubsequence("d1", "d2", "d3", "d9");
    assertThat(seen).extracting(SseEvent::type).contains("reset");
    assertThat(dataOf(seen).stream().filter(d -> d.startsWith("d")).toList())
      .containsExactly("d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9");

    // The breaker is open, and says so in /health and /metrics.
    String health = adminGet("/health");
    assertThat(health).contains("\"replay-store-write\":{\"state\":\"OPEN\"").contains("\"degraded\":true");
    assertThat(adminGet("/metrics")).contains("herald_breaker_state{breaker=\"replay-store-write\"} 2.0");
    assertThat(adminStatus("/ready")).as("not ready while the store is down").isEqualTo(503);

    // A resume from before the outage cannot be served: reset, then live.
    try (SseClient old = SseClient.open(http, herald.gatewayPort, "/events?topic=t", "Last-Event-ID", beforeOutage)) {
      List<SseEvent> ev = old.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
      assertThat(ev).extracting(SseEvent::type).contains("reset");
      assertThat(dataOf(ev)).doesNotContain("d3");
    }
    // A resume inside the outage is served from the outage store.
    try (SseClient mid = SseClient.open(http, herald.gatewayPort, "/events?topic=t", "Last-Event-ID", outageIds.get(2))) {
      List<SseEvent> ev = mid.awaitAppEvents(4, WAIT);
      assertThat(ev).extracting(SseEvent::data).containsExactly("d6", "d7", "d8", "d9");
    }

    restart.run();
    // The breaker lets a trial call through after its reset timeout: publish until an event
    // lands in the durable store again.
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    JsonObject back = null;
    int n = 10;
    while (System.nanoTime() < deadline) {
      JsonObject e = published(herald.publish("{\"topic\":\"t\",\"data\":\"d" + n++ + "\"}"));
      if (!e.getString("epoch").equals(outageEpoch)) {
        back = e;
        break;
      }
      Thread.sleep(500);
    }
    assertThat(back).as("an append reached the store again within 30 s").isNotNull();
    String last = "d" + (n - 1);
    List<SseEvent> all = live.await(l -> dataOf(l).contains(last), WAIT);
    assertThat(dataOf(all).stream().filter(d -> d.startsWith("d")).toList()).endsWith(last).doesNotHaveDuplicates();
    assertThat(adminGet("/health")).contains("\"replay-store-write\":{\"state\":\"CLOSED\"").contains("\"degraded\":false");
    assertThat(adminStatus("/ready")).as("ready again").isEqualTo(200);
    assertThat(live.failure()).isNull();
  }

  private static JsonObject published(JsonObject answer) {
    return answer.getJsonArray("events").getJsonObject(0);
  }

  private static List<String> dataOf(List<SseEvent> events) {
    return events.stream().filter(e -> !e.type().equals("reset") && !e.type().startsWith("herald.")).map(SseEvent::data).toList();
  }

  private int adminStatus(String path) throws Exception {
    return herald.admin(path).statusCode();
  }

  private String adminGet(String path) throws Exception {
    return herald.admin(path).body();
  }
}
