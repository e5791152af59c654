package io.herald.gateway;

import io.herald.common.Event;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes the JSON frames of the WebSocket ({@code GET /ws}) and long-poll ({@code GET /poll})
 * transports. An event is {@code {"id":"<cursor>","topic":"<topic>","type":"<type>","data":<data>}},
 * where {@code data} is the event's JSON value when it was published as JSON, else a string; a
 * control frame is {@code {"id":"<cursor>","type":"herald.ready"|"reset"|"herald.expired","data":{...}}},
 * with the same names and data as the SSE control events. Everything after the {@code id} of an
 * event frame is encoded once and shared by every connection that receives it.
 */
public final class JsonFrames {

  private static final byte[] PAGE_EVENTS = "\",\"events\":[".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PAGE_END = "]}".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] COMMA = {','};

  private JsonFrames() {
  }

  /** {@code ,"topic":..,"type":..,"data":..}}: an event frame without its opening and id. */
  public static Buffer tail(Event e) {
    String data = e.data();
    StringBuilder sb = new StringBuilder(data.length() + e.topic().length() + e.type().length() + 40);
    sb.append(",\"topic\":").append(Json.encode(e.topic()))
      .append(",\"type\":").append(Json.encode(e.type()))
      .append(",\"data\":").append(e.json() ? data : Json.encode(data))
      .append('}');
    return Buffer.buffer(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * {@code {"id":"<cursor>"} followed by {@code tail}, copying nothing of the tail. A cursor is
   * made of {@code [A-Za-z0-9.-]} only, so it needs no JSON escaping.
   */
  public static Buffer withId(String cursor, Buffer tail) {
    byte[] id = ("{\"id\":\"" + cursor + "\"").getBytes(StandardCharsets.US_ASCII);
    ByteBuf composite = Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(id), ((BufferInternal) tail).getByteBuf());
    return BufferInternal.buffer(composite);
  }

  /** A control frame: id, type and data. */
  public static Buffer control(String cursor, String type, JsonObject data) {
    JsonObject frame = new JsonObject();
    if (cursor != null) {
      frame.put("id", cursor);
    }
    return frame.put("type", type).put("data", data).toBuffer();
  }

  /** A long-poll answer: {@code {"id":"<cursor>","events":[<frame>,...]}}, sharing the frames' bytes. */
  public static Buffer page(String cursor, List<Buffer> frames) {
    ByteBuf[] parts = new ByteBuf[frames.size() * 2 + 2];
    int n = 0;
    parts[n++] = Unpooled.wrappedBuffer(("{\"id\":\"" + cursor).getBytes(StandardCharsets.US_ASCII), PAGE_EVENTS);
    for (int i = 0; i < frames.size(); i++) {
      if (i > 0) {
        parts[n++] = Unpooled.wrappedBuffer(COMMA);
      }
      parts[n++] = ((BufferInternal) frames.get(i)).getByteBuf();
    }
    parts[n++] = Unpooled.wrappedBuffer(PAGE_END);
    return BufferInternal.buffer(Unpooled.wrappedBuffer(n, parts));
  }
}
