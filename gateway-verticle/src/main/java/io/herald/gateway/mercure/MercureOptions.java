package io.herald.gateway.mercure;

import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The Mercure hub of the gateway ({@code /.well-known/mercure}): the {@code gateway.mercure*}
 * keys, read from the gateway section so that each has its environment variable
 * ({@code HERALD_GATEWAY_MERCURE_PUBLISHER_JWT_KEY}, ...). Each maps a directive of the official
 * hub (docs/mercure.md has the table): {@code publisher_jwt <key> [<alg>]} is
 * {@code mercurePublisherJwtKey} and {@code mercurePublisherJwtAlg}, {@code subscriber_jwt} the
 * subscriber pair, {@code anonymous}, {@code cors_origins}, {@code cookie_name},
 * {@code subscriptions} is {@code mercureSubscriptions}.
 */
public final class MercureOptions {

  /** Whether {@code /.well-known/mercure} is served. Off by default: it is a second API. */
  public static final boolean DEFAULT_ENABLED = false;
  /** Signature algorithm of the publisher key: HS256 (a shared secret), RS256 or ES256 (a PEM public key). */
  public static final String DEFAULT_ALG = "HS256";
  /** Whether subscribers without a token may subscribe (to public updates only): the hub's {@code anonymous}. */
  public static final boolean DEFAULT_ANONYMOUS = false;
  /**
   * The cookie that may carry the token (the hub's {@code cookie_name}, default
   * {@code mercureAuthorization} as in 0.x hubs); the cookie name the 1.0 specification
   * recommends, {@code mercureAccessToken}, is always read after it.
   */
  public static final String DEFAULT_COOKIE_NAME = "mercureAuthorization";
  /**
   * Whether the hub tracks active subscriptions (the hub's {@code subscriptions}): subscription
   * events on {@code /.well-known/mercure/subscriptions/...} and the subscription API. Off by
   * default, as in the official hub: the API then answers 404 and no event is published.
   */
  public static final boolean DEFAULT_SUBSCRIPTIONS = false;
  /** Shortest HS256 secret, bytes: 256 bits, as the official hub requires. */
  public static final int MIN_HS256_SECRET_BYTES = 32;
  /** The accepted algorithms. */
  public static final List<String> ALGORITHMS = List.of("HS256", "RS256", "ES256");

  private final boolean enabled;
  private final String publisherJwtKey;
  private final String publisherJwtAlg;
  private final String subscriberJwtKey;
  private final String subscriberJwtAlg;
  private final String issuer;
  private final String audience;
  private final boolean anonymous;
  private final List<String> corsOrigins;
  private final List<String> publishOrigins;
  private final String cookieName;
  private final boolean subscriptions;

  /** Reads the {@code mercure*} keys of the gateway section from {@code r} (which then knows them). */
  public MercureOptions(ConfigReader r) {
    enabled = r.getBoolean("mercureEnabled", DEFAULT_ENABLED);
    publisherJwtKey = r.getOptionalString("mercurePublisherJwtKey");
    publisherJwtAlg = r.getOneOf("mercurePublisherJwtAlg", DEFAULT_ALG, ALGORITHMS.toArray(new String[0]));
    subscriberJwtKey = r.getOptionalString("mercureSubscriberJwtKey");
    subscriberJwtAlg = r.getOneOf("mercureSubscriberJwtAlg", DEFAULT_ALG, ALGORITHMS.toArray(new String[0]));
    issuer = r.getOptionalString("mercureIssuer");
    audience = r.getOptionalString("mercureAudience");
    anonymous = r.getBoolean("mercureAnonymous", DEFAULT_ANONYMOUS);
    corsOrigins = r.getStringList("mercureCorsOrigins", List.of());
    for (String o : corsOrigins) {
      if (!"*".equals(o) && !o.matches("https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?")) {
        throw new ConfigException(r.key("mercureCorsOrigins"), "every entry is * or an origin, scheme://host[:port] without a path, got \""
          + o + "\"");
      }
    }
    publishOrigins = r.getStringList("mercurePublishOrigins", List.of());
    for (String o : publishOrigins) {
      if (!"*".equals(o) && !o.matches("https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?")) {
        throw new ConfigException(r.key("mercurePublishOrigins"), "every entry is * or an origin, scheme://host[:port] without a"
          + " path, got \"" + o + "\"");
      }
    }
    cookieName = r.getString("mercureCookieName", DEFAULT_COOKIE_NAME);
    if (!cookieName.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")) {
      throw new ConfigException(r.key("mercureCookieName"), "must be a cookie name (1 to 64 token characters), got \"" + cookieName + "\"");
    }
    subscriptions = r.getBoolean("mercureSubscriptions", DEFAULT_SUBSCRIPTIONS);
    checkKey(r, "mercurePublisherJwtKey", publisherJwtKey, publisherJwtAlg);
    checkKey(r, "mercureSubscriberJwtKey", subscriberJwtKey, subscriberJwtAlg);
    if (enabled && publisherJwtKey == null) {
      throw new ConfigException(r.key("mercurePublisherJwtKey"), "is required when gateway.mercureEnabled is true: publishers"
        + " must present a token signed with it (the hub's publisher_jwt)");
    }
    if (enabled && subscriberJwtKey == null && !anonymous) {
      throw new ConfigException(r.key("mercureSubscriberJwtKey"), "is required when gateway.mercureEnabled is true and"
        + " gateway.mercureAnonymous is false: nobody could subscribe (the hub's subscriber_jwt)");
    }
  }

