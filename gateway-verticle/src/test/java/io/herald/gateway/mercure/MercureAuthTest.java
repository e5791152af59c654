package io.herald.gateway.mercure;

import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.herald.testsupport.Jwt;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Mercure tokens of both forms, signed here with HS256, RS256 and ES256, verified by {@link MercureAuth}. */
@ExtendWith(VertxExtension.class)
class MercureAuthTest {

  static final String SECRET = "!ChangeThisMercureHubJWTSecretKey!";
  static final String AUD = "https://hub.example.com/.well-known/mercure";

  static MercureOptions options(JsonObject gateway) {
    ConfigReader r = new ConfigReader("gateway", gateway.copy().put("mercureEnabled", true));
    MercureOptions o = new MercureOptions(r);
    r.rejectUnknown();
    return o;
  }

  static MercureOptions hs256() {
    return options(new JsonObject().put("mercurePublisherJwtKey", SECRET).put("mercureSubscriberJwtKey", SECRET)
      .put("mercureAudience", AUD));
  }

  static long in(long seconds) {
    return System.currentTimeMillis() / 1000 + seconds;
  }

  @Test
  @DisplayName("a 0.x token (HS256, mercure claim of bare selectors) grants publish on *, exact topics and URI templates")
  void legacyClaim(Vertx vertx) throws Exception {
    MercureAuth auth = MercureAuth.create(vertx, hs256());
    String token = hs256(new JsonObject().put("mercure", new JsonObject()
      .put("publish", new JsonArray().add("https://example.com/books/{id}").add("urn:exact"))
      .put("subscribe", new JsonArray().add("*"))
      .put("payload", new JsonObject().put("user", "a"))), "JWT");
    MercureClaims c = await(auth.verify(MercureAuth.Role.PUBLISHER, token));
    assertThat(c.form()).isEqualTo(MercureClaims.Form.MERCURE_CLAIM);
    assertThat(c.canPublish("https://example.com/books/1")).isTrue();
    assertThat(c.canPublish("urn:exact")).isTrue();
    assertThat(c.canPublish("urn:exact2")).isFalse();
    assertThat(c.canPublish("https://example.com/authors/1")).isFalse();
    assertThat(c.canSubscribe("anything")).isTrue();
    assertThat(c.payload()).isEqualTo(new JsonObject().put("user", "a"));
    assertThat(c.publish().get(0).filter()).isNotNull();
    assertThat(c.expiresAt()).isEqualTo(-1);
  }

  @Test
  @DisplayName("a hub 1.0 token (mercure claim of matcher objects) reads match_type exact and urlpattern")
  void hubOneClaim(Vertx vertx) throws Exception {
    MercureAuth auth = MercureAuth.create(vertx, hs256());
    String token = hs256(new JsonObject().put("exp", in(60)).put("mercure", new JsonObject()
      .put("publish", new JsonArray().add(new JsonObject().put("match", "https://example.com/books/:id").put("match_type", "urlpattern"))
        .add(new JsonObject().put("match", "https://example.com/a?b=c&d")))), "JWT");
    MercureClaims c = await(auth.verify(MercureAuth.Role.PUBLISHER, token));
    assertThat(c.canPublish("https://example.com/books/7")).isTrue();
    assertThat(c.canPublish("https://example.com/books/7/x")).isFalse();
    assertThat(c.canPublish("https://example.com/a?b=c&d")).isTrue();
    assertThat(c.canSubscribe("https://example.com/books/7")).isFalse();
  }

