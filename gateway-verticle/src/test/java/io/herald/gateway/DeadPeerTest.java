package io.herald.gateway;

import io.herald.common.admin.HeraldMetrics;
import io.herald.testsupport.Await;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that vanishes without a word (its packets dropped by the kernel, {@link Blackhole}) is
 * closed by the gateway's dead-peer guard (heartbeat interval plus {@code deadPeerTimeoutSeconds},
 * not the kernel's give-up minutes later), on every transport: the heartbeats nobody acknowledges make the kernel give up on the connection
 * ({@code TCP_USER_TIMEOUT}, native epoll transport), and WebSocket pings must be answered. Both
 * counts are checked: the gateway's connections of the transport (the metric) and the server's
 * established TCP connections to the client ({@code ss}).
 */
class DeadPeerTest {

  private static final int HEARTBEAT = 1;
  /** The long-poll asks for a longer heartbeat: its answer must still be unsent when the client vanishes. */
  private static final int POLL_HEARTBEAT = 3;
  private static final int DEAD_PEER_TIMEOUT = 2;
  /**
   * How long a vanished client may take to be closed. Without the dead-peer guard it would stay
   * for the kernel's retransmission give-up (tcp_retries2, about 15 minutes) or, answering TCP
   * but not pings, forever: closing within this deadline at all is the guard's doing. No claim
   * on this machine's speed (the measured time is printed).
   */
  private static final Duration EVENTUALLY = Duration.ofSeconds(90);
  /** For a connection to open, or a count to settle. */
  private static final long EVENTUALLY_MS = 20_000;
  private static final JsonObject CONFIG = new JsonObject().put("heartbeatSeconds", HEARTBEAT).put("heartbeatMaxSeconds", 5)
    .put("deadPeerTimeoutSeconds", DEAD_PEER_TIMEOUT).put("idleTimeoutSeconds", 0);

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"sse", "websocket", "longpoll", "sockjs"})
  @DisplayName("A client that vanishes is closed by heartbeat + deadPeerTimeoutSeconds, not the kernel's give-up, on SSE, WebSocket, long-poll and SockJS")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void vanishedClientIsClosed(String transport) throws Exception {
    Blackhole blackhole = Blackhole.prepare();
    Vertx server = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    Vertx client = Vertx.vertx();
    List<AutoCloseable> clients = new CopyOnWriteArrayList<>();
    try {
      if (!server.isNativeTransportEnabled()) {
        Throwable why = server.unavailableNativeTransportCause();
        Blackhole.missing("the native epoll transport is not available (" + (why == null ? "?" : why.toString())
          + "): TCP_USER_TIMEOUT needs it");
      }
      try (GatewayHarness h = new GatewayHarness(server, CONFIG, new JsonObject()); blackhole) {
        int port = h.port();
        long before = active(transport);
        int heartbeat = connect(transport, port, client, clients);
        await("the connection open (" + transport + " connections " + active(transport) + ", established " + Blackhole.establishedTo(port) + ")",
          () -> active(transport) == before + 1 && Blackhole.establishedTo(port) == 1);

        blackhole.start();
        long start = System.nanoTime();
        Await.until(() -> "closed (" + transport + " connections: " + (active(transport) - before) + ", established TCP: "
            + Blackhole.establishedTo(port) + ")",
          () -> active(transport) == before && Blackhole.establishedTo(port) == 0, EVENTUALLY);
        System.out.printf("DeadPeerTest %s: closed %d ms after the client vanished (heartbeat %d s + deadPeerTimeoutSeconds %d)%n",
          transport, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), heartbeat, DEAD_PEER_TIMEOUT);
      }
    } finally {
      for (AutoCloseable c : clients) {
        try {
          c.close();
        } catch (Exception e) {
          // closing a connection to a server that dropped it
        }
      }
      GatewayHarness.await(client.close());
      GatewayHarness.await(server.close());
    }
  }

  @org.junit.jupiter.api.Test
  @DisplayName("A WebSocket client that acknowledges bytes but never answers a ping is dropped, not before deadPeerTimeoutSeconds, on NIO too")
  void unansweredPingsDropTheWebSocket() throws Exception {
    Vertx server = Vertx.vertx(); // NIO: no TCP_USER_TIMEOUT, and the client's kernel acknowledges anyway
    try (GatewayHarness h = new GatewayHarness(server, CONFIG, new JsonObject());
         Socket s = new Socket("127.0.0.1", h.port())) {
      long before = active("websocket");
      s.getOutputStream().write(("GET /ws?topic=mute&heartbeat=" + HEARTBEAT + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        head.append((char) in.read());
      }
      assertThat(head.toString()).startsWith("HTTP/1.1 101");
      await("the WebSocket open", () -> active("websocket") == before + 1);
      long start = System.nanoTime();
      // Reads everything (pings included) and answers nothing, until the server closes (or the
      // bound has long passed: pings keep coming to a client nobody drops).
      s.setSoTimeout(3 * HEARTBEAT * 1000);
      byte[] buf = new byte[4096];
      long giveUp = start + EVENTUALLY.toNanos();
      try {
        while (in.read(buf) >= 0 && System.nanoTime() < giveUp) {
          // pings and frames, unanswered
        }
      } catch (java.net.SocketTimeoutException e) {
        throw new AssertionError("the server sent nothing for three heartbeat intervals: no pings?", e);
      } catch (IOException e) {
        // reset by the server: closed all the same
      }
      await("the gateway's count back", () -> active("websocket") == before);
      long took = System.nanoTime() - start;
      System.out.printf("DeadPeerTest mute WebSocket: closed %d ms after it opened (heartbeat %d s + deadPeerTimeoutSeconds %d)%n",
        TimeUnit.NANOSECONDS.toMillis(took), HEARTBEAT, DEAD_PEER_TIMEOUT);
      // Closed before the deadline (above); and not before a ping went unanswered for deadPeerTimeoutSeconds.
      assertThat(took).as("closed before giving up").isLessThan(EVENTUALLY.toNanos());
      assertThat(took).as("not before deadPeerTimeoutSeconds").isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(DEAD_PEER_TIMEOUT));
    } finally {
      GatewayHarness.await(server.close());
    }
  }

  /** Opens a connection of {@code transport} from {@link Blackhole#CLIENT}, live; returns its heartbeat interval. */
  private static int connect(String transport, int port, Vertx client, List<AutoCloseable> clients) throws Exception {
    switch (transport) {
      case "sse" -> {
        IdleTimeoutTest.RawHttp sse = IdleTimeoutTest.RawHttp.open(Blackhole.CLIENT, port,
          "GET /events?topic=dead&heartbeat=" + HEARTBEAT + " HTTP/1.1\r\nHost: x\r\n\r\n");
        clients.add(sse);
        sse.awaitText("herald.ready", java.time.Duration.ofMillis(EVENTUALLY_MS));
        return HEARTBEAT;
      }
      case "websocket" -> {
        webSocket(client, port, "/ws?topic=dead&heartbeat=" + HEARTBEAT, "herald.ready", clients);
        return HEARTBEAT;
      }
      case "sockjs" -> {
        // The SockJS WebSocket transport: a session that ends with its connection (the XHR ones
        // wait sessionTimeout for the client to come back).
        webSocket(client, port, "/eventbus/000/deadpeer/websocket?heartbeat=" + HEARTBEAT, "o", clients);
        return HEARTBEAT;
      }
      case "longpoll" -> {
        Socket s = new Socket();
        clients.add(s);
        s.bind(new InetSocketAddress(Blackhole.CLIENT, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout((int) EVENTUALLY_MS);
        request(s, "/poll?topic=dead");
        String id = new JsonObject(response(s.getInputStream())).getString("id");
        // The poll that waits: its answer, due after its heartbeat, finds nobody.
        request(s, "/poll?topic=dead&heartbeat=" + POLL_HEARTBEAT + "&lastEventId=" + URLEncoder.encode(id, StandardCharsets.UTF_8));
        return POLL_HEARTBEAT;
      }
      default -> throw new IllegalArgumentException(transport);
    }
  }

  private static void webSocket(Vertx client, int port, String uri, String first, List<AutoCloseable> clients) throws Exception {
    WebSocketClient wsc = client.createWebSocketClient(new WebSocketClientOptions().setLocalAddress(Blackhole.CLIENT));
    Promise<Void> ready = Promise.promise();
    WebSocket ws = GatewayHarness.await(wsc.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri))
      .onSuccess(w -> w.textMessageHandler(t -> {
        if (t.contains(first)) {
          ready.tryComplete();
        }
      })));
    clients.add(() -> ws.close());
    GatewayHarness.await(ready.future());
  }

  private static void request(Socket s, String path) throws IOException {
    s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
  }

  /** The body of one Content-Length response. */
  private static String response(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("closed after: " + head);
      }
      head.append((char) b);
    }
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    return new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  /** The gateway's open connections of {@code transport} ({@code herald_connections_active}). */
  private static long active(String transport) {
    Gauge g = HeraldMetrics.get().registry().find("herald_connections_active").tag("transport", transport).gauge();
    return g == null ? 0 : (long) g.value();
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    Await.until("not reached: " + what, condition, java.time.Duration.ofMillis(EVENTUALLY_MS));
  }
}
