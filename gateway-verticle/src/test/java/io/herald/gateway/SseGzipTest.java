package io.herald.gateway;

import io.herald.common.Event;
import io.herald.testsupport.SseEvent;
import io.herald.testsupport.SseParser;
import io.herald.gateway.fanout.EncodedEvent;
import io.herald.gateway.sse.SseGzip;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * gzip SSE streams ({@code gateway.sseCompression}) read the way a client does: the bytes off a
 * socket, de-chunked and inflated incrementally, then parsed as SSE.
 */
@ExtendWith(VertxExtension.class)
class SseGzipTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  @DisplayName("With sseCompression accepted, a client that accepts gzip gets a gzip stream whose events, ids and heartbeats decode exactly")
  void gzipStream(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("sseCompression", "accepted").put("heartbeatSeconds", 1);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject());
         GzipStream single = GzipStream.open(h.port(), "/events?topic=g", "Accept-Encoding: gzip, deflate, br");
         GzipStream multi = GzipStream.open(h.port(), "/events?topic=g&topic=other", "Accept-Encoding: br;q=1, gzip;q=0.5")) {
      assertThat(single.headers).containsEntry("content-encoding", "gzip");
      assertThat(single.headers.get("vary")).contains("Accept-Encoding");
      assertThat(multi.headers).containsEntry("content-encoding", "gzip");
      single.await(1, WAIT);
      multi.await(1, WAIT);
      List<Event> sent = new ArrayList<>();
      sent.add(h.publish("g", "first line\nsecond line"));
      sent.add(h.publish("order.created", "{\"id\":7,\"items\":[" + "\"repeated item\",".repeat(40) + "\"last\"]}", true, "g").get(0));
      sent.add(h.publish("g", "é ü 中文 \uD83D\uDE00"));
      List<SseEvent> got = single.await(4, WAIT);
      assertThat(got.get(0).type()).isEqualTo("herald.ready");
      for (int i = 0; i < sent.size(); i++) {
        Event e = sent.get(i);
        assertThat(got.get(i + 1)).isEqualTo(new SseEvent(e.cursor(), e.type(), e.data().replace("\r\n", "\n")));
      }
      List<SseEvent> gotMulti = multi.await(4, WAIT);
      assertThat(gotMulti.subList(1, 4)).extracting(SseEvent::data).containsExactlyElementsOf(sent.stream().map(Event::data).toList());
      // Several topics: the connection's own cursor as id, sent beside the shared compressed body.
      assertThat(gotMulti.get(3).id()).isNotEqualTo(sent.get(2).cursor());
      assertThat(io.herald.common.Cursor.parse(gotMulti.get(3).id(), 8).position("g")).isEqualTo(sent.get(2).position());
      assertThat(single.wireBytes()).as("compressed bytes on the wire").isLessThan(single.decoded().length());
      single.awaitText(":\n\n", WAIT);

      // A resume from the gzip stream's id gets exactly what it missed, still gzip.
      String lastId = got.get(3).id();
      Event missed = h.publish("g", "missed");
      try (GzipStream again = GzipStream.open(h.port(), "/events?topic=g", "Accept-Encoding: gzip", "Last-Event-ID: " + lastId)) {
        List<SseEvent> resumed = again.await(2, WAIT);
        assertThat(resumed.get(0)).isEqualTo(new SseEvent(missed.cursor(), "message", "missed"));
        assertThat(resumed.get(1).type()).isEqualTo("herald.ready");
      }
    }
  }

  @Test
  @DisplayName("Streams are not compressed when the deployment is off, the client does not accept gzip, or in requested mode it did not ask")
  void identityUnlessAllowedAndAsked(Vertx vertx) throws Exception {
    try (GatewayHarness off = new GatewayHarness(vertx, new JsonObject(), new JsonObject());
         GzipStream s = GzipStream.open(off.port(), "/events?topic=a", "Accept-Encoding: gzip")) {
      assertThat(s.headers).doesNotContainKey("content-encoding");
      assertThat(s.headers.getOrDefault("vary", "")).doesNotContain("Accept-Encoding");
    }
    JsonObject requested = new JsonObject().put("sseCompression", "requested");
    try (GatewayHarness h = new GatewayHarness(vertx, requested, new JsonObject());
         GzipStream notAsked = GzipStream.open(h.port(), "/events?topic=a", "Accept-Encoding: gzip");
         GzipStream refused = GzipStream.open(h.port(), "/events?topic=a&compress=gzip", "Accept-Encoding: gzip;q=0, identity");
         GzipStream asked = GzipStream.open(h.port(), "/events?topic=a&compress=gzip", "Accept-Encoding: gzip")) {
      assertThat(notAsked.headers).doesNotContainKey("content-encoding");
      assertThat(notAsked.headers.get("vary")).contains("Accept-Encoding");
      assertThat(refused.headers).doesNotContainKey("content-encoding");
      assertThat(asked.headers).containsEntry("content-encoding", "gzip");
      Event e = h.publish("a", "both");
      assertThat(asked.await(2, WAIT).get(1)).isEqualTo(new SseEvent(e.cursor(), "message", "both"));
      assertThat(notAsked.awaitIdentity(2, WAIT).get(1)).isEqualTo(new SseEvent(e.cursor(), "message", "both"));
    }
  }

  @Test
  @DisplayName("An event is compressed once per gateway: its gzip chunk is one shared buffer")
  void compressedOnce() {
    EncodedEvent e = new EncodedEvent(new Event("t", "EPOCH123", 1, "message", "x".repeat(500), false, null, 0));
    assertThat(e.gzipSingle()).isSameAs(e.gzipSingle());
    assertThat(e.gzipBody()).isSameAs(e.gzipBody());
    // Position independent: after any stored block, the same bytes decode to the same frame.
    Inflater a = new Inflater(true);
    Inflater b = new Inflater(true);
    byte[] deflated = SseGzip.deflated(e.single()).getBytes();
    assertThat(inflate(a, SseGzip.stored(Buffer.buffer("retry: 1\n\n")).getBytes()) + inflate(a, deflated))
      .isEqualTo("retry: 1\n\n" + e.single());
    assertThat(inflate(b, SseGzip.stored(Buffer.buffer(":" + "y".repeat(70_000) + "\n\n")).getBytes()).length()).isEqualTo(70_003);
    assertThat(inflate(b, deflated)).isEqualTo(e.single().toString());
    assertThat(SseGzip.accepts("gzip")).isTrue();
    assertThat(SseGzip.accepts("deflate, *;q=0.1")).isTrue();
    assertThat(SseGzip.accepts("*, gzip;q=0")).isFalse();
    assertThat(SseGzip.accepts("identity")).isFalse();
    assertThat(SseGzip.accepts(null)).isFalse();
  }

  private static String inflate(Inflater inf, byte[] in) {
    inf.setInput(in);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      for (int n; (n = inf.inflate(buf)) > 0; ) {
        out.write(buf, 0, n);
      }
    } catch (DataFormatException ex) {
      throw new AssertionError(ex);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** {@code GET} on a plain socket; the chunked body de-chunked, and inflated when it is gzip. */
  static final class GzipStream implements AutoCloseable {
    final Map<String, String> headers = new LinkedHashMap<>();
    private final Socket socket;
    private final InputStream in;
    private final ByteArrayOutputStream decoded = new ByteArrayOutputStream();
    private final Inflater inflater = new Inflater(true);
    private long wire;
    private int headerLeft = 10;
    private volatile Throwable failure;

    private GzipStream(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
    }

    static GzipStream open(int port, String path, String... headerLines) throws IOException {
      Socket s = new Socket("127.0.0.1", port);
      s.setSoTimeout(15_000);
      StringBuilder req = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      for (String h : headerLines) {
        req.append(h).append("\r\n");
      }
      s.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      GzipStream g = new GzipStream(s);
      g.readHead();
      Thread t = new Thread(g::readBody, "gzip-stream");
      t.setDaemon(true);
      t.start();
      return g;
    }

    private void readHead() throws IOException {
      String head = readLine();
      assertThat(head).startsWith("HTTP/1.1 200");
      for (String line; !(line = readLine()).isEmpty(); ) {
        int colon = line.indexOf(':');
        String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = line.substring(colon + 1).trim();
        headers.merge(name, value, (x, y) -> x + ", " + y);
      }
    }

    private String readLine() throws IOException {
      StringBuilder sb = new StringBuilder();
      for (int b; (b = in.read()) != '\n'; ) {
        if (b < 0) {
          throw new IOException("closed after: " + sb);
        }
        if (b != '\r') {
          sb.append((char) b);
        }
      }
      return sb.toString();
    }

    private void readBody() {
      boolean gzip = "gzip".equals(headers.get("content-encoding"));
      try {
        while (true) {
          int size = Integer.parseInt(readLine().trim(), 16);
          if (size == 0) {
            return;
          }
          byte[] chunk = in.readNBytes(size);
          readLine();
          synchronized (decoded) {
            wire += size;
            if (gzip) {
              inflateChunk(chunk);
            } else {
              decoded.write(chunk);
            }
            decoded.notifyAll();
          }
        }
      } catch (Throwable t) {
        failure = t;
        synchronized (decoded) {
          decoded.notifyAll();
        }
      }
    }

    private void inflateChunk(byte[] chunk) throws DataFormatException {
      int from = 0;
      if (headerLeft > 0) {
        int skip = Math.min(headerLeft, chunk.length);
        if (headerLeft == 10) {
          assertThat(chunk[0] & 0xff).isEqualTo(0x1f);
          assertThat(chunk[1] & 0xff).isEqualTo(0x8b);
        }
        headerLeft -= skip;
        from = skip;
      }
      inflater.setInput(chunk, from, chunk.length - from);
      byte[] buf = new byte[8192];
      for (int n; (n = inflater.inflate(buf)) > 0; ) {
        decoded.write(buf, 0, n);
      }
    }

    String decoded() {
      synchronized (decoded) {
        return decoded.toString(StandardCharsets.UTF_8);
      }
    }

    long wireBytes() {
      synchronized (decoded) {
        return wire;
      }
    }

    List<SseEvent> await(int n, Duration timeout) throws InterruptedException {
      assertThat(headers).containsEntry("content-encoding", "gzip");
      return awaitEvents(n, timeout);
    }

    List<SseEvent> awaitIdentity(int n, Duration timeout) throws InterruptedException {
      assertThat(headers).doesNotContainKey("content-encoding");
      return awaitEvents(n, timeout);
    }

    private List<SseEvent> awaitEvents(int n, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (decoded) {
        while (true) {
          SseParser p = new SseParser();
          p.feed(decoded.toString(StandardCharsets.UTF_8));
          if (p.events().size() >= n) {
            return p.events();
          }
          long left = deadline - System.nanoTime();
          if (left <= 0 || failure != null) {
            throw new AssertionError("expected " + n + " events (failure: " + failure + "); decoded so far: " + decoded());
          }
          TimeUnit.NANOSECONDS.timedWait(decoded, left);
        }
      }
    }

    void awaitText(String part, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      synchronized (decoded) {
        while (!decoded().contains(part)) {
          long left = deadline - System.nanoTime();
          if (left <= 0 || failure != null) {
            throw new AssertionError("no " + part + " (failure: " + failure + "); decoded so far: " + decoded());
          }
          TimeUnit.NANOSECONDS.timedWait(decoded, left);
        }
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
