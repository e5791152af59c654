package io.herald.gateway.mercure;

import io.herald.gateway.admission.SubscriberAuth;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
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
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Verifies Mercure tokens, for publishers (the publisher key) and subscribers (the subscriber
 * key). One key and one algorithm per role, from configuration only: a token's {@code alg} must
 * be that algorithm ({@code none} and every other are refused), and ECDSA signatures must be the
 * raw R‖S form ({@link SubscriberAuth#rawEcSignature}).
 *
 * <p>Two token forms are accepted:
 * <ul>
 *   <li>the {@code mercure} claim of 0.x hubs and of the official 1.0 hub:
 *       {@code {"publish": [...], "subscribe": [...], "payload": {...}}}, whose entries are bare
 *       selectors ({@code *}, an exact topic, an RFC 6570 URI template) or matcher objects
 *       {@code {"match": "...", "match_type": "exact"|"urlpattern"}};</li>
 *   <li>RFC 9068 access tokens of the Mercure specification: header {@code typ: at+jwt}, an
 *       {@code aud} listing the hub's resource identifier ({@code gateway.mercureAudience},
 *       required), {@code exp}, and {@code authorization_details} entries
 *       {@code {"type": "mercure", "actions": ["publish"|"subscribe"], "topics": [{"match": ...,
 *       "matchType": "Exact"|"URLPattern"}], "payload"?}}. A token carrying
 *       {@code authorization_details} without {@code typ: at+jwt} is refused.</li>
 * </ul>
 * An access token's {@code aud} must list {@code gateway.mercureAudience} (unset: every access
 * token is refused) and its {@code iss} must be {@code gateway.mercureIssuer} when that is set.
 * A {@code mercure}-claim token is trusted by its key: its {@code iss} and {@code aud} are
 * checked the same way only when it carries them. A token whose rights do not
 * parse is refused whole ({@code invalid_token}), never partly used. Every refusal of a
 * presented token is {@code invalid_token} with the same words: why it failed is logged at
 * debug, not told. Thread-safe; verifying is a CPU-cheap signature check on the event loop.
 */
public final class MercureAuth {

  private static final Logger LOG = LoggerFactory.getLogger(MercureAuth.class);

  /** The cookie name the Mercure specification recommends; read after the configured one. */
  public static final String SPEC_COOKIE = "mercureAccessToken";
  /** RFC 6750's query parameter. */
  public static final String ACCESS_TOKEN_PARAM = "access_token";
  /** The query parameter 0.x hubs read. */
  public static final String LEGACY_PARAM = "authorization";
  /** Most rights entries (selectors, authorization details) one token may carry. */
  public static final int MAX_ENTRIES = 128;

  /** Which key verifies the token. */
  public enum Role { PUBLISHER, SUBSCRIBER }

  private static final String INVALID = "the token is invalid or expired";

  private final MercureOptions options;
  private final JWTAuth publisher;
  private final JWTAuth subscriber;

  private MercureAuth(MercureOptions options, JWTAuth publisher, JWTAuth subscriber) {
    this.options = options;
    this.publisher = publisher;
    this.subscriber = subscriber;
  }

  /**
   * The verifier of {@code options}' keys.
   *
   * @throws io.herald.common.config.ConfigException naming the key when one is unusable
   */
  public static MercureAuth create(Vertx vertx, MercureOptions options) {
    return new MercureAuth(options,
      jwt(vertx, "mercurePublisherJwtKey", options.publisherJwtKey(), options.publisherJwtAlg()),
      jwt(vertx, "mercureSubscriberJwtKey", options.subscriberJwtKey(), options.subscriberJwtAlg()));
  }