  @Test
  @DisplayName("an RFC 9068 access token (at+jwt, aud, exp, authorization_details) grants its actions on its matchers")
  void accessToken(Vertx vertx) throws Exception {
    MercureAuth auth = MercureAuth.create(vertx, hs256());
    JsonObject claims = new JsonObject().put("aud", new JsonArray().add("other").add(AUD)).put("exp", in(60)).put("sub", "alice")
      .put("authorization_details", new JsonArray()
        .add(new JsonObject().put("type", "other-api").put("anything", 1))
        .add(new JsonObject().put("type", "mercure").put("actions", new JsonArray().add("subscribe"))
          .put("topics", new JsonArray().add(new JsonObject().put("match", "https://example.com/books/:id").put("matchType", "URLPattern")))
          .put("payload", new JsonObject().put("p", 1)))
        .add(new JsonObject().put("type", "mercure").put("actions", new JsonArray().add("publish").add("subscribe"))
          .put("topics", new JsonArray().add(new JsonObject().put("match", "urn:x")))));
    MercureClaims c = await(auth.verify(MercureAuth.Role.SUBSCRIBER, hs256(claims, "at+jwt")));
    assertThat(c.form()).isEqualTo(MercureClaims.Form.ACCESS_TOKEN);
    assertThat(c.subject()).isEqualTo("alice");
    assertThat(c.canSubscribe("https://example.com/books/1")).isTrue();
    assertThat(c.canSubscribe("urn:x")).isTrue();
    assertThat(c.canPublish("urn:x")).isTrue();
    assertThat(c.canPublish("https://example.com/books/1")).isFalse();
    assertThat(c.payload()).isEqualTo(new JsonObject().put("p", 1));
    assertThat(c.payloadFor("https://example.com/books/:id")).as("the detail whose matcher matches the subscription's").isEqualTo(new JsonObject().put("p", 1));
    assertThat(c.payloadFor("https://example.com/books/3")).isEqualTo(new JsonObject().put("p", 1));
    assertThat(c.payloadFor("urn:x")).as("a detail without payload gives none").isNull();

    // typ must be at+jwt, aud must list the hub, exp is required, details must all parse.
    assertInvalid(auth, hs256(claims, "JWT"));
    assertInvalid(auth, hs256(claims.copy().put("aud", "https://other.example.com"), "at+jwt"));
    assertInvalid(auth, hs256(withoutKey(claims, "aud"), "at+jwt"));
    assertInvalid(auth, hs256(withoutKey(claims, "exp"), "at+jwt"));
    assertInvalid(auth, hs256(claims.copy().put("exp", in(-120)), "at+jwt"));
    JsonObject badType = claims.copy().put("authorization_details", new JsonArray().add(new JsonObject().put("type", "mercure")
      .put("actions", new JsonArray().add("subscribe")).put("topics", new JsonArray().add(new JsonObject().put("match", "x").put("matchType", "Regex")))));
    assertInvalid(auth, hs256(badType, "at+jwt"));
    JsonObject badAction = claims.copy().put("authorization_details", new JsonArray().add(new JsonObject().put("type", "mercure")
      .put("actions", new JsonArray().add("delete")).put("topics", new JsonArray().add(new JsonObject().put("match", "x")))));
    assertInvalid(auth, hs256(badAction, "at+jwt"));
    JsonObject badPattern = claims.copy().put("authorization_details", new JsonArray().add(new JsonObject().put("type", "mercure")
      .put("actions", new JsonArray().add("subscribe"))
      .put("topics", new JsonArray().add(new JsonObject().put("match", "https://example.com/(a{2})").put("matchType", "URLPattern")))));
    assertInvalid(auth, hs256(badPattern, "at+jwt"));
  }

  @Test
  @DisplayName("the configured issuer and audience are checked on every token form")
  void issuerAndAudience(Vertx vertx) throws Exception {
    MercureAuth auth = MercureAuth.create(vertx, options(new JsonObject().put("mercurePublisherJwtKey", SECRET)
      .put("mercureAnonymous", true).put("mercureIssuer", "https://issuer.example.com").put("mercureAudience", AUD)));
    JsonObject good = new JsonObject().put("iss", "https://issuer.example.com").put("aud", AUD)
      .put("mercure", new JsonObject().put("publish", new JsonArray().add("*")));
    assertThat(await(auth.verify(MercureAuth.Role.PUBLISHER, hs256(good, "JWT"))).canPublish("x")).isTrue();
    assertInvalid(auth, MercureAuth.Role.PUBLISHER, hs256(good.copy().put("iss", "https://evil.example.com"), "JWT"));
    assertInvalid(auth, MercureAuth.Role.PUBLISHER, hs256(good.copy().put("aud", "elsewhere"), "JWT"));
    JsonObject bare = withoutKey(withoutKey(good, "iss"), "aud");
    assertThat(await(auth.verify(MercureAuth.Role.PUBLISHER, hs256(bare, "JWT"))).canPublish("x"))
      .as("a mercure-claim token without iss and aud is trusted by its key").isTrue();
    JsonObject access = new JsonObject().put("iss", "https://issuer.example.com").put("aud", AUD).put("exp", in(60))
      .put("authorization_details", new JsonArray().add(new JsonObject().put("type", "mercure")
        .put("actions", new JsonArray().add("publish")).put("topics", new JsonArray().add(new JsonObject().put("match", "*")))));
    assertThat(await(auth.verify(MercureAuth.Role.PUBLISHER, hs256(access, "at+jwt"))).canPublish("x")).isTrue();
    assertInvalid(auth, MercureAuth.Role.PUBLISHER, hs256(withoutKey(access, "iss"), "at+jwt"));
    assertInvalid(auth, MercureAuth.Role.SUBSCRIBER, hs256(good, "JWT")); // no subscriber key configured
  }

