package io.herald.notifier;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.Sha256;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Who may publish over HTTP and the TCP bridge, and to which topics. The credential comes from
 * {@code Authorization: Bearer <credential>} or {@code X-Herald-Key: <key>} and is either
 * <ul>
 *   <li>a publisher key from {@code notifier.publisherKeys}: an entry is the key itself (plain,
 *   kept for compatibility) or {@code sha256:<hex>}, the hex SHA-256 of the key (the production
 *   form: the config never holds the key). Either may end with {@code =<pattern>|<pattern>...}
 *   to restrict the key to those topics ({@link TopicPatterns}); without it the key may publish
 *   anywhere. An entry may end with {@code #<tier>} to give the key the limits of that tier of
 *   {@code notifier.tiers} (for a plain key, only when that tier is configured: otherwise the
 *   {@code #...} is part of the key, as before tiers). Keys are kept only as digests and compared
 *   in constant time against every entry;</li>
 *   <li>a JWT, when {@code notifier.publisherJwtSecret} and/or
 *   {@code notifier.publisherJwtPublicKeyFile} is set: only those algorithms are accepted
 *   ({@code none} never), {@code exp} is required and {@code exp}/{@code nbf} are checked, and the
 *   {@code publish} claim (array of patterns, {@code {sub}} = the subject) lists the topics, and
 *   the {@code notifier.tierClaim} claim may name its tier.</li>
 * </ul>
 * Thread-safe once built.
 */
public final class PublisherAuth {

  private static final Logger LOG = LoggerFactory.getLogger(PublisherAuth.class);
  private static final String SHA256_PREFIX = "sha256:";

  /** Syntax of a tier's name. */
  static final String TIER_NAME = "[A-Za-z0-9_-]{1,64}";

  /**
   * An authenticated publisher: a label for logs (never the secret), what it may publish to, and
   * the tier whose limits apply (a configured tier's name, or null for the defaults).
   */
  public record Grant(String publisher, TopicPatterns topics, String tier) {

    /** Without a tier: the default limits. */
    public Grant(String publisher, TopicPatterns topics) {
      this(publisher, topics, null);
    }

    /** Fails with {@code access_denied} (403) naming the first topic outside the grant. */
    public void check(Iterable<String> topicsOfRequest) {
      String denied = topics.firstDenied(topicsOfRequest);
      if (denied != null) {
        throw new HeraldException(ErrorCode.ACCESS_DENIED, "this publisher may not publish to topic \"" + denied + "\"");
      }
    }
  }

  /** One parsed {@code publisherKeys} entry; {@code tier} null when it names none. */
  record KeyEntry(byte[] digest, boolean plain, List<String> patterns, String tier) {
  }

  private final KeyEntry[] keys;
  /** What each key grants, built once: its topic patterns are compiled here, not per request. */
  private final Grant[] grants;
  private final JWTAuth jwt;
  private final java.util.Set<String> tiers;
  private final String tierClaim;

  /** Keys only (no JWT). */
  public PublisherAuth(List<String> keyEntries) {
    this(null, keyEntries, null);
  }

  public PublisherAuth(Vertx vertx, NotifierOptions options) {
    this(vertx, options.publisherKeys(), options);
  }

  private PublisherAuth(Vertx vertx, List<String> keyEntries, NotifierOptions options) {
    tiers = options == null ? java.util.Set.of() : options.tiers().keySet();
    tierClaim = options == null ? NotifierOptions.DEFAULT_TIER_CLAIM : options.tierClaim();
    keys = new KeyEntry[keyEntries.size()];
    grants = new Grant[keys.length];
    for (int i = 0; i < keys.length; i++) {
      KeyEntry k = parseKey(keyEntries.get(i), tiers);
      keys[i] = k;
      grants[i] = new Grant("key#" + i, k.patterns() == null ? TopicPatterns.ANY : TopicPatterns.of(k.patterns(), null), k.tier());
    }
    jwt = options == null ? null : jwtAuth(vertx, options);
  }

  /** The number of plain (not hashed) keys, other than the development key. */
  public static long plainKeys(List<String> keyEntries) {
    return keyEntries.stream().filter(k -> !k.equals(NotifierOptions.DEVELOPMENT_KEY)).map(PublisherAuth::parseKey)
      .filter(KeyEntry::plain).count();
  }

  /**
   * Parses a {@code publisherKeys} entry; {@link IllegalArgumentException} says what is wrong.
   * For a plain key, the restriction starts at the last {@code =} followed by valid patterns,
   * so a key may end with base64 padding ({@code ==}) but should not otherwise contain {@code =}.
   */
  static KeyEntry parseKey(String entry) {
    return parseKey(entry, java.util.Set.of());
  }

  /**
   * {@link #parseKey(String)} knowing the configured {@code tiers}: a trailing {@code #<tier>}
   * names the key's tier on a hashed entry always (a digest never holds {@code #}), on a plain
   * one only when the tier is configured.
   */
  static KeyEntry parseKey(String entry, java.util.Set<String> tiers) {
    String tier = null;
    int hash = entry.lastIndexOf('#');
    if (hash > 0 && hash < entry.length() - 1) {
      String name = entry.substring(hash + 1);
      if (name.matches(TIER_NAME) && (entry.startsWith(SHA256_PREFIX) || tiers.contains(name))) {
        tier = name;
        entry = entry.substring(0, hash);
      }
    }
    String credential = entry;
    List<String> patterns = null;
    int eq = entry.lastIndexOf('=');
    if (eq > 0 && eq < entry.length() - 1) {
      List<String> parts = List.of(entry.substring(eq + 1).split("\\|", -1));
      boolean valid = parts.stream().allMatch(p -> TopicPatterns.isValid(p) && !p.contains("{sub}"));
      if (valid) {
        credential = entry.substring(0, eq);
        patterns = parts;
      } else if (entry.startsWith(SHA256_PREFIX)) {
        throw new IllegalArgumentException("after \"=\" comes a list of topic patterns separated by \"|\" (topic characters and *; a pattern cannot contain = or |, which separate the entry)");
      }
    }
    if (credential.startsWith(SHA256_PREFIX)) {
      String hex = credential.substring(SHA256_PREFIX.length());
      if (!hex.matches("[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException("a hashed key is sha256:<64 hex digits>, the SHA-256 of the key");
      }
      return new KeyEntry(HexFormat.of().parseHex(hex), false, patterns, tier);
    }
    if (credential.length() < 8) {
      throw new IllegalArgumentException("every key must have at least 8 characters");
    }
    return new KeyEntry(Sha256.of(credential), true, patterns, tier);
  }

  /**
   * Authenticates a request: a {@link Grant}, or a failed future with {@code unauthorized}
   * (401; the caller adds {@code WWW-Authenticate}).
   */
  public Future<Grant> authenticate(HttpServerRequest request) {
    return authenticate(request.getHeader("Authorization"), request.getHeader("X-Herald-Key"));
  }

  /**
   * Authenticates the values of an {@code Authorization} ({@code Bearer <key or JWT>}) and an
   * {@code X-Herald-Key} header, either of which may be null: the HTTP API's and the TCP
   * bridge's frame headers. {@code X-Herald-Key} wins when both are there.
   */
  public Future<Grant> authenticate(String auth, String heraldKey) {
    String credential = heraldKey;
    if (credential == null && auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      credential = auth.substring(7).trim();
    }
    if (credential == null || credential.isEmpty()) {
      return Future.failedFuture(unauthorized("a publisher key or token is required (Authorization: Bearer <key or JWT>)"));
    }
    Grant byKey = matchKey(credential);
    if (byKey != null) {
      return Future.succeededFuture(byKey);
    }
    if (jwt != null && credential.chars().filter(c -> c == '.').count() == 2) {
      return jwt(credential);
    }
    return Future.failedFuture(unauthorized("the publisher key or token is not valid"));
  }

  /** True when {@code key} is a configured key (any topic restriction aside). */
  public boolean matches(String key) {
    return matchKey(key) != null;
  }

  /** Constant-time: every entry is compared, whatever matched first. */
  private Grant matchKey(String key) {
    byte[] d = Sha256.of(key);
    int found = -1;
    for (int i = 0; i < keys.length; i++) {
      if (MessageDigest.isEqual(d, keys[i].digest()) & found < 0) {
        found = i;
      }
    }
    return found < 0 ? null : grants[found];
  }

  private Future<Grant> jwt(String token) {
    return jwt.authenticate(new TokenCredentials(token)).transform(ar -> {
      if (ar.failed()) {
        String why = String.valueOf(ar.cause().getMessage());
        LOG.debug("publisher JWT rejected: {}", why);
        return Future.failedFuture(unauthorized(why.contains("expired") ? "the token has expired" : "the token is not valid"));
      }
      User user = ar.result();
      JsonObject claims = user.attributes().getJsonObject("accessToken", user.principal());
      if (!(claims.getValue("exp") instanceof Number)) {
        return Future.failedFuture(unauthorized("the token must have an exp claim"));
      }
      Object nbf = claims.getValue("nbf");
      if (nbf instanceof Number n && n.longValue() > System.currentTimeMillis() / 1000) {
        return Future.failedFuture(unauthorized("the token is not valid yet"));
      }
      String subject = claims.getValue("sub") instanceof String s ? s : null;
      List<String> patterns = new ArrayList<>();
      Object publish = claims.getValue("publish");
      if (publish instanceof JsonArray arr) {
        for (Object o : arr) {
          if (o instanceof String p) {
            patterns.add(p);
          }
        }
      } else if (publish instanceof String p) {
        patterns.add(p);
      }
      String tier = claims.getValue(tierClaim) instanceof String t && tiers.contains(t) ? t : null;
      return Future.succeededFuture(new Grant("jwt:" + (subject == null ? "?" : subject), TopicPatterns.of(patterns, subject), tier));
    });
  }

  private static JWTAuth jwtAuth(Vertx vertx, NotifierOptions options) {
    JWTAuthOptions o = new JWTAuthOptions();
    if (!options.publisherJwtSecret().isEmpty()) {
      o.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(options.publisherJwtSecret()));
    }
    if (!options.publisherJwtPublicKeyFile().isEmpty()) {
      String pem = readPem(options.publisherJwtPublicKeyFile());
      o.addPubSecKey(new PubSecKeyOptions().setAlgorithm(algorithmOf(pem)).setBuffer(pem));
    }
    if (o.getPubSecKeys() == null || o.getPubSecKeys().isEmpty()) {
      return null;
    }
    JWTOptions jwtOptions = new JWTOptions().setLeeway(5);
    if (!options.publisherJwtIssuer().isEmpty()) {
      jwtOptions.setIssuer(options.publisherJwtIssuer());
    }
    if (!options.publisherJwtAudience().isEmpty()) {
      jwtOptions.addAudience(options.publisherJwtAudience());
    }
    return JWTAuth.create(vertx, o.setJWTOptions(jwtOptions));
  }

  static String readPem(String file) {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of(file), StandardCharsets.US_ASCII);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
    }
  }

  /**
   * The JWS algorithm of a PEM public key ({@code -----BEGIN PUBLIC KEY-----}): {@code RS256} for
   * RSA (at least 2048 bits), {@code ES256}/{@code ES384}/{@code ES512} for EC P-256/P-384/P-521.
   */
  static String algorithmOf(String pem) {
    int begin = pem.indexOf("-----BEGIN PUBLIC KEY-----");
    int end = pem.indexOf("-----END PUBLIC KEY-----");
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException("must be a PEM public key (-----BEGIN PUBLIC KEY-----)");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(pem.substring(begin + 26, end));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the PEM is not valid base64");
    }
    PublicKey key = null;
    for (String type : List.of("RSA", "EC")) {
      try {
        key = KeyFactory.getInstance(type).generatePublic(new X509EncodedKeySpec(der));
        break;
      } catch (Exception ignored) {
        // try the next type
      }
    }
    if (key instanceof RSAPublicKey rsa) {
      if (rsa.getModulus().bitLength() < 2048) {
        throw new IllegalArgumentException("an RSA key must have at least 2048 bits");
      }
      return "RS256";
    }
    if (key instanceof ECPublicKey ec) {
      return switch (ec.getParams().getCurve().getField().getFieldSize()) {
        case 256 -> "ES256";
        case 384 -> "ES384";
        case 521 -> "ES512";
        default -> throw new IllegalArgumentException("an EC key must be on P-256, P-384 or P-521");
      };
    }
    throw new IllegalArgumentException("must be an RSA or EC public key");
  }

  private static HeraldException unauthorized(String message) {
    return new HeraldException(ErrorCode.UNAUTHORIZED, message);
  }


}
