package io.herald.notifier;

import io.herald.common.EventCodec;
import io.herald.common.replay.ReplayClient;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.Jwt;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Publisher keys (hashed, plain, restricted to topics) and JWT publishers, over real HTTP. */
@ExtendWith(VertxExtension.class)
class PublisherAuthTest {

  private static final String HASHED_KEY = "hashed-publisher-key-1";
  private static final String PLAIN_KEY = "plain-publisher-key-1";
  private static final String RESTRICTED_KEY = "restricted-publisher-key-1";
  private static final String HS_SECRET = "an-hs256-secret-of-at-least-32-characters";
  private static final String EVENT = "{\"topic\":\"%s\",\"data\":1}";

  private static KeyPair rsa;
  private static Path pem;

  private Vertx vertx;
  private HttpClient http;
  private ReplayClient replay;
  private NotifierVerticle notifier;

  record Reply(int status, Map<String, String> headers, JsonObject body) {
  }

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir) throws Exception {
    this.vertx = vertx;
    EventCodec.register(vertx);
    if (rsa == null) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      rsa = g.generateKeyPair();
    }
    pem = dir.resolve("publisher-jwt.pem");
    Files.writeString(pem, publicPem());
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    notifier = deploy(new JsonObject()
      .put("publisherKeys", List.of("sha256:" + sha256Hex(HASHED_KEY), PLAIN_KEY, "sha256:" + sha256Hex(RESTRICTED_KEY) + "=orders.*|audit"))
      .put("publisherJwtSecret", HS_SECRET)
      .put("publisherJwtPublicKeyFile", pem.toString()));
    http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    replay = new ReplayClient(vertx, 5000);
  }

  @AfterEach
  void stop() throws Exception {
    await(http.close());
  }

  private NotifierVerticle deploy(JsonObject config) throws Exception {
    NotifierVerticle n = new NotifierVerticle(new NotifierOptions(config.put("port", 0)));
    await(vertx.deployVerticle(n));
    return n;
  }

  @Test
  @DisplayName("A key configured as sha256:<hex> is accepted, and a plain key still is")
  void hashedAndPlainKeys() throws Exception {
    assertThat(publish(notifier, HASHED_KEY, "hashed").status()).isEqualTo(200);
    assertThat(publish(notifier, PLAIN_KEY, "plain").status()).isEqualTo(200);
    assertThat(seq("hashed")).isEqualTo(1);
    assertThat(seq("plain")).isEqualTo(1);
  }

  @Test
  @DisplayName("A wrong key, or the hex digest itself presented as the key, gets 401 with a JSON body")
  void wrongKey() throws Exception {
    for (String key : List.of("not-a-configured-key", "sha256:" + sha256Hex(HASHED_KEY), sha256Hex(HASHED_KEY))) {
      Reply r = publish(notifier, key, "denied");
      assertUnauthorized(r);
    }
    assertThat(seq("denied")).isZero();
  }

  @Test
  @DisplayName("A key restricted to patterns publishes inside them and gets 403 naming the topic outside, storing nothing")
  void restrictedKey() throws Exception {
    assertThat(publish(notifier, RESTRICTED_KEY, "orders.eu").status()).isEqualTo(200);
    assertThat(publish(notifier, RESTRICTED_KEY, "audit").status()).isEqualTo(200);
    Reply outside = publish(notifier, RESTRICTED_KEY, "billing");
    assertThat(outside.status()).isEqualTo(403);
    assertThat(outside.body().getString("error")).isEqualTo("access_denied");
    assertThat(outside.body().getString("message")).contains("billing");
    Reply deeper = publish(notifier, RESTRICTED_KEY, "orders.eu.paris");
    assertThat(deeper.status()).as("* stays within one segment").isEqualTo(403);
    Reply batch = post(notifier, "/publish/batch", "Bearer " + RESTRICTED_KEY,
      "{\"events\":[{\"topic\":\"orders.us\",\"data\":1},{\"topic\":\"billing\",\"data\":2}]}");
    assertThat(batch.status()).isEqualTo(403);
    assertThat(seq("billing")).isZero();
    assertThat(seq("orders.eu.paris")).isZero();
    assertThat(seq("orders.us")).as("a batch with one topic outside stores nothing").isZero();
    assertThat(seq("orders.eu")).isEqualTo(1);
  }

  @Test
  @DisplayName("An HS256 token whose publish claim covers the topic is accepted, with {sub} replaced by the subject")
  void hs256Valid() throws Exception {
    String token = hs256(claims("svc-a", List.of("jobs.{sub}", "news")), HS_SECRET.getBytes(StandardCharsets.UTF_8));
    assertThat(publish(notifier, token, "jobs.svc-a").status()).isEqualTo(200);
    assertThat(publish(notifier, token, "news").status()).isEqualTo(200);
    assertThat(seq("jobs.svc-a")).isEqualTo(1);
    Reply other = publish(notifier, token, "jobs.svc-b");
    assertThat(other.status()).isEqualTo(403);
    assertThat(other.body().getString("error")).isEqualTo("access_denied");
    assertThat(other.body().getString("message")).contains("jobs.svc-b");
    assertThat(seq("jobs.svc-b")).isZero();
  }

  @Test
  @DisplayName("An expired token, a token not valid yet and a token without exp get 401")
  void expiredToken() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    byte[] key = HS_SECRET.getBytes(StandardCharsets.UTF_8);
    String expired = hs256(claims("svc", List.of("t")).put("exp", now - 120).put("iat", now - 600), key);
    String early = hs256(claims("svc", List.of("t")).put("nbf", now + 600), key);
    String noExp = hs256(new JsonObject().put("sub", "svc").put("publish", new JsonArray().add("t")), key);
    for (String token : List.of(expired, early, noExp)) {
      assertUnauthorized(publish(notifier, token, "t"));
    }
    assertThat(publish(notifier, expired, "t").body().getString("message")).contains("expired");
    assertThat(seq("t")).isZero();
  }

  @Test
  @DisplayName("An unsigned token (alg none) gets 401")
  void algNone() throws Exception {
    String header = b64(new JsonObject().put("alg", "none").put("typ", "JWT").encode().getBytes(StandardCharsets.UTF_8));
    String payload = b64(claims("svc", List.of("t")).encode().getBytes(StandardCharsets.UTF_8));
    for (String token : List.of(header + "." + payload + ".", header + "." + payload + "." + b64("x".getBytes()))) {
      assertUnauthorized(publish(notifier, token, "t"));
    }
    assertThat(seq("t")).isZero();
  }

  @Test
  @DisplayName("An RS256 token signed with the private key of the configured public key is accepted")
  void rs256Valid() throws Exception {
    String token = rs256(claims("svc-r", List.of("rsa.*")), rsa.getPrivate());
    assertThat(publish(notifier, token, "rsa.ok").status()).isEqualTo(200);
    assertThat(seq("rsa.ok")).isEqualTo(1);
    String otherKey = rs256(claims("svc-r", List.of("rsa.*")), otherRsaKey());
    assertUnauthorized(publish(notifier, otherKey, "rsa.no"));
    assertThat(seq("rsa.no")).isZero();
  }

  @Test
  @DisplayName("An HS256 token signed with the RSA public key's bytes (algorithm confusion) gets 401")
  void algorithmConfusion() throws Exception {
    NotifierVerticle rsaOnly = deploy(new JsonObject().put("publisherKeys", List.of("sha256:" + sha256Hex(HASHED_KEY)))
      .put("publisherJwtPublicKeyFile", pem.toString()));
    JsonObject c = claims("svc", List.of("t"));
    for (byte[] key : List.of(Files.readAllBytes(pem), rsa.getPublic().getEncoded())) {
      assertUnauthorized(publish(rsaOnly, hs256(c, key), "t"));
      assertUnauthorized(publish(notifier, hs256(c, key), "t"));
    }
    assertThat(publish(rsaOnly, rs256(c, rsa.getPrivate()), "t").status()).as("the same claims, properly signed").isEqualTo(200);
    assertThat(seq("t")).isEqualTo(1);
  }

  @Test
  @DisplayName("Bad publisher-auth config is refused at boot, naming the key")
  void badConfig() throws Exception {
    List<JsonObject> bad = List.of(
      new JsonObject().put("publisherKeys", List.of("sha256:abcd")),
      new JsonObject().put("publisherKeys", List.of("sha256:" + sha256Hex("x") + "=bad topic")),
      new JsonObject().put("publisherKeys", List.of("short")),
      new JsonObject().put("publisherJwtSecret", "too-short"),
      new JsonObject().put("publisherJwtPublicKeyFile", "/nonexistent/key.pem"),
      new JsonObject().put("webhookSecrets", List.of("n8n=short")),
      new JsonObject().put("webhookSecrets", List.of("no-secret")),
      new JsonObject().put("webhookToleranceSeconds", 0));
    for (JsonObject config : bad) {
      String key = config.fieldNames().iterator().next();
      assertThatThrownBy(() -> new NotifierOptions(config)).as(config.encode()).hasMessageContaining("notifier." + key);
    }
  }

  private void assertUnauthorized(Reply r) {
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.headers().get("content-type")).isEqualTo("application/json");
    assertThat(r.headers().get("www-authenticate")).startsWith("Bearer");
    assertThat(r.body().getString("error")).isEqualTo("unauthorized");
    assertThat(r.body().getString("message")).isNotBlank();
  }

  private static JsonObject claims(String sub, List<String> publish) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("sub", sub).put("iat", now).put("exp", now + 600).put("publish", new JsonArray(publish));
  }

  private static String hs256(JsonObject claims, byte[] key) throws Exception {
    return Jwt.hs256(claims, key);
  }


  private static String rs256(JsonObject claims, PrivateKey key) throws Exception {
    return Jwt.rs256(claims, key);
  }


  private static PrivateKey otherRsaKey() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair().getPrivate();
  }

  private static String publicPem() {
    return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(rsa.getPublic().getEncoded())
      + "\n-----END PUBLIC KEY-----\n";
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static String sha256Hex(String s) throws Exception {
    return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  private long seq(String topic) throws Exception {
    return await(replay.heads(List.of(topic))).get(topic).seq();
  }

  private Reply publish(NotifierVerticle n, String credential, String topic) throws Exception {
    return post(n, "/publish", "Bearer " + credential, String.format(EVENT, topic));
  }

  private Reply post(NotifierVerticle n, String path, String authorization, String body) throws Exception {
    var r = io.herald.testsupport.JdkHttp.send("POST", "http://127.0.0.1:" + n.actualPort() + path, body,
      "Content-Type", "application/json", "Authorization", authorization);
    return new Reply(r.status(), r.headers(), r.body().isEmpty() ? new JsonObject() : new JsonObject(r.body()));
  }

  private static <T> T await(Future<T> f) throws Exception {
    return io.herald.testsupport.Diagnostics.get(f.toCompletionStage().toCompletableFuture(), 10, "a request");
  }
}
