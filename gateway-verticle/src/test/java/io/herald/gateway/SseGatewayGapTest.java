package io.herald.gateway;

import io.herald.common.Addresses;
import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static io.herald.gateway.GatewayHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Live sequence gaps filled from the store (or reset when they cannot be), and epoch changes followed by {@code prev}. */
@ExtendWith(VertxExtension.class)
class SseGatewayGapTest extends SseGatewayFixture {

  @Test
  @DisplayName("A gap-fill read that gets no answer (a replay process being replaced) is tried again before any reset")
  void gapFillRetriedWhenTheStoreDoesNotAnswer(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("gapWaitMillis", 300), new JsonObject());
         SseClient c = h.sse("/events?topic=flaky")) {
      c.await(l -> !l.isEmpty(), WAIT);
      java.util.concurrent.atomic.AtomicInteger readsDropped = new java.util.concurrent.atomic.AtomicInteger();
      vertx.eventBus().addInboundInterceptor(ctx -> {
        String address = ctx.message().address();
        if (address.equals(Addresses.topic("flaky")) && ctx.body() instanceof Event e && e.seq() == 2) {
          return; // seq 2 never reaches the gateway live
        }
        if (address.equals(Addresses.REPLAY_READ) && readsDropped.getAndIncrement() < 2) {
          return; // the first two fill reads get no answer
        }
        ctx.next();
      });
      h.publish("flaky", "1");
      h.publish("flaky", "2");
      h.publish("flaky", "3");
      List<SseEvent> got = c.await(l -> l.stream().filter(x -> "3".equals(x.data())).count() == 1, WAIT);
      assertThat(got).extracting(SseEvent::type).doesNotContain("reset");
      assertThat(c.appEvents()).extracting(SseEvent::data).containsExactly("1", "2", "3");
      assertThat(readsDropped.get()).isGreaterThanOrEqualTo(3);
    }
  }

  @Test
  @DisplayName("A gap in a topic's sequence (an event lost on the way) is filled from the store, in order")
  void gapFilledFromStore(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); SseClient c = h.sse("/events?topic=gap")) {
      c.await(l -> !l.isEmpty(), WAIT);
      // Drop the delivery of seq 2 on its way to the gateway, as a slow or failed node would.
      vertx.eventBus().addInboundInterceptor(ctx -> {
        if (ctx.message().address().equals(Addresses.topic("gap")) && ctx.body() instanceof Event e && e.seq() == 2) {
          return;
        }
        ctx.next();
      });
      h.publish("gap", "1");
      h.publish("gap", "2");
      h.publish("gap", "3");
      assertThat(c.awaitAppEvents(3, WAIT)).extracting(SseEvent::data).containsExactly("1", "2", "3");
      assertThat(h.gateway.stats().gapFills).isEqualTo(1);
    }
  }

  @Test
  @DisplayName("A gap the store cannot fill becomes an explicit reset, never a silent skip")
  void unfillableGapResets(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); SseClient c = h.sse("/events?topic=hole")) {
      c.await(l -> !l.isEmpty(), WAIT);
      Event e1 = h.publish("hole", "1");
      // An event two ahead that the store never had: seq 2 cannot be filled.
      vertx.eventBus().publish(Addresses.topic("hole"), new Event("hole", e1.epoch(), 3, "message", "3", false, null, 0));
      List<SseEvent> ev = c.await(l -> l.size() >= 4, WAIT);
      assertThat(ev).extracting(SseEvent::type).containsExactly("herald.ready", "message", "reset", "message");
      assertThat(new JsonObject(ev.get(2).data()).getString("reason")).isEqualTo("gap_not_filled");
      assertThat(ev.get(3).data()).isEqualTo("3");
    }
  }

  @Test
  @DisplayName("A new epoch whose prev is where the client stands is followed without reset; one whose prev is elsewhere resets")
  void epochChangeWithPrev(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); SseClient c = h.sse("/events?topic=switch")) {
      c.await(l -> !l.isEmpty(), WAIT);
      h.publish("switch", "1");
      Event e2 = h.publish("switch", "2");
      // As a store outage begins: the first outage event says the topic stood at e2.
      vertx.eventBus().publish(Addresses.topic("switch"),
        new Event("switch", "outage01", 1, "message", "o1", false, null, 0, e2.position()));
      vertx.eventBus().publish(Addresses.topic("switch"), new Event("switch", "outage01", 2, "message", "o2", false, null, 0));
      // A next epoch that follows a position this client never reached: it missed something.
      vertx.eventBus().publish(Addresses.topic("switch"),
        new Event("switch", "durable2", 9, "message", "d9", false, null, 0, new Position("outage01", 5)));
      List<SseEvent> ev = c.await(l -> l.size() >= 7, WAIT);
      assertThat(ev).extracting(SseEvent::type)
        .containsExactly("herald.ready", "message", "message", "message", "message", "reset", "message");
      assertThat(ev).extracting(SseEvent::data).element(4).isEqualTo("o2");
      assertThat(new JsonObject(ev.get(5).data()).getString("reason")).isEqualTo("history_lost");
      assertThat(ev.get(6).data()).isEqualTo("d9");
      assertThat(Cursor.parse(ev.get(4).id(), 8).position("switch")).isEqualTo(new Position("outage01", 2));
    }
  }
}
