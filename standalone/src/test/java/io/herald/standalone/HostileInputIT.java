package io.herald.standalone;

import io.herald.testsupport.Jwt;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hostile-input table, against the real jar with subscriber JWT on: each row is a request an
 * attacker or a broken client could send, its expected status, and (where there is one) what it
 * must or must not do. After every row the hub still serves: alice's canary stream receives a
 * fresh event of her own topic, and bob's stream never receives anything of alice's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputIT {

  private static final String SECRET = "hostile-suite-secret-long-enough-for-hs256!";
  private static final Duration WAIT = Duration.ofSeconds(10);
  /** notifier.requestTimeoutMillis of the hub under test. */
  private static final long REQUEST_TIMEOUT_MILLIS = 4000;
  private static final String KEY = "Bearer " + HeraldProcess.PUBLISHER_KEY;

  private HeraldProcess herald;
  private Vertx vertx;
  private SseClient alice;
  private SseClient bob;
  private SseClient publicStream;
  private final AtomicInteger canary = new AtomicInteger();
  private static KeyPair rsa;
  private static String rsaPem;

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
    herald = HeraldProcess.start("hostile", Map.of(
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

  Stream<Case> cases() throws Exception {
    if (rsa == null) {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
      gen.initialize(2048);
      rsa = gen.generateKeyPair();
    }
    List<Case> c = new ArrayList<>();
    String events = "/events?topic=user:alice";
    String good = hs256(claims("alice", "user:{sub}"));
    // ---- subscriber tokens
    c.add(sub("no token on a private topic", events, null, 401));
    c.add(sub("a token that is not a JWT", events, "abc", 401));
    c.add(sub("a truncated JWT (no signature part)", events, good.substring(0, good.lastIndexOf('.')), 401));
    c.add(sub("a JWT with four parts", events, good + ".x", 401));
    c.add(sub("a JWT whose signature is cut short", events, good.substring(0, good.length() - 5), 401));
    c.add(sub("alg none, empty signature", events, unsigned("none", claims("alice", "user:{sub}"), ""), 401));
    c.add(sub("alg none, a copied valid signature", events, unsigned("none", claims("alice", "user:{sub}"), good.substring(good.lastIndexOf('.') + 1)), 401));
    c.add(sub("alg None (case games)", events, unsigned("None", claims("alice", "user:{sub}"), ""), 401));
    c.add(sub("HS256 signed with the wrong secret", events, hs256(claims("alice", "user:{sub}"), "another-secret-that-is-long-enough-0000"), 401));
    c.add(sub("algorithm confusion: HS256 signed with the RSA public key PEM", events, hs256(claims("alice", "user:{sub}"), rsaPem()), 401));
    c.add(sub("RS256 signed by another RSA key", events, rs256(claims("alice", "user:{sub}"), otherRsa()), 401));
    c.add(sub("expired token", events, hs256(claims("alice", "user:{sub}").put("exp", now() - 60)), 401));
    c.add(sub("token not valid yet (nbf in an hour)", events, hs256(claims("alice", "user:{sub}").put("nbf", now() + 3600)), 401));
    c.add(sub("valid token, someone else's topic", "/events?topic=user:bob", good, 403));
    c.add(sub("valid token, one allowed and one foreign topic", "/events?topic=user:alice&topic=user:bob", good, 403));
    c.add(sub("token without a topics claim", events, hs256(new JsonObject().put("sub", "alice").put("exp", now() + 600)), 403));
    c.add(sub("wildcard claim does not cross a segment", "/events?topic=user:bob", hs256(claims("alice", "*")), 403));
    c.add(sub("subject '*' is literal inside {sub}", "/events?topic=user:bob", hs256(claims("*", "user:{sub}")), 403));
    c.add(sub("garbage token in access_token", events + "&access_token=abc.def.ghi", null, 401));
    c.add(new Case("garbage token in the cookie", "GET", events, Map.of("Cookie", "herald_token=abc.def.ghi"), null, 401, r -> { }));
    c.add(new Case("a 20 KB Authorization header", "GET", events, Map.of("Authorization", "Bearer " + "a".repeat(20_000)), null, 431, r -> { }));
    // ---- topics and cursors
    c.add(sub("CR LF in a topic (header/field injection)", "/events?topic=public.x%0D%0Aevent:%20evil", null, 400));
    c.add(sub("a NUL in a topic", "/events?topic=public.x%00", null, 400));
    c.add(sub("non-ASCII letters in a topic", "/events?topic=public.caf%C3%A9", null, 400));
    c.add(sub("a right-to-left override in a topic", "/events?topic=public.%E2%80%AEx", null, 400));
    c.add(sub("fullwidth letters in a topic", "/events?topic=%EF%BD%90ublic.x", null, 400));
    c.add(sub("a 129-character topic", "/events?topic=public." + "x".repeat(122), null, 400));
    c.add(sub("an empty topic", "/events?topic=", null, 400));
    c.add(sub("33 topics on one connection", "/events?" + "topic=public.t&".repeat(0) + topics(33), null, 400));
    c.add(new Case("a 5,000-character Last-Event-ID", "GET", "/events?topic=public.news", Map.of("Last-Event-ID", "x".repeat(5000)), null, 200,
      r -> assertThat(r.body()).contains("event: reset").contains("unknown_last_event_id")));
    c.add(new Case("a malformed Last-Event-ID", "GET", "/events?topic=public.news", Map.of("Last-Event-ID", "----:::---"), null, 200,
      r -> assertThat(r.body()).contains("event: reset")));
    c.add(new Case("a newline smuggled in lastEventId", "GET", "/events?topic=public.news&lastEventId=" + enc("x\nevent: evil\ndata: owned"), Map.of(), null, 200,
      r -> assertThat(r.body()).doesNotContain("event: evil").doesNotContain("data: owned")));
    c.add(new Case("a cursor of bob's topic presented by alice", "GET", events,
      Map.of("Authorization", "Bearer " + good, "Last-Event-ID", "user:bob-AAAAAAAA-1"), null, 200,
      r -> assertThat(r.body()).doesNotContain("user:bob")));
    // ---- publishing
    c.add(pub("a topic with a newline", "{\"topic\":\"public.x\\nevent: evil\",\"data\":1}", 400, "invalid_topic"));
    c.add(pub("a type with CR LF (SSE field injection)", "{\"topic\":\"public.news\",\"type\":\"x\\r\\nevent: evil\",\"data\":1}", 400, "invalid_type"));
    c.add(pub("an id with a newline (SSE id injection)", "{\"topic\":\"public.news\",\"id\":\"a\\nid: evil\",\"data\":1}", 400, "invalid_id"));
    c.add(pub("a Unicode lookalike topic", "{\"topic\":\"ｐublic.news\",\"data\":1}", 400, "invalid_topic"));
    c.add(pub("malformed JSON", "{\"topic\":", 400, "malformed_json"));
    c.add(pub("a JSON array instead of an object", "[1,2,3]", 400, "malformed_json"));
    c.add(pub("JSON nested 5,000 levels deep", "{\"topic\":\"public.news\",\"data\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 400, null));
    c.add(pub("event data over the 64 KB limit", "{\"topic\":\"public.news\",\"data\":\"" + "x".repeat(70_000) + "\"}", 413, "payload_too_large"));
    c.add(pub("a 2 MB body", "{\"topic\":\"public.news\",\"data\":\"" + "x".repeat(2_000_000) + "\"}", 413, "payload_too_large"));
    c.add(new Case("a batch of 101 events", "POST", "notifier:/publish/batch", Map.of("Authorization", KEY, "Content-Type", "application/json"),
      "{\"events\":[" + String.join(",", java.util.Collections.nCopies(101, "{\"topic\":\"public.news\",\"data\":1}")) + "]}", 400,
      r -> assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("batch_too_large")));
    c.add(pub("an unknown field", "{\"topic\":\"public.news\",\"data\":1,\"admin\":true}", 400, "invalid_request"));
    c.add(new Case("publishing with a wrong key", "POST", "notifier:/publish", Map.of("Authorization", "Bearer wrong-key-wrong-key", "Content-Type", "application/json"),
      "{\"topic\":\"public.news\",\"data\":1}", 401, r -> { }));
    c.add(new Case("publishing with alg none JWT", "POST", "notifier:/publish", Map.of("Authorization", "Bearer " + unsigned("none", new JsonObject().put("publish", new JsonArray().add("*")), ""), "Content-Type", "application/json"),
      "{\"topic\":\"public.news\",\"data\":1}", 401, r -> { }));
    c.add(new Case("publishing text/plain", "POST", "notifier:/publish", Map.of("Authorization", KEY, "Content-Type", "text/plain"),
      "{\"topic\":\"public.news\",\"data\":1}", 415, r -> { }));
    c.add(new Case("an SSE frame smuggled in text data stays data", "POST", "notifier:/publish", Map.of("Authorization", KEY, "Content-Type", "application/json"),
      "{\"topic\":\"public.news\",\"data\":\"line\\n\\nevent: evil\\ndata: owned\\r\\nid: 1\"}", 200, r -> assertSmuggledDataStaysData()));
    return c.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("Hostile input")
  void hostile(Case c) throws Exception {
    HttpResponse<String> r = send(c);
    assertThat(r.statusCode()).as(c.name() + ": " + abbreviate(r.body())).isEqualTo(c.status());
    if (c.status() >= 400) {
      JsonObject body = new JsonObject(r.body());
      assertThat(body.getString("error")).as(c.name() + ": JSON error body").isNotBlank();
    }
    c.check().accept(r);
    // The hub still serves, and nothing crosses users.
    String data = "canary-" + canary.incrementAndGet();
    herald.publish("{\"topic\":\"user:alice\",\"data\":\"" + data + "\"}");
    alice.await(l -> l.stream().anyMatch(e -> data.equals(e.data())), WAIT);
    assertThat(bob.events()).extracting(SseEvent::data).noneMatch(d -> d != null && d.startsWith("canary-"));
    assertThat(alice.failure()).isNull();
  }

  @org.junit.jupiter.api.Test
  @DisplayName("Slowloris on publish: a connection trickling its headers is closed after notifier.requestTimeoutMillis; publishing goes on meanwhile")
  void slowlorisOnPublish() throws Exception {
    // Taken before the connection exists: the notifier's timer cannot have started earlier.
    long start = System.nanoTime();
    try (java.net.Socket slow = new java.net.Socket()) {
      slow.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName("127.0.0.70"), 0));
      slow.connect(new java.net.InetSocketAddress("127.0.0.1", herald.notifierPort), 5000);
      var out = slow.getOutputStream();
      out.write("POST /publish HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      boolean closed = false;
      // A byte every 100 ms until the notifier closes: no byte may push its deadline back, so a
      // notifier that extends it keeps the socket open past this (generous) deadline and fails.
      long deadline = start + Duration.ofSeconds(60).toNanos();
      try {
        for (int i = 0; !closed && System.nanoTime() < deadline; i++) {
          out.write('X');
          out.flush();
          if (i == 2) {
            herald.publish("{\"topic\":\"public.news\",\"data\":\"during-slowloris\"}");
          }
          Thread.sleep(100);
        }
      } catch (java.io.IOException e) {
        closed = true;
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(closed).as("the trickling connection was closed").isTrue();
      assertThat(millis).as("closed, and not before notifier.requestTimeoutMillis").isGreaterThanOrEqualTo(REQUEST_TIMEOUT_MILLIS);
    }
    publicStream.await(l -> l.stream().anyMatch(e -> "during-slowloris".equals(e.data())), WAIT);
    assertCanary();
  }

  @org.junit.jupiter.api.Test
  @DisplayName("A burst of 3000 connections from one address: 200 streams (maxConnectionsPerIp), every other attempt 429 at once; other clients unaffected; nothing leaks")
  void burstOfConnections() throws Exception {
    List<java.net.Socket> open = new ArrayList<>();
    Map<Integer, Integer> statuses = new java.util.TreeMap<>();
    double before = activeSse();
    long start = System.nanoTime();
    try {
      for (int i = 0; i < 3000; i++) {
        java.net.Socket s = new java.net.Socket();
        s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName("127.0.0.71"), 0));
        s.connect(new java.net.InetSocketAddress("127.0.0.1", herald.gatewayPort), 5000);
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET /events?topic=public.burst HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        int status = statusOf(s.getInputStream());
        statuses.merge(status, 1, Integer::sum);
        if (status == 200) {
          open.add(s);
        } else {
          s.close();
        }
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      System.out.println("[measure] HostileInputIT burst of 3000 connections from one address: " + statuses + " in " + millis + " ms");
      assertThat(statuses).containsOnlyKeys(200, 429);
      assertThat(statuses.get(200)).isEqualTo(200);
      // Other clients are served meanwhile: the subscribers' canary and a new stream elsewhere.
      assertCanary();
      SseClient other = SseClient.open(vertx.createHttpClient(), herald.gatewayPort, "/events?topic=public.news");
      other.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
      other.close();
    } finally {
      for (java.net.Socket s : open) {
        s.close();
      }
    }
    // Nothing leaks: every stream of the burst is counted out (the address itself stays limited
    // for the attempt window: its refused attempts count).
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (activeSse() != before) {
      assertThat(System.nanoTime()).as("active SSE connections back to %s, at %s", before, activeSse()).isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  /** herald_connections_active{transport="sse"} from the hub's /metrics. */
  private double activeSse() throws Exception {
    String sample = "herald_connections_active{transport=\"sse\"} ";
    for (String line : herald.admin("/metrics").body().split("\n")) {
      if (line.startsWith(sample)) {
        return Double.parseDouble(line.substring(sample.length()).trim());
      }
    }
    throw new AssertionError("no " + sample + "in /metrics");
  }

  /** The status code of a response head read byte by byte (the stream stays open after it). */
  private static int statusOf(java.io.InputStream in) throws java.io.IOException {
    StringBuilder line = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      line.append((char) b);
    }
    return Integer.parseInt(line.toString().split(" ")[1]);
  }

  private void assertCanary() throws Exception {
    String data = "canary-" + canary.incrementAndGet();
    herald.publish("{\"topic\":\"user:alice\",\"data\":\"" + data + "\"}");
    alice.await(l -> l.stream().anyMatch(e -> data.equals(e.data())), WAIT);
    assertThat(bob.events()).extracting(SseEvent::data).noneMatch(d -> d != null && d.startsWith("canary-"));
  }

  // ---------------------------------------------------------------- building cases

  private Case sub(String name, String path, String token, int status) {
    return new Case(name, "GET", path, token == null ? Map.of() : Map.of("Authorization", "Bearer " + token), null, status, r -> { });
  }

  private Case pub(String name, String body, int status, String code) {
    return new Case(name, "POST", "notifier:/publish", Map.of("Authorization", KEY, "Content-Type", "application/json"), body, status,
      r -> {
        if (code != null) {
          assertThat(new JsonObject(r.body()).getString("error")).isEqualTo(code);
        }
      });
  }

  private void assertSmuggledDataStaysData() {
    try {
      List<SseEvent> got = publicStream.await(l -> l.stream().anyMatch(e -> e.data() != null && e.data().startsWith("line")), WAIT);
      SseEvent e = got.stream().filter(x -> x.data() != null && x.data().startsWith("line")).findFirst().orElseThrow();
      assertThat(e.type()).isEqualTo("message");
      assertThat(got).extracting(SseEvent::type).doesNotContain("evil");
      assertThat(publicStream.raw()).doesNotContain("\nevent: evil").doesNotContain("\nid: 1\n");
    } catch (InterruptedException ex) {
      throw new AssertionError(ex);
    }
  }

  private HttpResponse<String> send(Case c) throws Exception {
    boolean notifier = c.path().startsWith("notifier:");
    int port = notifier ? herald.notifierPort : herald.gatewayPort;
    String path = notifier ? c.path().substring("notifier:".length()) : c.path();
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10));
    c.headers().forEach(b::header);
    b.method(c.method(), c.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(c.body()));
    if (!notifier && c.status() == 200) {
      // A stream: read its opening up to herald.ready, the marker that ends it (resets and
      // replays come before it), then let go. No ready in 10 s fails.
      var async = HeraldProcess.HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.ofInputStream());
      HttpResponse<java.io.InputStream> resp = async.get(10, TimeUnit.SECONDS);
      byte[] buf = new byte[65536];
      StringBuilder sb = new StringBuilder();
      long end = System.nanoTime() + WAIT.toNanos();
      try (var in = resp.body()) {
        while (System.nanoTime() < end && !sb.toString().contains("herald.ready")) {
          int n = in.available() > 0 ? in.read(buf) : 0;
          if (n > 0) {
            sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
          } else {
            Thread.sleep(20);
          }
        }
      }
      String text = sb.toString();
      if (resp.statusCode() == 200) {
        assertThat(text).as("the stream's opening, up to herald.ready").contains("herald.ready");
      }
      return new StringResponse(resp, text);
    }
    return HeraldProcess.HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).get(20, TimeUnit.SECONDS);
  }

  /** A streamed response read for a moment, as a String response. */
  private record StringResponse(HttpResponse<java.io.InputStream> delegate, String body) implements HttpResponse<String> {
    public int statusCode() { return delegate.statusCode(); }
    public HttpRequest request() { return delegate.request(); }
    public java.util.Optional<HttpResponse<String>> previousResponse() { return java.util.Optional.empty(); }
    public java.net.http.HttpHeaders headers() { return delegate.headers(); }
    public java.util.Optional<javax.net.ssl.SSLSession> sslSession() { return delegate.sslSession(); }
    public URI uri() { return delegate.uri(); }
    public java.net.http.HttpClient.Version version() { return delegate.version(); }
  }

  // ---------------------------------------------------------------- tokens

  private static long now() {
    return System.currentTimeMillis() / 1000;
  }

  private static JsonObject claims(String sub, String... topics) {
    return new JsonObject().put("sub", sub).put("topics", new JsonArray(List.of((Object[]) topics))).put("exp", now() + 600);
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String hs256(JsonObject claims) {
    return hs256(claims, SECRET);
  }

  private static String hs256(JsonObject claims, String secret) {
    return Jwt.hs256(claims, secret);
  }


  private static String rs256(JsonObject claims, KeyPair key) {
    return Jwt.rs256(claims, key.getPrivate());
  }


  private static String unsigned(String alg, JsonObject claims, String signature) {
    return b64(("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}").getBytes()) + "." + b64(claims.encode().getBytes(StandardCharsets.UTF_8)) + "." + signature;
  }

  private static String rsaPem() {
    return rsaPem != null ? rsaPem
      : "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(rsa.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
  }

  private static KeyPair otherRsa() {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
      gen.initialize(2048);
      return gen.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String topics(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : "&").append("topic=public.t").append(i);
    }
    return sb.toString();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String abbreviate(String s) {
    return s == null || s.length() < 300 ? s : s.substring(0, 300) + "...";
  }
}
