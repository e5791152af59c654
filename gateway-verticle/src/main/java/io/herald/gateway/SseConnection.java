package io.herald.gateway;

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
 * Vert.x's HTTP encoder ({@link RawChunks}) on HTTP/1.1, through the response otherwise.
 *
 * <p>Confined to the gateway instance's event loop.
 */
final class SseConnection extends Connection {

  // Not the request: through the router's wrapper it holds the routing context for as long as
  // the stream lasts.
  private final HttpConnection connection;
  private final HttpVersion version;
  private final HttpServerResponse response;
  /** Set once the head is written, when the raw path applies. */
  private RawChunks raw;
  /** The head and {@code retry:} are written (the headers are released after that). */
  private boolean begun;

  SseConnection(long id, SseGateway gateway, HttpServerRequest request, String[] topics) {
    super(id, gateway, Framing.SSE, topics);
    this.connection = request.connection();
    this.version = request.version();
    this.response = request.response();
  }

  @Override
  String transport() {
    return SseGateway.TRANSPORT;
  }

  @Override
  void begin() {
    response.write(SseFrames.retry(gateway.options().retryMillis()));
    raw = response.isChunked() ? RawChunks.of(connection, version) : null;
    begun = true;
  }

  @Override
  void transmit(Buffer frame) {
    if (raw != null) {
      raw.write(frame);
    } else {
      response.write(frame);
    }
  }

  @Override
  void transmitEvent(EncodedEvent event, String cursor) {
    if (raw != null && cursor == null) {
      event.writeSingle(raw);
    } else {
      super.transmitEvent(event, cursor);
    }
  }

  @Override
  boolean writeQueueFull() {
    return response.writeQueueFull();
  }

  /** Heartbeat comment, skipped while the client is not keeping up. */
  @Override
  void heartbeat() {
    // Not before the stream has started: while its topics are being joined the response has no
    // head yet, and a write would fail for want of a Content-Length.
    if (!closed() && begun && !response.writeQueueFull()) {
      if (raw != null) {
        raw.heartbeat();
      } else {
        response.write(SseFrames.HEARTBEAT);
      }
    }
  }

  @Override
  void endTransport(String reason) {
    response.end();
  }

  @Override
  void abortTransport(String reason) {
    response.reset();
  }
}
