package io.herald.notifier;

import io.herald.common.EventCodec;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigLoader;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.Jwt;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Publisher tiers ({@code notifier.tiers}): a key's {@code #tier} or a JWT's tier claim picks the
 * per-credential limits; the rates with a fake clock, the keys and tokens over real HTTP.
 */
@ExtendWith(VertxExtension.class)
class NotifierTiersTest {

  private static final String BASIC_KEY = "basic-publisher-key-1";
  private static final String PRO_KEY = "pro-publisher-key-1";
  private static final String JWT_SECRET = "a-publisher-jwt-secret-of-at-least-32-chars";

  /** Default: 10 events/s, burst 10, 60 new topics a minute; pro: 100 events/s, burst 50, 120 new topics. */
  private static NotifierOptions tiered() {
    return new NotifierOptions(new JsonObject().put("maxBatchSize", 10)
      .put("publishRatePerKey", 10).put("publishBurst", 10).put("newTopicsPerMinutePerKey", 60)
      .put("tiers", new JsonObject().put("pro", new JsonObject()
        .put("publishRatePerKey", 100).put("publishBurst", 50).put("newTopicsPerMinutePerKey", 120))));
  }

  @Test
  @DisplayName("A credential of a higher tier publishes faster (fake clock): its own rate and burst; an unknown tier gets the defaults")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void higherTierPublishesFaster() {
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    PublishQuota q = new PublishQuota(tiered(), nanos::get, 1000);
    JsonObject body = new JsonObject().put("topic", "t").put("data", 1);
    double refusedBefore = count("herald_publisher_tier_refusals", "tier", "pro", "limit", "events");
    int basic = 0;
    int pro = 0;
    int unknown = 0;
    // Ten seconds in steps of 100 ms, each credential publishing as much as it may.
    for (int step = 0; step < 100; step++) {
      basic += drain(q, "basic", null, body);
      pro += drain(q, "pro", "pro", body);
      unknown += drain(q, "unknown", "gold", body);
      nanos.addAndGet(100_000_000L);
    }
    assertThat(basic).as("burst 10 + 10/s for 10 s").isBetween(105, 110);
    assertThat(unknown).as("an unknown tier has the defaults").isBetween(105, 110);
    assertThat(pro).as("burst 50 + 100/s for 10 s").isBetween(1040, 1050);
    drain(q, "pro", "pro", body);
    drain(q, "basic", null, body);
    PublishQuota.Refusal r = q.admit("pro", "pro", body, 10);
    assertThat(r).isNotNull();
    assertThat(r.message()).contains("more than 100 events per second (burst 50)", "(tier pro)");
    assertThat(q.admit("basic", null, body, 10).message()).doesNotContain("tier");
    assertThat(count("herald_publisher_tier_refusals", "tier", "pro", "limit", "events") - refusedBefore).as("one per drain, and the last").isEqualTo(102);
  }

  @Test
  @DisplayName("New topics per minute and bytes per second follow the tier too; a key omitted by a tier is inherited")
  void otherLimitsPerTier() {
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    NotifierOptions o = new NotifierOptions(tiered().toJson().put("publishRatePerKey", 0).put("publishBytesPerSecondPerKey", 2000)
      .put("maxBodyBytes", 2048).put("tiers", new JsonObject()
        .put("pro", new JsonObject().put("newTopicsPerMinutePerKey", 120).put("publishBytesPerSecondPerKey", 100_000))));
    assertThat(o.tier("pro").publishRatePerKey()).as("inherited").isZero();
    PublishQuota q = new PublishQuota(o, nanos::get, 10_000);
    int basicTopics = 0;
    int proTopics = 0;
    for (int i = 0; i < 200; i++) {
      basicTopics += q.admit("b", null, new JsonObject().put("topic", "t" + i), 1) == null ? 1 : 0;
      proTopics += q.admit("p", "pro", new JsonObject().put("topic", "t" + i), 1) == null ? 1 : 0;
    }
    assertThat(basicTopics).isEqualTo(60);
    assertThat(proTopics).isEqualTo(120);
    JsonObject known = new JsonObject().put("topic", "t0");
    int basicBytes = 0;
    int proBytes = 0;
    for (int i = 0; i < 100; i++) {
      basicBytes += q.admit("b2", null, known, 1000) == null ? 1 : 0;
      proBytes += q.admit("p2", "pro", known, 1000) == null ? 1 : 0;
    }
    assertThat(basicBytes).as("a bucket of 4,000 bytes").isEqualTo(4);
    assertThat(proBytes).as("a bucket of 200,000 bytes").isEqualTo(100);
  }

