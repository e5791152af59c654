package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/** The long-poll transport ({@code GET /poll}) end to end: a real gateway and replay verticle, the JDK's HTTP client. */
@ExtendWith(VertxExtension.class)
class LongPollTest {

  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";
  private static final HttpClient JDK = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();

  /** One answer of {@code GET /poll}. */
  record Poll(int status, HttpResponse<String> response, JsonObject body, long millis) {
    String id() {
      return body.getString("id");
    }

    List<JsonObject> events() {
      JsonArray a = body.getJsonArray("events");
      List<JsonObject> out = new ArrayList<>();
      for (int i = 0; i < a.size(); i++) {
        out.add(a.getJsonObject(i));
      }
      return out;
    }

    List<String> data() {
      return events().stream().filter(f -> f.containsKey("topic")).map(f -> String.valueOf(f.getValue("data"))).collect(Collectors.toList());
    }
  }

  private static CompletableFuture<Poll> pollAsync(GatewayHarness h, String query, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.port() + "/poll?" + query))
      .timeout(Duration.ofSeconds(30)).GET();
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    long start = System.nanoTime();
    return JDK.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).thenApply(r ->
      new Poll(r.statusCode(), r, new JsonObject(r.body()), (System.nanoTime() - start) / 1_000_000));
  }

  private static Poll poll(GatewayHarness h, String query, String... headers) throws Exception {
    return pollAsync(h, query, headers).get(30, TimeUnit.SECONDS);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static GatewayHarness harness(Vertx vertx, JsonObject config) throws Exception {
    return new GatewayHarness(vertx, config, new JsonObject());
  }

  @Test
  @DisplayName("A first poll, without a cursor, answers at once with herald.ready and the current position, not to be cached")
  void firstPoll(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      h.publish("a", "before");
      Poll p = poll(h, "topic=a&topic=b");
      assertThat(p.status()).isEqualTo(200);
      assertThat(p.response().headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(p.response().headers().firstValue("Cache-Control")).hasValue("no-store");
      assertThat(p.body().fieldNames()).containsExactly("id", "events");
      assertThat(p.events()).hasSize(1);
      JsonObject ready = p.events().get(0);
      assertThat(ready).isEqualTo(new JsonObject().put("id", p.id()).put("type", "herald.ready")
        .put("data", new JsonObject().put("topics", new JsonArray().add("a").add("b"))));
      assertThat(Cursor.parse(p.id(), 8).position("a").seq()).isEqualTo(1);
      assertThat(h.gateway.sse().connectionCount()).isZero();
    }
  }

  @Test
  @DisplayName("Events stored after the cursor are answered at once, as the WebSocket frames, and the answer's id resumes after them")
  void storedEventsAtOnce(Vertx vertx) throws Exception {
    // A poll waits 300 s for nothing, far past the 30 s this client waits for any answer: an
    // answer at all was not the timeout's.
    try (GatewayHarness h = harness(vertx, new JsonObject().put("longPollTimeoutSeconds", 300).put("idleTimeoutSeconds", 0))) {
      String id = poll(h, "topic=orders").id();
      Event json = h.publish("order.created", "{\"id\":7,\"total\":12.5}", true, "orders").get(0);
      Event text = h.publish("orders", "first line\nsecond line\r\nthird");
      Poll p = poll(h, "topic=orders&lastEventId=" + enc(id));
      assertThat(p.events()).containsExactly(
        new JsonObject().put("id", json.cursor()).put("topic", "orders").put("type", "order.created")
          .put("data", new JsonObject().put("id", 7).put("total", 12.5)),
        new JsonObject().put("id", text.cursor()).put("topic", "orders").put("type", "message")
          .put("data", "first line\nsecond line\r\nthird"));
      assertThat(p.id()).isEqualTo(text.cursor());
      // The Last-Event-ID header works too; nothing new: no duplicate.
      Event third = h.publish("orders", "third");
      Poll q = poll(h, "topic=orders", "Last-Event-ID", p.id());
      assertThat(q.data()).containsExactly("third");
      assertThat(q.id()).isEqualTo(third.cursor());
    }
  }

  @Test
  @DisplayName("With nothing after the cursor a poll waits for the next event and answers with it")
  void waitsForLive(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      String id = poll(h, "topic=a&topic=b").id();
      CompletableFuture<Poll> waiting = pollAsync(h, "topic=a&topic=b&lastEventId=" + enc(id));
      awaitCondition(() -> h.gateway.sse().connectionCount() == 1);
      // The poll is held; an answer before the event (empty, or of anything else) fails below.
      assertThat(waiting).isNotDone();
      h.publish("b", "b1");
      Poll p = waiting.get(5, TimeUnit.SECONDS);
      assertThat(p.data()).containsExactly("b1");
      assertThat(p.events().get(0).getString("topic")).isEqualTo("b");
      Cursor c = Cursor.parse(p.id(), 8);
      assertThat(c.position("b").seq()).isEqualTo(1);
      assertThat(c.position("a").seq()).isZero();
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0 && h.gateway.sse().heldTopics().isEmpty());
    }
  }

  @Test
  @DisplayName("A poll that waits longPollTimeoutSeconds without an event answers with none and the same id")
  void timeout(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, new JsonObject().put("longPollTimeoutSeconds", 1))) {
      String id = poll(h, "topic=quiet").id();
      Poll p = poll(h, "topic=quiet&lastEventId=" + enc(id));
      assertThat(p.status()).isEqualTo(200);
      // Not before longPollTimeoutSeconds (measured from before the request was sent), and eventually.
      assertThat(p.millis()).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toMillis(1));
      assertThat(p.events()).isEmpty();
      assertThat(p.id()).isEqualTo(id);
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0 && h.gateway.sse().limiter().total() == 0);
    }
  }

  @Test
  @DisplayName("More missed events than maxReplayEvents come in pages: the client polls again with each answer's id")
  void pages(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, new JsonObject().put("maxReplayEvents", 5).put("longPollTimeoutSeconds", 1))) {
      String id = poll(h, "topic=p").id();
      for (int i = 1; i <= 12; i++) {
        h.publish("p", "e" + i);
      }
      List<String> got = new ArrayList<>();
      List<Integer> sizes = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Poll p = poll(h, "topic=p&lastEventId=" + enc(id));
        assertThat(p.events()).noneMatch(f -> "reset".equals(f.getString("type")));
        sizes.add(p.events().size());
        got.addAll(p.data());
        id = p.id();
      }
      assertThat(sizes).containsExactly(5, 5, 2);
      assertThat(got).containsExactly("e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11", "e12");
      assertThat(poll(h, "topic=p&lastEventId=" + enc(id)).events()).isEmpty();
    }
  }

  @Test
  @DisplayName("A cursor that is not one gets a reset frame per topic at once, with an id to go on from")
  void unknownCursor(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      h.publish("a", "old");
      Poll p = poll(h, "topic=a&lastEventId=garbage");
      assertThat(p.events()).containsExactly(new JsonObject().put("id", p.id()).put("type", "reset")
        .put("data", new JsonObject().put("topic", "a").put("reason", "unknown_last_event_id")));
      h.publish("a", "new");
      assertThat(poll(h, "topic=a&lastEventId=" + enc(p.id())).data()).containsExactly("new");
    }
  }

  @Test
  @DisplayName("Polling in a loop under a concurrent publisher receives every event once, in order")
  void noEventMissedBetweenPolls(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, new JsonObject().put("longPollTimeoutSeconds", 2))) {
      String id = poll(h, "topic=race").id();
      AtomicReference<Throwable> failed = new AtomicReference<>();
      Thread publisher = new Thread(() -> {
        try {
          for (int i = 1; i <= 200; i++) {
            h.publish("race", "n" + i);
            if (i % 7 == 0) {
              Thread.sleep(3);
            }
          }
        } catch (Throwable t) {
          failed.set(t);
        }
      });
      publisher.start();
      List<String> got = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      int polls = 0;
      while (got.size() < 200 && System.nanoTime() < deadline) {
        Poll p = poll(h, "topic=race&lastEventId=" + enc(id));
        assertThat(p.status()).isEqualTo(200);
        assertThat(p.events()).noneMatch(f -> "reset".equals(f.getString("type")));
        got.addAll(p.data());
        id = p.id();
        polls++;
      }
      io.herald.testsupport.Diagnostics.join(publisher, 30, "the racing publisher");
      assertThat(failed.get()).isNull();
      List<String> expected = new ArrayList<>();
      for (int i = 1; i <= 200; i++) {
        expected.add("n" + i);
      }
      assertThat(got).containsExactlyElementsOf(expected);
      assertThat(polls).isGreaterThan(1);
    }
  }

  @Test
  @DisplayName("jwt mode: 401 without a token, 403 for a topic outside it, and no other topic's events, not even by replay")
  void auth(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET).put("longPollTimeoutSeconds", 1);
    try (GatewayHarness h = harness(vertx, config)) {
      long now = System.currentTimeMillis() / 1000;
      String all = SubscriberAuthTest.hs256(new JsonObject().put("sub", "admin").put("topics", new JsonArray().add("news.*").add("secret"))
        .put("exp", now + 600), SECRET);
      String news = SubscriberAuthTest.hs256(new JsonObject().put("sub", "alice").put("topics", new JsonArray().add("news.*"))
        .put("exp", now + 600), SECRET);
      Poll anonymous = poll(h, "topic=news.a");
      assertThat(anonymous.status()).isEqualTo(401);
      assertThat(anonymous.body().getString("error")).isEqualTo("unauthorized");
      assertThat(anonymous.response().headers().firstValue("WWW-Authenticate")).isPresent();
      Poll denied = poll(h, "topic=news.a&topic=secret", "Authorization", "Bearer " + news);
      assertThat(denied.status()).isEqualTo(403);
      assertThat(denied.body().getString("topic")).isEqualTo("secret");

      String cursor = poll(h, "topic=news.a&topic=secret&access_token=" + all).id();
      h.publish("secret", "s1");
      h.publish("news.a", "n1");
      Poll p = poll(h, "topic=news.a&lastEventId=" + enc(cursor), "Authorization", "Bearer " + news);
      assertThat(p.status()).isEqualTo(200);
      assertThat(p.data()).containsExactly("n1");
      assertThat(p.body().encode()).doesNotContain("s1");
      assertThat(Cursor.parse(p.id(), 8).position("secret")).isNull();
    }
  }

  @Test
  @DisplayName("A client that disconnects mid-wait frees its place, its topics and its timer")
  void disconnectMidWait(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      String id = poll(h, "topic=w").id();
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", h.port()), 5000);
        s.getOutputStream().write(("GET /poll?topic=w&lastEventId=" + enc(id) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
        awaitCondition(() -> h.gateway.sse().connectionCount() == 1 && h.gateway.sse().heldTopics().contains("w"));
        assertThat(h.gateway.sse().limiter().total()).isEqualTo(1);
      }
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
      awaitCondition(() -> h.gateway.sse().limiter().total() == 0 && h.gateway.sse().heldTopics().isEmpty());
      h.publish("w", "after");
      assertThat(poll(h, "topic=w&lastEventId=" + enc(id)).data()).containsExactly("after");
    }
  }

  @Test
  @DisplayName("Limits: a waiting poll counts toward maxConnectionsPerIp only while it is open")
  void limits(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, new JsonObject().put("maxConnectionsPerIp", 1).put("longPollTimeoutSeconds", 1))) {
      String id = poll(h, "topic=l").id();
      CompletableFuture<Poll> waiting = pollAsync(h, "topic=l&lastEventId=" + enc(id));
      awaitCondition(() -> h.gateway.sse().connectionCount() == 1);
      Poll refused = poll(h, "topic=l");
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.body().getString("error")).isEqualTo("rate_limited");
      assertThat(refused.response().headers().firstValue("Retry-After")).isPresent();
      assertThat(waiting.get(5, TimeUnit.SECONDS).status()).isEqualTo(200);
      awaitCondition(() -> h.gateway.sse().limiter().total() == 0);
      assertThat(poll(h, "topic=l").status()).isEqualTo(200);
    }
  }

  @Test
  @DisplayName("Bad requests: no topic 400, POST 405, and /poll left out of gateway.transports is 404")
  void badRequestsAndDisabled(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      Poll noTopic = poll(h, "");
      assertThat(noTopic.status()).isEqualTo(400);
      assertThat(noTopic.body().getString("error")).isEqualTo("invalid_request");
      assertThat(noTopic.body().getString("message")).contains("/poll?topic=NAME");
      HttpResponse<String> post = JDK.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.port() + "/poll?topic=a"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
      assertThat(new JsonObject(post.body()).getString("error")).isEqualTo("method_not_allowed");
    }
    JsonObject noPoll = new JsonObject().put("transports", new JsonArray().add("sse").add("websocket"));
    try (GatewayHarness h = harness(vertx, noPoll)) {
      Poll p = poll(h, "topic=a");
      assertThat(p.status()).isEqualTo(404);
      assertThat(p.body().getString("error")).isEqualTo("not_found");
    }
  }
}
