package io.herald.standalone;

import io.herald.testsupport.SseClient;
import org.junit.jupiter.api.DisplayName;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile connections against the real jar: a slowloris on publish and a burst of connections
 * from one address; the hub goes on serving others and leaks nothing.
 */
class HostileConnectionsIT extends HostileInputFixture {

  @org.junit.jupiter.api.Test
  @DisplayName("Slowloris on publish: a connection trickling its headers is closed after notifier.requestTimeoutMillis; publishing goes on meanwhile")
  void slowlorisOnPublish() throws Exception {
    // Taken before the connection exists: the notifier's timer cannot have started earlier.
    long start = System.nanoTime();
    try (java.net.Socket slow = new java.net.Socket()) {
      slow.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName("127.0.0.70"), 0));
      slow.connect(new java.net.InetSocketAddress("127.0.0.1", herald.notifierPort), 5000);
      var out = slow.getOutputStream();
      out.write("POST /publish HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      boolean closed = false;
      // A byte every 100 ms until the notifier closes: no byte may push its deadline back, so a
      // notifier that extends it keeps the socket open past this (generous) deadline and fails.
      long deadline = start + Duration.ofSeconds(60).toNanos();
      try {
        for (int i = 0; !closed && System.nanoTime() < deadline; i++) {
          out.write('X');
          out.flush();
          if (i == 2) {
            herald.publish("{\"topic\":\"public.news\",\"data\":\"during-slowloris\"}");
          }
          Thread.sleep(100);
        }
      } catch (java.io.IOException e) {
        closed = true;
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(closed).as("the trickling connection was closed").isTrue();
      assertThat(millis).as("closed, and not before notifier.requestTimeoutMillis").isGreaterThanOrEqualTo(REQUEST_TIMEOUT_MILLIS);
    }
    publicStream.await(l -> l.stream().anyMatch(e -> "during-slowloris".equals(e.data())), WAIT);
    assertCanary();
  }

  @org.junit.jupiter.api.Test
  @DisplayName("A burst of 3000 connections from one address: 200 streams (maxConnectionsPerIp), every other attempt 429 at once; other clients unaffected; nothing leaks")
  void burstOfConnections() throws Exception {
    List<java.net.Socket> open = new ArrayList<>();
    Map<Integer, Integer> statuses = new java.util.TreeMap<>();
    double before = activeSse();
    long start = System.nanoTime();
    try {
      for (int i = 0; i < 3000; i++) {
        java.net.Socket s = new java.net.Socket();
        s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName("127.0.0.71"), 0));
        s.connect(new java.net.InetSocketAddress("127.0.0.1", herald.gatewayPort), 5000);
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET /events?topic=public.burst HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        int status = statusOf(s.getInputStream());
        statuses.merge(status, 1, Integer::sum);
        if (status == 200) {
          open.add(s);
        } else {
          s.close();
        }
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      System.out.println("[measure] HostileInputIT burst of 3000 connections from one address: " + statuses + " in " + millis + " ms");
      assertThat(statuses).containsOnlyKeys(200, 429);
      assertThat(statuses.get(200)).isEqualTo(200);
      // Other clients are served meanwhile: the subscribers' canary and a new stream elsewhere.
      assertCanary();
      SseClient other = SseClient.open(vertx.createHttpClient(), herald.gatewayPort, "/events?topic=public.news");
      other.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), WAIT);
      other.close();
    } finally {
      for (java.net.Socket s : open) {
        s.close();
      }
    }
    // Nothing leaks: every stream of the burst is counted out (the address itself stays limited
    // for the attempt window: its refused attempts count).
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (activeSse() != before) {
      assertThat(System.nanoTime()).as("active SSE connections back to %s, at %s", before, activeSse()).isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  /** herald_connections_active{transport="sse"} from the hub's /metrics. */
  private double activeSse() throws Exception {
    String sample = "herald_connections_active{transport=\"sse\"} ";
    for (String line : herald.admin("/metrics").body().split("\n")) {
      if (line.startsWith(sample)) {
        return Double.parseDouble(line.substring(sample.length()).trim());
      }
    }
    throw new AssertionError("no " + sample + "in /metrics");
  }

  /** The status code of a response head read byte by byte (the stream stays open after it). */
  private static int statusOf(java.io.InputStream in) throws java.io.IOException {
    StringBuilder line = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      line.append((char) b);
    }
    return Integer.parseInt(line.toString().split(" ")[1]);
  }
}
