package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.stream.Collectors;

import static io.herald.gateway.GatewayHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

/** SSE resume by {@code Last-Event-ID} (header or query): exact replay, the seam with live events, and every reset reason. */
@ExtendWith(VertxExtension.class)
class SseGatewayResumeTest extends SseGatewayFixture {

  @Test
  @DisplayName("A client resuming with Last-Event-ID over several topics receives exactly what it missed, then live")
  void resumeAcrossTopics(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      String lastId;
      try (SseClient c = h.sse("/events?topic=a&topic=b&topic=c")) {
        c.await(l -> !l.isEmpty(), WAIT);
        h.publish("a", "a1");
        h.publish("b", "b1");
        h.publish("a", "a2");
        List<SseEvent> seen = c.awaitAppEvents(3, WAIT);
        assertThat(seen).extracting(SseEvent::data).containsExactly("a1", "b1", "a2");
        lastId = seen.get(2).id();
      }
      // Missed while away: a3, b2, b3 (c stays quiet); one more of "a" arrives live after the resume.
      h.publish("a", "a3");
      h.publish("b", "b2");
      h.publish("b", "b3");
      try (SseClient c = h.sse("/events?topic=a&topic=b&topic=c", "Last-Event-ID", lastId)) {
        List<SseEvent> replayed = c.awaitAppEvents(3, WAIT);
        assertThat(replayed).extracting(SseEvent::data).containsExactlyInAnyOrder("a3", "b2", "b3");
        assertThat(dataOf(replayed, "b")).containsExactly("b2", "b3");
        h.publish("a", "a4");
        h.publish("c", "c1");
        List<SseEvent> all = c.awaitAppEvents(5, WAIT);
        assertThat(all).extracting(SseEvent::data).containsExactlyInAnyOrder("a3", "b2", "b3", "a4", "c1");
        assertThat(all.stream().filter(e -> e.type().equals("reset"))).isEmpty();
        Cursor last = Cursor.parse(all.get(4).id(), 8);
        assertThat(last.position("a").seq()).isEqualTo(4);
        assertThat(last.position("b").seq()).isEqualTo(3);
        assertThat(last.position("c").seq()).isEqualTo(1);
      }
    }
  }

  @Test
  @DisplayName("The lastEventId query parameter resumes like the header, for clients that cannot set headers")
  void resumeByQueryParameter(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      Event first = h.publish("q", "1");
      h.publish("q", "2");
      h.publish("q", "3");
      try (SseClient c = h.sse("/events?topic=q&lastEventId=" + first.cursor())) {
        assertThat(c.awaitAppEvents(2, WAIT)).extracting(SseEvent::data).containsExactly("2", "3");
      }
    }
  }

  @Test
  @DisplayName("Events published while a resume is being replayed are neither lost nor duplicated")
  void resumeSeamUnderLoad(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      Event first = h.publish("seam", "0");
      for (int i = 1; i <= 200; i++) {
        h.publish("seam", String.valueOf(i));
      }
      // Publish concurrently with the resume.
      Thread publisher = new Thread(() -> {
        try {
          for (int i = 201; i <= 400; i++) {
            h.publish("seam", String.valueOf(i));
          }
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      publisher.start();
      try (SseClient c = h.sse("/events?topic=seam", "Last-Event-ID", first.cursor())) {
        io.herald.testsupport.Diagnostics.join(publisher, 60, "the concurrent publisher");
        c.awaitAppEvents(400, WAIT);
        // No duplicate or extra event: a marker published after the 400 is the 401st.
        h.publish("seam", "marker");
        List<SseEvent> ev = c.awaitAppEvents(401, WAIT);
        assertThat(ev).hasSize(401);
        assertThat(ev.get(400).data()).isEqualTo("marker");
        for (int i = 0; i < 400; i++) {
          assertThat(ev.get(i).data()).isEqualTo(String.valueOf(i + 1));
        }
      }
    }
  }

  @Test
  @DisplayName("When what a client missed is no longer retained it gets a reset naming the topic, then live events")
  void resetWhenTruncated(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject(), new JsonObject().put("maxEventsPerTopic", 5))) {
      Event seen = h.publish("t", "seen");
      for (int i = 0; i < 10; i++) {
        h.publish("t", "missed" + i);
      }
      try (SseClient c = h.sse("/events?topic=t&topic=u", "Last-Event-ID", seen.cursor())) {
        List<SseEvent> ev = c.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
        SseEvent reset = ev.stream().filter(e -> e.type().equals("reset")).findFirst().orElseThrow();
        assertThat(new JsonObject(reset.data()).getString("topic")).isEqualTo("t");
        assertThat(new JsonObject(reset.data()).getString("reason")).isEqualTo("history_unavailable");
        assertThat(Cursor.parse(reset.id(), 8).position("t").seq()).isEqualTo(11);
        assertThat(ev).extracting(SseEvent::type).doesNotContain("message");
        h.publish("t", "live");
        assertThat(c.awaitAppEvents(2, WAIT).get(1).data()).isEqualTo("live");
      }
    }
  }

  @Test
  @DisplayName("A resume past events the store evicted for its byte budget gets a reset with reason history_evicted")
  void resetWhenEvicted(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject(), new JsonObject().put("maxBytes", 20_000))) {
      Event seen = h.publish("quiet", "seen");
      h.publish("quiet", "missed");
      for (int i = 0; i < 30; i++) {
        h.publish("flood" + i, "z".repeat(2000));
      }
      try (SseClient c = h.sse("/events?topic=quiet", "Last-Event-ID", seen.cursor())) {
        List<SseEvent> ev = c.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
        assertThat(ev).extracting(SseEvent::type).containsExactly("reset", "herald.ready");
        assertThat(new JsonObject(ev.get(0).data()).getString("reason")).isEqualTo("history_evicted");
      }
    }
  }

  @Test
  @DisplayName("A resume that would replay more than maxReplayEvents gets a reset instead")
  void resetWhenTooManyMissed(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("maxReplayEvents", 3), new JsonObject())) {
      Event seen = h.publish("big", "seen");
      for (int i = 0; i < 4; i++) {
        h.publish("big", "m" + i);
      }
      try (SseClient c = h.sse("/events?topic=big", "Last-Event-ID", seen.cursor())) {
        List<SseEvent> ev = c.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
        assertThat(ev).extracting(SseEvent::type).containsExactly("reset", "herald.ready");
        assertThat(new JsonObject(ev.get(0).data()).getString("reason")).isEqualTo("too_many_missed");
      }
      try (SseClient c = h.sse("/events?topic=big", "Last-Event-ID", Cursor.single("big", seen.epoch(), 2))) {
        assertThat(c.awaitAppEvents(3, WAIT)).extracting(SseEvent::data).containsExactly("m1", "m2", "m3");
      }
    }
  }

  @Test
  @DisplayName("A garbage or oversized Last-Event-ID is treated as unknown: every topic gets a reset, then live")
  void garbageLastEventId(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      h.publish("g1", "before");
      for (String garbage : List.of("not-a-cursor", "zzzz-EPOCH-1.", "x".repeat(5000), "1-e-1.1-e-1", "abc-def", "1-\u00e9-1")) {
        try (SseClient c = h.sse("/events?topic=g1&topic=g2", "Last-Event-ID", garbage)) {
          List<SseEvent> ev = c.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
          assertThat(ev).extracting(SseEvent::type).containsExactly("reset", "reset", "herald.ready");
          assertThat(ev).extracting(e -> new JsonObject(e.data()).getString("reason")).first().isEqualTo("unknown_last_event_id");
        }
      }
      Event live = null;
      try (SseClient c = h.sse("/events?topic=g1", "Last-Event-ID", "garbage")) {
        c.await(l -> l.size() >= 2, WAIT);
        live = h.publish("g1", "after");
        List<SseEvent> ev = c.await(l -> l.stream().anyMatch(e -> e.type().equals("message")), WAIT);
        assertThat(ev).extracting(SseEvent::type).containsExactly("reset", "herald.ready", "message");
        assertThat(ev.get(2).id()).isEqualTo(live.cursor());
      }
    }
  }

  private static List<String> dataOf(List<SseEvent> events, String prefix) {
    return events.stream().map(SseEvent::data).filter(d -> d.startsWith(prefix)).collect(Collectors.toList());
  }
}
