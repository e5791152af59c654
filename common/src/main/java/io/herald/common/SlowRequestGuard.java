package io.herald.common;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * Closes HTTP/1.x connections whose request headers do not arrive within a deadline (slowloris:
 * a client that trickles its headers one byte at a time keeps a socket for free, and the
 * server's idle timeout never fires because bytes keep coming). The deadline runs from the
 * connection's opening, and again from the end of each response until the next request's
 * headers are complete, so an idle keep-alive connection is bounded as well.
 *
 * <p>One guard per HTTP server instance, confined to its event loop: install it with
 * {@link #connectionHandler()} and route every request through {@link #wrap(Handler)}. The
 * server must have h2c off ({@code setHttp2ClearTextEnabled(false)}): with it on, Vert.x 5
 * announces a connection only once it has read enough of the first request to rule out HTTP/2,
 * which is exactly what a trickling client never sends.
 */
public final class SlowRequestGuard {

  /** The connections waiting for request headers, each with its deadline: one timer for all. */
  private final Deadlines<HttpConnection> deadlines;

  /** {@code timeoutMillis} > 0: how long a connection may take to deliver a request's headers. */
  public SlowRequestGuard(Vertx vertx, long timeoutMillis) {
    this.deadlines = new Deadlines<>(vertx, timeoutMillis, HttpConnection::close);
  }

  /** For {@code HttpServer.connectionHandler}: arms the deadline on every new connection. */
  public Handler<HttpConnection> connectionHandler() {
    return conn -> {
      deadlines.arm(conn);
      conn.closeHandler(v -> deadlines.disarm(conn));
    };
  }

  /** Wraps the server's request handler: the headers arrived, so the deadline stops until the response ends. */
  public Handler<HttpServerRequest> wrap(Handler<HttpServerRequest> next) {
    return request -> {
      HttpConnection conn = request.connection();
      deadlines.disarm(conn);
      // A connection armed after its close stays until its deadline, then is closed again,
      // harmlessly: no leak. An HTTP/2 connection multiplexes streams, so the end of one says
      // nothing about the next: it is not re-armed.
      if (request.version() != HttpVersion.HTTP_2) {
        request.response().bodyEndHandler(v -> deadlines.arm(conn));
      }
      next.handle(request);
    };
  }

  /** Connections currently waiting for request headers (tests). */
  public int pending() {
    return deadlines.size();
  }
}
