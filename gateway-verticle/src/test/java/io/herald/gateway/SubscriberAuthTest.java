package io.herald.gateway;

import io.herald.common.config.ConfigException;
import io.herald.gateway.fanout.Subscriber;
import io.herald.testsupport.Jwt;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutionException;

import static io.herald.gateway.GatewayHarness.await;
import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Subscriber authentication and topic authorisation, end to end: a real gateway and replay verticle over loopback HTTP. */
@ExtendWith(VertxExtension.class)
class SubscriberAuthTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";
  private static final HttpClient JDK_HTTP = HttpClient.newBuilder()
    .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private static JsonObject jwtConfig() {
    return new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET);
  }

  private static GatewayHarness harness(Vertx vertx, JsonObject gatewayConfig) throws Exception {
    return new GatewayHarness(vertx, gatewayConfig, new JsonObject());
  }

  @Test
  @DisplayName("A valid HS256 token naming the topic opens the stream and events arrive")
  void validTokenExactTopic(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig());
         SseClient c = h.sse("/events?topic=orders", "Authorization", "Bearer " + hs256(claims("alice", "orders")))) {
      c.await(l -> !l.isEmpty(), WAIT);
      h.publish("orders", "o1");
      assertThat(c.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("o1");
    }
  }

  @Test
  @DisplayName("Patterns match within one segment and {sub} stands for the subject, literally")
  void patternsAndSubject(Vertx vertx) throws Exception {
    String alice = hs256(claims("alice", "news.*", "user:{sub}"));
    try (GatewayHarness h = harness(vertx, jwtConfig());
         SseClient c = h.sse("/events?topic=news.sport&topic=user:alice", "Authorization", "Bearer " + alice)) {
      c.await(l -> !l.isEmpty(), WAIT);
      assertRefused(h, "/events?topic=user:bob", alice, 403, "access_denied", "user:bob");
      assertRefused(h, "/events?topic=news.sport.live", alice, 403, "access_denied", "news.sport.live");
      assertRefused(h, "/events?topic=news", alice, 403, "access_denied", "news");
      // A subject of "*" is the character, not a wildcard.
      String star = hs256(claims("*", "user:{sub}"));
      assertRefused(h, "/events?topic=user:bob", star, 403, "access_denied", "user:bob");
      // No subject: {sub} patterns grant nothing.
      String noSub = hs256(new JsonObject().put("topics", new JsonArray().add("user:{sub}")).put("exp", now() + 600));
      assertRefused(h, "/events?topic=user:", noSub, 403, "access_denied", null);
    }
  }

  @Test
  @DisplayName("A topic outside the claims gets 403 naming the first refused topic, and nothing is subscribed")
  void topicNotInClaims(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig())) {
      String token = hs256(claims("alice", "orders"));
      Answer resp = get(h, "/events?topic=orders&topic=payroll&topic=secrets", "Authorization", "Bearer " + token);
      assertThat(resp.statusCode()).isEqualTo(403);
      JsonObject body = new JsonObject(resp.body());
      assertThat(body.getString("error")).isEqualTo("access_denied");
      assertThat(body.getString("topic")).isEqualTo("payroll");
      assertThat(body.getString("message")).contains("payroll");
      assertThat(h.gateway.sse().connectionCount()).isZero();
      assertThat(h.gateway.sse().heldTopics()).isEmpty();
    }
  }

  @Test
  @DisplayName("Missing, expired, not-yet-valid, wrongly signed, alg none and garbage tokens get 401 with WWW-Authenticate")
  void invalidTokens(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig())) {
      assertRefused(h, "/events?topic=orders", null, 401, "unauthorized", null);
      assertRefused(h, "/events?topic=orders", hs256(claims("alice", "orders").put("exp", now() - 60)), 401, "unauthorized", null);
      assertRefused(h, "/events?topic=orders", hs256(claims("alice", "orders").put("nbf", now() + 600)), 401, "unauthorized", null);
      assertRefused(h, "/events?topic=orders", hs256(claims("alice", "orders"), "another-secret-that-is-also-long-enough"), 401,
        "unauthorized", null);
      String unsigned = b64(new JsonObject().put("alg", "none").put("typ", "JWT").encode()) + "." + b64(claims("alice", "orders").encode());
      assertRefused(h, "/events?topic=orders", unsigned + ".", 401, "unauthorized", null);
      assertRefused(h, "/events?topic=orders", unsigned, 401, "unauthorized", null);
      String noneWithSig = hs256(claims("alice", "orders"));
      String forged = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + noneWithSig.substring(noneWithSig.indexOf('.'));
      assertRefused(h, "/events?topic=orders", forged, 401, "unauthorized", null);
      assertRefused(h, "/events?topic=orders", "not.a.jwt", 401, "unauthorized", null);
      assertThat(h.gateway.sse().connectionCount()).isZero();
    }
  }

  @Test
  @DisplayName("A token without exp gets 401 by default; with jwtRequireExp false it opens a stream that does not expire")
  void tokenWithoutExp(Vertx vertx) throws Exception {
    JsonObject noExp = new JsonObject().put("sub", "alice").put("topics", new JsonArray().add("orders"));
    try (GatewayHarness h = harness(vertx, jwtConfig())) {
      assertRefused(h, "/events?topic=orders", hs256(noExp), 401, "unauthorized", null);
      Answer resp = get(h, "/events?topic=orders", "Authorization", "Bearer " + hs256(noExp));
      assertThat(new JsonObject(resp.body()).getString("message")).contains("exp");
      assertThat(h.gateway.sse().connectionCount()).isZero();
    }
    try (GatewayHarness h = harness(vertx, jwtConfig().put("jwtRequireExp", false));
         SseClient c = h.sse("/events?topic=orders", "Authorization", "Bearer " + hs256(noExp))) {
      c.await(l -> !l.isEmpty(), WAIT);
      h.publish("orders", "no exp");
      assertThat(c.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("no exp");
    }
  }

  @Test
  @DisplayName("RS256 with a PEM public key works; an HS256 token signed with that public key is refused")
  void rs256AndAlgorithmConfusion(Vertx vertx, @TempDir Path dir) throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    KeyPair pair = gen.generateKeyPair();
    String pem = "-----BEGIN PUBLIC KEY-----\n"
      + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pair.getPublic().getEncoded())
      + "\n-----END PUBLIC KEY-----\n";
    Path file = dir.resolve("subscriber-key.pem");
    Files.writeString(file, pem);
    JsonObject cfg = new JsonObject().put("authMode", "jwt").put("jwtPublicKeyFile", file.toString());
    try (GatewayHarness h = harness(vertx, cfg);
         SseClient c = h.sse("/events?topic=orders", "Authorization", "Bearer " + rs256(claims("alice", "orders"), pair.getPrivate()))) {
      c.await(l -> !l.isEmpty(), WAIT);
      h.publish("orders", "signed by rsa");
      assertThat(c.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("signed by rsa");
      assertRefused(h, "/events?topic=orders", hs256(claims("alice", "orders"), pem), 401, "unauthorized", null);
      assertRefused(h, "/events?topic=orders", hs256(claims("alice", "orders"), pair.getPublic().getEncoded()), 401, "unauthorized", null);
      // And the other way round: only RS256 is configured, so a well-formed HS256 token with our test secret is refused too.
      assertRefused(h, "/events?topic=orders", hs256(claims("alice", "orders")), 401, "unauthorized", null);
    }
  }

  @Test
  @DisplayName("ES256 with a PEM EC key and RS256 from a JWKS file both verify")
  void es256AndJwks(Vertx vertx, @TempDir Path dir) throws Exception {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
    KeyPair ecPair = ec.generateKeyPair();
    Path pem = dir.resolve("ec.pem");
    Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(ecPair.getPublic().getEncoded())
      + "\n-----END PUBLIC KEY-----\n");
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    KeyPair rsaPair = rsa.generateKeyPair();
    java.security.interfaces.RSAPublicKey pub = (java.security.interfaces.RSAPublicKey) rsaPair.getPublic();
    JsonObject jwk = new JsonObject().put("kty", "RSA").put("alg", "RS256").put("use", "sig").put("kid", "k1")
      .put("n", b64(unsigned(pub.getModulus()))).put("e", b64(unsigned(pub.getPublicExponent())));
    Path jwks = dir.resolve("jwks.json");
    Files.writeString(jwks, new JsonObject().put("keys", new JsonArray().add(jwk)).encode());
    JsonObject cfg = new JsonObject().put("authMode", "jwt").put("jwtPublicKeyFile", pem.toString()).put("jwtJwksFile", jwks.toString());
    try (GatewayHarness h = harness(vertx, cfg);
         SseClient e = h.sse("/events?topic=orders", "Authorization", "Bearer " + es256(claims("alice", "orders"), ecPair.getPrivate()));
         SseClient r = h.sse("/events?topic=orders", "Authorization", "Bearer " + rs256(claims("bob", "orders"), rsaPair.getPrivate(), "k1"))) {
      e.await(l -> !l.isEmpty(), WAIT);
      r.await(l -> !l.isEmpty(), WAIT);
      assertRefused(h, "/events?topic=orders", es256(claims("alice", "orders"), ec.generateKeyPair().getPrivate()), 401, "unauthorized", null);
    }
  }

  @Test
  @DisplayName("ES256 and ES384 take the raw R||S signature of RFC 7518; the same claims signed in DER are refused")
  void ecdsaRawSignatureOnly(Vertx vertx, @TempDir Path dir) throws Exception {
    for (String[] kind : new String[][] {{"secp256r1", "ES256", "SHA256"}, {"secp384r1", "ES384", "SHA384"}}) {
      KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
      ec.initialize(new java.security.spec.ECGenParameterSpec(kind[0]));
      KeyPair pair = ec.generateKeyPair();
      Path pem = dir.resolve(kind[1] + ".pem");
      Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(pair.getPublic().getEncoded())
        + "\n-----END PUBLIC KEY-----\n");
      String header = "{\"alg\":\"" + kind[1] + "\",\"typ\":\"JWT\"}";
      JsonObject claims = claims("alice", "orders");
      try (GatewayHarness h = harness(vertx, new JsonObject().put("authMode", "jwt").put("jwtPublicKeyFile", pem.toString()));
           SseClient raw = h.sse("/events?topic=orders", "Authorization",
             "Bearer " + sign(header, claims, pair.getPrivate(), kind[2] + "withECDSAinP1363Format"))) {
        raw.await(l -> !l.isEmpty(), WAIT);
        assertRefused(h, "/events?topic=orders", sign(header, claims, pair.getPrivate(), kind[2] + "withECDSA"), 401, "unauthorized", null);
      }
    }
  }

  private static byte[] unsigned(java.math.BigInteger i) {
    byte[] b = i.toByteArray();
    return b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
  }

  @Test
  @DisplayName("The token may come as the access_token query parameter or the herald_token cookie")
  void queryAndCookie(Vertx vertx) throws Exception {
    String token = hs256(claims("alice", "orders"));
    try (GatewayHarness h = harness(vertx, jwtConfig());
         SseClient q = h.sse("/events?topic=orders&access_token=" + token);
         SseClient k = h.sse("/events?topic=orders", "Cookie", "theme=dark; herald_token=" + token)) {
      q.await(l -> !l.isEmpty(), WAIT);
      k.await(l -> !l.isEmpty(), WAIT);
      h.publish("orders", "both");
      assertThat(q.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("both");
      assertThat(k.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("both");
      assertRefused(h, "/events?topic=orders&access_token=" + hs256(claims("alice", "other")), null, 403, "access_denied", "orders");
    }
  }

  @Test
  @DisplayName("Without a token a client may read the public topics only")
  void anonymousPublicTopics(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig().put("publicTopics", new JsonArray().add("status").add("public.*")));
         SseClient c = h.sse("/events?topic=status&topic=public.news")) {
      c.await(l -> !l.isEmpty(), WAIT);
      h.publish("public.news", "hello everyone");
      assertThat(c.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("hello everyone");
      assertRefused(h, "/events?topic=status&topic=orders", null, 401, "unauthorized", null);
      // A token adds to the public topics.
      try (SseClient t = h.sse("/events?topic=status&topic=orders", "Authorization", "Bearer " + hs256(claims("alice", "orders")))) {
        t.await(l -> !l.isEmpty(), WAIT);
      }
    }
  }

  @Test
  @DisplayName("A token that expires while connected ends the stream with herald.expired")
  void expiryEndsTheStream(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig());
         SseClient c = h.sse("/events?topic=orders", "Authorization", "Bearer " + hs256(claims("alice", "orders").put("exp", now() + 2)))) {
      c.await(l -> !l.isEmpty(), WAIT);
      c.awaitEnd(WAIT);
      assertThat(c.events()).extracting(SseEvent::type).contains("herald.expired");
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
      assertThat(h.gateway.sse().heldTopics()).isEmpty();
    }
  }

  @Test
  @DisplayName("Closing the stream before the token expires cancels its expiry timer")
  void closeCancelsExpiry(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig())) {
      SseClient c = h.sse("/events?topic=orders", "Authorization", "Bearer " + hs256(claims("alice", "orders").put("exp", now() + 3600)));
      c.await(l -> !l.isEmpty(), WAIT);
      awaitCondition(() -> h.gateway.sse().connectionCount() == 1);
      java.lang.ref.WeakReference<Connection> conn = new java.lang.ref.WeakReference<>(h.gateway.sse().connections().get(0));
      c.close();
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
      // The expiry timer, an hour away, held the connection: once cancelled nothing does.
      awaitCondition(() -> {
        System.gc();
        return conn.get() == null;
      });
    }
  }

  @Test
  @DisplayName("A Last-Event-ID that names other topics cannot read them")
  void replayIsolation(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig())) {
      String lastId;
      try (SseClient both = h.sse("/events?topic=mine&topic=secret", "Authorization", "Bearer " + hs256(claims("admin", "mine", "secret")))) {
        both.await(l -> !l.isEmpty(), WAIT);
        h.publish("mine", "m1");
        h.publish("secret", "s1");
        lastId = both.awaitAppEvents(2, WAIT).get(1).id();
      }
      h.publish("secret", "s2");
      h.publish("mine", "m2");
      String mineOnly = hs256(claims("alice", "mine"));
      assertRefused(h, "/events?topic=mine&topic=secret", mineOnly, 403, "access_denied", "secret");
      try (SseClient c = h.sse("/events?topic=mine", "Authorization", "Bearer " + mineOnly, "Last-Event-ID", lastId)) {
        assertThat(c.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("m2");
        h.publish("secret", "s3");
        h.publish("mine", "m3");
        assertThat(c.awaitAppEvents(2, WAIT)).extracting(SseEvent::data).containsExactly("m2", "m3");
        assertThat(c.raw()).doesNotContain("s1", "s2", "s3");
      }
    }
  }

  @Test
  @DisplayName("issuer and audience are checked when configured")
  void issuerAndAudience(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig().put("jwtIssuer", "https://login.example").put("jwtAudience", "herald"))) {
      JsonObject good = claims("alice", "orders").put("iss", "https://login.example").put("aud", "herald");
      try (SseClient c = h.sse("/events?topic=orders", "Authorization", "Bearer " + hs256(good))) {
        c.await(l -> !l.isEmpty(), WAIT);
      }
      assertRefused(h, "/events?topic=orders", hs256(good.copy().put("iss", "https://evil.example")), 401, "unauthorized", null);
      assertRefused(h, "/events?topic=orders", hs256(good.copy().put("aud", "someone-else")), 401, "unauthorized", null);
    }
  }

  @Test
  @DisplayName("With authMode none nothing changes: no token needed, tokens ignored")
  void authModeNone(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, new JsonObject());
         SseClient c = h.sse("/events?topic=anything"); SseClient t = h.sse("/events?topic=anything&access_token=garbage")) {
      c.await(l -> !l.isEmpty(), WAIT);
      t.await(l -> !l.isEmpty(), WAIT);
      h.publish("anything", "x");
      assertThat(c.awaitAppEvents(1, WAIT)).hasSize(1);
    }
  }

  @Test
  @DisplayName("An unreadable or unusable key file fails the deployment with an error naming the key")
  void badKeyFiles(Vertx vertx, @TempDir Path dir) throws Exception {
    assertDeployFails(vertx, new JsonObject().put("jwtPublicKeyFile", dir.resolve("missing.pem").toString()), "gateway.jwtPublicKeyFile");
    Path junk = dir.resolve("junk.pem");
    Files.writeString(junk, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    assertDeployFails(vertx, new JsonObject().put("jwtPublicKeyFile", junk.toString()), "gateway.jwtPublicKeyFile");
    Path notJwks = dir.resolve("jwks.json");
    Files.writeString(notJwks, "{\"keys\": []}");
    assertDeployFails(vertx, new JsonObject().put("jwtJwksFile", notJwks.toString()), "gateway.jwtJwksFile");
    assertDeployFails(vertx, new JsonObject().put("jwtJwksFile", dir.resolve("nope.json").toString()), "gateway.jwtJwksFile");
  }

  private static void assertDeployFails(Vertx vertx, JsonObject keys, String key) {
    GatewayOptions o = new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1).put("authMode", "jwt").mergeIn(keys));
    assertThatThrownBy(() -> await(vertx.deployVerticle(new GatewayVerticle(o))))
      .isInstanceOf(ExecutionException.class)
      .cause().isInstanceOf(ConfigException.class)
      .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(key));
  }

  // --- helpers ---

  private static void assertRefused(GatewayHarness h, String uri, String token, int status, String code, String topic) throws Exception {
    Answer resp = token == null ? get(h, uri) : get(h, uri, "Authorization", "Bearer " + token);
    assertThat(resp.statusCode()).as(uri + " " + resp.body()).isEqualTo(status);
    assertThat(resp.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject body = new JsonObject(resp.body());
    assertThat(body.getString("error")).isEqualTo(code);
    assertThat(body.getString("message")).isNotBlank();
    if (status == 401) {
      assertThat(resp.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    }
    if (topic != null) {
      assertThat(body.getString("topic")).isEqualTo(topic);
    }
  }

  /** An answer read to its end, except an event stream that opened by mistake: its body is not read (it never ends). */
  record Answer(int statusCode, java.net.http.HttpHeaders headers, String body) { }

  private static Answer get(GatewayHarness h, String uri, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.port() + uri)).timeout(Duration.ofSeconds(10)).GET();
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    HttpResponse<java.io.InputStream> resp = JDK_HTTP.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    try (java.io.InputStream in = resp.body()) {
      boolean stream = resp.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream");
      return new Answer(resp.statusCode(), resp.headers(), stream ? "(an open event stream)" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private static long now() {
    return System.currentTimeMillis() / 1000;
  }

  private static JsonObject claims(String sub, String... topics) {
    return new JsonObject().put("sub", sub).put("topics", new JsonArray(List.of((Object[]) topics)))
      .put("iat", now()).put("exp", now() + 600);
  }

  static String b64(String s) {
    return b64(s.getBytes(StandardCharsets.UTF_8));
  }

  static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static String hs256(JsonObject claims) throws Exception {
    return hs256(claims, SECRET);
  }

  static String hs256(JsonObject claims, String secret) throws Exception {
    return hs256(claims, secret.getBytes(StandardCharsets.UTF_8));
  }

  /** A token signed by hand, so that tests control every byte (including the malicious ones). */
  static String hs256(JsonObject claims, byte[] key) throws Exception {
    return Jwt.hs256(claims, key);
  }


  static String rs256(JsonObject claims, PrivateKey key) throws Exception {
    return sign("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims, key, "SHA256withRSA");
  }

  static String rs256(JsonObject claims, PrivateKey key, String kid) throws Exception {
    return sign("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}", claims, key, "SHA256withRSA");
  }

  /** JOSE wants the raw R||S signature, which is what the P1363 format gives. */
  static String es256(JsonObject claims, PrivateKey key) throws Exception {
    return sign("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", claims, key, "SHA256withECDSAinP1363Format");
  }

  private static String sign(String header, JsonObject claims, PrivateKey key, String algorithm) throws Exception {
    return Jwt.sign(header, claims, key, algorithm);
  }

}