  private static void checkKey(ConfigReader r, String name, String key, String alg) {
    if (key == null) {
      return;
    }
    if ("HS256".equals(alg)) {
      int bytes = key.getBytes(StandardCharsets.UTF_8).length;
      if (bytes < MIN_HS256_SECRET_BYTES) {
        throw new ConfigException(r.key(name), "an HS256 secret must be at least " + MIN_HS256_SECRET_BYTES + " bytes long, got " + bytes);
      }
    } else if (!key.contains("-----BEGIN PUBLIC KEY-----")) {
      throw new ConfigException(r.key(name), "with " + alg + " it is a PEM public key (-----BEGIN PUBLIC KEY-----...)");
    }
  }

  /** The keys as the gateway section holds them (absent optional values as empty strings). */
  public io.vertx.core.json.JsonObject toJson() {
    return new io.vertx.core.json.JsonObject()
      .put("mercureEnabled", enabled)
      .put("mercurePublisherJwtKey", publisherJwtKey == null ? "" : publisherJwtKey)
      .put("mercurePublisherJwtAlg", publisherJwtAlg)
      .put("mercureSubscriberJwtKey", subscriberJwtKey == null ? "" : subscriberJwtKey)
      .put("mercureSubscriberJwtAlg", subscriberJwtAlg)
      .put("mercureIssuer", issuer == null ? "" : issuer)
      .put("mercureAudience", audience == null ? "" : audience)
      .put("mercureAnonymous", anonymous)
      .put("mercureCorsOrigins", new io.vertx.core.json.JsonArray(corsOrigins))
      .put("mercurePublishOrigins", new io.vertx.core.json.JsonArray(publishOrigins))
      .put("mercureCookieName", cookieName)
      .put("mercureSubscriptions", subscriptions);
  }

  public boolean enabled() { return enabled; }
  public String publisherJwtKey() { return publisherJwtKey; }
  public String publisherJwtAlg() { return publisherJwtAlg; }
  public String subscriberJwtKey() { return subscriberJwtKey; }
  public String subscriberJwtAlg() { return subscriberJwtAlg; }
  /** The issuer tokens must name in {@code iss}, or null for any. */
  public String issuer() { return issuer; }
  /**
   * The hub's resource identifier, which tokens must list in {@code aud}, or null. Required by
   * the 1.0 access tokens ({@code typ: at+jwt}): without it they are refused.
   */
  public String audience() { return audience; }
  public boolean anonymous() { return anonymous; }
  /** Origins allowed to call the hub from a browser ({@code *}: any); empty: same origin only. */
  public List<String> corsOrigins() { return corsOrigins; }
  /**
   * Origins besides the hub's own whose pages may publish with the cookie (the official hub's
   * {@code publish_origins}; {@code *}: any): see {@link MercureCsrf}.
   */
  public List<String> publishOrigins() { return publishOrigins; }
  public String cookieName() { return cookieName; }
  /** Whether subscription events and the subscription API are on ({@link #DEFAULT_SUBSCRIPTIONS}). */
  public boolean subscriptions() { return subscriptions; }
}
