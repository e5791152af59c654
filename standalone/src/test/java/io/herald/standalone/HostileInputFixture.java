package io.herald.standalone;

import io.herald.testsupport.Jwt;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shared setup of the hostile-input ITs: the real jar with subscriber JWT on, started once per
 * class, alice's canary stream, bob's and a public stream, and the token helpers. After every check
 * the hub still serves: alice's canary receives a fresh event of her own topic, and bob's stream
 * never receives anything of alice's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class HostileInputFixture {

  static final String SECRET = "hostile-suite-secret-long-enough-for-hs256!";
  static final Duration WAIT = Duration.ofSeconds(10);
  /** notifier.requestTimeoutMillis of the hub under test. */
  static final long REQUEST_TIMEOUT_MILLIS = 4000;
  static final String KEY = "Bearer " + HeraldProcess.PUBLISHER_KEY;

  HeraldProcess herald;
  Vertx vertx;
  SseClient alice;
  SseClient bob;
  SseClient publicStream;
  final AtomicInteger canary = new AtomicInteger();
  static KeyPair rsa;
  static String rsaPem;

  record Case(String name, String method, String path, Map<String, String> headers, String body, int status,
              Consumer<HttpResponse<String>> check) {
    @Override
    public String toString() {
      return name;
    }
  }

  @BeforeAll
  void start() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    rsa = gen.generateKeyPair();
    rsaPem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(rsa.getPublic().getEncoded())
      + "\n-----END PUBLIC KEY-----\n";
    Path pem = Files.createTempFile("herald-hostile", ".pem");
    Files.writeString(pem, rsaPem);
    herald = HeraldProcess.start(getClass().getSimpleName(), Map.of(
      "HERALD_GATEWAY_AUTH_MODE", "jwt",
      "HERALD_GATEWAY_JWT_SECRET", SECRET,
      "HERALD_GATEWAY_JWT_PUBLIC_KEY_FILE", pem.toString(),
      "HERALD_GATEWAY_PUBLIC_TOPICS", "public.*",
      "HERALD_NOTIFIER_REQUEST_TIMEOUT_MILLIS", String.valueOf(REQUEST_TIMEOUT_MILLIS)));
    vertx = Vertx.vertx();
    var http = vertx.createHttpClient();
    alice = SseClient.open(http, herald.gatewayPort, "/events?topic=user:alice", "Authorization", "Bearer " + hs256(claims("alice", "user:{sub}")));
    bob = SseClient.open(http, herald.gatewayPort, "/events?topic=user:bob", "Authorization", "Bearer " + hs256(claims("bob", "user:{sub}")));
    publicStream = SseClient.open(http, herald.gatewayPort, "/events?topic=public.news");
    for (SseClient c : List.of(alice, bob, publicStream)) {
      c.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
    }
  }

  @AfterAll
  void stop() throws Exception {
    if (herald != null) {
      herald.destroy();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  void assertCanary() throws Exception {
    String data = "canary-" + canary.incrementAndGet();
    herald.publish("{\"topic\":\"user:alice\",\"data\":\"" + data + "\"}");
    alice.await(l -> l.stream().anyMatch(e -> data.equals(e.data())), WAIT);
    assertThat(bob.events()).extracting(SseEvent::data).noneMatch(d -> d != null && d.startsWith("canary-"));
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  static JsonObject claims(String sub, String... topics) {
    return new JsonObject().put("sub", sub).put("topics", new JsonArray(List.of((Object[]) topics))).put("exp", now() + 600);
  }

  static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static String hs256(JsonObject claims) {
    return hs256(claims, SECRET);
  }

  static String hs256(JsonObject claims, String secret) {
    return Jwt.hs256(claims, secret);
  }

  static String rs256(JsonObject claims, KeyPair key) {
    return Jwt.rs256(claims, key.getPrivate());
  }

  static String unsigned(String alg, JsonObject claims, String signature) {
    return b64(("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}").getBytes()) + "." + b64(claims.encode().getBytes(StandardCharsets.UTF_8)) + "." + signature;
  }

  static String rsaPem() {
    return rsaPem != null ? rsaPem
      : "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(rsa.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
  }

  static KeyPair otherRsa() {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
      gen.initialize(2048);
      return gen.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String topics(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : "&").append("topic=public.t").append(i);
    }
    return sb.toString();
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String abbreviate(String s) {
    return s == null || s.length() < 300 ? s : s.substring(0, 300) + "...";
  }
}
