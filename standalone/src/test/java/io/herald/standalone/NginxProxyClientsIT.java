package io.herald.standalone;

import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients behind nginx (docker/nginx/herald.conf): limited per address when nginx is a trusted
 * proxy, and resuming on the other gateway with Last-Event-ID when theirs is killed.
 */
class NginxProxyClientsIT extends NginxProxyFixture {

  @Test
  @DisplayName("Behind nginx (a trusted proxy) two clients are limited separately: one at its per-address limit, the other still connects")
  void perAddressBehindProxy() throws Exception {
    // The gateways allow PER_IP streams per address and trust 127.0.0.1, where nginx connects
    // from; nginx appends each client's own loopback address (127.0.0.2, 127.0.0.3) to
    // X-Forwarded-For. Whichever gateway least_conn picks, 127.0.0.2 is refused by the time it
    // holds PER_IP streams on each of the two.
    List<java.net.Socket> held = new ArrayList<>();
    try {
      int refusedAfter = -1;
      for (int i = 0; i < 2 * PER_IP + 1; i++) {
        java.net.Socket s = new java.net.Socket();
        held.add(s);
        int status = rawGet(s, "127.0.0.2", "/events?topic=px");
        if (status == 429) {
          refusedAfter = i;
          break;
        }
        assertThat(status).as("stream " + i + " of 127.0.0.2").isEqualTo(200);
      }
      assertThat(refusedAfter).as("127.0.0.2 is refused at its per-address limit").isBetween(PER_IP, 2 * PER_IP);
      java.net.Socket other = new java.net.Socket();
      held.add(other);
      assertThat(rawGet(other, "127.0.0.3", "/events?topic=px")).as("127.0.0.3, behind the same proxy, is another client").isEqualTo(200);
      // A client that spoofs the header cannot take 127.0.0.3's address: nginx appends the real one.
      java.net.Socket spoof = new java.net.Socket();
      held.add(spoof);
      assertThat(rawGet(spoof, "127.0.0.2", "/events?topic=px", "X-Forwarded-For: 127.0.0.4")).isEqualTo(429);
    } finally {
      for (java.net.Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  @DisplayName("A client whose gateway is killed (SIGKILL) resumes through nginx on the other with Last-Event-ID: exactly the missed events, once")
  void resumeAfterGatewayKilled() throws Exception {
    closeClients();
    io.vertx.core.http.HttpClient http = vertx.createHttpClient();
    String path = "/events?topic=orders&topic=alerts";
    SseClient first = SseClient.open(http, proxyPort, path);
    String upstream = first.response().getHeader(UPSTREAM_HEADER);
    assertThat(upstream).isNotNull();
    int victim = Integer.parseInt(upstream.substring(upstream.lastIndexOf(':') + 1));
    assertThat(gateways).containsKey(victim);
    first.await(ev -> ev.stream().anyMatch(e -> e.type().equals("herald.ready")), Duration.ofSeconds(10));

    publish("{\"topic\":\"orders\",\"data\":\"o1\"}");
    publish("{\"topic\":\"alerts\",\"data\":\"a1\"}");
    assertThat(first.awaitAppEvents(2, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("o1", "a1");
    String lastId = first.parser().lastEventId();
    assertThat(lastId).isEqualTo(first.appEvents().get(1).id());

    Process killed = gateways.get(victim);
    long t0 = System.nanoTime();
    cluster.kill(killed); // SIGKILL
    try {
      resumeOnTheOther(http, path, upstream, lastId, first, t0);
    } finally {
      // The other tests find two gateways again, whatever order they run in.
      gateways.put(victim, gateway("gateway-restarted", victim));
      awaitGateway(victim);
    }
  }

  /** Opens {@code path} through nginx from the loopback address {@code from}; the status of the answer (its body is not read). */
  private int rawGet(java.net.Socket s, String from, String path, String... headers) throws IOException {
    s.bind(new java.net.InetSocketAddress(from, 0));
    s.connect(new java.net.InetSocketAddress("127.0.0.1", proxyPort), 5000);
    s.setSoTimeout(10_000);
    StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + proxyPort + "\r\n");
    for (String h : headers) {
      req.append(h).append("\r\n");
    }
    s.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
    String status = in.readLine();
    assertThat(status).as("status line from nginx for " + from).isNotNull().startsWith("HTTP/1.1 ");
    return Integer.parseInt(status.substring(9, 12));
  }

  private void resumeOnTheOther(io.vertx.core.http.HttpClient http, String path, String upstream, String lastId,
                                SseClient first, long t0) throws Exception {
    first.awaitEnd(Duration.ofSeconds(10));
    System.out.println("NginxProxyIT: stream through nginx ended " + (System.nanoTime() - t0) / 1_000_000
      + " ms after its gateway was killed");

    publish("{\"topic\":\"orders\",\"data\":\"o2\"}");
    publish("{\"topic\":\"alerts\",\"data\":\"a2\"}");
    // Like a browser's EventSource: reconnect to the same URL with the last id seen.
    try (SseClient resumed = SseClient.open(http, proxyPort, path, "Last-Event-ID", lastId)) {
      String other = resumed.response().getHeader(UPSTREAM_HEADER);
      assertThat(other).as("nginx sent the resumed stream to the surviving gateway").isNotNull().isNotEqualTo(upstream);
      assertThat(resumed.awaitAppEvents(2, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("o2", "a2");
      publish("{\"topic\":\"alerts\",\"data\":\"a3\"}");
      assertThat(resumed.awaitAppEvents(3, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("o2", "a2", "a3");
      // Anything twice would come before a marker published after it.
      publish("{\"topic\":\"alerts\",\"data\":\"marker\"}");
      assertThat(resumed.awaitAppEvents(4, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("o2", "a2", "a3", "marker");
      assertThat(resumed.events()).noneMatch(e -> e.type().equals("reset"));
    }
  }
}
