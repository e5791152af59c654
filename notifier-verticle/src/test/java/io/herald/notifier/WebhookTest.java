package io.herald.notifier;

import io.herald.common.EventCodec;
import io.herald.common.replay.ReplayClient;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Signed webhooks over real HTTP: {@code POST /webhook/<name>} with a timestamped HMAC. */
@ExtendWith(VertxExtension.class)
class WebhookTest {

  private static final String SECRET = "n8n-webhook-secret-at-least-32-chars!";
  /** Ends with base64 padding: the "=" before the patterns is the one that counts. */
  private static final String BILLING_SECRET = "YmlsbGluZy13ZWJob29rLXNlY3JldC0zMi1ieXRlcw==";

  private HttpClient http;
  private ReplayClient replay;
  private NotifierVerticle notifier;

  record Reply(int status, Map<String, String> headers, JsonObject body) {
  }

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    EventCodec.register(vertx);
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    notifier = new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)
      .put("publisherKeys", List.of("some-publisher-key")).put("webhookSecrets", List.of("n8n=" + SECRET, "other=" + "o".repeat(40), "billing=" + BILLING_SECRET + "=invoices.*|audit"))
      .put("webhookToleranceSeconds", 300)));
    await(vertx.deployVerticle(notifier));
    http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    replay = new ReplayClient(vertx, 5000);
  }

  @AfterEach
  void stop() throws Exception {
    await(http.close());
  }

  @Test
  @DisplayName("A correctly signed delivery is published and stored; the batch form works too")
  void validDelivery() throws Exception {
    String body = "{\"topic\":\"hooks\",\"type\":\"n8n.run\",\"data\":{\"ok\":true}}";
    Reply r = deliver("n8n", now(), body, SECRET);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body().getJsonArray("events").getJsonObject(0).getLong("seq")).isEqualTo(1);
    String batch = "{\"events\":[{\"topic\":\"hooks\",\"data\":2},{\"topic\":\"hooks2\",\"data\":3}]}";
    Reply b = deliver("n8n", now(), batch, SECRET);
    assertThat(b.status()).isEqualTo(200);
    assertThat(b.body().getJsonArray("results")).hasSize(2);
    assertThat(seq("hooks")).isEqualTo(2);
    assertThat(seq("hooks2")).isEqualTo(1);
  }

  @Test
  @DisplayName("A signed delivery's data is stored digit for digit; a lone surrogate gets 400 invalid_data and stores nothing")
  void exactData() throws Exception {
    StringBuilder batch = new StringBuilder("{\"events\":[");
    for (int i = 0; i < ExactValues.VALUES.size(); i++) {
      batch.append(i == 0 ? "" : ",").append("{\"topic\":\"hooks.exact\",\"data\":").append(ExactValues.VALUES.get(i)).append('}');
    }
    batch.append("]}");
    Reply ok = deliver("n8n", now(), batch.toString(), SECRET);
    assertThat(ok.status()).as(ok.body().encode()).isEqualTo(200);
    assertThat(StoredEvents.readAll(replay, "hooks.exact")).extracting(io.herald.common.Event::data)
      .containsExactlyElementsOf(ExactValues.VALUES);
    Reply bad = deliver("n8n", now(), "{\"topic\":\"hooks.bad\",\"data\":[\"\\ud800\"]}", SECRET);
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.body().getString("error")).isEqualTo("invalid_data");
    assertThat(bad.body().getString("message")).contains("lone surrogate");
    assertThat(seq("hooks.bad")).isZero();
  }

  @Test
  @DisplayName("A webhook restricted to topic patterns publishes inside them; outside gets 403 naming the topic and stores nothing, not even the rest of a batch")
  void topicPatterns() throws Exception {
    assertThat(deliver("billing", now(), "{\"topic\":\"invoices.eu\",\"data\":1}", BILLING_SECRET).status()).isEqualTo(200);
    assertThat(deliver("billing", now(), "{\"topic\":\"audit\",\"data\":1}", BILLING_SECRET).status()).isEqualTo(200);
    Reply outside = deliver("billing", now(), "{\"topic\":\"payroll\",\"data\":1}", BILLING_SECRET);
    assertThat(outside.status()).isEqualTo(403);
    assertThat(outside.body().getString("error")).isEqualTo("access_denied");
    assertThat(outside.body().getString("message")).contains("payroll");
    Reply deeper = deliver("billing", now(), "{\"events\":[{\"topic\":\"invoices.us\",\"data\":2},{\"topic\":\"invoices.eu.paris\",\"data\":3}]}",
      BILLING_SECRET);
    assertThat(deeper.status()).isEqualTo(403);
    assertThat(seq("invoices.eu")).isEqualTo(1);
    assertThat(seq("invoices.us")).isZero();
    assertThat(seq("payroll")).isZero();
    // An unrestricted webhook still publishes anywhere.
    assertThat(deliver("n8n", now(), "{\"topic\":\"payroll\",\"data\":1}", SECRET).status()).isEqualTo(200);
  }

  @Test
  @DisplayName("A wrong signature, another webhook's secret, or a missing header gets 401 and stores nothing")
  void badSignature() throws Exception {
    String body = "{\"topic\":\"bad\",\"data\":1}";
    String ts = now();
    assertUnauthorized(deliver("n8n", ts, body, "a-wrong-secret-that-is-long-enough-000"));
    assertUnauthorized(deliver("n8n", ts, body, "o".repeat(40)));
    assertUnauthorized(send("n8n", ts, "sha256=" + sign(SECRET, ts, body + " "), body));
    assertUnauthorized(send("n8n", ts, null, body));
    assertUnauthorized(send("n8n", null, "sha256=" + sign(SECRET, ts, body), body));
    assertUnauthorized(send("n8n", ts, "sha256=zz", body));
    assertThat(seq("bad")).isZero();
  }

  @Test
  @DisplayName("A timestamp outside the tolerance (too old or in the future) gets 401, even if correctly signed")
  void staleTimestamp() throws Exception {
    String body = "{\"topic\":\"bad\",\"data\":1}";
    long now = System.currentTimeMillis() / 1000;
    Reply old = deliver("n8n", String.valueOf(now - 301 - 5), body, SECRET);
    assertUnauthorized(old);
    assertThat(old.body().getString("message")).contains("X-Herald-Timestamp");
    assertUnauthorized(deliver("n8n", String.valueOf(now + 1000), body, SECRET));
    assertThat(seq("bad")).isZero();
  }

  @Test
  @DisplayName("Replaying an identical delivery gets 401 the second time and is stored once")
  void replay() throws Exception {
    String body = "{\"topic\":\"once\",\"data\":1}";
    String ts = now();
    String sig = "sha256=" + sign(SECRET, ts, body);
    assertThat(send("n8n", ts, sig, body).status()).isEqualTo(200);
    Reply again = send("n8n", ts, sig, body);
    assertUnauthorized(again);
    assertThat(again.body().getString("message")).contains("replay");
    assertThat(seq("once")).isEqualTo(1);
  }

  @Test
  @DisplayName("An unknown webhook name gets 404, a bad body 400, a GET 405, all with JSON bodies")
  void unknownAndBad() throws Exception {
    String body = "{\"topic\":\"bad\",\"data\":1}";
    Reply unknown = deliver("nope", now(), body, SECRET);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.body().getString("error")).isEqualTo("not_found");
    Reply invalid = deliver("n8n", now(), "{\"topic\":\"bad topic\",\"data\":1}", SECRET);
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.body().getString("error")).isEqualTo("invalid_topic");
    Reply malformed = deliver("n8n", now(), "{\"topic\":", SECRET);
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.body().getString("error")).isEqualTo("malformed_json");
    var raw = io.herald.testsupport.JdkHttp.send("GET", "http://127.0.0.1:" + notifier.actualPort() + "/webhook/n8n", null);
    Reply get = new Reply(raw.status(), raw.headers(), new JsonObject(raw.body()));
    assertThat(get.status()).isEqualTo(405);
    assertThat(get.body().getString("error")).isEqualTo("method_not_allowed");
    assertThat(seq("bad")).isZero();
  }

  @Test
  @DisplayName("Remembered signatures expire with the tolerance, and a full memory refuses rather than forgets")
  void replayMemoryIsBounded() {
    AtomicLong clock = new AtomicLong(1_000_000);
    WebhookAuth auth = new WebhookAuth(Map.of("n", SECRET), 300, clock::get, 2);
    Buffer body = Buffer.buffer("{}");
    auth.verify("n", "1000000", "sha256=" + sign(SECRET, "1000000", "{}"), body);
    auth.verify("n", "1000001", "sha256=" + sign(SECRET, "1000001", "{}"), body);
    assertThatThrownBy(() -> auth.verify("n", "1000002", "sha256=" + sign(SECRET, "1000002", "{}"), body))
      .hasMessageContaining("too many");
    clock.set(1_000_301);
    auth.verify("n", "1000300", "sha256=" + sign(SECRET, "1000300", "{}"), body);
    assertThat(auth.remembered()).isEqualTo(2);
  }

  private void assertUnauthorized(Reply r) {
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.headers().get("content-type")).isEqualTo("application/json");
    assertThat(r.headers()).containsKey("www-authenticate");
    assertThat(r.body().getString("error")).isEqualTo("unauthorized");
  }

  private static String now() {
    return String.valueOf(System.currentTimeMillis() / 1000);
  }

  static String sign(String secret, String ts, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal((ts + "." + body).getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private long seq(String topic) throws Exception {
    return await(replay.heads(List.of(topic))).get(topic).seq();
  }

  private Reply deliver(String name, String ts, String body, String secret) throws Exception {
    return send(name, ts, "sha256=" + sign(secret, ts, body), body);
  }

  private Reply send(String name, String ts, String signature, String body) throws Exception {
    var r = io.herald.testsupport.JdkHttp.send("POST", "http://127.0.0.1:" + notifier.actualPort() + "/webhook/" + name, body,
      "Content-Type", "application/json", "X-Herald-Timestamp", ts, "X-Herald-Signature", signature);
    return new Reply(r.status(), r.headers(), r.body().isEmpty() ? new JsonObject() : new JsonObject(r.body()));
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
