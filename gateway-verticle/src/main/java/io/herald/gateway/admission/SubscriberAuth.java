package io.herald.gateway.admission;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.TopicPattern;
import io.herald.common.pattern.TopicGrants;
import io.herald.common.config.ConfigException;
import io.herald.gateway.GatewayOptions;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Who a subscriber is and which topics it may read ({@code gateway.authMode}).
 *
 * <p>In {@code jwt} mode the token comes from {@code Authorization: Bearer}, else the
 * {@value #QUERY_PARAM} query parameter, else the {@value #COOKIE} cookie (a browser's
 * EventSource cannot set headers). Only the algorithms of the configured keys are accepted
 * (HS256 for {@code jwtSecret}, RS256/ES256/ES384/ES512 for the PEM key, the keys' own for the JWKS): a token
 * with {@code alg: none}, or HS256-signed with a public key, is refused. {@code exp} is required
 * unless {@code jwtRequireExp} is off; {@code exp} and {@code nbf} are checked with
 * {@code jwtLeewaySeconds}, {@code iss} and {@code aud} when configured. ECDSA signatures must be the raw R||S form (a DER one is refused). The topics claim lists {@link TopicPattern}s; the {@code tierClaim} names the {@link SubscriberTiers tier} whose limits apply. Without a token a client may read
 * {@code publicTopics} only. In {@code none} mode everyone may read everything.
 *
 * <p>Key files are read once, asynchronously, by {@link #create}; verifying a token is a
 * CPU-cheap signature check done on the event loop. Thread-safe.
 */
public final class SubscriberAuth {

  private static final Logger LOG = LoggerFactory.getLogger(SubscriberAuth.class);

  /** Cookie that may carry the token. */
  static final String COOKIE = "herald_token";
  /** Query parameter that may carry the token. */
  static final String QUERY_PARAM = "access_token";

  /**
   * What one request may read: the token's subject and topic patterns (both empty when
   * anonymous), when the token expires (epoch ms, -1 for never), and the key its streams are
   * counted under for {@code maxConnectionsPerUser} (null when anonymous): the subject, else
   * {@code #jti:<jti>}, else {@code #token:<SHA-256 of the token>}, so that tokens without
   * {@code sub} are limited too; and the tier whose limits apply (the one its
   * {@code gateway.tierClaim} names, else the default; null when anonymous: the default).
   */
  public record Grant(boolean anonymous, String subject, List<TopicPattern> topics, long expiresAtMillis, String userKey,
               SubscriberTiers.Tier tier) {
    public static final Grant ANONYMOUS = new Grant(true, null, List.of(), -1, null, null);
  }

  private final GatewayOptions options;
  private final JWTAuth jwt;
  private final List<TopicPattern> publicTopics;

  private SubscriberAuth(GatewayOptions options, JWTAuth jwt) {
    this.options = options;
    this.jwt = jwt;
    List<TopicPattern> pub = new ArrayList<>();
    for (String p : options.publicTopics()) {
      pub.add(TopicPattern.compile(p));
    }
    this.publicTopics = List.copyOf(pub);
  }

  /** Reads the key files and builds the verifier; fails with a {@link ConfigException} naming the key. */
  public static Future<SubscriberAuth> create(Vertx vertx, GatewayOptions options) {
    if (!options.jwtAuth()) {
      return Future.succeededFuture(new SubscriberAuth(options, null));
    }
    Future<Buffer> pem = read(vertx, "jwtPublicKeyFile", options.jwtPublicKeyFile());
    Future<Buffer> jwks = read(vertx, "jwtJwksFile", options.jwtJwksFile());
    return Future.all(pem, jwks).compose(v -> {
      try {
        return Future.succeededFuture(new SubscriberAuth(options, build(vertx, options, pem.result(), jwks.result())));
      } catch (ConfigException e) {
        return Future.failedFuture(e);
      }
    });
  }

  private static Future<Buffer> read(Vertx vertx, String key, String path) {
    if (path == null) {
      return Future.succeededFuture();
    }
    return vertx.fileSystem().readFile(path).recover(t -> Future.failedFuture(
      new ConfigException("gateway." + key, "cannot read " + path + ": " + t.getMessage())));
  }

  private static JWTAuth build(Vertx vertx, GatewayOptions options, Buffer pem, Buffer jwks) {
    JWTOptions jwtOptions = new JWTOptions().setLeeway(options.jwtLeewaySeconds());
    if (options.jwtIssuer() != null) {
      jwtOptions.setIssuer(options.jwtIssuer());
    }
    if (options.jwtAudience() != null) {
      jwtOptions.setAudience(List.of(options.jwtAudience()));
    }
    JWTAuthOptions all = new JWTAuthOptions().setJWTOptions(jwtOptions);
    if (options.jwtSecret() != null) {
      all.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(options.jwtSecret()));
    }
    if (pem != null) {
      PubSecKeyOptions key = new PubSecKeyOptions().setAlgorithm(pemAlgorithm(pem.toString())).setBuffer(pem.toString());
      check(vertx, "jwtPublicKeyFile", new JWTAuthOptions().addPubSecKey(key));
      all.addPubSecKey(key);
    }
    if (jwks != null) {
      JsonArray keys;
      try {
        keys = new JsonObject(jwks).getJsonArray("keys");
      } catch (RuntimeException e) {
        throw new ConfigException("gateway.jwtJwksFile", "not a JWKS ({\"keys\": [...]}): " + e.getMessage());
      }
      if (keys == null || keys.isEmpty()) {
        throw new ConfigException("gateway.jwtJwksFile", "has no keys");
      }
      for (Object k : keys) {
        if (!(k instanceof JsonObject jwk) || jwk.getString("alg") == null) {
          throw new ConfigException("gateway.jwtJwksFile", "every key needs an \"alg\" (e.g. RS256), got " + k);
        }
        check(vertx, "jwtJwksFile", new JWTAuthOptions().addJwk(jwk));
        all.addJwk(jwk);
      }
    }
    return JWTAuth.create(vertx, all);
  }

  private static void check(Vertx vertx, String key, JWTAuthOptions one) {
    try {
      JWTAuth.create(vertx, one);
    } catch (RuntimeException e) {
      throw new ConfigException("gateway." + key, "unusable key: " + e.getMessage());
    }
  }

  /** RS256 for an RSA public key, ES256/ES384/ES512 for an EC one by its curve; anything else is a configuration error. */
  private static String pemAlgorithm(String pem) {
    String body = pem.replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
    if (!pem.contains("-----BEGIN PUBLIC KEY-----")) {
      throw new ConfigException("gateway.jwtPublicKeyFile", "must be a PEM \"PUBLIC KEY\" (RSA for RS256, EC P-256 for ES256)");
    }
    byte[] der;
    try {
      der = Base64.getDecoder().decode(body);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("gateway.jwtPublicKeyFile", "not valid PEM: " + e.getMessage());
    }
    try {
      KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der));
      return "RS256";
    } catch (Exception ignored) {
      // not RSA: try EC
    }
    try {
      java.security.interfaces.ECPublicKey ec =
        (java.security.interfaces.ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der));
      int bits = ec.getParams().getCurve().getField().getFieldSize();
      return bits <= 256 ? "ES256" : bits <= 384 ? "ES384" : "ES512";
    } catch (Exception ignored) {
      // neither
    }
    throw new ConfigException("gateway.jwtPublicKeyFile", "neither an RSA nor an EC public key");
  }

  /** True when subscribers may need a token (jwt mode). */
  public boolean enabled() {
    return jwt != null;
  }

  /**
   * Verifies the request's token: the grant (anonymous when there is none, or in none mode), or a
   * failed future with {@code unauthorized} when a token is present but not valid.
   */
  public Future<Grant> authenticate(HttpServerRequest request) {
    if (jwt == null) {
      return Future.succeededFuture(Grant.ANONYMOUS);
    }
    return authenticate(token(request), request.remoteAddress());
  }

  /**
   * Verifies a token found elsewhere than in an HTTP request being handled (a SockJS socket:
   * {@link #token(MultiMap, String)}); {@code remote} only names the client in the debug log.
   * Null means no token: the anonymous grant.
   */
  public Future<Grant> authenticate(String token, Object remote) {
    if (jwt == null) {
      return Future.succeededFuture(Grant.ANONYMOUS);
    }
    if (token == null) {
      return Future.succeededFuture(Grant.ANONYMOUS);
    }
    if (token.isEmpty()) {
      return Future.failedFuture(new HeraldException(ErrorCode.UNAUTHORIZED, "empty token"));
    }
    if (!rawEcSignature(token)) {
      LOG.debug("subscriber token from {} with an ECDSA signature that is not raw R||S", remote);
      return Future.failedFuture(new HeraldException(ErrorCode.UNAUTHORIZED, "invalid or expired token"));
    }
    return jwt.authenticate(new TokenCredentials(token))
      .recover(t -> {
        // The library's reason (a parser message, a signature failure) stays in the log.
        LOG.debug("invalid subscriber token from {}: {}", remote, t.toString());
        return Future.failedFuture(new HeraldException(ErrorCode.UNAUTHORIZED, "invalid or expired token"));
      })
      .compose(user -> {
        JsonObject claims = user.attributes().getJsonObject("accessToken", new JsonObject());
        Object exp = claims.getValue("exp");
        if (!(exp instanceof Number) && options.jwtRequireExp()) {
          LOG.debug("subscriber token without exp from {}", remote);
          return Future.failedFuture(new HeraldException(ErrorCode.UNAUTHORIZED, "the token must have an exp claim"));
        }
        long expiresAt = exp instanceof Number n ? n.longValue() * 1000L : -1;
        String subject = claims.getValue("sub") instanceof String s ? s : null;
        return Future.succeededFuture(new Grant(false, subject, patterns(claims.getValue(options.jwtTopicsClaim())), expiresAt,
          userKey(subject, claims, token), options.tiers().forClaim(claims.getValue(options.tierClaim()))));
      });
  }

  /** The key a token's streams are counted under: see {@link Grant#userKey()}. */
  public static String userKey(String subject, JsonObject claims, String token) {
    if (subject != null) {
      return subject;
    }
    if (claims.getValue("jti") instanceof String jti && !jti.isEmpty()) {
      return "#jti:" + jti;
    }
    byte[] digest = io.herald.common.Sha256.of(token.getBytes(StandardCharsets.US_ASCII));
    return "#token:" + java.util.HexFormat.of().formatHex(digest, 0, 16);
  }

  /**
   * False for an ES256/ES384/ES512 token whose signature is not the raw R||S of RFC 7518 section
   * 3.4 (64, 96 or 132 bytes). The JWT library also verifies a DER-encoded signature, which would
   * give one set of claims several valid tokens. Other tokens pass: the library checks them.
   */
  public static boolean rawEcSignature(String token) {
    int first = token.indexOf('.');
    int last = token.lastIndexOf('.');
    if (first < 0 || last == first) {
      return true;
    }
    String alg;
    try {
      alg = new JsonObject(new String(Base64.getUrlDecoder().decode(token.substring(0, first)), StandardCharsets.UTF_8)).getString("alg");
    } catch (RuntimeException e) {
      return true; // not a JOSE header: the library refuses it
    }
    int length = switch (alg == null ? "" : alg) {
      case "ES256" -> 64;
      case "ES384" -> 96;
      case "ES512" -> 132;
      default -> -1;
    };
    if (length < 0) {
      return true;
    }
    try {
      return Base64.getUrlDecoder().decode(token.substring(last + 1)).length == length;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * A token claim as a list of patterns: a JSON array of strings, or one space-separated string;
   * bad entries are skipped (they grant nothing). Used for {@code topics} and for presence grants.
   */
  public static List<TopicPattern> patterns(Object claim) {
    List<Object> raw = new ArrayList<>();
    if (claim instanceof JsonArray arr) {
      arr.forEach(raw::add);
    } else if (claim instanceof String s) {
      raw.addAll(List.of((Object[]) s.trim().split("\\s+")));
    }
    List<TopicPattern> out = new ArrayList<>();
    for (Object o : raw) {
      if (o instanceof String s && !s.isEmpty()) {
        try {
          out.add(TopicPattern.compile(s));
        } catch (IllegalArgumentException ignored) {
          // a pattern this gateway does not understand grants nothing
        }
      }
    }
    return out;
  }

  public static String token(HttpServerRequest request) {
    String header = request.getHeader(HttpHeaders.AUTHORIZATION);
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return header.substring(7).trim();
    }
    String param = request.getParam(QUERY_PARAM);
    if (param != null) {
      return param.trim();
    }
    Cookie cookie = request.getCookie(COOKIE);
    return cookie == null ? null : cookie.getValue().trim();
  }

  /**
   * The token of a connection known by its headers and URI only (a SockJS socket): the
   * {@code Authorization: Bearer} header, else {@value #QUERY_PARAM} in the URI's query, else
   * the {@value #COOKIE} cookie when the headers still carry it; null when there is none.
   */
  public static String token(MultiMap headers, String uri) {
    String header = headers == null ? null : headers.get(HttpHeaders.AUTHORIZATION);
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return header.substring(7).trim();
    }
    if (uri != null && uri.indexOf('?') >= 0) {
      List<String> values = new QueryStringDecoder(uri).parameters().get(QUERY_PARAM);
      if (values != null && !values.isEmpty()) {
        return values.get(0).trim();
      }
    }
    String cookies = headers == null ? null : headers.get(HttpHeaders.COOKIE);
    if (cookies != null) {
      for (io.netty.handler.codec.http.cookie.Cookie c : ServerCookieDecoder.LAX.decode(cookies)) {
        if (COOKIE.equals(c.name())) {
          return c.value().trim();
        }
      }
    }
    return null;
  }

  /** The first of {@code topics} the grant may not read, or null when it may read them all. */
  public String firstRefused(Grant grant, String[] topics) {
    if (jwt == null) {
      return null;
    }
    for (String t : topics) {
      if (!allowed(grant, t)) {
        return t;
      }
    }
    return null;
  }

  /**
   * The first of {@code filters} the grant may not read, or null when it may read them all: a
   * pattern is allowed only when one public topic pattern, or one of the token's, contains every
   * topic it can match ({@link TopicGrants#covers}; see docs/security.md).
   */
  public io.herald.common.pattern.TopicFilter firstRefused(Grant grant, io.herald.common.pattern.TopicFilter[] filters) {
    if (jwt == null) {
      return null;
    }
    for (io.herald.common.pattern.TopicFilter f : filters) {
      if (!TopicGrants.covers(publicTopics, f, null) && !TopicGrants.covers(grant.topics(), f, grant.subject())) {
        return f;
      }
    }
    return null;
  }

  private boolean allowed(Grant grant, String topic) {
    for (TopicPattern p : publicTopics) {
      if (p.matches(topic, null)) {
        return true;
      }
    }
    for (TopicPattern p : grant.topics()) {
      if (p.matches(topic, grant.subject())) {
        return true;
      }
    }
    return false;
  }
}
