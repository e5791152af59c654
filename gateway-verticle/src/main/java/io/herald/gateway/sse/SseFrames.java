package io.herald.gateway.sse;

import io.herald.common.Event;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * Encodes Server-Sent Events frames (WHATWG HTML, "server-sent events"): {@code id:},
 * {@code event:} and {@code data:} fields, one {@code data:} line per line of the payload, a
 * blank line to dispatch. The body of an event (its {@code event:}/{@code data:} lines) is
 * encoded once and shared by every connection that receives it; only the {@code id:} line can
 * differ between connections.
 */
public final class SseFrames {

  /** A heartbeat: a comment line and a blank line, ignored by every client. */
  public static final Buffer HEARTBEAT = Buffer.buffer(":\n\n");

  private SseFrames() {
  }

  /** {@code retry: <ms>} plus a comment so that clients see bytes at once. */
  public static Buffer retry(int millis) {
    return Buffer.buffer("retry: " + millis + "\n:ok\n\n");
  }

  /** The {@code event:} and {@code data:} lines of an event and the blank line that ends it. */
  public static Buffer body(Event e) {
    String data = e.data();
    StringBuilder sb = new StringBuilder(data.length() + e.type().length() + 24);
    sb.append("event: ").append(e.type()).append('\n');
    if (e.json()) {
      sb.append("data: ").append(data).append('\n');
    } else {
      appendDataLines(sb, data);
    }
    sb.append('\n');
    return Buffer.buffer(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The body of an event as a Mercure hub sends it: {@code event:} only when the update has a
   * type ({@code message}, the SSE default, is written as nothing), {@code retry:} when it has
   * one, then the data as {@code data:} lines (the update's data as published, not a JSON
   * envelope) and the blank line.
   */
  public static Buffer mercureBody(Event e) {
    String data = e.data();
    StringBuilder sb = new StringBuilder(data.length() + e.type().length() + 32);
    if (!Event.DEFAULT_TYPE.equals(e.type())) {
      sb.append("event: ").append(e.type()).append('\n');
    }
    if (e.retry() >= 0) {
      sb.append("retry: ").append(e.retry()).append('\n');
    }
    appendDataLines(sb, data);
    sb.append('\n');
    return Buffer.buffer(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A frame that moves the client's last event id to {@code cursor} without dispatching an event
   * (no {@code data:}), with a comment saying why: how a Mercure stream carries Herald's control
   * frames ({@code reset}, ...), which Mercure clients do not know.
   */
  public static Buffer idOnly(String cursor, String comment) {
    return Buffer.buffer("id: " + cursor + "\n: " + comment + "\n\n");
  }

  /** {@code data:} lines for text that may contain CRLF, LF or CR line breaks. */
  public static void appendDataLines(StringBuilder sb, String data) {
    int start = 0;
    int n = data.length();
    for (int i = 0; i < n; i++) {
      char c = data.charAt(i);
      if (c == '\n' || c == '\r') {
        sb.append("data: ").append(data, start, i).append('\n');
        if (c == '\r' && i + 1 < n && data.charAt(i + 1) == '\n') {
          i++;
        }
        start = i + 1;
      }
    }
    sb.append("data: ").append(data, start, n).append('\n');
  }

  /** {@code id: <cursor>} followed by {@code body}, copying nothing of the body. */
  public static Buffer withId(String cursor, Buffer body) {
    byte[] id = ("id: " + cursor + "\n").getBytes(StandardCharsets.US_ASCII);
    ByteBuf composite = Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(id), ((BufferInternal) body).getByteBuf());
    return BufferInternal.buffer(composite);
  }

  /** A whole frame: id, type and one JSON data line. */
  public static Buffer control(String cursor, String type, JsonObject data) {
    return Buffer.buffer("id: " + cursor + "\nevent: " + type + "\ndata: " + data.encode() + "\n\n");
  }
}
