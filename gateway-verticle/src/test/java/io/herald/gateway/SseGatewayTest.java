package io.herald.gateway;

import io.herald.common.Addresses;
import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.testsupport.Await;
import io.herald.testsupport.IsolatedMetrics;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static io.herald.gateway.GatewayHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class SseGatewayTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  @DisplayName("A stream starts with the SSE headers, retry, and a ready event whose id is the topic's cursor")
  void streamPreamble(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("retryMillis", 1500), new JsonObject());
         SseClient c = h.sse("/events?topic=news")) {
      assertThat(c.response().getHeader("Content-Type")).isEqualTo("text/event-stream; charset=utf-8");
      assertThat(c.response().getHeader("Cache-Control")).isEqualTo("no-cache");
      assertThat(c.response().getHeader("X-Accel-Buffering")).isEqualTo("no");
      List<SseEvent> ev = c.await(l -> !l.isEmpty(), WAIT);
      assertThat(c.parser().rawLines().get(0)).isEqualTo("retry: 1500");
      assertThat(c.parser().retry()).isEqualTo(1500);
      assertThat(ev.get(0).type()).isEqualTo("herald.ready");
      assertThat(new JsonObject(ev.get(0).data()).getJsonArray("topics").getList()).containsExactly("news");
      assertThat(Cursor.parse(ev.get(0).id(), 8).position("news").seq()).isZero();
    }
  }

  @Test
  @DisplayName("A published event arrives with its type, its data and the cursor the store assigned as id")
  void publishToReceive(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); SseClient c = h.sse("/events?topic=orders")) {
      c.await(l -> !l.isEmpty(), WAIT);
      Event json = h.publish("order.created", "{\"id\":7,\"total\":12.5}", true, "orders").get(0);
      Event text = h.publish("orders", "first line\nsecond line\r\nthird");
      List<SseEvent> ev = c.awaitAppEvents(2, WAIT);
      assertThat(ev.get(0)).isEqualTo(new SseEvent(json.cursor(), "order.created", "{\"id\":7,\"total\":12.5}"));
      assertThat(ev.get(1)).isEqualTo(new SseEvent(text.cursor(), "message", "first line\nsecond line\nthird"));
      assertThat(c.raw()).contains("data: first line\ndata: second line\ndata: third\n\n");
    }
  }

  @Test
  @DisplayName("Every subscriber of a topic receives every event once and in order; other topics stay out")
  void fanOutInOrder(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      List<SseClient> clients = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        clients.add(h.sse("/events?topic=fan"));
      }
      SseClient other = h.sse("/events?topic=elsewhere");
      other.await(l -> !l.isEmpty(), WAIT);
      for (SseClient c : clients) {
        c.await(l -> !l.isEmpty(), WAIT);
      }
      for (int i = 1; i <= 50; i++) {
        h.publish("fan", "n" + i);
      }
      for (SseClient c : clients) {
        List<String> data = c.awaitAppEvents(50, WAIT).stream().map(SseEvent::data).collect(Collectors.toList());
        assertThat(data).hasSize(50);
        for (int i = 0; i < 50; i++) {
          assertThat(data.get(i)).isEqualTo("n" + (i + 1));
        }
        c.close();
      }
      // Nothing of "fan" reached the other topic's stream: its first event is a marker published after.
      h.publish("elsewhere", "marker");
      assertThat(other.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("marker");
      other.close();
    }
  }

  @Test
  @DisplayName("A gateway receives only the topics its connections hold")
  void onlyHeldTopicsReachTheGateway(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx); SseClient c = h.sse("/events?topic=held")) {
      c.await(l -> !l.isEmpty(), WAIT);
      for (int i = 0; i < 25; i++) {
        h.publish("not-held-" + (i % 5), "x");
      }
      h.publish("held", "y");
      c.awaitAppEvents(1, WAIT);
      assertThat(h.gateway.stats().eventsReceived).isEqualTo(1);
      assertThat(h.gateway.sse().heldTopics()).containsExactly("held");
      c.close();
      awaitCondition(() -> h.gateway.sse().heldTopics().isEmpty());
      h.publish("held", "after everyone left");
      // A marker on a topic held again arrives after it: the topic let go is not among what came in.
      try (SseClient m = h.sse("/events?topic=marker")) {
        m.await(l -> !l.isEmpty(), WAIT);
        h.publish("marker", "m");
        m.awaitAppEvents(1, WAIT);
      }
      assertThat(h.gateway.stats().eventsReceived).isEqualTo(2);
    }
  }

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

  @Test
  @DisplayName("Bad subscription requests get a 4xx with a JSON error body")
  void badRequests(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("maxTopicsPerConnection", 3), new JsonObject())) {
      assertError(h, HttpMethod.GET, "/events", 400, "invalid_request");
      assertError(h, HttpMethod.GET, "/events?topic=", 400, "invalid_topic");
      assertError(h, HttpMethod.GET, "/events?topic=has%20space", 400, "invalid_topic");
      assertError(h, HttpMethod.GET, "/events?topic=line%0Abreak", 400, "invalid_topic");
      assertError(h, HttpMethod.GET, "/events?topic=nul%00", 400, "invalid_topic");
      assertError(h, HttpMethod.GET, "/events?topic=caf%C3%A9", 400, "invalid_topic");
      assertError(h, HttpMethod.GET, "/events?topic=" + "x".repeat(129), 400, "invalid_topic");
      assertError(h, HttpMethod.GET, "/events?topic=a&topic=b&topic=c&topic=d", 400, "too_many_topics");
      assertError(h, HttpMethod.POST, "/events?topic=a", 405, "method_not_allowed");
      assertError(h, HttpMethod.GET, "/nope", 404, "not_found");
      assertThat(h.gateway.sse().connectionCount()).isZero();
      assertThat(h.gateway.sse().heldTopics()).isEmpty();
    }
  }

  @Test
  @DisplayName("On the wire: HTTP/1.1 streams are well-formed chunks (one per frame), HTTP/1.0 streams are plain bytes until the close")
  void wireFormatPerHttpVersion(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject(), new JsonObject());
         Socket s11 = new Socket("127.0.0.1", h.port());
         Socket s10 = new Socket("127.0.0.1", h.port())) {
      s11.setSoTimeout(10_000);
      s10.setSoTimeout(10_000);
      s11.getOutputStream().write("GET /events?topic=wire HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      s10.getOutputStream().write("GET /events?topic=wire HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      StringBuilder r11 = new StringBuilder();
      StringBuilder r10 = new StringBuilder();
      readUntil(s11.getInputStream(), r11, "herald.ready");
      readUntil(s10.getInputStream(), r10, "herald.ready");
      Event e1 = h.publish("wire", "one");
      Event e2 = h.publish("wire", "two\nlines");
      readUntil(s11.getInputStream(), r11, "data: lines\n\n\r\n");
      readUntil(s10.getInputStream(), r10, "data: lines\n\n");

      String head11 = r11.substring(0, r11.indexOf("\r\n\r\n") + 4);
      assertThat(head11).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked");
      // De-chunk the body strictly: every chunk is <hex length>CRLF<bytes>CRLF, each a whole frame.
      String body = r11.substring(head11.length());
      List<String> chunks = new ArrayList<>();
      int at = 0;
      while (at < body.length()) {
        int eol = body.indexOf("\r\n", at);
        int len = Integer.parseInt(body.substring(at, eol), 16);
        String chunk = body.substring(eol + 2, eol + 2 + len);
        assertThat(body.substring(eol + 2 + len, eol + 4 + len)).as("CRLF after a chunk").isEqualTo("\r\n");
        chunks.add(chunk);
        at = eol + 4 + len;
      }
      assertThat(chunks.get(0)).startsWith("retry: ");
      assertThat(chunks).contains(
        "id: " + e1.cursor() + "\nevent: message\ndata: one\n\n",
        "id: " + e2.cursor() + "\nevent: message\ndata: two\ndata: lines\n\n");

      String head10 = r10.substring(0, r10.indexOf("\r\n\r\n") + 4);
      assertThat(head10).doesNotContainIgnoringCase("transfer-encoding");
      assertThat(r10.substring(head10.length())).startsWith("retry: ").doesNotContain("\r\n")
        .endsWith("id: " + e1.cursor() + "\nevent: message\ndata: one\n\n"
          + "id: " + e2.cursor() + "\nevent: message\ndata: two\ndata: lines\n\n");
    }
  }

  /** Reads (ISO-8859-1: one char per byte, so chunk lengths count right) until {@code marker} has arrived. */
  private static void readUntil(InputStream in, StringBuilder into, String marker) throws Exception {
    byte[] buf = new byte[8192];
    while (into.indexOf(marker) < 0) {
      int n = in.read(buf);
      assertThat(n).as("stream ended before " + marker.replace("\n", "\\n") + "; got: " + into).isPositive();
      into.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
    }
  }

  @Test
  @DisplayName("Heartbeat comments arrive at the configured interval")
  void heartbeats(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("heartbeatSeconds", 1), new JsonObject());
         SseClient c = h.sse("/events?topic=hb")) {
      long t0 = System.nanoTime();
      awaitCondition(() -> c.parser().heartbeats() >= 2);
      // Not before their interval: the second comes two silent seconds after the stream opened.
      assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until the second heartbeat").isGreaterThanOrEqualTo(1500);
    }
  }

  @Test
  @DisplayName("A client that does not read is cut off at the write-queue limit while others keep receiving")
  void slowConsumerCutOff() throws Exception {
    // A metrics registry of this test's own: the counter is exactly 1, whatever other tests count.
    try (IsolatedMetrics metrics = IsolatedMetrics.start();
         GatewayHarness h = new GatewayHarness(metrics.vertx(), new JsonObject().put("maxWriteQueueBytes", 64 * 1024), new JsonObject());
         SseClient healthy = h.sse("/events?topic=flood")) {
      healthy.await(l -> !l.isEmpty(), WAIT);
      try (Socket slow = new Socket()) {
        slow.setReceiveBufferSize(4096);
        slow.connect(new java.net.InetSocketAddress("127.0.0.1", h.port()));
        OutputStream out = slow.getOutputStream();
        out.write("GET /events?topic=flood HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        awaitCondition(() -> h.gateway.sse().connectionCount() == 2);
        String payload = "y".repeat(32 * 1024);
        int published = 0;
        // Bounded: stops as soon as the gateway gives up on the slow client. Paced by the healthy
        // client, a reader that keeps up: unpaced, the publisher runs ahead of delivery and the
        // test's own client (parsing 32 KB lines in this JVM) can fall behind by more than the
        // limit and be cut too, for being slow.
        while (h.gateway.stats().slowConsumersClosed == 0 && published < 2000) {
          h.publish("flood", payload);
          published++;
          healthy.awaitAppEvents(published, WAIT);
        }
        assertThat(h.gateway.stats().slowConsumersClosed).isEqualTo(1);
        assertThat(metrics.registry().counter("herald_slow_consumers_closed").count())
          .as("herald_slow_consumers_closed_total").isEqualTo(1.0);
        int sent = published;
        assertThat(healthy.awaitAppEvents(sent, Duration.ofSeconds(30))).hasSize(sent);
        assertThat(h.gateway.sse().connectionCount()).isEqualTo(1);
        // The slow socket sees its stream end once it drains what the kernel already holds.
        InputStream in = slow.getInputStream();
        slow.setSoTimeout(10_000);
        byte[] buf = new byte[65536];
        while (in.read(buf) >= 0) {
          // drain to EOF
        }
      }
    }
  }

  @Test
  @DisplayName("Stopping the gateway ends every stream cleanly so that clients reconnect elsewhere")
  void shutdownEndsStreams(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx)) {
      SseClient a = h.sse("/events?topic=s1");
      SseClient b = h.sse("/events?topic=s1&topic=s2");
      a.await(l -> !l.isEmpty(), WAIT);
      b.await(l -> !l.isEmpty(), WAIT);
      h.undeployGateway();
      a.awaitEnd(WAIT);
      b.awaitEnd(WAIT);
      assertThat(a.failure()).isNull();
      assertThat(b.failure()).isNull();
    }
  }

  private static List<String> dataOf(List<SseEvent> events, String prefix) {
    return events.stream().map(SseEvent::data).filter(d -> d.startsWith(prefix)).collect(Collectors.toList());
  }

  // The JDK client, not Vert.x's: Vert.x 5.0.8's HttpClient sometimes never completed the first
  // request of a fresh client on a loaded machine (seen in about 1 of 3 full runs, never alone).
  private static final java.net.http.HttpClient JDK_HTTP = java.net.http.HttpClient.newBuilder()
    .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(java.time.Duration.ofSeconds(5)).build();

  private static void assertError(GatewayHarness h, HttpMethod method, String uri, int status, String code) throws Exception {
    var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + h.port() + uri))
      .timeout(java.time.Duration.ofSeconds(10))
      .method(method.name(), java.net.http.HttpRequest.BodyPublishers.noBody()).build();
    var resp = JDK_HTTP.send(req, java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(resp.statusCode()).as(method + " " + uri).isEqualTo(status);
    assertThat(resp.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject json = new JsonObject(resp.body());
    assertThat(json.getString("error")).as(uri).isEqualTo(code);
    assertThat(json.getString("message")).isNotBlank();
  }

  static void awaitCondition(java.util.function.BooleanSupplier cond) throws InterruptedException {
    Await.until("condition", cond, WAIT);
  }
}
