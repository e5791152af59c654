package io.herald.gateway;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/**
 * One Server-Sent Events stream ({@code GET /events}): a {@link Connection} whose frames are SSE
 * frames written to a chunked response, opened by {@code retry:}, kept alive by comment lines.
 * Browsers send the last {@code id:} back as {@code Last-Event-ID} when they reconnect.
 *
 * <p>Confined to the gateway instance's event loop.
 */
final class SseConnection extends Connection {

  private final HttpServerResponse response;

  SseConnection(long id, SseGateway gateway, HttpServerResponse response, String[] topics) {
    super(id, gateway, Framing.SSE, topics);
    this.response = response;
  }

  @Override
  String transport() {
    return SseGateway.TRANSPORT;
  }

  @Override
  void begin() {
    response.write(SseFrames.retry(gateway.options().retryMillis()));
  }

  @Override
  void transmit(Buffer frame) {
    response.write(frame);
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
    if (!closed() && response.isChunked() && !response.writeQueueFull()) {
      response.write(SseFrames.HEARTBEAT);
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
