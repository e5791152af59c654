package io.herald.gateway.fanout;

import io.herald.common.Event;
import io.herald.gateway.JsonFrames;
import io.herald.gateway.sse.RawChunks;
import io.herald.gateway.sse.SseFrames;
import io.herald.gateway.sse.SseGzip;
import io.herald.gateway.websocket.WsDeflate;
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
  private ByteBuf gzipSingle;
  private ByteBuf gzipBody;
  private ByteBuf deflatedJsonSingle;
  private ByteBuf deflatedJsonTail;
  private Buffer mercureBody;
  private Buffer mercureSingle;
  private Buffer mercureKeyed;

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

  /** The Mercure frame's lines after its id ({@link SseFrames#mercureBody}), shared by every Mercure stream. */
  public Buffer mercureBody() {
    if (mercureBody == null) {
      mercureBody = SseFrames.mercureBody(event);
    }
    return mercureBody;
  }

  /** The whole Mercure frame for streams that hold only this topic: their cursor is the event's. */
  public Buffer mercureSingle() {
    if (mercureSingle == null) {
      mercureSingle = SseFrames.withId(io.herald.common.Cursor.HUB_ID_PREFIX + event.cursor(), mercureBody());
    }
    return mercureSingle;
  }

  /**
   * The whole Mercure frame of an update its publisher gave an id ({@link Event#key()}): that id
   * is the frame's {@code id:} on every Mercure stream, whatever else the stream holds.
   */
  public Buffer mercureKeyed() {
    if (mercureKeyed == null) {
      mercureKeyed = SseFrames.withId(event.key(), mercureBody());
    }
    return mercureKeyed;
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
  public void writeSingle(RawChunks out) {
    if (sseChunk == null && ++sseWrites < 2) {
      out.write(single());
      return;
    }
    if (sseChunk == null) {
      sseChunk = RawChunks.shared(single());
    }
    out.writeShared(sseChunk);
  }

  /**
   * {@link #single()} compressed on its own ({@link SseGzip#deflated}) as an HTTP chunk, built
   * once and shared by every gzip stream that holds only this topic.
   */
  public ByteBuf gzipSingle() {
    if (gzipSingle == null) {
      gzipSingle = RawChunks.shared(SseGzip.deflated(single()));
    }
    return gzipSingle;
  }

  /** {@link #body()} compressed on its own as an HTTP chunk, shared by every gzip stream of several topics. */
  public ByteBuf gzipBody() {
    if (gzipBody == null) {
      gzipBody = RawChunks.shared(SseGzip.deflated(body()));
    }
    return gzipBody;
  }

  /** {@link #jsonSingle()} as a permessage-deflate payload ({@link WsDeflate#shared}), built once. */
  public ByteBuf deflatedJsonSingle() {
    if (deflatedJsonSingle == null) {
      deflatedJsonSingle = WsDeflate.shared(jsonSingle());
    }
    return deflatedJsonSingle;
  }

  /** {@link #jsonTail()} as the compressed end of a permessage-deflate payload, built once. */
  public ByteBuf deflatedJsonTail() {
    if (deflatedJsonTail == null) {
      deflatedJsonTail = WsDeflate.shared(jsonTail());
    }
    return deflatedJsonTail;
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
