package io.herald.notifier;

import io.herald.common.AddressAllowlist;
import io.herald.common.EventCodec;
import io.herald.common.config.ConfigException;
import io.herald.common.replay.ReplayClient;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The notifier's abuse limits over real HTTP on loopback: per-publisher token buckets, the
 * trusted-producer allowlist, and the slow-request, header-size and idle guards.
 */
@ExtendWith(VertxExtension.class)
class NotifierLimitsTest {

  /** The publish quotas' clock: tokens refill only when a test moves it. */
  private final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong(1_000_000_000L);

  private static final String KEY = "limits-publisher-key";
  private static final String OTHER_KEY = "other-publisher-key";
  private static final String HOOK_SECRET = "limits-webhook-secret-at-least-32-chars";

  private HttpClient http;
  private ReplayClient replay;

  record Reply(int status, java.net.http.HttpHeaders headers, JsonObject body) {
  }

  @BeforeEach
  void client() {
    // java.net.http rather than the Vert.x client: see the project's notes on rare client hangs.
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
  }

  // ---- rate limit ---------------------------------------------------------------------------

  @Test
  @DisplayName("Under heap pressure publishes get 503 over_capacity with Retry-After and store nothing; once pressure drops they are accepted again")
  void heapPressureRefusesPublishes(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject());
    io.herald.common.admin.HeapPressure heap = io.herald.common.admin.HeapPressure.of(vertx);
    heap.marks(90, 75);
    assertThat(publish(n, KEY, "heap").status()).isEqualTo(200);
    heap.update(95, 100);
    heap.update(95, 100);

    Reply refused = publish(n, KEY, "heap");
    assertThat(refused.status()).isEqualTo(503);
    assertThat(refused.body().getString("error")).isEqualTo("over_capacity");
    assertThat(refused.body().getString("message")).contains("memory");
    assertThat(refused.headers().firstValue("retry-after")).hasValue("5");
    assertThat(post(n, "/publish/batch", KEY, "{\"events\":[{\"topic\":\"heap\",\"data\":2}]}").status()).isEqualTo(503);
    assertThat(seq("heap")).as("nothing refused is stored").isEqualTo(1);

