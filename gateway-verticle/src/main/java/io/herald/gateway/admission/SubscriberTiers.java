package io.herald.gateway.admission;

import io.herald.common.admin.HeraldMetrics;
import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.herald.gateway.fanout.Subscriber;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Subscriber tiers ({@code gateway.tiers}): a token's {@code gateway.tierClaim} names a tier whose
 * limits replace the defaults for its streams: streams per user, topics per connection and
 * connection attempts per user per minute. A key a tier omits inherits the default (the
 * top-level {@code gateway.maxConnectionsPerUser}, {@code maxTopicsPerConnection},
 * {@code connectAttemptsPerUserPerMinute}); a token without the claim, with a tier not
 * configured, or no token at all gets the {@value #DEFAULT_TIER} limits.
 *
 * <p>The configuration is one JSON object, {@code {"pro": {"maxConnectionsPerUser": 200}}}; from
 * an environment variable ({@code HERALD_GATEWAY_TIERS}) it is the same object as JSON text.
 * Metrics are tagged with the tier's name, which is a configured name or {@value #DEFAULT_TIER},
 * so their cardinality is bounded by the configuration. Immutable.
 */
public final class SubscriberTiers {

  /** The name of the limits of tokens without a configured tier (and of anonymous streams). */
  public static final String DEFAULT_TIER = "default";
  /** Most tiers configurable: each is a metric tag value. */
  public static final int MAX_TIERS = 64;
  /** The keys a tier may set. */
  static final String MAX_CONNECTIONS_PER_USER = "maxConnectionsPerUser";
  static final String MAX_TOPICS_PER_CONNECTION = "maxTopicsPerConnection";
  static final String CONNECT_ATTEMPTS_PER_MINUTE = "connectAttemptsPerMinute";

  /**
   * The limits of one tier: streams per user across the cluster, topics per connection, and
   * connection attempts per user in a minute (0: not limited per user).
   */
  public record Tier(String name, int maxConnectionsPerUser, int maxTopicsPerConnection, int connectAttemptsPerMinute) {

    /** True for the {@value #DEFAULT_TIER} limits. */
    public boolean isDefault() {
      return DEFAULT_TIER.equals(name);
    }

    /** " (tier pro)" for a configured tier, "" for the default: the suffix of refusal messages. */
    public String suffix() {
      return isDefault() ? "" : " (tier " + name + ")";
    }
  }

  private final Tier defaults;
  private final Map<String, Tier> tiers;
  private final int maxTopicsPerConnection;
  private final JsonObject configured;

  private SubscriberTiers(Tier defaults, Map<String, Tier> tiers, JsonObject configured) {
    this.defaults = defaults;
    this.configured = configured;
    this.tiers = java.util.Collections.unmodifiableMap(tiers);
    int max = defaults.maxTopicsPerConnection();
    for (Tier t : tiers.values()) {
      max = Math.max(max, t.maxTopicsPerConnection());
    }
    this.maxTopicsPerConnection = max;
  }

  /** Only the defaults. */
  public static SubscriberTiers none(Tier defaults) {
    return new SubscriberTiers(defaults, Map.of(), new JsonObject());
  }

  /**
   * Reads {@code gateway.tiers} ({@code raw}: an object, or its JSON text from the environment);
   * errors name the key, e.g. {@code gateway.tiers.pro.maxTopicsPerConnection}.
   */
  public static SubscriberTiers read(String key, Object raw, Tier defaults) {
    JsonObject json;
    if (raw == null) {
      json = new JsonObject();
    } else if (raw instanceof JsonObject o) {
      json = o;
    } else if (raw instanceof String s) {
      try {
        json = s.isBlank() ? new JsonObject() : new JsonObject(s);
      } catch (DecodeException e) {
        throw new ConfigException(key, "must be a JSON object of tiers, {\"<name>\": {\"maxConnectionsPerUser\": n, ...}}: " + e.getMessage());
      }
    } else {
      throw new ConfigException(key, "must be an object of tiers, {\"<name>\": {\"maxConnectionsPerUser\": n, ...}}, got " + raw);
    }
    if (json.size() > MAX_TIERS) {
      throw new ConfigException(key, "at most " + MAX_TIERS + " tiers, got " + json.size());
    }
    Map<String, Tier> out = new LinkedHashMap<>();
    for (String name : json.fieldNames()) {
      if (!name.matches("[A-Za-z0-9_-]{1,64}")) {
        throw new ConfigException(key, "a tier name is 1 to 64 of A-Z a-z 0-9 _ -, got \"" + name + "\"");
      }
      if (DEFAULT_TIER.equals(name)) {
        throw new ConfigException(key + "." + name, "\"" + DEFAULT_TIER + "\" is the name of the top-level limits; set those keys directly");
      }
      if (!(json.getValue(name) instanceof JsonObject limits)) {
        throw new ConfigException(key + "." + name, "must be an object of limits, got " + json.getValue(name));
      }
      ConfigReader r = new ConfigReader(key + "." + name, limits);
      out.put(name, new Tier(name,
        r.getInt(MAX_CONNECTIONS_PER_USER, defaults.maxConnectionsPerUser(), 1, 10_000_000),
        r.getInt(MAX_TOPICS_PER_CONNECTION, defaults.maxTopicsPerConnection(), 1, 1024),
        r.getInt(CONNECT_ATTEMPTS_PER_MINUTE, defaults.connectAttemptsPerMinute(), 0, 10_000_000)));
      r.rejectUnknown();
    }
    return new SubscriberTiers(defaults, out, json.copy());
  }

  /** The tier a claim's value names: a configured tier, else the defaults. */
  public Tier forClaim(Object claim) {
    Tier t = claim instanceof String s ? tiers.get(s) : null;
    return t == null ? defaults : t;
  }

  /** The tier of a grant: its own, or the defaults (anonymous). */
  public Tier of(SubscriberAuth.Grant grant) {
    return grant == null || grant.tier() == null ? defaults : grant.tier();
  }

  /** The {@value #DEFAULT_TIER} limits. */
  public Tier defaults() {
    return defaults;
  }

  /** The configured tiers, in configuration order. */
  public Collection<Tier> tiers() {
    return tiers.values();
  }

  /** The most topics any tier may hold on one connection: the bound of what is parsed before the token is known. */
  public int maxTopicsPerConnection() {
    return maxTopicsPerConnection;
  }

  /** The configuration as written: the keys each tier sets (the others keep following the defaults). */
  public JsonObject toJson() {
    return configured.copy();
  }

  /** Counts a stream admitted with {@code tier}'s limits: {@code herald_subscriber_tier_connections_total{tier}}. */
  public static void admitted(Tier tier) {
    Counter.builder("herald_subscriber_tier_connections")
      .description("Streams admitted, by subscriber tier (configured names and default)")
      .tag("tier", tier.name()).register(HeraldMetrics.get().registry()).increment();
  }

  /**
   * Counts a stream refused by a limit of {@code tier} ({@code streams_per_user},
   * {@code topics_per_connection}, {@code connect_attempts}):
   * {@code herald_subscriber_tier_refusals_total{tier,limit}}.
   */
  public static void refused(Tier tier, String limit) {
    Counter.builder("herald_subscriber_tier_refusals")
      .description("Streams refused by a per-tier limit, by tier and limit")
      .tag("tier", tier.name()).tag("limit", limit).register(HeraldMetrics.get().registry()).increment();
  }
}
