package io.herald.notifier;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The notifier's per-publisher limits over real HTTP on loopback: heap pressure, token buckets per
 * key and per webhook, byte and new-topic quotas. The trusted-producer allowlist is in
 * {@link NotifierTrustedProducersTest}, the slow-request, header-size and idle guards in
 * {@link NotifierSlowClientsTest}.
 */
class NotifierLimitsTest extends NotifierLimitsFixture {

  @Test
  @DisplayName("Under heap pressure publishes get 503 over_capacity with Retry-After and store nothing; once pressure drops they are accepted again")
  void heapPressureRefusesPublishes(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject());
    io.herald.common.admin.HeapPressure heap = io.herald.common.admin.HeapPressure.of(vertx);
    heap.marks(90, 75);
    assertThat(publish(n, KEY, "heap").status()).isEqualTo(200);
    heap.update(95, 100);
    heap.update(95, 100);

    Reply refused = publish(n, KEY, "heap");
    assertThat(refused.status()).isEqualTo(503);
    assertThat(refused.body().getString("error")).isEqualTo("over_capacity");
    assertThat(refused.body().getString("message")).contains("memory");
    assertThat(refused.headers().firstValue("retry-after")).hasValue("5");
    assertThat(post(n, "/publish/batch", KEY, "{\"events\":[{\"topic\":\"heap\",\"data\":2}]}").status()).isEqualTo(503);
    assertThat(seq("heap")).as("nothing refused is stored").isEqualTo(1);

