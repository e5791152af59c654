package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.herald.gateway.SockJSBridgeTest.Bridge;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pattern registrations on the SockJS bridge ({@code herald.browser.~<pattern>}) end to end: a
 * real gateway and replay verticle, the bridge over SockJS's raw WebSocket endpoint as in
 * {@link SockJSBridgeTest}, on the memory store and on real Redis and PostgreSQL.
 */
@ExtendWith(VertxExtension.class)
class SockJSPatternTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";
  private static final AtomicInteger REPLIES = new AtomicInteger();

  private static void registerPattern(Bridge b, String pattern) {
    b.raw(new JsonObject().put("type", "register").put("address", "herald.browser.~" + pattern));
  }

  private static void awaitLivePattern(GatewayHarness h, String pattern, int sockets) throws Exception {
    awaitCondition(() -> h.gateway.sse().bridge().patterns().liveRegistrations(pattern) >= sockets);
  }

  /** The event frames received on an address, in order. */
  private static List<JsonObject> recs(Bridge b, String address) {
    return b.frames().stream().filter(f -> "rec".equals(f.getString("type")) && address.equals(f.getString("address")))
      .map(f -> f.getJsonObject("body")).collect(Collectors.toList());
  }

  private static List<String> data(List<JsonObject> frames) {
    return frames.stream().filter(f -> f.getString("topic") != null).map(f -> f.getValue("data").toString()).collect(Collectors.toList());
  }

  private static List<JsonObject> byTopic(List<JsonObject> frames, String topic) {
    return frames.stream().filter(f -> topic.equals(f.getString("topic"))).collect(Collectors.toList());
  }

  private static List<JsonObject> awaitData(Bridge b, String address, String data) throws Exception {
    b.await(f -> recs(b, address).stream().anyMatch(x -> data.equals(String.valueOf(x.getValue("data")))), WAIT);
    return recs(b, address);
  }

  /** One replay request and its answer (the reply, or the err frame for it). */
  private static JsonObject ask(Bridge b, JsonObject request) throws Exception {
    String reply = "r" + REPLIES.incrementAndGet();
    b.send("herald.browser.replay", request, reply);
    return b.await(f -> f.stream().anyMatch(x -> reply.equals(x.getString("address"))), WAIT).stream()
      .filter(x -> reply.equals(x.getString("address"))).findFirst().orElseThrow();
  }

  /** Replays a pattern since {@code lastEventId}, page after page while {@code more}; the frames, then the last id. */
  private static List<JsonObject> replayAll(Bridge b, String pattern, String lastEventId, String[] lastId) throws Exception {
    List<JsonObject> frames = new ArrayList<>();
    String id = lastEventId;
    for (int pages = 0; pages < 100; pages++) {
      JsonObject reply = ask(b, new JsonObject().put("pattern", pattern).put("lastEventId", id));
      assertThat(reply.getString("type")).as("reply %s", reply).isEqualTo("rec");
      JsonObject answer = reply.getJsonObject("body");
      answer.getJsonArray("events").forEach(o -> frames.add((JsonObject) o));
      id = answer.getString("id");
      if (!answer.getBoolean("more")) {
        lastId[0] = id;
        return frames;
      }
    }
    throw new AssertionError("replay did not end");
  }

  @Test
  @DisplayName("A registered pattern receives every matching topic's events, a topic first published after registering included, each with its topic; others stay out")
  void liveDelivery(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); Bridge b = Bridge.open(h.port(), "")) {
      h.publish("orders.a", "before");
      registerPattern(b, "orders.*");
      awaitLivePattern(h, "orders.*", 1);
      h.publish("orders.a", "a1");
      h.publish("other.x", "x1");
      h.publish("orders.new", "n1");
      h.publish("orders.a.deep", "deep");
      h.publish("orders.a", "a2");
      h.publish("orders.b", "marker");
      String address = "herald.browser.~orders.*";
      // Herald orders events per topic, not across topics: wait for all four, then check each topic's order.
      b.await(f -> data(recs(b, address)).containsAll(List.of("a1", "n1", "a2", "marker")), WAIT);
      List<JsonObject> got = recs(b, address);
      assertThat(data(got)).as("each matching event once, nothing else").containsExactlyInAnyOrder("a1", "n1", "a2", "marker");
      assertThat(data(got.stream().filter(f -> "orders.a".equals(f.getString("topic"))).toList())).containsExactly("a1", "a2");
      assertThat(got.stream().filter(f -> "n1".equals(f.getValue("data"))).map(f -> f.getString("topic"))).containsExactly("orders.new");
      assertThat(b.frames()).allMatch(f -> "rec".equals(f.getString("type")) && address.equals(f.getString("address")));
      // Each id is the pattern's cursor, in the form /events?pattern= resumes from.
      for (JsonObject f : got) {
        Cursor c = Cursor.parse(f.getString("id"), 40);
        assertThat(c).isNotNull();
        assertThat(c.position("~h:orders.*")).isNotNull();
      }
      // Resuming from the second frame's id gives exactly the frames that came after it.
      try (SseClient sse = h.sse("/events?pattern=" + URLEncoder.encode("orders.*", StandardCharsets.UTF_8), "Last-Event-ID",
        got.get(1).getString("id"))) {
        sse.await(l -> l.stream().anyMatch(e -> "herald.ready".equals(e.type())), WAIT);
        assertThat(sse.appEvents().stream().map(SseEvent::data).toList())
          .containsExactlyInAnyOrderElementsOf(data(got.subList(2, got.size())));
      }
    }
  }

  @Test
  @DisplayName("The kind comes from the text as for pattern=: a URL Pattern, a URI template, and text without wildcard matching one topic")
  void kinds(Vertx vertx) throws Exception {
    String url = "https://example.com/books/:id";
    String template = "https://example.com/authors/{id}";
    try (GatewayHarness h = new GatewayHarness(vertx); Bridge b = Bridge.open(h.port(), "")) {
      registerPattern(b, url);
      registerPattern(b, template);
      registerPattern(b, "plain.topic");
      awaitLivePattern(h, url, 1);
      awaitLivePattern(h, template, 1);
      awaitLivePattern(h, "plain.topic", 1);
      h.publish("https://example.com/books/1/reviews", "no");
      h.publish("https://example.com/books/1", "book");
      h.publish("https://example.com/authors/7", "author");
      h.publish("plain.topic.x", "no");
      h.publish("plain.topic", "plain");
      List<JsonObject> books = awaitData(b, "herald.browser.~" + url, "book");
      List<JsonObject> authors = awaitData(b, "herald.browser.~" + template, "author");
      List<JsonObject> plain = awaitData(b, "herald.browser.~plain.topic", "plain");
      h.publish("https://example.com/books/2", "marker");
      assertThat(data(awaitData(b, "herald.browser.~" + url, "marker"))).containsExactly("book", "marker");
      assertThat(data(authors)).containsExactly("author");
      assertThat(data(plain)).containsExactly("plain");
      assertThat(Cursor.parse(books.get(0).getString("id"), 40).position("~u:" + url)).isNotNull();
      assertThat(Cursor.parse(authors.get(0).getString("id"), 40).position("~t:" + template)).isNotNull();
      assertThat(Cursor.parse(plain.get(0).getString("id"), 40).position("~e:plain.topic")).isNotNull();
    }
  }

  @Test
  @DisplayName("Unregistering a pattern stops its delivery and releases the gateway's pattern channel")
  void unregister(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); Bridge b = Bridge.open(h.port(), "")) {
      registerPattern(b, "u.*");
      b.register("ctl");
      awaitLivePattern(h, "u.*", 1);
      SockJSBridgeTest.awaitLive(h, "ctl");
      h.publish("u.a", "one");
      awaitData(b, "herald.browser.~u.*", "one");
      b.raw(new JsonObject().put("type", "unregister").put("address", "herald.browser.~u.*"));
      awaitCondition(() -> h.gateway.sse().bridge().patterns().liveRegistrations("u.*") == 0);
      awaitCondition(() -> quietly(() -> h.gateway.sse().subscriptions().patternKeys().isEmpty()));
      h.publish("u.a", "two");
      h.publish("u.new", "three");
      h.publish("ctl", "marker");
      awaitData(b, "herald.browser.ctl", "marker");
      assertThat(data(recs(b, "herald.browser.~u.*"))).containsExactly("one");
      // Registered again: live again.
      registerPattern(b, "u.*");
      awaitLivePattern(h, "u.*", 1);
      h.publish("u.b", "four");
      assertThat(data(awaitData(b, "herald.browser.~u.*", "four"))).containsExactly("one", "four");
    }
  }

  /** A check of state confined to the gateway's loop, read from the test thread: false when caught mid-change. */
  private static boolean quietly(java.util.function.BooleanSupplier check) {
    try {
      return check.getAsBoolean();
    } catch (RuntimeException e) {
      return false;
    }
  }

  @Test
  @DisplayName("Resume after a reconnect is exact across new topics and replay pages: no loss, no duplicate, live after the replay's end")
  void resumeFreshChannel(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxReplayEvents", 4);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject())) {
      resume(h, false);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"memory", "redis", "postgres"})
  @DisplayName("Resume is exact on the memory, Redis and PostgreSQL stores, also while another socket keeps the pattern's channel open")
  void resumeOnEachStore(String store, Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxReplayEvents", 5);
    try (GatewayHarness h = new GatewayHarness(vertx, config, PatternSubscriptionTest.store(store))) {
      resume(h, true);
    }
  }

  private static void resume(GatewayHarness h, boolean keeper) throws Exception {
    String pattern = "st.*";
    String address = "herald.browser.~" + pattern;
    Bridge keep = null;
    try {
      if (keeper) {
        keep = Bridge.open(h.port(), "");
        registerPattern(keep, pattern);
        awaitLivePattern(h, pattern, 1);
      }
      String id;
      try (Bridge first = Bridge.open(h.port(), "")) {
        registerPattern(first, pattern);
        awaitLivePattern(h, pattern, keeper ? 2 : 1);
        h.publish("st.a", "a1");
        id = awaitData(first, address, "a1").get(0).getString("id");
      }
      awaitCondition(() -> h.gateway.sse().bridge().patterns().liveRegistrations(pattern) == (keeper ? 1 : 0));
      List<String> missed = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        h.publish("st.t" + i, "t" + i);
        h.publish("zz.t" + i, "no");
        h.publish("st.a", "a" + (i + 2));
        missed.add("t" + i);
        missed.add("a" + (i + 2));
      }
      try (Bridge again = Bridge.open(h.port(), "")) {
        registerPattern(again, pattern);
        awaitLivePattern(h, pattern, keeper ? 2 : 1);
        // Published after the registration, before the replay: live, not replayed.
        h.publish("st.a", "live1");
        h.publish("st.late", "live2");
        String[] last = new String[1];
        List<JsonObject> replayed = replayAll(again, pattern, id, last);
        assertThat(replayed).noneMatch(f -> "reset".equals(f.getString("type")));
        assertThat(data(replayed)).containsExactlyInAnyOrderElementsOf(missed);
        assertThat(data(byTopic(replayed, "st.a"))).containsExactlyElementsOf(missed.stream().filter(d -> d.startsWith("a")).toList());
        h.publish("st.b", "live3");
        // Three topics: Herald orders events per topic, not across topics; each comes once.
        again.await(f -> data(recs(again, address)).containsAll(List.of("live1", "live2", "live3")), WAIT);
        List<JsonObject> live = recs(again, address);
        assertThat(data(live)).containsExactlyInAnyOrder("live1", "live2", "live3");
        assertThat(data(byTopic(live, "st.a"))).containsExactly("live1");
        assertThat(data(byTopic(live, "st.late"))).containsExactly("live2");
        assertThat(data(byTopic(live, "st.b"))).containsExactly("live3");
        // Every frame once: replay and live do not overlap.
        Set<String> all = new HashSet<>(data(replayed));
        all.addAll(data(live));
        assertThat(all).hasSize(missed.size() + 3);
        // The cursor stays bounded, and a resume from the last live id misses nothing and repeats nothing.
        String lastLive = live.get(live.size() - 1).getString("id");
        assertThat(lastLive.split("\\.").length).isLessThanOrEqualTo(1 + 32);
        try (Bridge third = Bridge.open(h.port(), "")) {
          registerPattern(third, pattern);
          awaitLivePattern(h, pattern, keeper ? 3 : 2);
          h.publish("st.c", "live4");
          assertThat(data(replayAll(third, pattern, lastLive, last))).isEmpty();
          // From the second live frame's id: exactly the third, whichever topic it was.
          assertThat(data(replayAll(third, pattern, live.get(1).getString("id"), last))).containsExactly(data(live).get(2));
          assertThat(data(awaitData(third, address, "live4"))).containsExactly("live4");
        }
      }
    } finally {
      if (keep != null) {
        keep.close();
      }
    }
  }

  @Test
  @DisplayName("A replay without a cursor says where the pattern stands; a foreign cursor gets a reset naming the pattern")
  void replayEdges(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); Bridge b = Bridge.open(h.port(), "")) {
      h.publish("e.a", "old");
      registerPattern(b, "e.*");
      awaitLivePattern(h, "e.*", 1);
      JsonObject empty = ask(b, new JsonObject().put("pattern", "e.*")).getJsonObject("body");
      assertThat(empty.getJsonArray("events")).isEmpty();
      assertThat(Cursor.parse(empty.getString("id"), 40).position("~h:e.*")).isNotNull();
      JsonObject foreign = ask(b, new JsonObject().put("pattern", "e.*").put("lastEventId", "garbage")).getJsonObject("body");
      JsonObject reset = foreign.getJsonArray("events").getJsonObject(0);
      assertThat(reset.getString("type")).isEqualTo("reset");
      assertThat(reset.getJsonObject("data")).isEqualTo(new JsonObject().put("pattern", "e.*").put("reason", "unknown_last_event_id"));
      JsonObject bad = ask(b, new JsonObject().put("pattern", "e.**.x").put("lastEventId", empty.getString("id")));
      assertThat(bad.getString("type")).isEqualTo("err");
      assertThat(bad.getInteger("failureCode")).isEqualTo(400);
    }
  }

  @Test
  @DisplayName("jwt mode: a pattern the token does not wholly cover is refused with 403 naming it (401 without a token), on register and on replay")
  void refused(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject())) {
      String news = SubscriberAuthTest.hs256(new JsonObject().put("sub", "alice").put("topics", new JsonArray().add("news.*"))
        .put("exp", System.currentTimeMillis() / 1000 + 3600), SECRET);
      try (Bridge b = Bridge.open(h.port(), "?access_token=" + news)) {
        registerPattern(b, "news.**");
        JsonObject err = b.await(f -> !f.isEmpty(), WAIT).get(0);
        assertThat(err.getString("type")).isEqualTo("err");
        assertThat(err.getString("address")).isEqualTo("herald.browser.~news.**");
        assertThat(err.getInteger("failureCode")).isEqualTo(403);
        assertThat(err.getString("message")).isEqualTo("access_denied");
        assertThat(err.getString("pattern")).isEqualTo("news.**");
        assertThat(err.getString("detail")).contains("news.**");
        registerPattern(b, "news.*");
        awaitLivePattern(h, "news.*", 1);
        h.publish("news.deep.x", "hidden");
        h.publish("news.sport", "goal");
        assertThat(data(awaitData(b, "herald.browser.~news.*", "goal"))).containsExactly("goal");
        String first = recs(b, "herald.browser.~news.*").get(0).getString("id");
        JsonObject replay = ask(b, new JsonObject().put("pattern", "news.**").put("lastEventId", first));
        assertThat(replay.getString("type")).isEqualTo("err");
        assertThat(replay.getInteger("failureCode")).isEqualTo(403);
        assertThat(b.frames()).noneMatch(f -> f.encode().contains("hidden"));
      }
      try (Bridge anon = Bridge.open(h.port(), "")) {
        registerPattern(anon, "news.*");
        JsonObject err = anon.await(f -> !f.isEmpty(), WAIT).get(0);
        assertThat(err.getInteger("failureCode")).isEqualTo(401);
        assertThat(err.getString("pattern")).isEqualTo("news.*");
      }
    }
  }

  @Test
  @DisplayName("Topics and patterns together count against maxTopicsPerConnection; a bad pattern is a 400")
  void limits(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxTopicsPerConnection", 2);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject()); Bridge b = Bridge.open(h.port(), "")) {
      registerPattern(b, "a.**.b");
      JsonObject bad = b.await(f -> !f.isEmpty(), WAIT).get(0);
      assertThat(bad.getInteger("failureCode")).isEqualTo(400);
      assertThat(bad.getString("message")).isEqualTo("invalid_request");
      b.register("t");
      registerPattern(b, "p.*");
      awaitLivePattern(h, "p.*", 1);
      registerPattern(b, "q.*");
      b.register("u");
      List<JsonObject> errs = b.await(f -> f.size() >= 3, WAIT);
      assertThat(errs.subList(1, 3)).allMatch(f -> "too_many_topics".equals(f.getString("message")));
      assertThat(errs.get(1).getString("address")).isEqualTo("herald.browser.~q.*");
      assertThat(errs.get(2).getString("address")).isEqualTo("herald.browser.u");
    }
  }
}
