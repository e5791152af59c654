package io.herald.gateway;

import io.herald.common.Event;
import io.herald.testsupport.IsolatedMetrics;
import io.herald.testsupport.SseClient;
import io.vertx.core.Vertx;
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

import static io.herald.gateway.GatewayHarness.await;
import static org.assertj.core.api.Assertions.assertThat;

/** SSE seen from raw sockets: chunk framing per HTTP version, and a reader that stops reading cut off at the write-queue limit. */
@ExtendWith(VertxExtension.class)
class SseGatewayWireTest extends SseGatewayFixture {

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
}
