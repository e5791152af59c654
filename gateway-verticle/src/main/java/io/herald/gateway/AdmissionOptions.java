package io.herald.gateway;

import io.herald.common.AddressAllowlist;
import io.herald.common.ClientAddress;
import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.herald.gateway.admission.SubscriberTiers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The admission keys of the {@code gateway} section: connection limits per node, address and
 * user, subscriber tiers, exempt addresses, trusted proxies and allowed origins. Part of
 * {@link GatewayOptions}.
 */
public final class AdmissionOptions {

  /** Most streams one gateway process holds; beyond, 503 {@code over_capacity} with {@code Retry-After}. */
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
  /** Most concurrent streams from one client address (IPv6: one /64); beyond, 429 {@code rate_limited}. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_IP = 200;
  /** Most connection attempts from one client address in a sliding minute; beyond, 429 {@code rate_limited}. */
  public static final int DEFAULT_CONNECT_ATTEMPTS_PER_IP_PER_MINUTE = 600;
  /** Most concurrent streams per JWT subject across the cluster (jwt mode only); beyond, 429. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_USER = 50;
  /**
   * Connection attempts per JWT user in a minute (a bucket of that many, refilled at that rate),
   * counted once the token is verified; beyond, 429 {@code rate_limited}. 0: no per-user rate
   * (only the per-address one). The default of {@code connectAttemptsPerMinute} of every tier.
   */
  public static final int DEFAULT_CONNECT_ATTEMPTS_PER_USER_PER_MINUTE = 0;
  /** The token claim naming a subscriber's tier ({@link SubscriberTiers}). */
  public static final String DEFAULT_TIER_CLAIM = "tier";
  /**
   * Addresses and CIDR ranges (IPv4, IPv6) exempt from the per-address limits
   * ({@code maxConnectionsPerIp}, {@code connectAttemptsPerIpPerMinute}): monitoring probes, an
   * office NAT. Per-node, per-user and per-tier limits still apply. Empty: nobody is exempt.
   */
  public static final List<String> DEFAULT_LIMIT_EXEMPT_ADDRESSES = List.of();
  /**
   * Reverse proxies (IP addresses and CIDR ranges) whose forwarding headers are believed: only
   * for a connection from one of them is the client address taken from {@code Forwarded} or
   * {@code X-Forwarded-For} (see {@link ClientAddress}). Empty: every client is its peer address.
   */
  public static final List<String> DEFAULT_TRUSTED_PROXIES = List.of();
  /** Browser origins allowed to read {@code /events} cross-origin (CORS); empty: no CORS headers at all. */
  public static final List<String> DEFAULT_ALLOWED_ORIGINS = List.of();

  private final int maxConnections;
  private final int maxConnectionsPerIp;
  private final int connectAttemptsPerIpPerMinute;
  private final int maxConnectionsPerUser;
  private final int connectAttemptsPerUserPerMinute;
  private final String tierClaim;
  private final SubscriberTiers tiers;
  private final List<String> limitExemptAddresses;
  private final AddressAllowlist limitExempt;
  private final List<String> trustedProxies;
  private final ClientAddress clientAddress;
  private final List<String> allowedOrigins;