  private static JWTAuth jwt(Vertx vertx, String name, String key, String alg) {
    if (key == null) {
      return null;
    }
    try {
      // iss and aud are checked below (for both token forms, with the spec's rules), exp here.
      return JWTAuth.create(vertx, new JWTAuthOptions().setJWTOptions(new JWTOptions())
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm(alg).setBuffer(key)));
    } catch (RuntimeException e) {
      throw new io.herald.common.config.ConfigException("gateway." + name, "unusable " + alg + " key: " + e.getMessage());
    }
  }

  public MercureOptions options() {
    return options;
  }

  /**
   * The token of a request, by the specification's precedence: the {@code Authorization: Bearer}
   * header, else the {@value #ACCESS_TOKEN_PARAM} query parameter (or the 0.x
   * {@value #LEGACY_PARAM}), else the configured cookie, else {@value #SPEC_COOKIE}. Null when
   * there is none; an {@code Authorization} header of another scheme is a malformed request.
   */
  public String token(HttpServerRequest request) {
    String header = request.getHeader(HttpHeaders.AUTHORIZATION);
    if (header != null) {
      if (header.length() > 7 && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return header.substring(7).trim();
      }
      throw MercureError.invalidRequest("the Authorization header must be \"Bearer <token>\"");
    }
    String param = request.getParam(ACCESS_TOKEN_PARAM);
    if (param == null) {
      param = request.getParam(LEGACY_PARAM);
    }
    if (param != null) {
      return param.trim();
    }
    Cookie cookie = request.getCookie(options.cookieName());
    if (cookie == null) {
      cookie = request.getCookie(SPEC_COOKIE);
    }
    return cookie == null ? null : cookie.getValue().trim();
  }

  /**
   * Whether {@link #token} takes the request's token from a cookie: no {@code Authorization}
   * header and no token parameter. Such a publish is checked against cross-site request forgery
   * ({@link MercureCsrf}).
   */
  public boolean tokenFromCookie(HttpServerRequest request) {
    return request.getHeader(HttpHeaders.AUTHORIZATION) == null && request.getParam(ACCESS_TOKEN_PARAM) == null
      && request.getParam(LEGACY_PARAM) == null;
  }

  /**
   * Verifies {@code token} with the key of {@code role}. Fails with a {@link MercureError}:
   * {@code invalid_token} for any token that does not verify or whose rights do not parse.
   */
  public Future<MercureClaims> verify(Role role, String token) {
    JWTAuth jwt = role == Role.PUBLISHER ? publisher : subscriber;
    if (jwt == null) {
      return Future.failedFuture(MercureError.invalidToken("this hub accepts no " + role.name().toLowerCase() + " tokens"));
    }
    if (token == null || token.isEmpty() || !SubscriberAuth.rawEcSignature(token)) {
      return Future.failedFuture(MercureError.invalidToken(INVALID));
    }
    JsonObject header;
    try {
      header = new JsonObject(new String(Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.'))), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return Future.failedFuture(MercureError.invalidToken(INVALID));
    }
    String expected = role == Role.PUBLISHER ? options.publisherJwtAlg() : options.subscriberJwtAlg();
    if (!expected.equals(header.getValue("alg"))) {
      LOG.debug("mercure {} token with alg {} refused (expected {})", role, header.getValue("alg"), expected);
      return Future.failedFuture(MercureError.invalidToken(INVALID));
    }
    return jwt.authenticate(new TokenCredentials(token))
      .recover(t -> {
        LOG.debug("invalid mercure {} token: {}", role, t.toString());
        return Future.failedFuture(MercureError.invalidToken(INVALID));
      })
      .compose(user -> {
        JsonObject claims = user.attributes().getJsonObject("accessToken", new JsonObject());
        try {
          return Future.succeededFuture(claims(header, claims));
        } catch (MercureError e) {
          LOG.debug("mercure {} token refused: {}", role, e.getMessage());
          return Future.failedFuture(e);
        }
      });
  }

  /** The rights of verified claims; a {@link MercureError} {@code invalid_token} when they break a rule. */
  MercureClaims claims(JsonObject header, JsonObject claims) {
    boolean accessToken = claims.containsKey("authorization_details");
    if (accessToken && !"at+jwt".equalsIgnoreCase(String.valueOf(header.getValue("typ")))
      && !"application/at+jwt".equalsIgnoreCase(String.valueOf(header.getValue("typ")))) {
      throw MercureError.invalidToken("an access token with authorization_details must have the header typ at+jwt");
    }
    // Access tokens must name the hub (aud, always) and the issuer (iss, when configured). Tokens
    // of the mercure claim (0.x, hub 1.0) usually carry neither: their key is their trust; when
    // they do carry one, it must be the configured one.
    if (options.issuer() != null && (accessToken || claims.containsKey("iss")) && !options.issuer().equals(claims.getValue("iss"))) {
      throw MercureError.invalidToken(INVALID);
    }
    if ((accessToken || options.audience() != null && claims.containsKey("aud")) && !audienceListed(claims.getValue("aud"))) {
      throw MercureError.invalidToken(INVALID);
    }
    Object exp = claims.getValue("exp");
    if (accessToken && !(exp instanceof Number)) {
      throw MercureError.invalidToken("an access token must have an exp claim");
    }
    long expiresAt = exp instanceof Number n ? n.longValue() * 1000L : -1;
    String subject = claims.getValue("sub") instanceof String s ? s : null;
    try {
      return accessToken ? details(claims.getValue("authorization_details"), subject, expiresAt)
        : mercureClaim(claims.getValue("mercure"), subject, expiresAt);
    } catch (IllegalArgumentException | ClassCastException e) {
      throw MercureError.invalidToken("the token's Mercure rights do not parse: " + e.getMessage());
    }
  }

  private boolean audienceListed(Object aud) {
    String want = options.audience();
    if (want == null) {
      return false; // 1.0 access tokens need the hub's resource identifier configured
    }
    if (aud instanceof String s) {
      return want.equals(s);
    }
    return aud instanceof JsonArray a && a.contains(want);
  }

  private static MercureClaims mercureClaim(Object raw, String subject, long expiresAt) {
    if (raw == null) {
      return new MercureClaims(MercureClaims.Form.MERCURE_CLAIM, subject, expiresAt, List.of(), List.of(), null, List.of());
    }
    if (!(raw instanceof JsonObject m)) {
      throw new IllegalArgumentException("mercure must be an object");
    }
    Object payload = m.getValue("payload");
    return new MercureClaims(MercureClaims.Form.MERCURE_CLAIM, subject, expiresAt, selectors(m.getValue("publish"), "publish"),
      selectors(m.getValue("subscribe"), "subscribe"), payload instanceof JsonObject p ? p : null, List.of());
  }

  private static List<MercureSelector> selectors(Object raw, String name) {
    if (raw == null) {
      return List.of();
    }
    if (!(raw instanceof JsonArray arr)) {
      throw new IllegalArgumentException("mercure." + name + " must be an array");
    }
    if (arr.size() > MAX_ENTRIES) {
      throw new IllegalArgumentException("mercure." + name + " has more than " + MAX_ENTRIES + " entries");
    }
    List<MercureSelector> out = new ArrayList<>();
    for (Object o : arr) {
      if (o instanceof String s) {
        out.add(MercureSelector.legacy(s));
      } else if (o instanceof JsonObject matcher && matcher.getValue("match") instanceof String match) {
        out.add(MercureSelector.matcher(match, type(matcher.getValue("match_type"))));
      } else {
        throw new IllegalArgumentException("mercure." + name + " entries are strings or {\"match\": ...} objects");
      }
    }
    return List.copyOf(out);
  }

  private static MercureClaims details(Object raw, String subject, long expiresAt) {
    if (!(raw instanceof JsonArray arr)) {
      throw new IllegalArgumentException("authorization_details must be an array");
    }
    if (arr.size() > MAX_ENTRIES) {
      throw new IllegalArgumentException("authorization_details has more than " + MAX_ENTRIES + " entries");
    }
    List<MercureSelector> publish = new ArrayList<>();
    List<MercureSelector> subscribe = new ArrayList<>();
    JsonObject payload = null;
    List<MercureClaims.PayloadRule> payloads = new ArrayList<>();
    for (Object o : arr) {
      if (!(o instanceof JsonObject d)) {
        throw new IllegalArgumentException("authorization_details entries are objects");
      }
      if (!"mercure".equals(d.getValue("type"))) {
        continue; // another resource's details: not ours to judge
      }
      if (!(d.getValue("actions") instanceof JsonArray actions) || actions.isEmpty()) {
        throw new IllegalArgumentException("a mercure authorization detail needs a non-empty actions array");
      }
      if (!(d.getValue("topics") instanceof JsonArray topics) || topics.isEmpty() || topics.size() > MAX_ENTRIES) {
        throw new IllegalArgumentException("a mercure authorization detail needs 1 to " + MAX_ENTRIES + " topics");
      }
      List<MercureSelector> matchers = new ArrayList<>();
      for (Object t : topics) {
        if (!(t instanceof JsonObject m) || !(m.getValue("match") instanceof String match)) {
          throw new IllegalArgumentException("topics entries are {\"match\": ..., \"matchType\"?: ...} objects");
        }
        matchers.add(MercureSelector.matcher(match, type(m.getValue("matchType"))));
      }
      boolean sub = false;
      for (Object a : actions) {
        if ("publish".equals(a)) {
          publish.addAll(matchers);
        } else if ("subscribe".equals(a)) {
          subscribe.addAll(matchers);
          sub = true;
        } else {
          throw new IllegalArgumentException("unknown action " + a + " (publish, subscribe)");
        }
      }
      if (d.containsKey("payload") && !(d.getValue("payload") instanceof JsonObject)) {
        throw new IllegalArgumentException("payload must be an object");
      }
      if (sub && d.getValue("payload") instanceof JsonObject p) {
        payload = payload == null ? p : payload;
        payloads.add(new MercureClaims.PayloadRule(List.copyOf(matchers), p));
      }
    }
    return new MercureClaims(MercureClaims.Form.ACCESS_TOKEN, subject, expiresAt, List.copyOf(publish), List.copyOf(subscribe), payload,
      List.copyOf(payloads));
  }

  private static String type(Object raw) {
    if (raw != null && !(raw instanceof String)) {
      throw new IllegalArgumentException("a match type is a string");
    }
    return (String) raw;
  }
}
