package io.herald.gateway;

import io.herald.common.config.ConfigException;
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

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.concurrent.ExecutionException;

import static io.herald.gateway.GatewayHarness.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which tokens verify: bad and unsigned tokens, exp, RS256, ES256/ES384, JWKS, algorithm confusion, issuer and audience, and unusable key files. */
@ExtendWith(VertxExtension.class)
class SubscriberAuthTokenTest extends SubscriberAuthFixture {

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

  private static byte[] unsigned(java.math.BigInteger i) {
    byte[] b = i.toByteArray();
    return b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
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
