package io.herald.standalone;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The transports through nginx (docker/nginx/herald.conf): SSE unbuffered, WebSocket upgrades,
 * SockJS with sticky sessions. Per-address limits and failover are in {@link NginxProxyClientsIT}.
 */
class NginxProxyIT extends NginxProxyFixture {

  @Test
  @DisplayName("SSE through nginx is unbuffered: 1 s heartbeats and then an event arrive while far fewer bytes than a proxy buffer have been sent")
  void sseUnbuffered() throws Exception {
    Lines sse = Lines.open(HttpRequest.newBuilder(proxy("/events?topic=hb")).GET());
    clients.add(sse);
    assertThat(sse.response.statusCode()).isEqualTo(200);
    assertThat(sse.response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
    assertThat(sse.response.headers().firstValue(UPSTREAM_HEADER)).as("the test's upstream header").isPresent();
    // ":ok" opens the stream, then a ":" comment every second (HERALD_GATEWAY_HEARTBEAT_SECONDS=1).
    // Six of them are a few dozen bytes: a buffering proxy holds them until its buffer (KBs, that
    // is many minutes of heartbeats) fills, far past this wait. Arriving at all proves them unbuffered.
    List<Line> comments = sse.await(ls -> ls.stream().filter(l -> l.text().startsWith(":")).count() >= 6, Duration.ofSeconds(60))
      .stream().filter(l -> l.text().startsWith(":")).toList();
    List<Long> gaps = new ArrayList<>();
    for (int i = 1; i < comments.size(); i++) {
      gaps.add((comments.get(i).nanos() - comments.get(i - 1).nanos()) / 1_000_000);
    }
    System.out.println("NginxProxyIT: gaps between SSE comments through nginx (ms): " + gaps);

    // The same for one event: it arrives while the stream is open and a buffer is still far from full.
    long before = System.nanoTime();
    publish("{\"topic\":\"hb\",\"type\":\"greeting\",\"data\":\"through-nginx\"}");
    Line data = sse.awaitLine(l -> l.text().equals("data: through-nginx"), Duration.ofSeconds(60));
    System.out.println("NginxProxyIT: publish to SSE delivery through nginx: " + (data.nanos() - before) / 1_000_000 + " ms");
    sse.close();
  }

  @Test
  @DisplayName("WebSocket /ws upgrades through nginx (Host kept, so the page's own Origin passes) and delivers frames")
  void webSocket() throws Exception {
    Frames ws = Frames.open(proxyWs("/ws?topic=wsdemo"), "Origin", "http://127.0.0.1:" + proxyPort);
    clients.add(ws);
    JsonObject ready = ws.next(Duration.ofSeconds(10));
    assertThat(ready.getString("type")).isEqualTo("herald.ready");
    publish("{\"topic\":\"wsdemo\",\"type\":\"greeting\",\"data\":{\"hello\":\"ws\"}}");
    JsonObject event = ws.next(Duration.ofSeconds(5));
    assertThat(event.getString("topic")).isEqualTo("wsdemo");
    assertThat(event.getString("type")).isEqualTo("greeting");
    assertThat(event.getJsonObject("data")).isEqualTo(new JsonObject().put("hello", "ws"));
    ws.close();
  }

  @Test
  @DisplayName("SockJS through nginx: /eventbus/info answers; xhr-streaming sessions stick to one gateway and receive events; the websocket transport works")
  void sockJs() throws Exception {
    HttpResponse<String> info = HeraldProcess.HTTP.send(HttpRequest.newBuilder(proxy("/eventbus/info"))
      .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(info.statusCode()).as(info.body()).isEqualTo(200);
    assertThat(new JsonObject(info.body()).getBoolean("websocket")).isTrue();

    // XHR streaming: the receiving request and each xhr_send are separate HTTP requests that
    // must reach the same gateway (another one answers 404: no such session).
    String address = "herald.browser.sj";
    List<Lines> sessions = new ArrayList<>();
    List<String> upstreams = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      String base = "/eventbus/" + String.format("%03d", i) + "/s" + Long.toHexString(System.nanoTime()) + i;
      Lines stream = Lines.open(HttpRequest.newBuilder(proxy(base + "/xhr_streaming")).POST(HttpRequest.BodyPublishers.noBody()));
      clients.add(stream);
      assertThat(stream.response.statusCode()).isEqualTo(200);
      stream.awaitLine(l -> l.text().equals("o"), Duration.ofSeconds(5));
      String upstream = stream.response.headers().firstValue(UPSTREAM_HEADER).orElseThrow();
      String frame = new JsonArray().add(new JsonObject().put("type", "register").put("address", address)
        .put("headers", new JsonObject()).encode()).encode();
      HttpResponse<String> sent = HeraldProcess.HTTP.send(HttpRequest.newBuilder(proxy(base + "/xhr_send"))
          .timeout(Duration.ofSeconds(10)).header("Content-Type", "text/plain;charset=UTF-8")
          .POST(HttpRequest.BodyPublishers.ofString(frame)).build(),
        HttpResponse.BodyHandlers.ofString());
      assertThat(sent.statusCode()).as("xhr_send of session %d: %s", i, sent.body()).isEqualTo(204);
      assertThat(sent.headers().firstValue(UPSTREAM_HEADER).orElseThrow())
        .as("xhr_send of session %d went to its session's gateway", i).isEqualTo(upstream);
      sessions.add(stream);
      upstreams.add(upstream);
    }
    System.out.println("NginxProxyIT: SockJS sessions per gateway: " + upstreams.stream()
      .collect(java.util.stream.Collectors.groupingBy(u -> u, java.util.TreeMap::new, java.util.stream.Collectors.counting())));
    assertThat(new TreeSet<>(upstreams)).as("sessions hashed over both gateways").hasSize(2);

    // Every session receives the topic's events as bridge "rec" frames (registration is
    // asynchronous: publish until each has one).
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    int n = 0;
    while (!sessions.stream().allMatch(s -> recFrames(s, address) > 0)) {
      assertThat(System.nanoTime()).as("every SockJS session received an event").isLessThan(deadline);
      publish("{\"topic\":\"sj\",\"data\":{\"n\":" + n++ + "}}");
      Thread.sleep(300);
    }
    for (Lines s : sessions) {
      s.close();
    }

    // The raw websocket transport of the bridge (/eventbus/websocket) through the upgrade.
    Frames ws = Frames.open(proxyWs("/eventbus/websocket"));
    clients.add(ws);
    ws.send(new JsonObject().put("type", "register").put("address", "herald.browser.sjws").put("headers", new JsonObject()).encode());
    deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    JsonObject rec = null;
    for (int k = 0; rec == null; k++) {
      assertThat(System.nanoTime()).as("a rec frame over the SockJS websocket transport").isLessThan(deadline);
      publish("{\"topic\":\"sjws\",\"data\":\"k" + k + "\"}");
      JsonObject f = ws.poll(Duration.ofMillis(500));
      while (f != null && !"rec".equals(f.getString("type"))) {
        f = ws.poll(Duration.ofMillis(100));
      }
      rec = f;
    }
    assertThat(rec.getString("address")).isEqualTo("herald.browser.sjws");
    assertThat(rec.getJsonObject("body").getString("topic")).isEqualTo("sjws");
    ws.close();
  }
}
