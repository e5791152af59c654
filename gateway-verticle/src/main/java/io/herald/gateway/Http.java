package io.herald.gateway;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/** HTTP helpers of the gateway: error bodies in the catalogue's JSON shape. */
final class Http {

  private Http() {
  }

  /** {@code {"error": code, "message": ...}} with the code's status. */
  static void error(HttpServerResponse response, HeraldException e) {
    if (response.headWritten() || response.ended()) {
      response.reset();
      return;
    }
    response.setStatusCode(e.code().status())
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
      .end(e.toJson().encode());
  }

  static void error(HttpServerResponse response, ErrorCode code, String message) {
    error(response, new HeraldException(code, message));
  }
}
