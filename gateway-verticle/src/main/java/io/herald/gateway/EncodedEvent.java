package io.herald.gateway;

import io.herald.common.Event;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;

/**
 * An event as a gateway delivers it: the event and its encodings (SSE, and JSON for WebSocket
 * and long-poll), each made lazily and at most once per gateway instance however many
 * connections receive it.
 */
public final class EncodedEvent {

  private final Event event;
  private Buffer body;
  private Buffer single;
  private Buffer jsonTail;
  private Buffer jsonSingle;
  private ByteBuf sseChunk;
  private int sseWrites;

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

  /**
   * Writes {@link #single()} as an HTTP chunk: copied for the first stream (an event replayed to
   * one client is written once), then built once in a direct buffer that later streams share.
   */
  void writeSingle(RawChunks out) {
    if (sseChunk == null && ++sseWrites < 2) {
      out.write(single());
      return;
    }
    if (sseChunk == null) {
      sseChunk = RawChunks.shared(single());
    }
    out.writeShared(sseChunk);
  }

  /** The JSON frame after its id ({@link JsonFrames#tail}), shared by every JSON connection. */
  public Buffer jsonTail() {
    if (jsonTail == null) {
      jsonTail = JsonFrames.tail(event);
    }
    return jsonTail;
  }

  /** The whole JSON frame for connections that hold only this topic. */
  public Buffer jsonSingle() {
    if (jsonSingle == null) {
      jsonSingle = JsonFrames.withId(event.cursor(), jsonTail());
    }
    return jsonSingle;
  }
}
