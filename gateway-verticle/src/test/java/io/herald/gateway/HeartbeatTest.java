package io.herald.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Heartbeats go only to streams that carried nothing for their interval, at the interval the
 * client asked for ({@code heartbeat=<seconds>}) within {@code heartbeatMinSeconds} and
 * {@code heartbeatMaxSeconds}; a value outside them is a 400 on every transport. Silence is
 * proven with markers: what a stream received up to an event published after the fact.
 */
@ExtendWith(VertxExtension.class)
class HeartbeatTest {

  private static final int MIN = 1;
  private static final int DEFAULT = 3;
  private static final int MAX = 6;
  private static final JsonObject CONFIG = new JsonObject().put("heartbeatSeconds", DEFAULT).put("heartbeatMinSeconds", MIN)
    .put("heartbeatMaxSeconds", MAX).put("idleTimeoutSeconds", 30);
  private static final Duration EVENTUALLY = Duration.ofSeconds(20);
  /** SSE heartbeat comment. */
  private static final String COMMENT = ":\n\n";

  @Test
  @DisplayName("A stream that receives events more often than its interval gets no heartbeat between them, on SSE, WebSocket and SockJS")
  void busyStreamsGetNoHeartbeat(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, CONFIG, new JsonObject());
         IdleTimeoutTest.RawHttp sse = IdleTimeoutTest.RawHttp.open(h.port(),
           "GET /events?topic=busy&heartbeat=2 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
         WsLog ws = WsLog.open(h.port(), "/ws?topic=busy&heartbeat=2");
         WsLog sockJs = WsLog.open(h.port(), "/eventbus/000/hbws0001/websocket?heartbeat=2")) {
      sse.awaitText("herald.ready", EVENTUALLY);
      ws.await(t -> t.contains("herald.ready"));
      sockJs.await("o"::equals);
      sockJs.send("[\"{\\\"type\\\":\\\"register\\\",\\\"address\\\":\\\"herald.browser.busy\\\"}\"]");
      // Until every stream gets events (the SockJS registration completes on its own time).
      long deadline = System.nanoTime() + EVENTUALLY.toNanos();
      for (int i = 0; !(sse.text().contains("warm-") && ws.has(t -> t.contains("warm-")) && sockJs.has(t -> t.contains("warm-"))); i++) {
        assertThat(System.nanoTime()).as("events on every stream").isLessThan(deadline);
        h.publish("busy", "warm-" + i);
        Thread.sleep(200);
      }
      // An event every 0.4 s for 4.8 s: more than two intervals of 2 s, none of them silent.
      int ticks = 12;
      for (int i = 0; i < ticks; i++) {
        h.publish("busy", "tick-" + i);
        Thread.sleep(400);
      }
      h.publish("busy", "end");
      sse.awaitText("data: end", EVENTUALLY);
      ws.await(t -> t.contains("\"end\""));
      sockJs.await(t -> t.contains("\\\"end\\\""));

      String stream = sse.text();
      String busy = stream.substring(stream.indexOf("data: tick-0"), stream.indexOf("data: end"));
      assertThat(busy).contains("data: tick-" + (ticks - 1));
      assertThat(count(busy, COMMENT)).as("SSE heartbeats between events: %s", busy).isZero();
      List<String> wsBusy = ws.between(t -> t.contains("\"tick-0\""), t -> t.contains("\"end\""));
      assertThat(wsBusy).filteredOn(t -> t.contains("tick-")).hasSize(ticks);
      assertThat(wsBusy).as("WebSocket pings between events").doesNotContain(WsLog.PING);
      List<String> sockJsBusy = sockJs.between(t -> t.contains("\\\"tick-0\\\""), t -> t.contains("\\\"end\\\""));
      assertThat(sockJsBusy).filteredOn(t -> t.contains("tick-")).hasSize(ticks);
      assertThat(sockJsBusy).as("SockJS h frames between events").doesNotContain("h");

      // Silent from now on: the heartbeats come back, on every stream.
      long silentFrom = stream.length();
      long wsFrom = ws.size();
      long sockJsFrom = sockJs.size();
      sse.awaitText(COMMENT, silentFrom, EVENTUALLY);
      ws.await(WsLog.PING::equals, wsFrom);
      sockJs.await("h"::equals, sockJsFrom);
    }
  }

  @Test
  @DisplayName("A silent stream gets heartbeats at the interval it asked for, shorter or longer than the default")
  void silentStreamsAtTheirInterval(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, CONFIG, new JsonObject());
         IdleTimeoutTest.RawHttp longer = IdleTimeoutTest.RawHttp.open(h.port(),
           "GET /events?topic=quiet&heartbeat=" + MAX + " HTTP/1.1\r\nHost: x\r\n\r\n")) {
      longer.awaitText("herald.ready", EVENTUALLY);
      try (IdleTimeoutTest.RawHttp usual = IdleTimeoutTest.RawHttp.open(h.port(), "GET /events?topic=quiet HTTP/1.1\r\nHost: x\r\n\r\n");
           IdleTimeoutTest.RawHttp shorter = IdleTimeoutTest.RawHttp.open(h.port(),
             "GET /events?topic=quiet&heartbeat=" + MIN + " HTTP/1.1\r\nHost: x\r\n\r\n");
           WsLog ws = WsLog.open(h.port(), "/ws?topic=quiet&heartbeat=" + MIN)) {
        usual.awaitText("herald.ready", EVENTUALLY);
        shorter.awaitText("herald.ready", EVENTUALLY);
        // The 1 s stream, opened last, is the clock: 3 heartbeats are 3 s at least and 3.25 s at
        // most after it began, the 6 s stream's first is 6 s at least after it began (earlier).
        awaitCount(shorter, 3);
        assertThat(count(longer.text(), COMMENT)).as("heartbeats of the 6 s stream when the 1 s one had 3").isZero();
        awaitCount(longer, 1);
        assertThat(count(shorter.text(), COMMENT)).as("heartbeats of the 1 s stream when the 6 s one had 1").isGreaterThanOrEqualTo(4);
        assertThat(count(usual.text(), COMMENT)).as("heartbeats of the 3 s stream when the 6 s one had 1").isGreaterThanOrEqualTo(1);
        assertThat(ws.count(WsLog.PING::equals)).as("pings of the 1 s WebSocket").isGreaterThanOrEqualTo(4);
        assertThat(longer.closed() || usual.closed() || shorter.closed()).isFalse();
      }
    }
  }

  @Test
  @DisplayName("A long-poll that asks for a heartbeat is answered empty after it, not after longPollTimeoutSeconds")
  void longPollHeartbeat(Vertx vertx) throws Exception {
    // The poll's own timeout (300 s) is far past the 20 s this client waits for an answer: an
    // empty answer at all is the heartbeat's.
    try (GatewayHarness h = new GatewayHarness(vertx, CONFIG.copy().put("longPollTimeoutSeconds", 300).put("idleTimeoutSeconds", 0),
      new JsonObject())) {
      Answer first = get(h.port(), "/poll?topic=polled");
      assertThat(first.status).isEqualTo(200);
      String id = new JsonObject(first.body).getString("id");
      long start = System.nanoTime();
      Answer empty = get(h.port(), "/poll?topic=polled&heartbeat=" + MIN + "&lastEventId=" + URLEncoder.encode(id, StandardCharsets.UTF_8));
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(empty.status).isEqualTo(200);
      assertThat(new JsonObject(empty.body).getString("id")).isEqualTo(id);
      assertThat(new JsonObject(empty.body).getJsonArray("events")).isEmpty();
      // Answered by its heartbeat, and not before it.
      assertThat(tookMillis).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toMillis(MIN));
    }
  }

  @Test
  @DisplayName("A heartbeat outside the configured bounds, or not a number, is a 400 naming the parameter and its bounds on every transport")
  void badHeartbeatIsRefused(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, CONFIG, new JsonObject())) {
      String ws = "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
      for (String bad : List.of("0", String.valueOf(MAX + 1), "abc", "", "-1", "99999999999")) {
        String q = "heartbeat=" + bad;
        for (String[] target : List.of(
          new String[] {"/events?topic=t&" + q, ""},
          new String[] {"/ws?topic=t&" + q, ws},
          new String[] {"/poll?topic=t&" + q, ""},
          new String[] {"/eventbus/info?" + q, ""},
          new String[] {"/eventbus/000/badhb001/xhr_streaming?" + q, ""},
          new String[] {"/eventbus/000/badhb002/websocket?" + q, ws})) {
          Answer a = get(h.port(), target[0], target[1]);
          assertThat(a.status).as("%s: %s", target[0], a.body).isEqualTo(400);
          JsonObject body = new JsonObject(a.body);
          assertThat(body.getString("error")).isEqualTo("invalid_request");
          assertThat(body.getString("parameter")).isEqualTo("heartbeat");
          assertThat(body.getInteger("min")).isEqualTo(MIN);
          assertThat(body.getInteger("max")).isEqualTo(MAX);
          assertThat(body.getString("message")).contains("heartbeat").contains(MIN + " to " + MAX);
        }
      }
      // The bounds themselves are fine.
      assertThat(get(h.port(), "/poll?topic=t&heartbeat=" + MIN).status).isEqualTo(200);
      assertThat(get(h.port(), "/poll?topic=t&heartbeat=" + MAX).status).isEqualTo(200);
    }
  }

  private static void awaitCount(IdleTimeoutTest.RawHttp stream, int n) throws InterruptedException {
    long deadline = System.nanoTime() + EVENTUALLY.toNanos();
    while (count(stream.text(), COMMENT) < n) {
      if (System.nanoTime() > deadline || stream.closed()) {
        throw new AssertionError("fewer than " + n + " heartbeats: " + stream.text());
      }
      Thread.sleep(20);
    }
  }

  static int count(String text, String part) {
    int n = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
      n++;
    }
    return n;
  }

  record Answer(int status, String body) {
  }

  static Answer get(int port, String path) throws IOException {
    return get(port, path, "");
  }

  /** One request on its own connection ({@code Connection: close}): the status and the body. */
  static Answer get(int port, String path, String headers) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x" + headers + "\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      int status = Integer.parseInt(all.substring(9, 12));
      int bodyAt = all.indexOf("\r\n\r\n");
      return new Answer(status, bodyAt < 0 ? "" : all.substring(bodyAt + 4));
    }
  }

  /** A WebSocket that logs what it receives in order: each text message, and {@link #PING} for a ping. */
  static final class WsLog implements AutoCloseable {
    static final String PING = "<ping>";
    private final List<String> log = new ArrayList<>();
    private final StringBuilder partial = new StringBuilder();
    private WebSocket ws;

    static WsLog open(int port, String path) throws Exception {
      WsLog c = new WsLog();
      c.ws = WsClient.JDK.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create("ws://127.0.0.1:" + port + path), c.listener()).get(10, TimeUnit.SECONDS);
      return c;
    }

    private WebSocket.Listener listener() {
      return new WebSocket.Listener() {
        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
          synchronized (log) {
            partial.append(data);
            if (last) {
              log.add(partial.toString());
              partial.setLength(0);
              log.notifyAll();
            }
          }
          w.request(1);
          return null;
        }

        @Override
        public CompletionStage<?> onPing(WebSocket w, ByteBuffer message) {
          synchronized (log) {
            log.add(PING);
            log.notifyAll();
          }
          w.request(1);
          return null;
        }
      };
    }

    void send(String text) throws Exception {
      ws.sendText(text, true).get(5, TimeUnit.SECONDS);
    }

    int size() {
      synchronized (log) {
        return log.size();
      }
    }

    boolean has(Predicate<String> p) {
      synchronized (log) {
        return log.stream().anyMatch(p);
      }
    }

    long count(Predicate<String> p) {
      synchronized (log) {
        return log.stream().filter(p).count();
      }
    }

    void await(Predicate<String> p) throws InterruptedException {
      await(p, 0);
    }

    /** Waits for a message matching {@code p} at index {@code from} or later. */
    void await(Predicate<String> p, long from) throws InterruptedException {
      long deadline = System.nanoTime() + EVENTUALLY.toNanos();
      synchronized (log) {
        while (log.subList((int) Math.min(from, log.size()), log.size()).stream().noneMatch(p)) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new AssertionError("not received; log: " + log);
          }
          TimeUnit.NANOSECONDS.timedWait(log, left);
        }
      }
    }

    /** The messages after the first matching {@code start} (included) up to the first matching {@code end}. */
    List<String> between(Predicate<String> start, Predicate<String> end) {
      synchronized (log) {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String m : log) {
          if (!in && start.test(m)) {
            in = true;
          }
          if (in && end.test(m)) {
            return out;
          }
          if (in) {
            out.add(m);
          }
        }
        throw new AssertionError("no such section in " + log);
      }
    }

    @Override
    public void close() {
      ws.abort();
    }
  }
}
