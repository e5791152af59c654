package io.herald.gateway;

import io.herald.gateway.fanout.EncodedEvent;
import io.herald.gateway.sse.SseFrames;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * How a {@link Connection} encodes what it sends: SSE frames ({@link SseFrames}) or JSON objects
 * ({@link JsonFrames}, for WebSocket and long-poll). The cursors, the replay and the order of the
 * frames are the connection's and the same whatever the framing.
 */
public interface Framing {

  /**
   * The frame of an event. {@code cursor} is the connection's cursor after it, or null when the
   * connection holds only the event's topic: the cursor is then the event's own and the whole
   * frame is shared by every such connection.
   */
  Buffer event(EncodedEvent event, String cursor);

  /** A control frame ({@code herald.ready}, {@code reset}, {@code herald.expired}). */
  Buffer control(String cursor, String type, JsonObject data);

  /** SSE: {@code id:}, {@code event:}, {@code data:} lines. */
  Framing SSE = new Framing() {
    @Override
    public Buffer event(EncodedEvent event, String cursor) {
      return cursor == null ? event.single() : SseFrames.withId(cursor, event.body());
    }

    @Override
    public Buffer control(String cursor, String type, JsonObject data) {
      return SseFrames.control(cursor, type, data);
    }
  };

  /** One JSON object per frame. */
  Framing JSON = new Framing() {
    @Override
    public Buffer event(EncodedEvent event, String cursor) {
      return cursor == null ? event.jsonSingle() : JsonFrames.withId(cursor, event.jsonTail());
    }

    @Override
    public Buffer control(String cursor, String type, JsonObject data) {
      return JsonFrames.control(cursor, type, data);
    }
  };
}