  AdmissionOptions(ConfigReader r, JsonObject json, int maxTopicsPerConnection) {
    maxConnections = r.getInt("maxConnections", DEFAULT_MAX_CONNECTIONS, 1, 10_000_000);
    maxConnectionsPerIp = r.getInt("maxConnectionsPerIp", DEFAULT_MAX_CONNECTIONS_PER_IP, 1, 10_000_000);
    connectAttemptsPerIpPerMinute = r.getInt("connectAttemptsPerIpPerMinute", DEFAULT_CONNECT_ATTEMPTS_PER_IP_PER_MINUTE, 1, 10_000_000);
    maxConnectionsPerUser = r.getInt("maxConnectionsPerUser", DEFAULT_MAX_CONNECTIONS_PER_USER, 1, 10_000_000);
    connectAttemptsPerUserPerMinute = r.getInt("connectAttemptsPerUserPerMinute", DEFAULT_CONNECT_ATTEMPTS_PER_USER_PER_MINUTE, 0, 10_000_000);
    tierClaim = r.getString("tierClaim", DEFAULT_TIER_CLAIM);
    Object rawTiers = json == null ? null : json.getValue("tiers");
    if (rawTiers instanceof String) {
      r.getOptionalString("tiers"); // JSON text from HERALD_GATEWAY_TIERS
    } else {
      r.getObject("tiers");
    }
    tiers = SubscriberTiers.read(r.key("tiers"), rawTiers, new SubscriberTiers.Tier(SubscriberTiers.DEFAULT_TIER,
      maxConnectionsPerUser, maxTopicsPerConnection, connectAttemptsPerUserPerMinute));
    limitExemptAddresses = r.getStringList("limitExemptAddresses", DEFAULT_LIMIT_EXEMPT_ADDRESSES);
    try {
      limitExempt = AddressAllowlist.parse(limitExemptAddresses);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(r.key("limitExemptAddresses"), e.getMessage());
    }
    trustedProxies = r.getStringList("trustedProxies", DEFAULT_TRUSTED_PROXIES);
    try {
      clientAddress = ClientAddress.trusting(trustedProxies);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(r.key("trustedProxies"), e.getMessage());
    }
    allowedOrigins = r.getStringList("allowedOrigins", DEFAULT_ALLOWED_ORIGINS);
    for (String o : allowedOrigins) {
      if (!o.matches("https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?")) {
        throw new ConfigException(r.key("allowedOrigins"), "every entry is an origin, scheme://host[:port] without a path, got \"" + o + "\"");
      }
    }
  }

  public int maxConnections() { return maxConnections; }
  public int maxConnectionsPerIp() { return maxConnectionsPerIp; }
  public int connectAttemptsPerIpPerMinute() { return connectAttemptsPerIpPerMinute; }
  /** Per JWT subject, across the cluster; applies in jwt mode only. */
  public int maxConnectionsPerUser() { return maxConnectionsPerUser; }
  /** Connection attempts per user per minute of the default tier; 0: no per-user rate. */
  public int connectAttemptsPerUserPerMinute() { return connectAttemptsPerUserPerMinute; }
  /** The token claim naming the subscriber's tier. */
  public String tierClaim() { return tierClaim; }
  /** The subscriber tiers ({@code gateway.tiers}) and the default limits. */
  public SubscriberTiers tiers() { return tiers; }
  public List<String> limitExemptAddresses() { return limitExemptAddresses; }
  /** True when {@code address} is one of {@link #limitExemptAddresses()} (never when the list is empty). */
  public boolean limitExempt(String address) { return !limitExempt.allowsAll() && limitExempt.allows(address); }
  /** The trusted reverse proxies, as configured. */
  public List<String> trustedProxies() { return trustedProxies; }
  /** How the client address of a request is found ({@link #trustedProxies()}, parsed). */
  public ClientAddress clientAddress() { return clientAddress; }
  /** Origins (exact {@code scheme://host[:port]}) allowed cross-origin; empty: CORS off. */
  public List<String> allowedOrigins() { return allowedOrigins; }

  JsonObject toJson() {
    return new JsonObject()
      .put("maxConnections", maxConnections)
      .put("maxConnectionsPerIp", maxConnectionsPerIp)
      .put("connectAttemptsPerIpPerMinute", connectAttemptsPerIpPerMinute)
      .put("maxConnectionsPerUser", maxConnectionsPerUser)
      .put("connectAttemptsPerUserPerMinute", connectAttemptsPerUserPerMinute)
      .put("tierClaim", tierClaim)
      .put("tiers", tiers.toJson())
      .put("limitExemptAddresses", new JsonArray(limitExemptAddresses))
      .put("trustedProxies", new JsonArray(trustedProxies))
      .put("allowedOrigins", new JsonArray(allowedOrigins));
  }
}
