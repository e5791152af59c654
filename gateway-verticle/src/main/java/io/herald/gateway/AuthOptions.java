package io.herald.gateway;

import io.herald.common.TopicPattern;
import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The subscriber authentication keys of the {@code gateway} section: the mode, and the JWT
 * keys and claims. Part of {@link GatewayOptions}.
 */
public final class AuthOptions {

  /** {@code authMode}: no subscriber authentication, every topic is readable by anyone. */
  public static final String AUTH_NONE = "none";
  /** {@code authMode}: subscribers present a JWT whose topics claim lists what they may read. */
  public static final String AUTH_JWT = "jwt";
  /** How subscribers are authenticated: {@value #AUTH_NONE} (the default) or {@value #AUTH_JWT}. */
  public static final String DEFAULT_AUTH_MODE = AUTH_NONE;
  /** The claim of a subscriber token that lists the topics (names and patterns) it may read. */
  public static final String DEFAULT_JWT_TOPICS_CLAIM = "topics";
  /** Seconds of clock skew tolerated on {@code exp} and {@code nbf}. */
  public static final int DEFAULT_JWT_LEEWAY_SECONDS = 0;
  /**
   * Whether a subscriber token must carry {@code exp}. On by default: a token without one is valid
   * forever, so a leaked one can never be taken back short of rotating the key.
   */
  public static final boolean DEFAULT_JWT_REQUIRE_EXP = true;
  /** Shortest HS256 secret accepted, in bytes (RFC 7518: a key as long as the hash). */
  public static final int MIN_HS256_SECRET_BYTES = 32;

  private final String authMode;
  private final String jwtSecret;
  private final String jwtPublicKeyFile;
  private final String jwtJwksFile;
  private final String jwtIssuer;
  private final String jwtAudience;
  private final String jwtTopicsClaim;
  private final List<String> publicTopics;
  private final int jwtLeewaySeconds;
  private final boolean jwtRequireExp;

  AuthOptions(ConfigReader r) {
    authMode = r.getOneOf("authMode", DEFAULT_AUTH_MODE, AUTH_NONE, AUTH_JWT);
    jwtSecret = r.getOptionalString("jwtSecret");
    jwtPublicKeyFile = r.getOptionalString("jwtPublicKeyFile");
    jwtJwksFile = r.getOptionalString("jwtJwksFile");
    jwtIssuer = r.getOptionalString("jwtIssuer");
    jwtAudience = r.getOptionalString("jwtAudience");
    jwtTopicsClaim = r.getString("jwtTopicsClaim", DEFAULT_JWT_TOPICS_CLAIM);
    publicTopics = r.getStringList("publicTopics", List.of());
    jwtLeewaySeconds = r.getInt("jwtLeewaySeconds", DEFAULT_JWT_LEEWAY_SECONDS, 0, 3600);
    jwtRequireExp = r.getBoolean("jwtRequireExp", DEFAULT_JWT_REQUIRE_EXP);
  }

  /** Checks that need every key read (after the unknown ones were refused). */
  void check(ConfigReader r) {
    if (jwtSecret != null && jwtSecret.getBytes(StandardCharsets.UTF_8).length < MIN_HS256_SECRET_BYTES) {
      throw new ConfigException(r.key("jwtSecret"), "must be at least " + MIN_HS256_SECRET_BYTES + " bytes long, got "
        + jwtSecret.getBytes(StandardCharsets.UTF_8).length);
    }
    if (AUTH_JWT.equals(authMode) && jwtSecret == null && jwtPublicKeyFile == null && jwtJwksFile == null) {
      throw new ConfigException(r.key("authMode"), "jwt needs a key: set gateway.jwtSecret, gateway.jwtPublicKeyFile or gateway.jwtJwksFile");
    }
    for (String p : publicTopics) {
      try {
        TopicPattern.compile(p);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(r.key("publicTopics"), e.getMessage());
      }
    }
  }

  public String authMode() { return authMode; }
  /** True when subscribers must present a JWT (except for {@link #publicTopics()}). */
  public boolean jwtAuth() { return AUTH_JWT.equals(authMode); }
  /** The HS256 shared secret (UTF-8 bytes), or null. */
  public String jwtSecret() { return jwtSecret; }
  /** A PEM public key file (RSA for RS256, EC P-256 for ES256), or null. */
  public String jwtPublicKeyFile() { return jwtPublicKeyFile; }
  /** A JWKS file ({@code {"keys": [...]}}), or null. */
  public String jwtJwksFile() { return jwtJwksFile; }
  /** The required {@code iss}, or null for no check. */
  public String jwtIssuer() { return jwtIssuer; }
  /** The required {@code aud} (one of the token's), or null for no check. */
  public String jwtAudience() { return jwtAudience; }
  public String jwtTopicsClaim() { return jwtTopicsClaim; }
  /** Topic names and patterns anyone may read without a token in jwt mode. */
  public List<String> publicTopics() { return publicTopics; }
  public int jwtLeewaySeconds() { return jwtLeewaySeconds; }
  /** True when a subscriber token without {@code exp} is refused. */
  public boolean jwtRequireExp() { return jwtRequireExp; }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  JsonObject toJson() {
    return new JsonObject()
      .put("authMode", authMode)
      .put("jwtSecret", orEmpty(jwtSecret))
      .put("jwtPublicKeyFile", orEmpty(jwtPublicKeyFile))
      .put("jwtJwksFile", orEmpty(jwtJwksFile))
      .put("jwtIssuer", orEmpty(jwtIssuer))
      .put("jwtAudience", orEmpty(jwtAudience))
      .put("jwtTopicsClaim", jwtTopicsClaim)
      .put("publicTopics", new JsonArray(publicTopics))
      .put("jwtLeewaySeconds", jwtLeewaySeconds)
      .put("jwtRequireExp", jwtRequireExp);
  }
}
