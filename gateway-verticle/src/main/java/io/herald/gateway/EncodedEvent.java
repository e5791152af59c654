package io.herald.gateway;

import io.herald.common.Event;
import io.vertx.core.buffer.Buffer;

/**
 * An event as a gateway delivers it: the event and its SSE encodings, made at most once per
 * gateway instance however many connections receive it.
 */
public final class EncodedEvent {

  private final Event event;
  private Buffer body;
  private Buffer single;

  public EncodedEvent(Event event) {
    this.event = event;
  }

  public Event event() {
    return event;
  }

  /** The {@code event:}/{@code data:} lines, shared by every connection. */
  public Buffer body() {
    if (body == null) {
      body = SseFrames.body(event);
    }
    return body;
  }

  /** The whole frame for connections that hold only this topic: their cursor is the event's. */
  public Buffer single() {
    if (single == null) {
      single = SseFrames.withId(event.cursor(), body());
    }
    return single;
  }
}
