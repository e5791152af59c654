package io.herald.gateway;

import io.herald.common.admin.HeraldMetrics;
import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigLoader;
import io.herald.gateway.admission.ConnectionLimiter;
import io.herald.gateway.admission.SubscriberTiers;
import io.herald.gateway.fanout.Subscriber;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Subscriber tiers ({@code gateway.tiers}, {@code gateway.tierClaim}) and addresses exempt from
 * the per-address limits ({@code gateway.limitExemptAddresses}), over raw loopback sockets bound
 * to chosen 127.0.0.x addresses; the per-user attempt rate with a fake clock.
 */
@ExtendWith(VertxExtension.class)
class GatewayTiersTest {

  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";

  /** Default: 2 streams per user, 2 topics; free: 1 stream (2 topics inherited); pro: 4 streams, 5 topics. */
  private static JsonObject tiered() {
    return new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET)
      .put("maxConnectionsPerUser", 2).put("maxTopicsPerConnection", 2)
      .put("tiers", new JsonObject()
        .put("free", new JsonObject().put("maxConnectionsPerUser", 1))
        .put("pro", new JsonObject().put("maxConnectionsPerUser", 4).put("maxTopicsPerConnection", 5)));
  }

  @Test
  @DisplayName("A token of a higher tier opens more streams than one of a lower tier; an unknown or missing tier gets the default limits")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void streamsPerTier(Vertx vertx) throws Exception {
    double proBefore = count("herald_subscriber_tier_connections", "tier", "pro");
    double freeRefusedBefore = count("herald_subscriber_tier_refusals", "tier", "free", "limit", "streams_per_user");
    try (GatewayHarness h = new GatewayHarness(vertx, tiered(), new JsonObject());
         GatewayLimitsTest.Clients c = new GatewayLimitsTest.Clients()) {
      String pro = bearer("p", "pro");
      String free = bearer("f", "free");
      String unknown = bearer("u", "platinum");
      String none = bearer("n", null);
      for (int i = 0; i < 4; i++) {
        assertThat(c.open(h.port(), "127.0.0." + (2 + i), "/events?topic=t1", pro).status()).as("pro stream " + i).isEqualTo(200);
      }
      GatewayLimitsTest.Reply fifth = c.open(h.port(), "127.0.0.6", "/events?topic=t1", pro);
      assertThat(fifth.status()).isEqualTo(429);
      assertThat(fifth.body()).contains("\"error\":\"rate_limited\"", "at most 4 streams per user (tier pro)");
      assertThat(fifth.headers()).containsKey("retry-after");

      assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=t1", free).status()).isEqualTo(200);
      GatewayLimitsTest.Reply second = c.open(h.port(), "127.0.0.3", "/events?topic=t1", free);
      assertThat(second.status()).isEqualTo(429);
      assertThat(second.body()).contains("at most 1 streams per user (tier free)");

      for (String token : new String[] {unknown, none}) {
        assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=t1", token).status()).isEqualTo(200);
        assertThat(c.open(h.port(), "127.0.0.3", "/events?topic=t1", token).status()).isEqualTo(200);
        GatewayLimitsTest.Reply third = c.open(h.port(), "127.0.0.4", "/events?topic=t1", token);
        assertThat(third.status()).as("default limits").isEqualTo(429);
        assertThat(third.body()).contains("at most 2 streams per user\"");
      }
      // 4 pro + 1 free + 2 + 2 default; the refused attempts released their places.
      assertThat(h.gateway.sse().limiter().total()).isEqualTo(9);
    }
    assertThat(count("herald_subscriber_tier_connections", "tier", "pro") - proBefore).isEqualTo(4);
    assertThat(count("herald_subscriber_tier_refusals", "tier", "free", "limit", "streams_per_user") - freeRefusedBefore).isEqualTo(1);
  }

  @Test
  @DisplayName("Topics per connection follow the tier: pro subscribes to 5, free and an unknown tier to the default 2, and more gets 400 too_many_topics")
  void topicsPerTier(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, tiered(), new JsonObject());
         GatewayLimitsTest.Clients c = new GatewayLimitsTest.Clients()) {
      String five = "/events?topic=t1&topic=t2&topic=t3&topic=t4&topic=t5";
      String three = "/events?topic=t1&topic=t2&topic=t3";
      assertThat(c.open(h.port(), "127.0.0.2", five, bearer("p", "pro")).status()).isEqualTo(200);
      GatewayLimitsTest.Reply six = c.open(h.port(), "127.0.0.2", five + "&topic=t6", bearer("p", "pro"));
      assertThat(six.status()).isEqualTo(400);
      assertThat(six.body()).contains("\"error\":\"too_many_topics\"");

      GatewayLimitsTest.Reply free = c.open(h.port(), "127.0.0.3", three, bearer("f", "free"));
      assertThat(free.status()).isEqualTo(400);
      assertThat(free.body()).contains("\"error\":\"too_many_topics\"", "at most 2 topics and patterns per connection (tier free)");
      assertThat(c.open(h.port(), "127.0.0.3", "/events?topic=t1&topic=t2", bearer("f", "free")).status()).isEqualTo(200);

      GatewayLimitsTest.Reply unknown = c.open(h.port(), "127.0.0.4", three, bearer("u", "platinum"));
      assertThat(unknown.status()).isEqualTo(400);
      assertThat(unknown.body()).contains("at most 2 topics and patterns per connection, got 3");
      // Refused before anything was subscribed: only the two streams hold places.
      assertThat(h.gateway.sse().limiter().total()).isEqualTo(2);
    }
  }

  @Test
  @DisplayName("Over the SockJS bridge too, registrations per socket follow the tier: pro registers 5 topics, free 2")
  void sockJsTopicsPerTier(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, tiered(), new JsonObject())) {
      String pro = SubscriberAuthTest.hs256(claims("p", "pro"), SECRET);
      String free = SubscriberAuthTest.hs256(claims("f", "free"), SECRET);
      try (SockJSBridgeTest.Bridge p = SockJSBridgeTest.Bridge.open(h.port(), "?access_token=" + pro);
           SockJSBridgeTest.Bridge f = SockJSBridgeTest.Bridge.open(h.port(), "?access_token=" + free)) {
        for (int i = 1; i <= 6; i++) {
          p.register("t" + i);
          f.register("t" + i);
        }
        JsonObject proErr = p.await(frames -> !frames.isEmpty(), java.time.Duration.ofSeconds(10)).get(0);
        assertThat(proErr.getString("message")).isEqualTo("too_many_topics");
        assertThat(proErr.getString("address")).as("the first refused is the sixth").isEqualTo("herald.browser.t6");
        JsonObject freeErr = f.await(frames -> !frames.isEmpty(), java.time.Duration.ofSeconds(10)).get(0);
        assertThat(freeErr.getString("message")).isEqualTo("too_many_topics");
        assertThat(freeErr.getString("address")).as("the first refused is the third").isEqualTo("herald.browser.t3");
      }
    }
  }

  @Test
  @DisplayName("The tier comes from the claim named by gateway.tierClaim, not from another claim")
  void tierClaimIsConfigurable(Vertx vertx) throws Exception {
    JsonObject config = tiered().put("tierClaim", "plan");
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject());
         GatewayLimitsTest.Clients c = new GatewayLimitsTest.Clients()) {
      String five = "/events?topic=t1&topic=t2&topic=t3&topic=t4&topic=t5";
      assertThat(c.open(h.port(), "127.0.0.2", five, bearer("p", "pro")).status()).as("claim tier is ignored now").isEqualTo(400);
      JsonObject plan = claims("q", null).put("plan", "pro");
      assertThat(c.open(h.port(), "127.0.0.2", five, "Authorization: Bearer " + SubscriberAuthTest.hs256(plan, SECRET)).status())
        .isEqualTo(200);
    }
  }

  @Test
  @DisplayName("An exempt address (127.0.0.2, or one in an exempt CIDR) is not limited per address while 127.0.0.3 is; exemptions are counted")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void exemptAddresses(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxConnectionsPerIp", 1).put("connectAttemptsPerIpPerMinute", 4)
      .put("limitExemptAddresses", new JsonArray().add("127.0.0.2").add("127.0.0.16/28"));
    double before = count("herald_limit_exempt_connections");
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject());
         GatewayLimitsTest.Clients c = new GatewayLimitsTest.Clients()) {
      for (int i = 0; i < 6; i++) {
        assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=a").status()).as("exempt stream " + i).isEqualTo(200);
        assertThat(c.open(h.port(), "127.0.0.20", "/events?topic=a").status()).as("exempt CIDR stream " + i).isEqualTo(200);
      }
      assertThat(c.open(h.port(), "127.0.0.3", "/events?topic=a").status()).isEqualTo(200);
      GatewayLimitsTest.Reply second = c.open(h.port(), "127.0.0.3", "/events?topic=a");
      assertThat(second.status()).isEqualTo(429);
      assertThat(second.body()).contains("streams per client address");
      for (int i = 0; i < 4; i++) {
        assertThat(c.request(h.port(), "127.0.0.4", "/events?topic=bad%20topic").status()).isEqualTo(400);
        assertThat(c.request(h.port(), "127.0.0.2", "/events?topic=bad%20topic").status()).isEqualTo(400);
      }
      assertThat(c.request(h.port(), "127.0.0.4", "/events?topic=a").status()).as("5th attempt in the minute").isEqualTo(429);
      assertThat(c.request(h.port(), "127.0.0.2", "/events?topic=bad%20topic").status()).as("no attempt rate when exempt").isEqualTo(400);
      assertThat(h.gateway.sse().limiter().openFor("127.0.0.2")).as("exempt addresses are not tracked").isZero();
      assertThat(h.gateway.sse().limiter().total()).isEqualTo(13);
    }
    assertThat(count("herald_limit_exempt_connections") - before).as("12 streams, 5 refused requests").isEqualTo(17);
  }

  @Test
  @DisplayName("An exempt address is still limited per user and per tier")
  void exemptStillPerUser(Vertx vertx) throws Exception {
    JsonObject config = tiered().put("limitExemptAddresses", new JsonArray().add("127.0.0.2"));
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject());
         GatewayLimitsTest.Clients c = new GatewayLimitsTest.Clients()) {
      String free = bearer("f", "free");
      assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=t1", free).status()).isEqualTo(200);
      assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=t1", free).status()).isEqualTo(429);
      assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=t1&topic=t2&topic=t3", bearer("g", "free")).status()).isEqualTo(400);
    }
  }

  @Test
  @DisplayName("Connection attempts per user per minute follow the tier (fake clock): a bucket of the tier's size refilled over a minute, refused attempts take nothing")
  void attemptsPerUser() {
    GatewayOptions options = new GatewayOptions(new JsonObject().put("connectAttemptsPerUserPerMinute", 2)
      .put("tiers", new JsonObject().put("pro", new JsonObject().put("connectAttemptsPerMinute", 4))
        .put("unlimited", new JsonObject().put("connectAttemptsPerMinute", 0))));
    ConnectionLimiter limiter = new ConnectionLimiter(options);
    SubscriberTiers.Tier basic = options.tiers().forClaim(null);
    SubscriberTiers.Tier pro = options.tiers().forClaim("pro");
    SubscriberTiers.Tier unlimited = options.tiers().forClaim("unlimited");
    long now = System.currentTimeMillis(); // a base only: the test moves its own clock
    assertThat(attempts(limiter, "a", basic, now, 10)).isEqualTo(2);
    assertThat(attempts(limiter, "b", pro, now, 10)).isEqualTo(4);
    assertThat(attempts(limiter, "c", unlimited, now, 10)).isEqualTo(10);
    ConnectionLimiter.Refusal r = refusal(limiter, "a", basic, now);
    assertThat(r.error().code().code()).isEqualTo("rate_limited");
    assertThat(r.retryAfterSeconds()).as("one attempt every 30 s").isEqualTo(30);
    assertThat(refusal(limiter, "b", pro, now).getMessage()).contains("4 connection attempts per minute", "(tier pro)");
    assertThat(attempts(limiter, "a", basic, now + 29_999, 1)).isZero();
    assertThat(attempts(limiter, "a", basic, now + 30_000, 10)).as("one back after 30 s").isEqualTo(1);
    assertThat(attempts(limiter, "b", pro, now + 30_000, 10)).as("two back after 30 s").isEqualTo(2);
    assertThat(limiter.trackedUsers()).isEqualTo(2);
    // Once every bucket is full again the users are dropped by the sweep.
    limiter.admit("127.0.0.9", now + 10 * 60_000).release();
    assertThat(limiter.trackedUsers()).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "{\"tiers\": {\"pro\": {\"maxTopicsPerConnection\": 0}}}|gateway.tiers.pro.maxTopicsPerConnection",
    "{\"tiers\": {\"pro\": {\"maxConnectionsPerUser\": \"many\"}}}|gateway.tiers.pro.maxConnectionsPerUser",
    "{\"tiers\": {\"pro\": {\"connectAttemptsPerMinute\": -1}}}|gateway.tiers.pro.connectAttemptsPerMinute",
    "{\"tiers\": {\"pro\": {\"maxStreams\": 5}}}|gateway.tiers.pro.maxStreams",
    "{\"tiers\": {\"pro\": 5}}|gateway.tiers.pro",
    "{\"tiers\": {\"default\": {}}}|gateway.tiers.default",
    "{\"tiers\": {\"has space\": {}}}|gateway.tiers",
    "{\"tiers\": [\"pro\"]}|gateway.tiers",
    "{\"tiers\": \"{not json\"}|gateway.tiers",
    "{\"tierClaim\": \"\"}|gateway.tierClaim",
    "{\"connectAttemptsPerUserPerMinute\": -1}|gateway.connectAttemptsPerUserPerMinute",
    "{\"limitExemptAddresses\": [\"10.0.0.1/8\"]}|gateway.limitExemptAddresses",
    "{\"limitExemptAddresses\": [\"probe.example\"]}|gateway.limitExemptAddresses",
  })
  @DisplayName("A bad tier or exemption fails at start with an error naming its key")
  void badConfigNamesTheKey(String json, String named) {
    assertThatThrownBy(() -> new GatewayOptions(new JsonObject(json)))
      .isInstanceOf(ConfigException.class)
      .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(named));
  }

  @Test
  @DisplayName("Tiers, the tier claim and exempt addresses come from environment variables too (tiers as JSON text); IPv4 and IPv6 ranges match")
  void fromEnvironment() {
    JsonObject root = ConfigLoader.applyEnv(new JsonObject().put("gateway", new JsonObject()), Map.of(
      "HERALD_GATEWAY_TIERS", "{\"pro\": {\"maxTopicsPerConnection\": 64}}",
      "HERALD_GATEWAY_TIER_CLAIM", "plan",
      "HERALD_GATEWAY_CONNECT_ATTEMPTS_PER_USER_PER_MINUTE", "30",
      "HERALD_GATEWAY_LIMIT_EXEMPT_ADDRESSES", "10.1.0.0/16, fd00::/8,192.0.2.7"));
    GatewayOptions o = new GatewayOptions(root.getJsonObject("gateway"));
    assertThat(o.tierClaim()).isEqualTo("plan");
    assertThat(o.tiers().forClaim("pro").maxTopicsPerConnection()).isEqualTo(64);
    assertThat(o.tiers().forClaim("pro").maxConnectionsPerUser()).as("inherited").isEqualTo(GatewayOptions.DEFAULT_MAX_CONNECTIONS_PER_USER);
    assertThat(o.tiers().forClaim("pro").connectAttemptsPerMinute()).as("inherited").isEqualTo(30);
    assertThat(o.tiers().forClaim("gold").name()).isEqualTo(SubscriberTiers.DEFAULT_TIER);
    assertThat(o.tiers().maxTopicsPerConnection()).isEqualTo(64);
    assertThat(o.limitExempt("10.1.200.3")).isTrue();
    assertThat(o.limitExempt("10.2.0.1")).isFalse();
    assertThat(o.limitExempt("fd12::1")).isTrue();
    assertThat(o.limitExempt("2001:db8::1")).isFalse();
    assertThat(o.limitExempt("192.0.2.7")).isTrue();
    assertThat(new GatewayOptions().limitExempt("127.0.0.1")).as("empty: nobody is exempt").isFalse();
    // toJson round-trips what was configured, and a later change of a default still reaches the tier.
    GatewayOptions copy = o.with(new JsonObject().put("maxConnectionsPerUser", 7));
    assertThat(copy.tiers().forClaim("pro").maxConnectionsPerUser()).isEqualTo(7);
  }

  private static int attempts(ConnectionLimiter limiter, String user, SubscriberTiers.Tier tier, long now, int tries) {
    int admitted = 0;
    for (int i = 0; i < tries; i++) {
      ConnectionLimiter.Permit p = limiter.admit("127.0.0.8", now);
      try {
        limiter.admitUser(p, user, tier, now);
        admitted++;
      } catch (ConnectionLimiter.Refusal r) {
        // counted below
      } finally {
        p.release();
      }
    }
    return admitted;
  }

  private static ConnectionLimiter.Refusal refusal(ConnectionLimiter limiter, String user, SubscriberTiers.Tier tier, long now) {
    ConnectionLimiter.Permit p = limiter.admit("127.0.0.8", now);
    try {
      limiter.admitUser(p, user, tier, now);
      throw new AssertionError("admitted");
    } catch (ConnectionLimiter.Refusal r) {
      return r;
    } finally {
      p.release();
    }
  }

  private static String bearer(String sub, String tier) throws Exception {
    return "Authorization: Bearer " + SubscriberAuthTest.hs256(claims(sub, tier), SECRET);
  }

  private static JsonObject claims(String sub, String tier) {
    long now = System.currentTimeMillis() / 1000;
    JsonObject c = new JsonObject().put("sub", sub).put("iat", now).put("exp", now + 600)
      .put("topics", new JsonArray().add("t1").add("t2").add("t3").add("t4").add("t5").add("t6"));
    return tier == null ? c : c.put("tier", tier);
  }

  private static double count(String name, String... tags) {
    Counter c = HeraldMetrics.get().registry().find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }
}
