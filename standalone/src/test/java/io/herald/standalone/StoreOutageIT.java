package io.herald.standalone;

import io.herald.testsupport.Await;
import io.herald.testsupport.PostgresServerProcess;
import io.herald.testsupport.RedisServerProcess;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
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

  /** 503 store_unavailable answers {@link #publish} got and retried. */
  private int unconfirmed;

  @Test
  @DisplayName("Redis replay store killed mid-stream: live delivery goes on, breaker opens, resumes reset, recovery is automatic")
  void redisOutage() throws Exception {
    RedisServerProcess redis = new RedisServerProcess().start();
    cleanups.add(redis);
    outage("redis", Map.of("HERALD_REPLAY_REDIS_URL", redis.url()), redis::kill, redis::restart, false);
  }

  @Test
  @DisplayName("PostgreSQL replay store killed mid-stream: live delivery goes on, breaker opens, resumes reset, recovery is automatic")
  void postgresOutage() throws Exception {
    PostgresServerProcess pg = new PostgresServerProcess().start();
    cleanups.add(pg);
    outage("postgres", Map.of("HERALD_REPLAY_POSTGRES_URL", pg.url()), pg::kill, pg::restart, true);
  }

  @Test
  @DisplayName("Redis replay store paused and resumed: a connected client that missed nothing gets every event once, in order, without reset; a resume from before the outage gets reset")
  void redisPaused() throws Exception {
    RedisServerProcess redis = new RedisServerProcess().start();
    cleanups.add(redis);
    herald = HeraldProcess.start("outage-pause", Map.of("HERALD_REPLAY_STORE", "redis",
      "HERALD_REPLAY_REDIS_URL", redis.url(), "HERALD_REPLAY_STORE_TIMEOUT_MILLIS", "500"));
    vertx = Vertx.vertx();
    HttpClient http = vertx.createHttpClient();

    SseClient live = SseClient.open(http, herald.gatewayPort, "/events?topic=t");
    live.await(l -> !l.isEmpty(), WAIT);
    String durableEpoch = publish("t", "d1").getString("epoch");
    String beforeOutage = publish("t", "d2").getString("id");
    live.await(l -> dataOf(l).contains("d2"), WAIT);

    // Appends time out while Redis is paused: refused with 503 (their fate is unknown) until the
    // breaker opens, then taken by the outage store. Redis runs the timed-out ones when it is
    // resumed, after their deadline: they store nothing.
    redis.pause();
    List<String> expected = new ArrayList<>(List.of("d1", "d2"));
    try {
      for (int i = 3; i <= 6; i++) {
        JsonObject e = publish("t", "d" + i);
        assertThat(e.getString("epoch")).isNotEqualTo(durableEpoch);
        expected.add("d" + i);
      }
      live.await(l -> dataOf(l).contains("d6"), WAIT);
    } finally {
      redis.resume();
    }
    assertThat(unconfirmed).as("appends that timed out were answered 503, not taken elsewhere").isPositive();
    // Publish whenever the breaker lets a trial through (not open), until an append is durable.
    JsonObject back = null;
    int n = 7;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (back == null) {
      awaitBreakerNotOpen(deadline);
      JsonObject e = publish("t", "d" + n);
      expected.add("d" + n++);
      if (e.getString("epoch").equals(durableEpoch)) {
        back = e;
      }
    }
    // d1, d2, then the hole (seq 3) left where the outage events went: the appends refused
    // during the pause did not land late.
    assertThat(back.getLong("seq")).isEqualTo(4);
    // A marker after the outage: once it arrives, anything the outage caused has arrived too.
    publish("t", "end");
    expected.add("end");
    List<SseEvent> all = live.await(l -> dataOf(l).contains("end"), WAIT);
    assertThat(all).extracting(SseEvent::type).as("missed nothing: no reset entering or leaving the outage").doesNotContain("reset");
    assertThat(dataOf(all)).containsExactlyElementsOf(expected);
    assertThat(live.failure()).isNull();

    // A client that was away during the outage missed its events: reset, then live.
    try (SseClient old = SseClient.open(http, herald.gatewayPort, "/events?topic=t", "Last-Event-ID", beforeOutage)) {
      List<SseEvent> ev = old.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
      assertThat(ev).extracting(SseEvent::type).contains("reset");
    }

  }

  interface Action {
    void run() throws Exception;
  }

  /**
   * @param keepsData whether the restarted server still has the history (PostgreSQL does; the
   *                  private Redis runs without persistence and comes back empty)
   */
  private void outage(String store, Map<String, String> storeEnv, Action kill, Action restart, boolean keepsData) throws Exception {
    Map<String, String> env = new java.util.HashMap<>(storeEnv);
    env.put("HERALD_REPLAY_STORE", store);
    env.put("HERALD_REPLAY_STORE_TIMEOUT_MILLIS", "500");
    herald = HeraldProcess.start("outage-" + store, env);
    vertx = Vertx.vertx();
    HttpClient http = vertx.createHttpClient();

    SseClient live = SseClient.open(http, herald.gatewayPort, "/events?topic=t");
    live.await(l -> !l.isEmpty(), WAIT);
    JsonObject first = publish("t", "d1");
    String beforeOutage = publish("t", "d2").getString("id");
    assertThat(live.awaitAppEvents(2, WAIT)).extracting(SseEvent::data).containsExactly("d1", "d2");
    String durableEpoch = first.getString("epoch");

    kill.run();
    // Every publish is still accepted and delivered live, from the outage store's epoch.
    List<String> outageIds = new ArrayList<>();
    String outageEpoch = null;
    for (int i = 3; i <= 9; i++) {
      JsonObject e = publish("t", "d" + i);
      assertThat(e.getString("epoch")).isNotEqualTo(durableEpoch);
      outageIds.add(e.getString("id"));
      if (outageEpoch == null) {
        outageEpoch = e.getString("epoch");
      }
      assertThat(e.getString("epoch")).as("one outage, one epoch").isEqualTo(outageEpoch);
    }
    List<SseEvent> seen = live.await(l -> dataOf(l).contains("d9"), WAIT);
    assertThat(seen).extracting(SseEvent::type).as("the client missed nothing entering the outage: no reset").doesNotContain("reset");
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
    // The breaker lets a trial call through after its reset timeout (it is then no longer open):
    // publish at each such moment until an event lands in the durable store again.
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    JsonObject back = null;
    int n = 10;
    while (back == null) {
      awaitBreakerNotOpen(deadline);
      JsonObject e = publish("t", "d" + n++);
      if (!e.getString("epoch").equals(outageEpoch)) {
        back = e;
      }
    }
    String last = "d" + (n - 1);
    List<SseEvent> all = live.await(l -> dataOf(l).contains(last), WAIT);
    // Every acknowledged event, once and in order, across entering and leaving the outage.
    assertThat(dataOf(all).stream().filter(d -> d.startsWith("d")).toList())
      .containsExactlyElementsOf(java.util.stream.IntStream.range(1, n).mapToObj(i -> "d" + i).toList());
    List<SseEvent> resets = all.stream().filter(e -> e.type().equals("reset")).toList();
    assertThat(resets).as("the live client missed nothing: no reset leaving the outage either").isEmpty();
    if (keepsData) {
      assertThat(back.getString("epoch")).isEqualTo(durableEpoch);
      // Seq 3 is the hole the store leaves where the outage events went.
      assertThat(back.getLong("seq")).as("nothing stored twice or late: the durable history goes on after d2 and the hole").isEqualTo(4);
    } else {
      assertThat(back.getString("epoch")).as("the server came back empty: a new epoch").isNotEqualTo(durableEpoch);
    }
    // After the outage too, a resume from before it gets reset, not the durable events after
    // a silent skip over the outage events.
    try (SseClient old = SseClient.open(http, herald.gatewayPort, "/events?topic=t", "Last-Event-ID", beforeOutage)) {
      List<SseEvent> ev = old.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
      assertThat(ev).extracting(SseEvent::type).as("a resume from before the outage, after it").contains("reset");
      assertThat(dataOf(ev)).doesNotContain(back.getString("id"));
    }
    assertThat(adminGet("/health")).contains("\"replay-store-write\":{\"state\":\"CLOSED\"").contains("\"degraded\":false");
    assertThat(adminStatus("/ready")).as("ready again").isEqualTo(200);
    assertThat(live.failure()).isNull();
  }

  /**
   * Publishes one event with an id, as a careful publisher does: a 503 {@code store_unavailable}
   * (the store could not confirm the append) comes with {@code Retry-After} and is retried with
   * the same id until accepted.
   */
  private JsonObject publish(String topic, String data) throws Exception {
    String body = new JsonObject().put("topic", topic).put("id", data).put("data", data).encode();
    for (int attempt = 1; ; attempt++) {
      HttpResponse<String> r = herald.post("/publish", body);
      if (r.statusCode() == 200) {
        return published(new JsonObject(r.body()));
      }
      assertThat(r.statusCode()).as("POST /publish answered %s", r.body()).isEqualTo(503);
      assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("store_unavailable");
      assertThat(r.headers().firstValue("Retry-After")).isPresent();
      unconfirmed++;
      assertThat(attempt).as("%s accepted within 40 attempts", data).isLessThan(40);
      Thread.sleep(250);
    }
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

  /** Waits until the store's write breaker is closed or half-open (lets a call through); fails past {@code deadline}. */
  private void awaitBreakerNotOpen(long deadline) throws InterruptedException {
    Await.until(() -> "the replay-store-write breaker let a call through again within 30 s of the outage's end",
      () -> {
        try {
          return !adminGet("/metrics").contains("herald_breaker_state{breaker=\"replay-store-write\"} 2.0");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
  }

  private String adminGet(String path) throws Exception {
    return herald.admin(path).body();
  }
}