    heap.update(70, 100);
    assertThat(publish(n, KEY, "heap").status()).isEqualTo(200);
    assertThat(seq("heap")).isEqualTo(2);
  }

  @Test
  @DisplayName("Past its burst a publisher key gets 429 rate_limited with Retry-After, stores nothing, leaves other keys alone, and is served again once its bucket refills")
  void rateLimitPerKey(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("publishRatePerKey", 1).put("publishBurst", 3).put("maxBatchSize", 3));
    for (int i = 0; i < 3; i++) {
      assertThat(publish(n, KEY, "rl").status()).as("within the burst").isEqualTo(200);
    }
    Reply refused = publish(n, KEY, "rl");
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.body().getString("error")).isEqualTo("rate_limited");
    assertThat(refused.body().getString("message")).isNotBlank();
    assertThat(refused.headers().firstValue("content-type")).hasValue("application/json");
    String retryAfter = refused.headers().firstValue("retry-after").orElseThrow();
    assertThat(retryAfter).matches("[0-9]+");
    assertThat(Integer.parseInt(retryAfter)).isEqualTo(1); // one token missing at one per second
    assertThat(seq("rl")).as("the refused event is not stored").isEqualTo(3);

    assertThat(publish(n, OTHER_KEY, "rl").status()).as("another key has its own bucket").isEqualTo(200);

    nanos.addAndGet(Integer.parseInt(retryAfter) * 1_000_000_000L); // the fake clock: Retry-After later
    assertThat(publish(n, KEY, "rl").status()).as("refilled after Retry-After").isEqualTo(200);
    assertThat(publish(n, KEY, "rl").status()).as("but only by the rate").isEqualTo(429);
    assertThat(seq("rl")).isEqualTo(5);
  }

  @Test
  @DisplayName("A batch takes one token per event: a batch larger than what is left is refused whole")
  void batchCountsEvents(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("publishRatePerKey", 1).put("publishBurst", 3).put("maxBatchSize", 3));
    assertThat(post(n, "/publish/batch", KEY, batch("bt", 2)).status()).isEqualTo(200);
    Reply tooMany = post(n, "/publish/batch", KEY, batch("bt", 2));
    assertThat(tooMany.status()).as("2 events, 1 token left").isEqualTo(429);
    assertThat(tooMany.headers().firstValue("retry-after")).hasValue("1");
    assertThat(seq("bt")).as("nothing of the refused batch is stored").isEqualTo(2);
    assertThat(publish(n, KEY, "bt").status()).as("the last token").isEqualTo(200);
    assertThat(publish(n, KEY, "bt").status()).isEqualTo(429);
    assertThat(seq("bt")).isEqualTo(3);
  }

  @Test
  @DisplayName("Webhooks are limited per webhook name, and a refused delivery can be retried with the same signature")
  void webhookRateLimit(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("publishRatePerKey", 1).put("publishBurst", 1).put("maxBatchSize", 1)
      .put("webhookSecrets", List.of("hook=" + HOOK_SECRET)));
    String ts = Long.toString(System.currentTimeMillis() / 1000);
    String first = "{\"topic\":\"wh\",\"data\":1}";
    String second = "{\"topic\":\"wh\",\"data\":2}";
    assertThat(webhook(n, ts, first).status()).isEqualTo(200);
    Reply refused = webhook(n, ts, second);
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.body().getString("error")).isEqualTo("rate_limited");
    assertThat(refused.headers().firstValue("retry-after")).hasValue("1");
    assertThat(publish(n, KEY, "wh").status()).as("publisher keys have their own buckets").isEqualTo(200);
    assertThat(seq("wh")).isEqualTo(2);
    nanos.addAndGet(1_000_000_000L); // the fake clock: the Retry-After second later
    assertThat(webhook(n, ts, second).status()).as("the same signed delivery, retried").isEqualTo(200);
    assertThat(seq("wh")).isEqualTo(3);
  }

  @Test
  @DisplayName("publishRatePerKey 0 turns the limit off")
  void rateLimitOff(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("publishRatePerKey", 0).put("publishBurst", 1).put("maxBatchSize", 3));
    for (int i = 0; i < 5; i++) {
      assertThat(publish(n, KEY, "off").status()).isEqualTo(200);
    }
  }

  @Test
  @DisplayName("Token buckets: all or nothing, Retry-After in whole seconds, refill at the rate up to the burst")
  void tokenBucket() {
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    PublishRateLimiter l = new PublishRateLimiter(10, 20, 100, nanos::get);
    assertThat(l.acquire("a", 15)).isZero();
    assertThat(l.acquire("a", 6)).as("5 left, 6 asked").isEqualTo(1);
    assertThat(l.acquire("a", 5)).as("a refusal took nothing").isZero();
    assertThat(l.acquire("a", 20)).as("20 missing at 10/s").isEqualTo(2);
    nanos.addAndGet(500_000_000L);
    assertThat(l.acquire("a", 5)).as("half a second: 5 tokens").isZero();
    assertThat(l.acquire("a", 1)).isEqualTo(1);
    nanos.addAndGet(3_600_000_000_000L);
    assertThat(l.acquire("a", 20)).as("refilled to the burst").isZero();
    assertThat(l.acquire("a", 1)).isEqualTo(1);
    assertThat(l.acquire("b", 21)).as("above the burst never fits").isPositive();
  }

  @Test
  @DisplayName("The bucket map is bounded: refilled buckets are dropped and at most maxBuckets are kept")
  void bucketsAreBounded() {
    AtomicLong nanos = new AtomicLong(0);
    PublishRateLimiter l = new PublishRateLimiter(1, 2, 50, nanos::get);
    for (int i = 0; i < 500; i++) {
      l.acquire("key#" + i, 1);
      assertThat(l.size()).isLessThanOrEqualTo(50);
    }
    assertThat(l.size()).isEqualTo(50);
    nanos.addAndGet(10_000_000_000L); // every bucket is full again: idle
    for (int i = 0; i < 30; i++) {
      l.acquire("fresh", 0);
    }
    assertThat(l.size()).as("idle buckets swept, a couple per call: only the one in use is left").isEqualTo(1);
    assertThat(new PublishRateLimiter(1000, 2000).size()).isZero();
  }

  @Test
  @DisplayName("Body bytes per second per credential: past two seconds' worth 429 with the wait, nothing taken from the other limits, refilled by the fake clock")
  void bytesPerSecond() {
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    PublishQuota q = new PublishQuota(new NotifierOptions(new JsonObject().put("publishRatePerKey", 1).put("publishBurst", 100)
      .put("publishBytesPerSecondPerKey", 100_000).put("maxBodyBytes", 70_000).put("newTopicsPerMinutePerKey", 0)), nanos::get, 1000);
    JsonObject body = new JsonObject().put("topic", "t").put("data", "x");
    assertThat(q.admit("a", body, 60_000)).isNull();
    assertThat(q.admit("a", body, 60_000)).isNull();
    assertThat(q.admit("a", body, 60_000)).isNull();
    PublishQuota.Refusal r = q.admit("a", body, 60_000);
    assertThat(r).isNotNull();
    assertThat(r.retryAfterSeconds()).as("40,000 bytes missing at 100,000/s").isEqualTo(1);
    assertThat(r.message()).contains("100000 bytes per second");
    assertThat(q.admit("b", body, 60_000)).as("another credential has its own bucket").isNull();
    nanos.addAndGet(600_000_000L);
    assertThat(q.admit("a", body, 60_000)).as("refilled by 60,000 in 0.6 s").isNull();
    for (int i = 0; i < 96; i++) {
      assertThat(q.admit("a", body, 1)).as("the refused publishes took no event tokens").isNull();
    }
    assertThat(q.admit("a", body, 1)).as("100 events of the burst").isNotNull();
  }

  @Test
  @DisplayName("New topics per minute per credential: known topics are free, new ones past the cap get 429, the memory of known topics is bounded")
  void newTopicsPerMinute() {
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    PublishQuota q = new PublishQuota(new NotifierOptions(new JsonObject().put("publishRatePerKey", 0)
      .put("publishBytesPerSecondPerKey", 0).put("newTopicsPerMinutePerKey", 60)), nanos::get, 100);
    for (int i = 0; i < 60; i++) {
      assertThat(q.admit("a", new JsonObject().put("topic", "t" + i), 10)).isNull();
    }
    PublishQuota.Refusal r = q.admit("a", new JsonObject().put("topic", "t60"), 10);
    assertThat(r).isNotNull();
    assertThat(r.retryAfterSeconds()).as("one topic a second").isEqualTo(1);
    assertThat(r.message()).contains("60 new topics per minute");
    for (int i = 0; i < 200; i++) {
      assertThat(q.admit("a", new JsonObject().put("topic", "t" + (i % 60)), 10)).as("known topics cost nothing").isNull();
    }
    assertThat(q.admit("a", new JsonObject().put("topics", new io.vertx.core.json.JsonArray().add("t1").add("n1")), 10))
      .as("one new topic among known ones").isNotNull();
    assertThat(q.admit("b", new JsonObject().put("topic", "t60"), 10)).as("per credential").isNull();
    nanos.addAndGet(2_000_000_000L);
    assertThat(q.admit("a", new JsonObject().put("events", new io.vertx.core.json.JsonArray()
      .add(new JsonObject().put("topic", "n1")).add(new JsonObject().put("topic", "n2"))), 10)).as("two seconds: two new topics").isNull();
    assertThat(q.admit("a", new JsonObject().put("topic", "n3"), 10)).isNotNull();
    for (int i = 0; i < 1000; i++) {
      q.admit("c" + i, new JsonObject().put("topic", "x"), 10);
      assertThat(q.recentTopics()).isLessThanOrEqualTo(100);
    }
  }

  @Test
  @DisplayName("Over HTTP a publisher past its byte or new-topic limit gets 429 rate_limited with Retry-After and nothing is stored")
  void quotasOverHttp(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("publishBytesPerSecondPerKey", 5000).put("maxBodyBytes", 6000)
      .put("newTopicsPerMinutePerKey", 2));
    String big = "{\"topic\":\"q1\",\"data\":\"" + "b".repeat(4000) + "\"}";
    assertThat(post(n, "/publish", KEY, big).status()).isEqualTo(200);
    assertThat(post(n, "/publish", KEY, big).status()).isEqualTo(200);
    Reply bytes = post(n, "/publish", KEY, big);
    assertThat(bytes.status()).isEqualTo(429);
    assertThat(bytes.body().getString("error")).isEqualTo("rate_limited");
    assertThat(bytes.body().getString("message")).contains("bytes per second");
    assertThat(bytes.headers().firstValue("retry-after")).isPresent();
    assertThat(seq("q1")).isEqualTo(2);

    assertThat(publish(n, OTHER_KEY, "q2").status()).isEqualTo(200);
    assertThat(publish(n, OTHER_KEY, "q3").status()).isEqualTo(200);
    assertThat(publish(n, OTHER_KEY, "q2").status()).as("a known topic").isEqualTo(200);
    Reply topics = publish(n, OTHER_KEY, "q4");
    assertThat(topics.status()).isEqualTo(429);
    assertThat(topics.body().getString("message")).contains("new topics per minute");
    assertThat(topics.headers().firstValue("retry-after")).hasValue("30");
    assertThat(seq("q4")).isZero();
  }

  // ---- trusted producers --------------------------------------------------------------------

  @Test
  @DisplayName("trustedProducers: 127.0.0.1 outside [10.0.0.0/8] gets 403 access_denied before authentication or the body")
  void untrustedAddressRefused(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("trustedProducers", List.of("10.0.0.0/8", "fd00::/8")));
    Reply r = publish(n, KEY, "tp");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.body().getString("error")).isEqualTo("access_denied");
    Reply noKey = post(n, "/publish", null, "{\"topic\":\"tp\",\"data\":1}");
    assertThat(noKey.status()).as("refused before authentication (not 401)").isEqualTo(403);
    Reply hook = post(n, "/webhook/anything", null, "{}");
    assertThat(hook.status()).as("webhooks too, before looking the name up (not 404)").isEqualTo(403);
    assertThat(post(n, "/publish/batch", KEY, batch("tp", 1)).status()).isEqualTo(403);
    assertThat(seq("tp")).isZero();
    // Headers announcing a body that never comes: answered at once, the body is not awaited.
    try (Socket s = new Socket("127.0.0.1", n.actualPort())) {
      s.setSoTimeout(3000);
      s.getOutputStream().write(("POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: 100\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      assertThat(readStatusLine(s.getInputStream())).startsWith("HTTP/1.1 403");
    }
  }

  @Test
  @DisplayName("trustedProducers: 127.0.0.1 inside [127.0.0.0/8] publishes normally, still with its key")
  void trustedAddressAllowed(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("trustedProducers", List.of("::1", "127.0.0.0/8")));
    assertThat(publish(n, KEY, "ta").status()).isEqualTo(200);
    assertThat(post(n, "/publish", "not-a-valid-key", "{\"topic\":\"ta\",\"data\":1}").status()).isEqualTo(401);
    assertThat(seq("ta")).isEqualTo(1);
  }

  @Test
  @DisplayName("trustedProxies: behind a trusted proxy the forwarded client address is checked against trustedProducers; from another peer the header is ignored")
  void forwardedAddressChecked(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("trustedProducers", List.of("198.51.100.0/24"))
      .put("trustedProxies", List.of("127.0.0.1", "::1")));
    String body = "{\"topic\":\"fw\",\"data\":1}";
    assertThat(postFrom(n, "198.51.100.7", body).status()).isEqualTo(200);
    assertThat(postFrom(n, "198.51.100.7, 203.0.113.5", body).status()).as("the rightmost untrusted hop is the client").isEqualTo(403);
    assertThat(postFrom(n, null, body).status()).as("the proxy itself is not a producer").isEqualTo(403);
    assertThat(seq("fw")).isEqualTo(1);
    NotifierVerticle direct = deploy(vertx, new JsonObject().put("trustedProducers", List.of("198.51.100.0/24")));
    assertThat(postFrom(direct, "198.51.100.7", body).status()).as("no trusted proxy: the header is ignored").isEqualTo(403);
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("trustedProxies", List.of("nginx"))))
      .isInstanceOf(ConfigException.class).hasMessageStartingWith("notifier.trustedProxies:");
  }

  private Reply postFrom(NotifierVerticle n, String forwardedFor, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.actualPort() + "/publish"))
      .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json").header("Authorization", "Bearer " + KEY)
      .POST(HttpRequest.BodyPublishers.ofString(body));
    if (forwardedFor != null) {
      b.header("X-Forwarded-For", forwardedFor);
    }
    return reply(http.send(b.build(), HttpResponse.BodyHandlers.ofString()));
  }

  @Test
  @DisplayName("A bad trustedProducers entry fails at start with an error naming notifier.trustedProducers")
  void badTrustedProducer() {
    for (String bad : List.of("10.0.0.0/33", "example.com", "10.0.0.1/8", "fd00::/129", "300.1.1.1", "10.0.0.0/", "::1%lo")) {
      assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("trustedProducers", List.of(bad))))
        .as(bad)
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("notifier.trustedProducers:")
        .hasMessageContaining(bad);
    }
    assertThat(new NotifierOptions(new JsonObject().put("trustedProducers", "10.0.0.0/8, ::1")).trustedProducers())
      .containsExactly("10.0.0.0/8", "::1");
  }

  @Test
  @DisplayName("Allowlist matching: IPv4 and IPv6 ranges, single addresses, IPv4-mapped IPv6, empty allows all")
  void allowlistMatching() {
    AddressAllowlist a = AddressAllowlist.parse(List.of("10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1", "172.16.0.0/12"));
    assertThat(a.allows("10.200.3.4")).isTrue();
    assertThat(a.allows("11.0.0.1")).isFalse();
    assertThat(a.allows("192.168.1.7")).isTrue();
    assertThat(a.allows("192.168.1.8")).isFalse();
    assertThat(a.allows("172.31.255.255")).isTrue();
    assertThat(a.allows("172.32.0.0")).isFalse();
    assertThat(a.allows("fd12:3456::1")).isTrue();
    assertThat(a.allows("fe80::1")).isFalse();
    assertThat(a.allows("0:0:0:0:0:0:0:1")).isTrue();
    assertThat(a.allows("::2")).isFalse();
    assertThat(a.allows("::ffff:10.1.2.3")).as("IPv4-mapped").isTrue();
    assertThat(a.allows("127.0.0.1")).isFalse();
    assertThat(a.allows(null)).isFalse();
    assertThat(a.allows("not-an-ip")).isFalse();
    assertThat(AddressAllowlist.parse(List.of("0.0.0.0/0")).allows("8.8.8.8")).isTrue();
    assertThat(AddressAllowlist.parse(List.of("0.0.0.0/0")).allows("2001:db8::1")).isFalse();
    assertThat(AddressAllowlist.parse(List.of()).allows("8.8.8.8")).isTrue();
  }

  // ---- slow requests, headers, idle ---------------------------------------------------------

  @Test
  @DisplayName("Slowloris: a connection trickling its headers is closed after requestTimeoutMillis while others publish meanwhile")
  void slowHeaders(Vertx vertx) throws Exception {
    int requestTimeoutMillis = 1000;
    NotifierVerticle n = deploy(vertx, new JsonObject().put("requestTimeoutMillis", requestTimeoutMillis));
    // Taken before the connection exists: the notifier's timer cannot have started earlier.
    long start = System.nanoTime();
    try (Socket slow = new Socket("127.0.0.1", n.actualPort())) {
      OutputStream out = slow.getOutputStream();
      out.write("POST /publish HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      slow.setSoTimeout(300);
      boolean closed = false;
      Reply meanwhile = null;
      // Trickle until the notifier closes: no byte may push the deadline back, so a notifier that
      // extends it keeps the socket open past this (generous) deadline and the test fails.
      long deadline = start + TimeUnit.SECONDS.toNanos(30);
      for (int i = 0; !closed && System.nanoTime() < deadline; i++) {
        try {
          out.write('X');
          out.flush();
          if (i == 1) {
            meanwhile = publish(n, KEY, "sl");
          }
          closed = slow.getInputStream().read() < 0; // waits up to 300 ms: the trickle's pace
        } catch (SocketTimeoutException e) {
          // still open: trickle on
        } catch (IOException e) {
          closed = true; // reset by the server
        }
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(closed).as("the trickling connection was closed").isTrue();
      assertThat(millis).as("closed, and not before requestTimeoutMillis").isGreaterThanOrEqualTo(requestTimeoutMillis);
      assertThat(meanwhile).isNotNull();
      assertThat(meanwhile.status()).as("a normal publish on another connection meanwhile").isEqualTo(200);
    }
    assertThat(seq("sl")).isEqualTo(1);
  }

  @Test
  @DisplayName("A body that does not arrive within requestTimeoutMillis after the headers gets 408 request_timeout and a closed connection")
  void slowBody(Vertx vertx) throws Exception {
    int requestTimeoutMillis = 1000;
    NotifierVerticle n = deploy(vertx, new JsonObject().put("requestTimeoutMillis", requestTimeoutMillis));
    long start = System.nanoTime();
    try (Socket s = new Socket("127.0.0.1", n.actualPort())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(("POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY + "\r\n"
        + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"topic\":\"sb\",").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      String response = readAll(s.getInputStream());
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(response).startsWith("HTTP/1.1 408");
      assertThat(response).contains("\"error\":\"request_timeout\"");
      assertThat(millis).as("answered, and not before requestTimeoutMillis").isGreaterThanOrEqualTo(requestTimeoutMillis);
    }
    // A body that does arrive in time is served as usual on the same notifier.
    assertThat(publish(n, KEY, "sb").status()).isEqualTo(200);
    assertThat(seq("sb")).isEqualTo(1);
  }

  @Test
  @DisplayName("After a 413 for a body over maxBodyBytes, the client's next request (a new connection) is answered at once")
  void nextRequestAfterOversizedBody(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("maxBodyBytes", 4096).put("requestTimeoutMillis", 600_000));
    Reply big = post(n, "/publish", KEY, "{\"topic\":\"big\",\"data\":\"" + "x".repeat(500_000) + "\"}");
    assertThat(big.status()).isEqualTo(413);
    assertThat(big.headers().firstValue("connection")).hasValue("close");
    // The JDK client would reuse a kept-alive connection; the unread rest of the body made that
    // connection unusable, so the notifier closes it and the next request goes through. A request
    // sent on the stale connection would wait for requestTimeoutMillis (here 10 minutes), far
    // past the 5 s publish() waits: an answer at all came on a new connection.
    assertThat(publish(n, KEY, "big").status()).isEqualTo(200);
    assertThat(seq("big")).isEqualTo(1);
  }

  @Test
  @DisplayName("Headers above maxHeaderBytes get 431 and the notifier keeps serving")
  void headerSize(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("maxHeaderBytes", 2048));
    HttpRequest big = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.actualPort() + "/publish"))
      .timeout(Duration.ofSeconds(5)).header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
      .header("X-Junk", "j".repeat(4000)).POST(HttpRequest.BodyPublishers.ofString("{\"topic\":\"hs\",\"data\":1}")).build();
    HttpResponse<String> refused = http.send(big, HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(431);
    assertThat(new JsonObject(refused.body()).getString("error")).isEqualTo("headers_too_large");
    // Connection: close, so the client does not send the next request on the closed connection.
    assertThat(refused.headers().firstValue("connection")).hasValue("close");
    assertThat(publish(n, KEY, "hs").status()).isEqualTo(200);
    assertThat(seq("hs")).isEqualTo(1);
  }

  @Test
  @DisplayName("A connection silent for idleTimeoutSeconds is closed")
  void idleTimeout(Vertx vertx) throws Exception {
    int idleTimeoutSeconds = 1;
    // The request timeout (10 minutes) is far past the 60 s this socket waits: a close at all is the idle timeout's.
    NotifierVerticle n = deploy(vertx, new JsonObject().put("idleTimeoutSeconds", idleTimeoutSeconds).put("replayTimeoutMillis", 500)
      .put("requestTimeoutMillis", 600_000));
    long start = System.nanoTime();
    try (Socket s = new Socket("127.0.0.1", n.actualPort())) {
      s.setSoTimeout(60_000);
      int read;
      try {
        read = s.getInputStream().read();
      } catch (IOException e) {
        read = -1;
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(read).as("closed by the server").isEqualTo(-1);
      assertThat(millis).as("not before the idle timeout").isGreaterThanOrEqualTo(TimeUnit.SECONDS.toMillis(idleTimeoutSeconds));
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private NotifierVerticle deploy(Vertx vertx, JsonObject config) throws Exception {
    EventCodec.register(vertx);
    if (replay == null) {
      await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
      replay = new ReplayClient(vertx, 5000);
    }
    NotifierVerticle n = new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0).put("host", "127.0.0.1")
      .put("publisherKeys", List.of(KEY, OTHER_KEY)).mergeIn(config)), nanos::get);
    await(vertx.deployVerticle(n));
    return n;
  }

  private Reply publish(NotifierVerticle n, String key, String topic) throws Exception {
    return post(n, "/publish", key, "{\"topic\":\"" + topic + "\",\"data\":1}");
  }

  private Reply webhook(NotifierVerticle n, String ts, String body) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.actualPort() + "/webhook/hook"))
      .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json").header("X-Herald-Timestamp", ts)
      .header("X-Herald-Signature", "sha256=" + WebhookTest.sign(HOOK_SECRET, ts, body))
      .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return reply(http.send(req, HttpResponse.BodyHandlers.ofString()));
  }

  private Reply post(NotifierVerticle n, String path, String key, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.actualPort() + path))
      .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return reply(http.send(b.build(), HttpResponse.BodyHandlers.ofString()));
  }

  private static Reply reply(HttpResponse<String> r) {
    return new Reply(r.statusCode(), r.headers(), r.body().isEmpty() ? new JsonObject() : new JsonObject(r.body()));
  }

  private static String batch(String topic, int events) {
    StringBuilder sb = new StringBuilder("{\"events\":[");
    for (int i = 0; i < events; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"topic\":\"").append(topic).append("\",\"data\":").append(i).append('}');
    }
    return sb.append("]}").toString();
  }

  private long seq(String topic) throws Exception {
    return await(replay.heads(List.of(topic))).get(topic).seq();
  }

  private static String readStatusLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      sb.append((char) c);
    }
    return sb.toString().trim();
  }

  /** Everything until the server closes (or the socket's read timeout, which fails the caller's assertions). */
  private static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[1024];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      return out.toString(StandardCharsets.US_ASCII) + "\n<still open>";
    }
    return out.toString(StandardCharsets.US_ASCII);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
