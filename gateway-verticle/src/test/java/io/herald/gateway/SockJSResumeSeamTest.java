package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.common.pattern.TopicFilters;
import io.herald.gateway.SockJSBridgeTest.Bridge;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The seam of a bridge resume when the client is ahead of the gateway instance it resumes on: it
 * was given events by an instance (or node) whose channel had them before this one's. Those
 * events then reach this instance's channel after the registration went live; the registration's
 * client cursor (the register's {@code headers.lastEventId}, or the replay's) says the client has
 * them, and they are not written again.
 *
 * <p>Deterministic: a client that got events from a channel ahead of this one is a socket whose
 * cursor names events this instance has not delivered yet, which is what the test sends (built
 * from where the store stands). A keeper socket on the same channel, with no cursor, shows that
 * those events do go out live to everyone else.
 */
@ExtendWith(VertxExtension.class)
class SockJSResumeSeamTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final AtomicInteger REPLIES = new AtomicInteger();

  private static void register(Bridge b, String address, String lastEventId) {
    JsonObject frame = new JsonObject().put("type", "register").put("address", address);
    if (lastEventId != null) {
      frame.put("headers", new JsonObject().put("lastEventId", lastEventId));
    }
    b.raw(frame);
  }

  /** The event frames received on an address, in order. */
  private static List<JsonObject> recs(Bridge b, String address) {
    return b.frames().stream().filter(f -> "rec".equals(f.getString("type")) && address.equals(f.getString("address")))
      .map(f -> f.getJsonObject("body")).collect(Collectors.toList());
  }

  private static List<String> dataUntil(Bridge b, String address, String marker) throws Exception {
    b.await(f -> recs(b, address).stream().anyMatch(x -> marker.equals(String.valueOf(x.getValue("data")))), WAIT);
    return recs(b, address).stream().map(x -> String.valueOf(x.getValue("data"))).collect(Collectors.toList());
  }

  /** One replay request and its answer's body. */
  private static JsonObject ask(Bridge b, JsonObject request) throws Exception {
    String reply = "seam" + REPLIES.incrementAndGet();
    b.send("herald.browser.replay", request, reply);
    JsonObject answer = b.await(f -> f.stream().anyMatch(x -> reply.equals(x.getString("address"))), WAIT).stream()
      .filter(x -> reply.equals(x.getString("address"))).findFirst().orElseThrow();
    assertThat(answer.getString("type")).as("answer %s", answer).isEqualTo("rec");
    return answer.getJsonObject("body");
  }

  @Test
  @DisplayName("Exact topic: live events at or below the client's cursor (register header or replay) are not written again; later ones are, once, in order")
  void exactTopic(Vertx vertx) throws Exception {
    String topic = "seam";
    String address = "herald.browser." + topic;
    try (GatewayHarness h = new GatewayHarness(vertx);
         Bridge keeper = Bridge.open(h.port(), "");
         Bridge byHeader = Bridge.open(h.port(), "");
         Bridge byReplay = Bridge.open(h.port(), "")) {
      keeper.register(topic);
      awaitCondition(() -> h.gateway.sse().bridge().liveRegistrations(topic) == 1);
      Event e1 = h.publish(topic, "e1");
      dataUntil(keeper, address, "e1");
      // What a client holds that an instance ahead of this one gave e2 and e3 (not published yet here).
      String ahead = Cursor.single(topic, e1.epoch(), e1.seq() + 2);
      register(byHeader, address, ahead);
      register(byReplay, address, null);
      awaitCondition(() -> h.gateway.sse().bridge().liveRegistrations(topic) == 3);
      JsonObject answer = ask(byReplay, new JsonObject().put("topic", topic).put("lastEventId", ahead));
      assertThat(answer.getJsonArray("events")).isEmpty();
      assertThat(answer.getString("id")).isEqualTo(ahead);
      assertThat(ask(byHeader, new JsonObject().put("topic", topic).put("lastEventId", ahead)).getJsonArray("events")).isEmpty();
      for (String d : List.of("e2", "e3", "e4", "marker")) {
        h.publish(topic, d);
      }
      assertThat(dataUntil(keeper, address, "marker")).containsExactly("e1", "e2", "e3", "e4", "marker");
      assertThat(dataUntil(byHeader, address, "marker")).containsExactly("e4", "marker");
      assertThat(dataUntil(byReplay, address, "marker")).containsExactly("e4", "marker");
      // The frames' ids go on from the client's cursor: the first one written is e4's.
      assertThat(recs(byHeader, address).get(0).getString("id")).isEqualTo(Cursor.single(topic, e1.epoch(), e1.seq() + 3));
    }
  }

  @Test
  @DisplayName("Pattern: live events the client's pattern cursor covers (its log position or a topic entry) are not written again; the others are, once")
  void pattern(Vertx vertx) throws Exception {
    String pattern = "sm.*";
    String address = "herald.browser.~" + pattern;
    String entry = PatternState.entryName(TopicFilters.key(TopicFilters.parse(pattern)));
    try (GatewayHarness h = new GatewayHarness(vertx);
         Bridge keeper = Bridge.open(h.port(), "");
         Bridge byHeader = Bridge.open(h.port(), "");
         Bridge byReplay = Bridge.open(h.port(), "")) {
      keeper.raw(new JsonObject().put("type", "register").put("address", address));
      awaitCondition(() -> h.gateway.sse().bridge().patterns().liveRegistrations(pattern) == 1);
      Event a1 = h.publish("sm.a", "a1");
      Event b1 = h.publish("sm.b", "b1");
      dataUntil(keeper, address, "b1");
      // A client an instance ahead gave a2 (a topic entry above its log position) and, by its log
      // position, everything up to one more event, the b2 published next.
      assertThat(b1.log().seq()).isEqualTo(a1.log().seq() + 1);
      String ahead = Cursor.join(new String[] {
        Cursor.entry(entry, b1.log().epoch(), b1.log().seq() + 2),
        Cursor.entry("sm.a", a1.epoch(), a1.seq() + 1)});
      register(byHeader, address, ahead);
      byReplay.raw(new JsonObject().put("type", "register").put("address", address));
      awaitCondition(() -> h.gateway.sse().bridge().patterns().liveRegistrations(pattern) == 3);
      assertThat(ask(byReplay, new JsonObject().put("pattern", pattern).put("lastEventId", ahead)).getJsonArray("events")).isEmpty();
      assertThat(ask(byHeader, new JsonObject().put("pattern", pattern).put("lastEventId", ahead)).getJsonArray("events")).isEmpty();
      Event b2 = h.publish("sm.b", "b2");
      Event a2 = h.publish("sm.a", "a2");
      assertThat(b2.log().seq()).isEqualTo(b1.log().seq() + 1);
      assertThat(a2.seq()).isEqualTo(a1.seq() + 1);
      for (String d : List.of("a3", "marker")) {
        h.publish("sm.a", d);
      }
      h.publish("sm.b", "b3");
      h.publish("sm.c", "c1");
      h.publish("sm.c", "end");
      assertThat(dataUntil(keeper, address, "end")).containsExactly("a1", "b1", "b2", "a2", "a3", "marker", "b3", "c1", "end");
      // Per topic, in order, each once: b2 (under the log position) and a2 (the topic entry) left out.
      for (Bridge client : List.of(byHeader, byReplay)) {
        dataUntil(client, address, "end");
        List<JsonObject> got = recs(client, address);
        assertThat(byTopic(got, "sm.a")).containsExactly("a3", "marker");
        assertThat(byTopic(got, "sm.b")).containsExactly("b3");
        assertThat(byTopic(got, "sm.c")).containsExactly("c1", "end");
      }
    }
  }

  private static List<String> byTopic(List<JsonObject> frames, String topic) {
    return frames.stream().filter(f -> topic.equals(f.getString("topic"))).map(f -> String.valueOf(f.getValue("data")))
      .collect(Collectors.toList());
  }
}