  @Test
  @DisplayName("A publisher key entry ends with #tier (after its topic patterns); a plain key keeps a # that names no configured tier")
  void keyEntries() {
    String hex = HexFormat.of().formatHex(io.herald.common.Sha256.of("k"));
    PublisherAuth.KeyEntry hashed = PublisherAuth.parseKey("sha256:" + hex + "=orders.*|audit#pro", Set.of("pro"));
    assertThat(hashed.tier()).isEqualTo("pro");
    assertThat(hashed.patterns()).containsExactly("orders.*", "audit");
    assertThat(PublisherAuth.parseKey("sha256:" + hex + "#pro", Set.of()).tier()).as("an unknown tier is left to validation").isEqualTo("pro");
    assertThat(PublisherAuth.parseKey("sha256:" + hex, Set.of("pro")).tier()).isNull();
    PublisherAuth.KeyEntry plainTier = PublisherAuth.parseKey("plain-key-1#pro", Set.of("pro"));
    assertThat(plainTier.tier()).isEqualTo("pro");
    assertThat(plainTier.digest()).isEqualTo(io.herald.common.Sha256.of("plain-key-1"));
    PublisherAuth.KeyEntry plainHash = PublisherAuth.parseKey("plain-key-1#gold", Set.of("pro"));
    assertThat(plainHash.tier()).isNull();
    assertThat(plainHash.digest()).as("compatible: the # is part of the key").isEqualTo(io.herald.common.Sha256.of("plain-key-1#gold"));
  }

