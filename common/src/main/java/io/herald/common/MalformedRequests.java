package io.herald.common;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

/**
 * The answer to a request Vert.x could not decode (a request line over the limit, headers over
 * the limit, broken framing), for {@code HttpServer.invalidRequestHandler}: the catalogue's JSON
 * body like every other refusal, and {@code Connection: close}, since what follows the broken
 * request on that connection cannot be trusted. Vert.x's default sends a bare status and closes
 * without saying so, and a client that reused the connection lost its next request.
 */
public final class MalformedRequests {

  /** 414, 431 or 400 with the catalogue's body; the connection is closed once it is sent. */
  public static final Handler<HttpServerRequest> HANDLER = MalformedRequests::answer;

  private MalformedRequests() {
  }

  private static void answer(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    HeraldException e;
    if (cause instanceof TooLongHttpLineException) {
      e = new HeraldException(ErrorCode.URI_TOO_LONG, "the request line is longer than the server accepts");
    } else if (cause instanceof TooLongHttpHeaderException) {
      e = new HeraldException(ErrorCode.HEADERS_TOO_LARGE, "the request headers are larger than the server accepts");
    } else {
      e = new HeraldException(ErrorCode.INVALID_REQUEST, "malformed HTTP request");
    }
    request.response().setStatusCode(e.code().status())
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .putHeader(HttpHeaders.CONNECTION, "close")
      .end(e.toJson().encode())
      .onComplete(v -> request.connection().close());
  }
}
