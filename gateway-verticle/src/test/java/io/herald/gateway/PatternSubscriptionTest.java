package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pattern subscriptions ({@code pattern=}) end to end on one node: a real gateway and replay
 * verticle (memory store, its log) over loopback HTTP, on SSE, WebSocket and long-poll.
 */
@ExtendWith(VertxExtension.class)
class PatternSubscriptionTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";
  private static final HttpClient JDK = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static List<String> data(List<SseEvent> events) {
    return events.stream().map(SseEvent::data).collect(Collectors.toList());
  }

  @Test
  @DisplayName("A pattern stream gets every matching topic's events in order, other topics stay out, and says its patterns when ready")
  void liveDelivery(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); SseClient c = h.sse("/events?pattern=" + enc("orders.*"))) {
      List<SseEvent> first = c.await(l -> !l.isEmpty(), WAIT);
      assertThat(first.get(0).type()).isEqualTo("herald.ready");
      assertThat(new JsonObject(first.get(0).data()).getJsonArray("patterns")).isEqualTo(new JsonArray().add("orders.*"));
      h.publish("orders.a", "a1");
      h.publish("other.x", "x1");
      h.publish("orders.b", "b1");
      h.publish("orders.a", "a2");
      h.publish("orders.a.deep", "deep");
      h.publish("orders.b", "marker");
      List<SseEvent> got = c.await(l -> l.stream().anyMatch(e -> "marker".equals(e.data())), WAIT);
      assertThat(data(c.appEvents())).containsExactly("a1", "b1", "a2", "marker");
      assertThat(got).allMatch(e -> e.id() != null && Cursor.parse(e.id(), 100) != null);
    }
  }

  @Test
  @DisplayName("A resumed pattern stream gets exactly what it missed, on known topics and on topics that first appeared while it was away")
  void resumeAcrossNewTopics(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      String id;
      try (SseClient c = h.sse("/events?pattern=" + enc("shop.**"))) {
        c.await(l -> !l.isEmpty(), WAIT);
        h.publish("shop.a", "a1");
        h.publish("shop.b.x", "bx1");
        List<SseEvent> got = c.awaitAppEvents(2, WAIT);
        id = got.get(1).id();
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        String topic = "shop.new" + i + (i % 2 == 0 ? "" : ".sub");
        h.publish(topic, "n" + i);
        expected.add("n" + i);
        if (i % 10 == 0) {
          h.publish("shop.a", "a" + (i + 2));
          expected.add("a" + (i + 2));
        }
        h.publish("elsewhere", "no");
      }
      try (SseClient c = h.sse("/events?pattern=" + enc("shop.**"), "Last-Event-ID", id)) {
        List<SseEvent> ev = c.await(l -> l.stream().anyMatch(e -> "herald.ready".equals(e.type())), WAIT);
        assertThat(ev.stream().filter(e -> "reset".equals(e.type()))).isEmpty();
        assertThat(data(c.appEvents())).containsExactlyElementsOf(expected);
        h.publish("shop.a", "live");
        c.await(l -> l.stream().anyMatch(e -> "live".equals(e.data())), WAIT);
        List<String> all = new ArrayList<>(expected);
        all.add("live");
        assertThat(data(c.appEvents())).containsExactlyElementsOf(all);
        // The cursor stays bounded whatever the number of matching topics.
        String last = c.appEvents().get(c.appEvents().size() - 1).id();
        assertThat(last.split("\\.").length).isLessThanOrEqualTo(1 + 32);
        // A second resume from the very last id gives nothing again: marker proves it.
        try (SseClient again = h.sse("/events?pattern=" + enc("shop.**"), "Last-Event-ID", last)) {
          again.await(l -> l.stream().anyMatch(e -> "herald.ready".equals(e.type())), WAIT);
          h.publish("shop.z", "marker");
          again.await(l -> l.stream().anyMatch(e -> "marker".equals(e.data())), WAIT);
          assertThat(data(again.appEvents())).containsExactly("marker");
        }
      }
    }
  }

  /** The replay role's configuration for a store: memory, or real Redis and PostgreSQL under a fresh prefix. */
  static JsonObject store(String name) {
    String prefix = "pat" + Long.toString(System.nanoTime(), 36);
    return switch (name) {
      case "redis" -> new JsonObject().put("store", "redis").put("redisKeyPrefix", prefix + ":")
        .put("redisUrl", System.getenv().getOrDefault("HERALD_TEST_REDIS_URL", "redis://127.0.0.1:6379"));
      case "postgres" -> new JsonObject().put("store", "postgres").put("postgresTablePrefix", prefix + "_")
        .put("postgresUrl", System.getenv().getOrDefault("HERALD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"));
      default -> new JsonObject();
    };
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"memory", "redis", "postgres"})
  @DisplayName("Resume of a pattern across new topics is exact on the memory, Redis and PostgreSQL stores")
  void resumeOnEachStore(String store, Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject(), store(store))) {
      assertExactResumeAcrossNewTopics(h);
    }
  }

  /** A pattern stream that resumes after topics first appeared while it was away gets exactly what it missed, no reset. */
  static void assertExactResumeAcrossNewTopics(GatewayHarness h) throws Exception {
    String id;
    try (SseClient c = h.sse("/events?pattern=" + enc("st.*"))) {
      c.await(l -> !l.isEmpty(), WAIT);
      h.publish("st.a", "a1");
      id = c.awaitAppEvents(1, WAIT).get(0).id();
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      h.publish("st.t" + i, "t" + i);
      h.publish("zz.t" + i, "no");
      h.publish("st.a", "a" + (i + 2));
      expected.add("t" + i);
      expected.add("a" + (i + 2));
    }
    try (SseClient c = h.sse("/events?pattern=" + enc("st.*"), "Last-Event-ID", id)) {
      c.await(l -> l.stream().anyMatch(e -> "herald.ready".equals(e.type())), WAIT);
      h.publish("st.new", "marker");
      c.await(l -> l.stream().anyMatch(e -> "marker".equals(e.data())), WAIT);
      expected.add("marker");
      assertThat(c.events().stream().filter(e -> "reset".equals(e.type()))).isEmpty();
      assertThat(data(c.appEvents())).containsExactlyElementsOf(expected);
    }
  }

  @Test
  @DisplayName("A topic held exactly and by a pattern, or by two patterns, is delivered once")
  void overlapDeliveredOnce(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx);
         SseClient c = h.sse("/events?topic=t.a&pattern=" + enc("t.*") + "&pattern=" + enc("t.**"))) {
      c.await(l -> !l.isEmpty(), WAIT);
      h.publish("t.a", "1");
      h.publish("t.b", "2");
      h.publish("t.b.c", "3");
      h.publish("t.a", "marker");
      c.await(l -> l.stream().anyMatch(e -> "marker".equals(e.data())), WAIT);
      assertThat(data(c.appEvents())).containsExactly("1", "2", "3", "marker");
    }
  }

  @Test
  @DisplayName("A bad pattern is a 400 naming the problem; too many topics and patterns a 400 too")
  void badPatterns(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("maxTopicsPerConnection", 2), new JsonObject())) {
      HttpResponse<String> bad = get(h, "/events?pattern=" + enc("a.**.b"));
      assertThat(bad.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(bad.body()).getString("message")).contains("invalid pattern");
      HttpResponse<String> many = get(h, "/events?topic=a&pattern=" + enc("b.*") + "&pattern=" + enc("c.*"));
      assertThat(many.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(many.body()).getString("error")).isEqualTo("too_many_topics");
    }
  }

  @Test
  @DisplayName("With JWT, a pattern is allowed only when one grant covers every topic it can match")
  void authorization(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET).put("publicTopics", new JsonArray().add("pub.*"));
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject())) {
      String alice = SubscriberAuthTest.hs256(new JsonObject().put("sub", "alice").put("topics", new JsonArray().add("news.*"))
        .put("exp", System.currentTimeMillis() / 1000 + 600));
      try (SseClient ok = h.sse("/events?pattern=" + enc("news.*"), "Authorization", "Bearer " + alice)) {
        ok.await(l -> !l.isEmpty(), WAIT);
        h.publish("news.a", "n1");
        assertThat(data(ok.awaitAppEvents(1, WAIT))).containsExactly("n1");
      }
      HttpResponse<String> wide = get(h, "/events?pattern=" + enc("news.**"), "Authorization", "Bearer " + alice);
      assertThat(wide.statusCode()).isEqualTo(403);
      assertThat(new JsonObject(wide.body()).getString("pattern")).isEqualTo("news.**");
      HttpResponse<String> anon = get(h, "/events?pattern=" + enc("news.*"));
      assertThat(anon.statusCode()).isEqualTo(401);
      try (SseClient pub = h.sse("/events?pattern=" + enc("pub.*"))) {
        pub.await(l -> !l.isEmpty(), WAIT);
      }
    }
  }

  @Test
  @DisplayName("WebSocket: a pattern subscription delivers matching topics and resumes exactly with lastEventId")
  void webSocket(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      String id;
      try (WsClient ws = WsClient.open(h.port(), "/ws?pattern=" + enc("ws.*"))) {
        ws.await(l -> !l.isEmpty(), WAIT);
        h.publish("ws.a", "1");
        h.publish("nope", "x");
        h.publish("ws.b", "2");
        List<JsonObject> frames = ws.awaitAppFrames(2, WAIT);
        assertThat(frames).extracting(f -> f.getString("data")).containsExactly("1", "2");
        id = frames.get(1).getString("id");
      }
      h.publish("ws.c", "3");
      h.publish("ws.a", "4");
      try (WsClient ws = WsClient.open(h.port(), "/ws?pattern=" + enc("ws.*") + "&lastEventId=" + enc(id))) {
        List<JsonObject> frames = ws.awaitAppFrames(2, WAIT);
        assertThat(frames).extracting(f -> f.getString("data")).containsExactly("3", "4");
        assertThat(frames).extracting(f -> f.getString("topic")).containsExactly("ws.c", "ws.a");
      }
    }
  }

  @Test
  @DisplayName("Long-poll: pattern pages follow each other without loss or duplicate, new topics included")
  void longPoll(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("maxReplayEvents", 3), new JsonObject())) {
      JsonObject first = poll(h, "pattern=" + enc("lp.*"));
      String id = first.getString("id");
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        h.publish("lp.t" + (i % 4), "e" + i);
        expected.add("e" + i);
        h.publish("other", "x");
      }
      List<String> got = new ArrayList<>();
      for (int round = 0; round < 10 && got.size() < expected.size(); round++) {
        JsonObject page = poll(h, "pattern=" + enc("lp.*") + "&lastEventId=" + enc(id));
        id = page.getString("id");
        JsonArray events = page.getJsonArray("events");
        for (int i = 0; i < events.size(); i++) {
          JsonObject f = events.getJsonObject(i);
          if (f.containsKey("topic")) {
            got.add(String.valueOf(f.getValue("data")));
          }
        }
      }
      assertThat(got).containsExactlyElementsOf(expected);
    }
  }

  private static JsonObject poll(GatewayHarness h, String query) throws Exception {
    HttpResponse<String> r = get(h, "/poll?" + query);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body());
  }

  private static HttpResponse<String> get(GatewayHarness h, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.port() + path))
      .timeout(Duration.ofSeconds(30)).GET();
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return JDK.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
