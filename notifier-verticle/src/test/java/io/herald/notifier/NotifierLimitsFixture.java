package io.herald.notifier;

import io.herald.common.EventCodec;
import io.herald.common.replay.ReplayClient;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Shared setup of the notifier's abuse-limit tests over real HTTP on loopback: a notifier
 * deployed with the test's limits, a java.net.http client, the quotas' fake clock, and helpers
 * that publish and read back.
 */
@ExtendWith(VertxExtension.class)
abstract class NotifierLimitsFixture {

  /** The publish quotas' clock: tokens refill only when a test moves it. */
  final java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong(1_000_000_000L);

  static final String KEY = "limits-publisher-key";
  static final String OTHER_KEY = "other-publisher-key";
  static final String HOOK_SECRET = "limits-webhook-secret-at-least-32-chars";

  HttpClient http;
  ReplayClient replay;

  record Reply(int status, java.net.http.HttpHeaders headers, JsonObject body) {
  }

  @BeforeEach
  void client() {
    // java.net.http rather than the Vert.x client: see the project's notes on rare client hangs.
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
  }

  Reply postFrom(NotifierVerticle n, String forwardedFor, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.actualPort() + "/publish"))
      .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json").header("Authorization", "Bearer " + KEY)
      .POST(HttpRequest.BodyPublishers.ofString(body));
    if (forwardedFor != null) {
      b.header("X-Forwarded-For", forwardedFor);
    }
    return reply(http.send(b.build(), HttpResponse.BodyHandlers.ofString()));
  }

  NotifierVerticle deploy(Vertx vertx, JsonObject config) throws Exception {
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

  Reply publish(NotifierVerticle n, String key, String topic) throws Exception {
    return post(n, "/publish", key, "{\"topic\":\"" + topic + "\",\"data\":1}");
  }

  Reply webhook(NotifierVerticle n, String ts, String body) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.actualPort() + "/webhook/hook"))
      .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json").header("X-Herald-Timestamp", ts)
      .header("X-Herald-Signature", "sha256=" + WebhookTest.sign(HOOK_SECRET, ts, body))
      .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return reply(http.send(req, HttpResponse.BodyHandlers.ofString()));
  }

  Reply post(NotifierVerticle n, String path, String key, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.actualPort() + path))
      .timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return reply(http.send(b.build(), HttpResponse.BodyHandlers.ofString()));
  }

  static Reply reply(HttpResponse<String> r) {
    return new Reply(r.statusCode(), r.headers(), r.body().isEmpty() ? new JsonObject() : new JsonObject(r.body()));
  }

  static String batch(String topic, int events) {
    StringBuilder sb = new StringBuilder("{\"events\":[");
    for (int i = 0; i < events; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"topic\":\"").append(topic).append("\",\"data\":").append(i).append('}');
    }
    return sb.append("]}").toString();
  }

  long seq(String topic) throws Exception {
    return await(replay.heads(List.of(topic))).get(topic).seq();
  }

  static String readStatusLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      sb.append((char) c);
    }
    return sb.toString().trim();
  }

  /** Everything until the server closes (or the socket's read timeout, which fails the caller's assertions). */
  static String readAll(InputStream in) throws IOException {
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

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