  @Test
  @DisplayName("a forged, unsigned, wrongly signed or other-algorithm token is invalid_token, whatever the reason")
  void refused(Vertx vertx) throws Exception {
    MercureAuth auth = MercureAuth.create(vertx, hs256());
    JsonObject claims = new JsonObject().put("mercure", new JsonObject().put("publish", new JsonArray().add("*")));
    String good = hs256(claims, "JWT");
    assertInvalid(auth, hs256(claims, SECRET + "x", "JWT"));
    assertInvalid(auth, good.substring(0, good.lastIndexOf('.') + 1));
    String none = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64(claims.encode()) + ".";
    assertInvalid(auth, none);
    assertInvalid(auth, "not a token");
    assertInvalid(auth, hs256(claims.copy().put("mercure", new JsonObject().put("publish", "*")), "JWT"));
    assertInvalid(auth, hs256(claims.copy().put("mercure", new JsonObject().put("publish", new JsonArray().add(1))), "JWT"));
    KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    assertInvalid(auth, sign("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims, rsa.getPrivate(), "SHA256withRSA"));
    Throwable e = failure(auth.verify(MercureAuth.Role.PUBLISHER, none));
    assertThat(((MercureError) e).challenge()).startsWith("Bearer error=\"invalid_token\"");
    assertThat(e.getMessage()).isEqualTo("the token is invalid or expired");
  }

  @Test
  @DisplayName("RS256 and ES256 keys verify tokens signed with their private halves, and refuse HS256 tokens and DER signatures")
  void publicKeys(Vertx vertx) throws Exception {
    KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
    ecGen.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair ec = ecGen.generateKeyPair();
    MercureAuth auth = MercureAuth.create(vertx, options(new JsonObject()
      .put("mercurePublisherJwtKey", pem(rsa.getPublic())).put("mercurePublisherJwtAlg", "RS256")
      .put("mercureSubscriberJwtKey", pem(ec.getPublic())).put("mercureSubscriberJwtAlg", "ES256")));
    JsonObject claims = new JsonObject().put("exp", in(60)).put("mercure", new JsonObject()
      .put("publish", new JsonArray().add("a")).put("subscribe", new JsonArray().add("b")));
    String rs = sign("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims, rsa.getPrivate(), "SHA256withRSA");
    String es = sign("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", claims, ec.getPrivate(), "SHA256withECDSAinP1363Format");
    assertThat(await(auth.verify(MercureAuth.Role.PUBLISHER, rs)).canPublish("a")).isTrue();
    assertThat(await(auth.verify(MercureAuth.Role.SUBSCRIBER, es)).canSubscribe("b")).isTrue();
    assertInvalid(auth, MercureAuth.Role.SUBSCRIBER, rs); // the publisher's token is no subscriber's
    assertInvalid(auth, MercureAuth.Role.PUBLISHER, es);
    assertInvalid(auth, MercureAuth.Role.PUBLISHER, hs256(claims, pem(rsa.getPublic()), "JWT")); // algorithm confusion
    assertInvalid(auth, MercureAuth.Role.SUBSCRIBER, sign("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", claims, ec.getPrivate(), "SHA256withECDSA"));
  }

  @Test
  @DisplayName("the options validate with the key named: short secrets, non-PEM keys, missing keys, bad origins and cookie names")
  void optionsValidate() {
    assertThatThrownBy(() -> options(new JsonObject().put("mercurePublisherJwtKey", "short").put("mercureAnonymous", true)))
      .isInstanceOf(ConfigException.class).hasMessageContaining("gateway.mercurePublisherJwtKey").hasMessageContaining("32 bytes");
    assertThatThrownBy(() -> options(new JsonObject().put("mercurePublisherJwtKey", SECRET).put("mercurePublisherJwtAlg", "RS256")
      .put("mercureAnonymous", true))).hasMessageContaining("gateway.mercurePublisherJwtKey").hasMessageContaining("PEM");
    assertThatThrownBy(() -> options(new JsonObject().put("mercureAnonymous", true)))
      .hasMessageContaining("gateway.mercurePublisherJwtKey").hasMessageContaining("required");
    assertThatThrownBy(() -> options(new JsonObject().put("mercurePublisherJwtKey", SECRET)))
      .hasMessageContaining("gateway.mercureSubscriberJwtKey");
    assertThatThrownBy(() -> options(new JsonObject().put("mercurePublisherJwtKey", SECRET).put("mercureAnonymous", true)
      .put("mercurePublisherJwtAlg", "none"))).hasMessageContaining("gateway.mercurePublisherJwtAlg");
    assertThatThrownBy(() -> options(new JsonObject().put("mercurePublisherJwtKey", SECRET).put("mercureAnonymous", true)
      .put("mercureCorsOrigins", "https://a.example.com/path"))).hasMessageContaining("gateway.mercureCorsOrigins");
    assertThatThrownBy(() -> options(new JsonObject().put("mercurePublisherJwtKey", SECRET).put("mercureAnonymous", true)
      .put("mercureCookieName", "a b"))).hasMessageContaining("gateway.mercureCookieName");
    MercureOptions ok = options(new JsonObject().put("mercurePublisherJwtKey", SECRET).put("mercureAnonymous", true)
      .put("mercureCorsOrigins", "https://a.example.com,http://localhost:3000"));
    assertThat(ok.corsOrigins()).containsExactly("https://a.example.com", "http://localhost:3000");
    assertThat(ok.cookieName()).isEqualTo("mercureAuthorization");
  }

  @Test
  @DisplayName("the reserved namespace is found after resolving the topic against the hub's URL")
  void reserved() {
    assertThat(MercurePublish.reserved("/.well-known/mercure/subscriptions/x")).isTrue();
    assertThat(MercurePublish.reserved("https://hub.example.com/.well-known/mercure")).isTrue();
    assertThat(MercurePublish.reserved("https://evil.example.com/a/../.well-known/mercure/subscriptions/x")).isTrue();
    assertThat(MercurePublish.reserved("https://example.com/.well-known/mercurex")).isFalse();
    assertThat(MercurePublish.reserved("https://example.com/books/1")).isFalse();
  }

  // ---------------------------------------------------------------- helpers

  static void assertInvalid(MercureAuth auth, String token) {
    assertInvalid(auth, MercureAuth.Role.SUBSCRIBER, token);
    assertInvalid(auth, MercureAuth.Role.PUBLISHER, token);
  }

  static void assertInvalid(MercureAuth auth, MercureAuth.Role role, String token) {
    Throwable e = failure(auth.verify(role, token));
    assertThat(e).isInstanceOf(MercureError.class);
    assertThat(((MercureError) e).status()).isEqualTo(401);
    assertThat(((MercureError) e).error()).isEqualTo("invalid_token");
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static Throwable failure(Future<?> f) {
    try {
      f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected a failure");
  }

  static JsonObject withoutKey(JsonObject o, String key) {
    JsonObject c = o.copy();
    c.remove(key);
    return c;
  }

  static String hs256(JsonObject claims, String typ) throws Exception {
    return hs256(claims, SECRET, typ);
  }

  static String hs256(JsonObject claims, String secret, String typ) throws Exception {
    return Jwt.hs256(claims, secret, typ);
  }


  static String sign(String header, JsonObject claims, PrivateKey key, String algorithm) throws Exception {
    return Jwt.sign(header, claims, key, algorithm);
  }


  static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static String pem(PublicKey key) {
    return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
      + "\n-----END PUBLIC KEY-----\n";
  }
}
