package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.gateway.websocket.WsDeflate;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * WebSocket permessage-deflate ({@code gateway.webSocketCompression}) on the wire: a client on a
 * plain socket offers the extension, reads the frames' RSV1 bit and inflates their payloads as
 * RFC 7692 says; and sends compressed messages of its own.
 */
@ExtendWith(VertxExtension.class)
class WsDeflateTest {

  private static final JsonObject ON = new JsonObject().put("webSocketCompression", true);

  @Test
  @DisplayName("With webSocketCompression on, a client that offers permessage-deflate gets compressed messages that inflate to the exact JSON frames, single and multi-topic")
  void compressedFrames(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, ON, new JsonObject());
         RawWs single = RawWs.open(h.port(), "/ws?topic=w", "permessage-deflate; client_max_window_bits");
         RawWs multi = RawWs.open(h.port(), "/ws?topic=w&topic=v", "permessage-deflate")) {
      assertThat(single.extensions).startsWith("permessage-deflate");
      Frame ready = single.next();
      assertThat(ready.rsv1).isTrue();
      assertThat(new JsonObject(ready.text).getString("type")).isEqualTo("herald.ready");
      assertThat(new JsonObject(multi.next().text).getString("type")).isEqualTo("herald.ready");

      String big = "{\"items\":[" + "\"the same words again\",".repeat(200) + "\"end\"]}";
      Event e1 = h.publish("order", big, true, "w").get(0);
      Event e2 = h.publish("w", "plain text é");
      Frame f1 = single.next();
      Frame f2 = single.next();
      assertThat(f1.rsv1).isTrue();
      assertThat(f1.wireBytes).as("compressed on the wire").isLessThan(big.length() / 4);
      assertThat(new JsonObject(f1.text)).isEqualTo(new JsonObject().put("id", e1.cursor()).put("topic", "w").put("type", "order")
        .put("data", new JsonObject(big)));
      assertThat(new JsonObject(f2.text)).isEqualTo(new JsonObject().put("id", e2.cursor()).put("topic", "w").put("type", "message")
        .put("data", "plain text é"));

      Frame m1 = multi.next();
      JsonObject j1 = new JsonObject(m1.text);
      assertThat(m1.rsv1).isTrue();
      assertThat(j1.getJsonObject("data")).isEqualTo(new JsonObject(big));
      assertThat(Cursor.parse(j1.getString("id"), 8).position("w")).isEqualTo(e1.position());
      assertThat(new JsonObject(multi.next().text).getString("data")).isEqualTo("plain text é");

      // Compressed messages from the client are read (and ignored, as on /ws every message is).
      single.sendCompressed("{\"hello\":\"" + "x".repeat(1000) + "\"}");
      Event e3 = h.publish("w", "after the client spoke");
      assertThat(new JsonObject(single.next().text).getString("id")).isEqualTo(e3.cursor());
    }
  }

  @Test
  @DisplayName("A compressed client message that inflates past the bound closes the socket with 1009, before it is held in memory")
  void inflationBound(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, ON, new JsonObject());
         RawWs c = RawWs.open(h.port(), "/ws?topic=bomb", "permessage-deflate")) {
      c.next(); // herald.ready
      c.sendCompressed("0".repeat(10 * 1024 * 1024)); // 10 MB of zeros: about 10 KB on the wire
      Frame close = c.nextClose();
      assertThat(close.closeCode).isEqualTo(1009);
      // Closed by the bounded inflater, not after the whole message was inflated and measured.
      assertThat(close.text).contains("once inflated");
    }
  }

  @Test
  @DisplayName("Without webSocketCompression, or on the SockJS bridge, the offer is declined and frames are plain")
  void declined(Vertx vertx) throws Exception {
    try (GatewayHarness off = new GatewayHarness(vertx, new JsonObject(), new JsonObject());
         RawWs c = RawWs.open(off.port(), "/ws?topic=p", "permessage-deflate")) {
      assertThat(c.extensions).isNull();
      Frame f = c.next();
      assertThat(f.rsv1).isFalse();
      assertThat(new JsonObject(f.text).getString("type")).isEqualTo("herald.ready");
    }
    try (GatewayHarness on = new GatewayHarness(vertx, ON, new JsonObject());
         RawWs sockjs = RawWs.open(on.port(), "/eventbus/000/deflate1/websocket", "permessage-deflate")) {
      assertThat(sockjs.extensions).isNull();
      Frame open = sockjs.next();
      assertThat(open.rsv1).isFalse();
      assertThat(open.text).isEqualTo("o");
    }
  }

  record Frame(int opcode, boolean rsv1, String text, int wireBytes, int closeCode) {
  }

  /** A WebSocket client on a plain socket (RFC 6455 framing, client frames masked). */
  static final class RawWs implements AutoCloseable {
    final Socket socket;
    final DataInputStream in;
    final OutputStream out;
    final String extensions;
    private final Inflater inflater = new Inflater(true);

    private RawWs(Socket socket, String extensions) throws IOException {
      this.socket = socket;
      this.in = new DataInputStream(socket.getInputStream());
      this.out = socket.getOutputStream();
      this.extensions = extensions;
    }

    static RawWs open(int port, String path, String offer) throws IOException {
      Socket s = new Socket("127.0.0.1", port);
      s.setSoTimeout(15_000);
      String key = Base64.getEncoder().encodeToString("0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
      String req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: " + offer + "\r\n\r\n";
      s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
      DataInputStream in = new DataInputStream(s.getInputStream());
      Map<String, String> headers = new LinkedHashMap<>();
      String status = line(in);
      assertThat(status).startsWith("HTTP/1.1 101");
      for (String l; !(l = line(in)).isEmpty(); ) {
        int colon = l.indexOf(':');
        headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
      }
      return new RawWs(s, headers.get("sec-websocket-extensions"));
    }

    private static String line(DataInputStream in) throws IOException {
      StringBuilder sb = new StringBuilder();
      for (int b; (b = in.read()) != '\n'; ) {
        if (b < 0) throw new IOException("closed after " + sb);
        if (b != '\r') sb.append((char) b);
      }
      return sb.toString();
    }

    /** The next data message (pings skipped), inflated when RSV1 is set. */
    Frame next() throws Exception {
      while (true) {
        Frame f = read();
        if (f.opcode == 1) return f;
        if (f.opcode == 8) throw new AssertionError("closed with " + f.closeCode);
      }
    }

    Frame nextClose() throws Exception {
      while (true) {
        Frame f = read();
        if (f.opcode == 8) return f;
      }
    }

    private Frame read() throws Exception {
      int b0 = in.readUnsignedByte();
      int b1 = in.readUnsignedByte();
      boolean rsv1 = (b0 & 0x40) != 0;
      int opcode = b0 & 0x0f;
      long len = b1 & 0x7f;
      if (len == 126) len = in.readUnsignedShort();
      else if (len == 127) len = in.readLong();
      byte[] payload = new byte[(int) len];
      in.readFully(payload);
      assertThat(b0 & 0x80).as("one frame per message").isNotZero();
      if (opcode == 8) {
        int code = payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 0;
        String reason = payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
        return new Frame(opcode, rsv1, reason, payload.length, code);
      }
      byte[] data = payload;
      if (rsv1) {
        byte[] withTail = new byte[payload.length + 4];
        System.arraycopy(payload, 0, withTail, 0, payload.length);
        withTail[payload.length + 2] = (byte) 0xff;
        withTail[payload.length + 3] = (byte) 0xff;
        inflater.setInput(withTail);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = inflater.inflate(buf)) > 0; ) o.write(buf, 0, n);
        data = o.toByteArray();
      }
      return new Frame(opcode, rsv1, new String(data, StandardCharsets.UTF_8), payload.length, 0);
    }

    /** One masked text message, compressed (RSV1) by a fresh deflater, sync flush tail removed. */
    void sendCompressed(String text) throws IOException {
      Deflater d = new Deflater(9, true);
      d.setInput(text.getBytes(StandardCharsets.UTF_8));
      ByteArrayOutputStream o = new ByteArrayOutputStream();
      byte[] buf = new byte[65536];
      int n;
      do {
        n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
        o.write(buf, 0, n);
      } while (n == buf.length);
      d.end();
      byte[] c = o.toByteArray();
      byte[] payload = java.util.Arrays.copyOf(c, c.length - 4);
      sendFrame(0x40 | 1, true, payload);
    }

    /** One masked frame: opcode (with RSV bits), FIN, payload as given. */
    void sendFrame(int opcode, boolean fin, byte[] payload) throws IOException {
      ByteArrayOutputStream f = new ByteArrayOutputStream();
      f.write((fin ? 0x80 : 0) | opcode);
      if (payload.length < 126) {
        f.write(0x80 | payload.length);
      } else if (payload.length < 65536) {
        f.write(0x80 | 126);
        f.write(payload.length >>> 8);
        f.write(payload.length & 0xff);
      } else {
        f.write(0x80 | 127);
        for (int i = 7; i >= 0; i--) f.write((int) ((long) payload.length >>> (8 * i)) & 0xff);
      }
      byte[] mask = {1, 2, 3, 4};
      f.write(mask);
      for (int i = 0; i < payload.length; i++) f.write(payload[i] ^ mask[i % 4]);
      out.write(f.toByteArray());
      out.flush();
    }

    @Override
    public void close() throws IOException {
      inflater.end();
      socket.close();
    }
  }
}
