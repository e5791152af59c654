package io.herald.gateway.sse;

import io.herald.gateway.Connection;
import io.herald.gateway.Framing;
import io.herald.gateway.SseGateway;
import io.herald.gateway.fanout.EncodedEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;

/**
 * One Server-Sent Events stream ({@code GET /events}): a {@link Connection} whose frames are SSE
 * frames written to a chunked response, opened by {@code retry:}, kept alive by comment lines.
 * Browsers send the last {@code id:} back as {@code Last-Event-ID} when they reconnect.
 *
 * <p>After the head and the {@code retry:} frame, frames are written as ready-made chunks below
 * Vert.x's HTTP encoder ({@link RawChunks}) on HTTP/1.1, through the response otherwise. A gzip
 * stream ({@link SseGzip}) sends events as compressed blocks shared with every other gzip stream
 * and its own frames as stored blocks.
 *
 * <p>Confined to the gateway instance's event loop.
 */
public final class SseConnection extends Connection {

  // Not the request: through the router's wrapper it holds the routing context for as long as
  // the stream lasts.
  private final HttpConnection connection;
  private final HttpVersion version;
  private final HttpServerResponse response;
  /** Set once the head is written, when the raw path applies. */
  private RawChunks raw;
  /** The head and {@code retry:} are written (the headers are released after that). */
  private boolean begun;
  /** The body is gzip ({@code Content-Encoding: gzip}). */
  private final boolean gzip;
  /**
   * The gateway's tick of the last write, while the stream keeps its own idle timeout (Vert.x's
   * idle handler is out of its pipeline, {@link RawChunks#detachIdle}); -1 otherwise.
   */
  private long writtenTick = -1;

  public SseConnection(long id, SseGateway gateway, HttpServerRequest request, String[] topics, boolean gzip) {
    super(id, gateway, Framing.SSE, topics);
    this.connection = request.connection();
    this.version = request.version();
    this.response = request.response();
    this.gzip = gzip;
  }

  /** Whether a stream of this request can be sent gzip: HTTP/1.1 chunks written below Vert.x. */
  public static boolean gzipPossible(HttpServerRequest request) {
    return RawChunks.of(request.connection(), request.version()) != null;
  }

  @Override
  public String transport() {
    return SseGateway.TRANSPORT;
  }

  @Override
  public void begin() {
    Buffer retry = SseFrames.retry(gateway.options().retryMillis());
    response.write(gzip ? SseGzip.start(retry) : retry);
    raw = response.isChunked() ? RawChunks.of(connection, version) : null;
    begun = true;
    // No timer per stream: the idle timeout is checked on the gateway's tick ({@link #heartbeat}).
    if (raw != null && gateway.options().idleTimeoutSeconds() > 0 && raw.detachIdle()) {
      writtenTick = gateway.ticks();
    }
  }

  /** A frame is handed to the channel: for the idle timeout, the stream is not idle. */
  private void wrote() {
    if (writtenTick >= 0) {
      writtenTick = gateway.ticks();
    }
  }

  @Override
  public void transmit(Buffer frame) {
    if (gzip) {
      frame = SseGzip.stored(frame);
    }
    if (raw != null) {
      raw.write(frame);
    } else {
      response.write(frame);
    }
    wrote();
  }

  @Override
  public void transmitEvent(EncodedEvent event, String cursor) {
    if (gzip && raw != null) {
      if (cursor == null) {
        raw.writeShared(event.gzipSingle());
      } else {
        raw.write(SseGzip.stored(Buffer.buffer("id: " + cursor + "\n")));
        raw.writeShared(event.gzipBody());
      }
    } else if (raw != null && cursor == null && !gzip) {
      event.writeSingle(raw);
    } else {
      super.transmitEvent(event, cursor);
      return;
    }
    wrote();
  }

  @Override
  public boolean writeQueueFull() {
    return response.writeQueueFull();
  }

  /**
   * Heartbeat comment, skipped while the client is not keeping up. A stream that keeps its own
   * idle timeout and has written nothing for that long (its client stopped reading, so its
   * heartbeats are skipped) is closed, as Vert.x's idle handler would have closed it; checked on
   * the heartbeats' tick, so up to one heartbeat interval after the timeout.
   */
  @Override
  public void heartbeat() {
    // Not before the stream has started: while its topics are being joined the response has no
    // head yet, and a write would fail for want of a Content-Length.
    if (closed() || !begun) {
      return;
    }
    if (response.writeQueueFull()) {
      if (writtenTick >= 0 && gateway.ticks() - writtenTick >= SseGateway.ticks(gateway.options().idleTimeoutSeconds())) {
        connection.close();
      }
      return;
    }
    if (raw != null) {
      if (gzip) {
        raw.writeShared(SseGzip.HEARTBEAT);
      } else {
        raw.heartbeat();
      }
    } else {
      response.write(gzip ? SseGzip.stored(SseFrames.HEARTBEAT) : SseFrames.HEARTBEAT);
    }
    wrote();
  }

  @Override
  public void endTransport(String reason) {
    response.end();
    if (writtenTick >= 0) {
      // The connection may carry more requests: it gets its idle timeout back.
      writtenTick = -1;
      raw.reattachIdle(gateway.options().idleTimeoutSeconds());
    }
  }

  @Override
  public void abortTransport(String reason) {
    response.reset();
  }
}