  @Test
  @DisplayName("Over HTTP a key of a higher tier, and a JWT whose tier claim names it, publish more than a default key before 429")
  void overHttp(Vertx vertx) throws Exception {
    EventCodec.register(vertx);
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    // Default: burst 5 at 1/s; pro: burst 20 at 1/s. A batch of 5 needs 5 s of refill: no timing in play.
    NotifierVerticle n = new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0).put("host", "127.0.0.1")
      .put("publisherKeys", List.of(BASIC_KEY, "sha256:" + HexFormat.of().formatHex(io.herald.common.Sha256.of(PRO_KEY)) + "#pro"))
      .put("publisherJwtSecret", JWT_SECRET)
      .put("maxBatchSize", 5).put("publishRatePerKey", 1).put("publishBurst", 5)
      .put("tiers", new JsonObject().put("pro", new JsonObject().put("publishBurst", 20)))));
    await(vertx.deployVerticle(n));
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    long now = System.currentTimeMillis() / 1000;
    JsonObject claims = new JsonObject().put("sub", "svc").put("exp", now + 600).put("publish", new JsonArray().add("*"));
    String proJwt = hs256(claims.copy().put("tier", "pro"));
    String unknownJwt = hs256(claims.copy().put("sub", "svc2").put("tier", "gold"));
    assertThat(batchesUntilLimited(http, n, BASIC_KEY)).isEqualTo(1);
    assertThat(batchesUntilLimited(http, n, PRO_KEY)).isEqualTo(4);
    assertThat(batchesUntilLimited(http, n, proJwt)).isEqualTo(4);
    assertThat(batchesUntilLimited(http, n, unknownJwt)).isEqualTo(1);
    HttpResponse<String> refused = post(http, n, PRO_KEY);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.headers().firstValue("retry-after")).isPresent();
    assertThat(new JsonObject(refused.body()).getString("error")).isEqualTo("rate_limited");
    assertThat(new JsonObject(refused.body()).getString("message")).contains("(tier pro)");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "{\"tiers\": {\"pro\": {\"publishRatePerKey\": -1}}}|notifier.tiers.pro.publishRatePerKey",
    "{\"tiers\": {\"pro\": {\"publishBurst\": 10}}}|notifier.tiers.pro.publishBurst",
    "{\"tiers\": {\"pro\": {\"publishBytesPerSecondPerKey\": \"fast\"}}}|notifier.tiers.pro.publishBytesPerSecondPerKey",
    "{\"tiers\": {\"pro\": {\"newTopicsPerMinutePerKey\": -2}}}|notifier.tiers.pro.newTopicsPerMinutePerKey",
    "{\"tiers\": {\"pro\": {\"rate\": 5}}}|notifier.tiers.pro.rate",
    "{\"tiers\": {\"pro\": true}}|notifier.tiers.pro",
    "{\"tiers\": {\"default\": {}}}|notifier.tiers.default",
    "{\"tiers\": {\"a b\": {}}}|notifier.tiers",
    "{\"tiers\": 3}|notifier.tiers",
    "{\"tierClaim\": \"\"}|notifier.tierClaim",
    "{\"publisherKeys\": [\"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08#gold\"]}|notifier.publisherKeys",
  })
  @DisplayName("A bad publisher tier fails at start with an error naming its key")
  void badConfigNamesTheKey(String json, String named) {
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject(json)))
      .isInstanceOf(ConfigException.class)
      .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(named));
  }

  @Test
  @DisplayName("Tiers and the tier claim come from environment variables too, the tiers as JSON text")
  void fromEnvironment() {
    JsonObject root = ConfigLoader.applyEnv(new JsonObject().put("notifier", new JsonObject()), Map.of(
      "HERALD_NOTIFIER_TIERS", "{\"pro\": {\"publishRatePerKey\": 5000, \"publishBurst\": 10000}}",
      "HERALD_NOTIFIER_TIER_CLAIM", "plan",
      "HERALD_NOTIFIER_PUBLISHER_KEYS", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08=orders.*#pro"));
    NotifierOptions o = new NotifierOptions(root.getJsonObject("notifier"));
    assertThat(o.tierClaim()).isEqualTo("plan");
    assertThat(o.tier("pro").publishRatePerKey()).isEqualTo(5000);
    assertThat(o.tier("pro").newTopicsPerMinutePerKey()).isEqualTo(NotifierOptions.DEFAULT_NEW_TOPICS_PER_MINUTE_PER_KEY);
    assertThat(o.tier("gold").isDefault()).isTrue();
    assertThat(o.with(new JsonObject()).tier("pro")).isEqualTo(o.tier("pro"));
  }

  private static int drain(PublishQuota q, String publisher, String tier, JsonObject body) {
    int n = 0;
    while (n < 1000 && q.admit(publisher, tier, body, 10) == null) {
      n++;
    }
    return n;
  }

  private static int batchesUntilLimited(HttpClient http, NotifierVerticle n, String credential) throws Exception {
    for (int i = 0; i < 50; i++) {
      HttpResponse<String> r = post(http, n, credential);
      if (r.statusCode() == 429) {
        return i;
      }
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
    return 50;
  }

  private static HttpResponse<String> post(HttpClient http, NotifierVerticle n, String credential) throws Exception {
    StringBuilder body = new StringBuilder("{\"events\":[");
    for (int i = 0; i < 5; i++) {
      body.append(i == 0 ? "" : ",").append("{\"topic\":\"tiers\",\"data\":").append(i).append('}');
    }
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.actualPort() + "/publish/batch"))
      .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json").header("Authorization", "Bearer " + credential)
      .POST(HttpRequest.BodyPublishers.ofString(body.append("]}").toString())).build();
    return http.send(req, HttpResponse.BodyHandlers.ofString());
  }

  private static String hs256(JsonObject claims) throws Exception {
    return Jwt.hs256(claims, JWT_SECRET);
  }


  private static double count(String name, String... tags) {
    Counter c = HeraldMetrics.get().registry().find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