    heap.update(70, 100);
    assertThat(publish(n, KEY, "heap").status()).isEqualTo(200);
    assertThat(seq("heap")).isEqualTo(2);
  }

  @Test
  @DisplayName("Past its burst a publisher key gets 429 rate_limited with Retry-After, stores nothing, leaves other keys alone, and is served again once its bucket refills")
  void rateLimitPerKey(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("publishRatePerKey", 1).put("publishBurst", 3).put("maxBatchSize", 3));
    for (int i = 0; i < 3; i++) {
      assertThat(publish(n, KEY, "rl").status()).as("within the burst").isEqualTo(200);
    }
    Reply refused = publish(n, KEY, "rl");
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.body().getString("error")).isEqualTo("rate_limited");
    assertThat(refused.body().getString("message")).isNotBlank();
    assertThat(refused.headers().firstValue("content-type")).hasValue("application/json");
    String retryAfter = refused.headers().firstValue("retry-after").orElseThrow();
    assertThat(retryAfter).matches("[0-9]+");
    assertThat(Integer.parseInt(retryAfter)).isEqualTo(1); // one token missing at one per second
    assertThat(seq("rl")).as("the refused event is not stored").isEqualTo(3);

    assertThat(publish(n, OTHER_KEY, "rl").status()).as("another key has its own bucket").isEqualTo(200);

    nanos.addAndGet(Integer.parseInt(retryAfter) * 1_000_000_000L); // the fake clock: Retry-After later
    assertThat(publish(n, KEY, "rl").status()).as("refilled after Retry-After").isEqualTo(200);
    assertThat(publish(n, KEY, "rl").status()).as("but only by the rate").isEqualTo(429);
    assertThat(seq("rl")).isEqualTo(5);
  }

  @Test
  @DisplayName("A batch takes one token per event: a batch larger than what is left is refused whole")
  void batchCountsEvents(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("publishRatePerKey", 1).put("publishBurst", 3).put("maxBatchSize", 3));
    assertThat(post(n, "/publish/batch", KEY, batch("bt", 2)).status()).isEqualTo(200);
    Reply tooMany = post(n, "/publish/batch", KEY, batch("bt", 2));
    assertThat(tooMany.status()).as("2 events, 1 token left").isEqualTo(429);
    assertThat(tooMany.headers().firstValue("retry-after")).hasValue("1");
    assertThat(seq("bt")).as("nothing of the refused batch is stored").isEqualTo(2);
    assertThat(publish(n, KEY, "bt").status()).as("the last token").isEqualTo(200);
    assertThat(publish(n, KEY, "bt").status()).isEqualTo(429);
    assertThat(seq("bt")).isEqualTo(3);
  }

  @Test
  @DisplayName("Webhooks are limited per webhook name, and a refused delivery can be retried with the same signature")
  void webhookRateLimit(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("publishRatePerKey", 1).put("publishBurst", 1).put("maxBatchSize", 1)
      .put("webhookSecrets", List.of("hook=" + HOOK_SECRET)));
    String ts = Long.toString(System.currentTimeMillis() / 1000);
    String first = "{\"topic\":\"wh\",\"data\":1}";
    String second = "{\"topic\":\"wh\",\"data\":2}";
    assertThat(webhook(n, ts, first).status()).isEqualTo(200);
    Reply refused = webhook(n, ts, second);
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.body().getString("error")).isEqualTo("rate_limited");
    assertThat(refused.headers().firstValue("retry-after")).hasValue("1");
    assertThat(publish(n, KEY, "wh").status()).as("publisher keys have their own buckets").isEqualTo(200);
    assertThat(seq("wh")).isEqualTo(2);
    nanos.addAndGet(1_000_000_000L); // the fake clock: the Retry-After second later
    assertThat(webhook(n, ts, second).status()).as("the same signed delivery, retried").isEqualTo(200);
    assertThat(seq("wh")).isEqualTo(3);
  }

  @Test
  @DisplayName("publishRatePerKey 0 turns the limit off")
  void rateLimitOff(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("publishRatePerKey", 0).put("publishBurst", 1).put("maxBatchSize", 3));
    for (int i = 0; i < 5; i++) {
      assertThat(publish(n, KEY, "off").status()).isEqualTo(200);
    }
  }

  @Test
  @DisplayName("Token buckets: all or nothing, Retry-After in whole seconds, refill at the rate up to the burst")
  void tokenBucket() {
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    PublishRateLimiter l = new PublishRateLimiter(10, 20, 100, nanos::get);
    assertThat(l.acquire("a", 15)).isZero();
    assertThat(l.acquire("a", 6)).as("5 left, 6 asked").isEqualTo(1);
    assertThat(l.acquire("a", 5)).as("a refusal took nothing").isZero();
    assertThat(l.acquire("a", 20)).as("20 missing at 10/s").isEqualTo(2);
    nanos.addAndGet(500_000_000L);
    assertThat(l.acquire("a", 5)).as("half a second: 5 tokens").isZero();
    assertThat(l.acquire("a", 1)).isEqualTo(1);
    nanos.addAndGet(3_600_000_000_000L);
    assertThat(l.acquire("a", 20)).as("refilled to the burst").isZero();
    assertThat(l.acquire("a", 1)).isEqualTo(1);
    assertThat(l.acquire("b", 21)).as("above the burst never fits").isPositive();
  }

  @Test
  @DisplayName("The bucket map is bounded: refilled buckets are dropped and at most maxBuckets are kept")
  void bucketsAreBounded() {
    AtomicLong nanos = new AtomicLong(0);
    PublishRateLimiter l = new PublishRateLimiter(1, 2, 50, nanos::get);
    for (int i = 0; i < 500; i++) {
      l.acquire("key#" + i, 1);
      assertThat(l.size()).isLessThanOrEqualTo(50);
    }
    assertThat(l.size()).isEqualTo(50);
    nanos.addAndGet(10_000_000_000L); // every bucket is full again: idle
    for (int i = 0; i < 30; i++) {
      l.acquire("fresh", 0);
    }
    assertThat(l.size()).as("idle buckets swept, a couple per call: only the one in use is left").isEqualTo(1);
    assertThat(new PublishRateLimiter(1000, 2000).size()).isZero();
  }

  @Test
  @DisplayName("Body bytes per second per credential: past two seconds' worth 429 with the wait, nothing taken from the other limits, refilled by the fake clock")
  void bytesPerSecond() {
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    PublishQuota q = new PublishQuota(new NotifierOptions(new JsonObject().put("publishRatePerKey", 1).put("publishBurst", 100)
      .put("publishBytesPerSecondPerKey", 100_000).put("maxBodyBytes", 70_000).put("newTopicsPerMinutePerKey", 0)), nanos::get, 1000);
    JsonObject body = new JsonObject().put("topic", "t").put("data", "x");
    assertThat(q.admit("a", body, 60_000)).isNull();
    assertThat(q.admit("a", body, 60_000)).isNull();
    assertThat(q.admit("a", body, 60_000)).isNull();
    PublishQuota.Refusal r = q.admit("a", body, 60_000);
    assertThat(r).isNotNull();
    assertThat(r.retryAfterSeconds()).as("40,000 bytes missing at 100,000/s").isEqualTo(1);
    assertThat(r.message()).contains("100000 bytes per second");
    assertThat(q.admit("b", body, 60_000)).as("another credential has its own bucket").isNull();
    nanos.addAndGet(600_000_000L);
    assertThat(q.admit("a", body, 60_000)).as("refilled by 60,000 in 0.6 s").isNull();
    for (int i = 0; i < 96; i++) {
      assertThat(q.admit("a", body, 1)).as("the refused publishes took no event tokens").isNull();
    }
    assertThat(q.admit("a", body, 1)).as("100 events of the burst").isNotNull();
  }

  @Test
  @DisplayName("New topics per minute per credential: known topics are free, new ones past the cap get 429, the memory of known topics is bounded")
  void newTopicsPerMinute() {
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    PublishQuota q = new PublishQuota(new NotifierOptions(new JsonObject().put("publishRatePerKey", 0)
      .put("publishBytesPerSecondPerKey", 0).put("newTopicsPerMinutePerKey", 60)), nanos::get, 100);
    for (int i = 0; i < 60; i++) {
      assertThat(q.admit("a", new JsonObject().put("topic", "t" + i), 10)).isNull();
    }
    PublishQuota.Refusal r = q.admit("a", new JsonObject().put("topic", "t60"), 10);
    assertThat(r).isNotNull();
    assertThat(r.retryAfterSeconds()).as("one topic a second").isEqualTo(1);
    assertThat(r.message()).contains("60 new topics per minute");
    for (int i = 0; i < 200; i++) {
      assertThat(q.admit("a", new JsonObject().put("topic", "t" + (i % 60)), 10)).as("known topics cost nothing").isNull();
    }
    assertThat(q.admit("a", new JsonObject().put("topics", new io.vertx.core.json.JsonArray().add("t1").add("n1")), 10))
      .as("one new topic among known ones").isNotNull();
    assertThat(q.admit("b", new JsonObject().put("topic", "t60"), 10)).as("per credential").isNull();
    nanos.addAndGet(2_000_000_000L);
    assertThat(q.admit("a", new JsonObject().put("events", new io.vertx.core.json.JsonArray()
      .add(new JsonObject().put("topic", "n1")).add(new JsonObject().put("topic", "n2"))), 10)).as("two seconds: two new topics").isNull();
    assertThat(q.admit("a", new JsonObject().put("topic", "n3"), 10)).isNotNull();
    for (int i = 0; i < 1000; i++) {
      q.admit("c" + i, new JsonObject().put("topic", "x"), 10);
      assertThat(q.recentTopics()).isLessThanOrEqualTo(100);
    }
  }

  @Test
  @DisplayName("Over HTTP a publisher past its byte or new-topic limit gets 429 rate_limited with Retry-After and nothing is stored")
  void quotasOverHttp(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("publishBytesPerSecondPerKey", 5000).put("maxBodyBytes", 6000)
      .put("newTopicsPerMinutePerKey", 2));
    String big = "{\"topic\":\"q1\",\"data\":\"" + "b".repeat(4000) + "\"}";
    assertThat(post(n, "/publish", KEY, big).status()).isEqualTo(200);
    assertThat(post(n, "/publish", KEY, big).status()).isEqualTo(200);
    Reply bytes = post(n, "/publish", KEY, big);
    assertThat(bytes.status()).isEqualTo(429);
    assertThat(bytes.body().getString("error")).isEqualTo("rate_limited");
    assertThat(bytes.body().getString("message")).contains("bytes per second");
    assertThat(bytes.headers().firstValue("retry-after")).isPresent();
    assertThat(seq("q1")).isEqualTo(2);

    assertThat(publish(n, OTHER_KEY, "q2").status()).isEqualTo(200);
    assertThat(publish(n, OTHER_KEY, "q3").status()).isEqualTo(200);
    assertThat(publish(n, OTHER_KEY, "q2").status()).as("a known topic").isEqualTo(200);
    Reply topics = publish(n, OTHER_KEY, "q4");
    assertThat(topics.status()).isEqualTo(429);
    assertThat(topics.body().getString("message")).contains("new topics per minute");
    assertThat(topics.headers().firstValue("retry-after")).hasValue("30");
    assertThat(seq("q4")).isZero();
  }
}
