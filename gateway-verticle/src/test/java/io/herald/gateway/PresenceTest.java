package io.herald.gateway;

import io.herald.testsupport.JdkHttp;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static io.herald.gateway.SubscriberAuthTest.hs256;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Presence end to end over real HTTP: join/leave frames on SSE, WebSocket and long-poll, the
 * debounce, the token claims that grant presence and carry the client info, and the API with
 * its refusals. One process (the memory store); the cluster is PresenceClusterIT's.
 */
@ExtendWith(VertxExtension.class)
class PresenceTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";
  private static final String KEY = "presence-test-publisher-key";

  private static JsonObject config(int debounceSeconds) {
    return new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET).put("presenceDebounceSeconds", debounceSeconds)
      .put("presenceKeys", new JsonArray().add(KEY));
  }

  /** A token for {@code sub} reading {@code room.*}, granting presence on {@code presence} patterns (none when null). */
  private static String token(String sub, String presence) throws Exception {
    long now = System.currentTimeMillis() / 1000;
    JsonObject claims = new JsonObject().put("sub", sub).put("topics", new JsonArray().add("room.*")).put("iat", now).put("exp", now + 600)
      .put("presence_info", new JsonObject().put("name", sub.toUpperCase()));
    if (presence != null) {
      claims.put("presence", new JsonArray().add(presence));
    }
    return hs256(claims);
  }

  private static List<String> presenceOf(SseClient c) {
    return c.events().stream().filter(e -> e.type().equals("join") || e.type().equals("leave"))
      .map(e -> e.type() + ":" + new JsonObject(e.data()).getString("subject")).toList();
  }

  private static List<String> presenceOf(WsClient c) {
    return c.frames().stream().filter(f -> "join".equals(f.getString("type")) || "leave".equals(f.getString("type")))
      .map(f -> f.getString("type") + ":" + f.getJsonObject("data").getString("subject")).toList();
  }

  private static Predicate<List<SseEvent>> has(SseClient c, String what) {
    return l -> presenceOf(c).contains(what);
  }

  @Test
  @DisplayName("SSE: a watcher gets join with the subject and info claim, then leave once the debounce is over; frames are not in the cursor")
  void sseJoinAndLeave(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, config(1), new JsonObject());
         SseClient watcher = h.sse("/events?topic=room.1&presence=1", "Authorization", "Bearer " + token("bob", "room.*"))) {
      watcher.await(l -> !l.isEmpty(), WAIT); // herald.ready
      String readyId = watcher.events().get(0).id();
      SseClient alice = h.sse("/events?topic=room.1", "Authorization", "Bearer " + token("alice", null));
      watcher.await(has(watcher, "join:alice"), WAIT);
      SseEvent join = watcher.events().stream().filter(e -> e.type().equals("join")
        && e.data().contains("alice")).findFirst().orElseThrow();
      assertThat(new JsonObject(join.data())).isEqualTo(new JsonObject().put("topic", "room.1").put("subject", "alice")
        .put("anonymous", false).put("info", new JsonObject().put("name", "ALICE")));
      assertThat(join.id()).as("a presence frame leaves the cursor as it was").isEqualTo(readyId);
      alice.close();
      watcher.await(has(watcher, "leave:alice"), WAIT);
      assertThat(presenceOf(watcher)).containsSubsequence("join:alice", "leave:alice");
      assertThat(presenceOf(watcher).stream().filter(s -> s.endsWith(":alice"))).containsExactly("join:alice", "leave:alice");
    }
  }

  @Test
  @DisplayName("A reconnect within the debounce, even over another transport, is neither a leave nor a join")
  void debounce(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, config(60), new JsonObject());
         SseClient watcher = h.sse("/events?topic=room.2&presence=1", "Authorization", "Bearer " + token("bob", "room.2"))) {
      watcher.await(l -> !l.isEmpty(), WAIT);
      SseClient alice = h.sse("/events?topic=room.2", "Authorization", "Bearer " + token("alice", null));
      watcher.await(has(watcher, "join:alice"), WAIT);
      alice.close();
      awaitCondition(() -> h.gateway.sse().connections().size() == 1);
      try (WsClient again = WsClient.open(h.port(), "/ws?topic=room.2", "Authorization", "Bearer " + token("alice", null))) {
        again.await(f -> !f.isEmpty(), WAIT);
        // The marker: carol's join comes after anything alice's reconnect could have caused.
        try (SseClient carol = h.sse("/events?topic=room.2", "Authorization", "Bearer " + token("carol", null))) {
          watcher.await(has(watcher, "join:carol"), WAIT);
          assertThat(presenceOf(watcher)).containsExactly("join:alice", "join:carol");
        }
      }
    }
  }

  @Test
  @DisplayName("WebSocket: join and leave come as JSON control frames")
  void webSocketFrames(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, config(1), new JsonObject());
         WsClient watcher = WsClient.open(h.port(), "/ws?topic=room.3&presence=1", "Authorization", "Bearer " + token("bob", "room.*"))) {
      watcher.await(f -> !f.isEmpty(), WAIT);
      try (SseClient alice = h.sse("/events?topic=room.3", "Authorization", "Bearer " + token("alice", null))) {
        watcher.await(f -> presenceOf(watcher).contains("join:alice"), WAIT);
      }
      watcher.await(f -> presenceOf(watcher).contains("leave:alice"), WAIT);
      JsonObject leave = watcher.frames().stream().filter(f -> "leave".equals(f.getString("type"))).findFirst().orElseThrow();
      assertThat(leave.getJsonObject("data").getString("topic")).isEqualTo("room.3");
      assertThat(leave.getString("id")).isEqualTo(watcher.frames().get(0).getString("id"));
    }
  }

  @Test
  @DisplayName("Long-poll: a waiting poll is answered with a join; a poller that keeps polling within the debounce stays present")
  void longPoll(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, config(60), new JsonObject());
         SseClient watcher = h.sse("/events?topic=room.4&presence=1", "Authorization", "Bearer " + token("bob", "room.4"))) {
      watcher.await(l -> !l.isEmpty(), WAIT);
      String base = "http://127.0.0.1:" + h.port() + "/poll?topic=room.4";
      String dave = token("dave", "room.4");
      JsonObject first = new JsonObject(JdkHttp.send("GET", base + "&presence=1", null, "Authorization", "Bearer " + dave).body());
      watcher.await(has(watcher, "join:dave"), WAIT);
      // dave's next poll waits; alice's arrival answers it with a join frame.
      var waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return JdkHttp.send("GET", base + "&presence=1&lastEventId=" + java.net.URLEncoder.encode(first.getString("id"), "UTF-8"),
            null, "Authorization", "Bearer " + dave);
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      awaitCondition(() -> h.gateway.sse().connections().size() == 2);
      try (SseClient alice = h.sse("/events?topic=room.4", "Authorization", "Bearer " + token("alice", null))) {
        JsonObject page = new JsonObject(waiting.get(10, java.util.concurrent.TimeUnit.SECONDS).body());
        JsonArray events = page.getJsonArray("events");
        assertThat(events).hasSize(1);
        assertThat(events.getJsonObject(0).getString("type")).isEqualTo("join");
        assertThat(events.getJsonObject(0).getJsonObject("data").getString("subject")).isEqualTo("alice");
        assertThat(page.getString("id")).isEqualTo(first.getString("id"));
        try (SseClient carol = h.sse("/events?topic=room.4", "Authorization", "Bearer " + token("carol", null))) {
          watcher.await(has(watcher, "join:carol"), WAIT);
          // dave's polls came and went; the watcher saw him join once and never leave.
          assertThat(presenceOf(watcher)).containsExactly("join:dave", "join:alice", "join:carol");
        }
      }
    }
  }

  @Test
  @DisplayName("Asking for presence without the claim on every topic is refused 403 naming the topic")
  void presenceNeedsTheClaim(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, config(1), new JsonObject())) {
      var r = JdkHttp.send("GET", "http://127.0.0.1:" + h.port() + "/events?topic=room.5&topic=room.6&presence=1", null,
        "Authorization", "Bearer " + token("bob", "room.5"));
      assertThat(r.status()).isEqualTo(403);
      assertThat(new JsonObject(r.body()).getMap()).containsEntry("error", "access_denied").containsEntry("topic", "room.6");
      assertThat(WsClient.refusedStatus(h.port(), "/ws?topic=room.5&presence=1", "Authorization", "Bearer " + token("bob", null)))
        .isEqualTo(403);
      awaitCondition(() -> h.gateway.sse().connections().isEmpty());
    }
  }

  @Test
  @DisplayName("The API lists entries in pages and counts topics, for a publisher key or a token granting presence; others are refused")
  void api(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, config(60), new JsonObject());
         SseClient alice = h.sse("/events?topic=room.7", "Authorization", "Bearer " + token("alice", null));
         SseClient bob = h.sse("/events?topic=room.7&topic=room.8", "Authorization", "Bearer " + token("bob", null))) {
      alice.await(l -> !l.isEmpty(), WAIT);
      bob.await(l -> !l.isEmpty(), WAIT);
      String url = "http://127.0.0.1:" + h.port();
      awaitCondition(() -> count(url + "/presence/counts?topic=room.7&topic=room.8&topic=room.9", "X-Herald-Key", KEY)
        .equals(new JsonObject().put("room.7", 2).put("room.8", 1).put("room.9", 0)));

      JsonObject page1 = new JsonObject(JdkHttp.send("GET", url + "/presence?topic=room.7&limit=1", null,
        "Authorization", "Bearer " + KEY).body());
      assertThat(page1.getInteger("count")).isEqualTo(2);
      assertThat(page1.getBoolean("listed")).isTrue();
      assertThat(page1.getJsonArray("entries")).hasSize(1);
      JsonObject e1 = page1.getJsonArray("entries").getJsonObject(0);
      assertThat(e1.fieldNames()).contains("subject", "connection", "transport", "node", "since", "info");
      assertThat(e1.getString("transport")).isEqualTo("sse");
      JsonObject page2 = new JsonObject(JdkHttp.send("GET", url + "/presence?topic=room.7&limit=1&cursor=" + page1.getString("next"),
        null, "X-Herald-Key", KEY).body());
      assertThat(page2.containsKey("next")).isFalse();
      assertThat(List.of(e1.getString("subject"), page2.getJsonArray("entries").getJsonObject(0).getString("subject")))
        .containsExactlyInAnyOrder("alice", "bob");

      // A subscriber whose token grants presence on the topic; one whose token does not; none; a wrong key.
      assertThat(JdkHttp.send("GET", url + "/presence?topic=room.7", null, "Authorization", "Bearer " + token("eve", "room.*")).status())
        .isEqualTo(200);
      var denied = JdkHttp.send("GET", url + "/presence/counts?topic=room.7&topic=room.8", null,
        "Authorization", "Bearer " + token("eve", "room.7"));
      assertThat(denied.status()).isEqualTo(403);
      assertThat(new JsonObject(denied.body()).getString("error")).isEqualTo("access_denied");
      assertThat(new JsonObject(denied.body()).getString("message")).contains("room.8");
      var none = JdkHttp.send("GET", url + "/presence?topic=room.7", null);
      assertThat(none.status()).isEqualTo(401);
      assertThat(new JsonObject(none.body()).getString("error")).isEqualTo("unauthorized");
      assertThat(JdkHttp.send("GET", url + "/presence?topic=room.7", null, "X-Herald-Key", "wrong").status()).isEqualTo(401);
      var badCursor = JdkHttp.send("GET", url + "/presence?topic=room.7&cursor=xyz", null, "X-Herald-Key", KEY);
      assertThat(badCursor.status()).isEqualTo(400);
      assertThat(new JsonObject(badCursor.body()).getString("error")).isEqualTo("invalid_request");
      assertThat(JdkHttp.send("GET", url + "/presence?topic=room.7&limit=0", null, "X-Herald-Key", KEY).status()).isEqualTo(400);
      assertThat(JdkHttp.send("GET", url + "/presence", null, "X-Herald-Key", KEY).status()).isEqualTo(400);
    }
  }

  @Test
  @DisplayName("Above presenceMaxListed a topic answers its count only; with authMode none presence is open to all")
  void countsOnlyAndAuthNone(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("presenceMaxListed", 1), new JsonObject());
         SseClient watcher = h.sse("/events?topic=big&presence=1");
         SseClient other = h.sse("/events?topic=big")) {
      watcher.await(l -> !l.isEmpty(), WAIT);
      other.await(l -> !l.isEmpty(), WAIT);
      String url = "http://127.0.0.1:" + h.port() + "/presence?topic=big";
      awaitCondition(() -> {
        try {
          return new JsonObject(JdkHttp.send("GET", url, null).body()).getInteger("count") == 2;
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      JsonObject body = new JsonObject(JdkHttp.send("GET", url, null).body());
      assertThat(body.getBoolean("listed")).isFalse();
      assertThat(body.containsKey("entries")).isFalse();
    }
  }

  @Test
  @DisplayName("A SockJS bridge socket is an entry and joins and leaves like a stream; the top topics are in herald_presence_entries")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void sockJsAndMetrics(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, config(1), new JsonObject());
         SseClient watcher = h.sse("/events?topic=room.10&presence=1", "Authorization", "Bearer " + token("bob", "room.*"))) {
      watcher.await(l -> !l.isEmpty(), WAIT);
      try (SockJSBridgeTest.Bridge b = SockJSBridgeTest.Bridge.open(h.port(), "?access_token=" + token("alice", null))) {
        b.register("room.10");
        watcher.await(has(watcher, "join:alice"), WAIT);
        String url = "http://127.0.0.1:" + h.port() + "/presence?topic=room.10";
        awaitCondition(() -> {
          try {
            JsonObject body = new JsonObject(JdkHttp.send("GET", url, null, "X-Herald-Key", KEY).body());
            return body.getInteger("count") == 2 && body.getJsonArray("entries").stream()
              .anyMatch(o -> "sockjs".equals(((JsonObject) o).getString("transport")));
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
        var registry = io.herald.common.admin.HeraldMetrics.get().registry();
        awaitCondition(() -> {
          var g = registry.find("herald_presence_entries").tag("topic", "room.10").gauge();
          return g != null && g.value() == 2.0;
        });
      }
      watcher.await(has(watcher, "leave:alice"), WAIT);
    }
  }

  private static JsonObject count(String url, String... headers) {
    try {
      var r = JdkHttp.send("GET", url, null, headers);
      return r.status() == 200 ? new JsonObject(r.body()).getJsonObject("counts") : new JsonObject();
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
