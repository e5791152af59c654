package io.herald.gateway;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.admin.HeraldMetrics;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/** HTTP helpers of the gateway: error bodies in the catalogue's JSON shape. */
public final class Http {

  private Http() {
  }

  /** {@code {"error": code, "message": ...}} with the code's status. */
  public static void error(HttpServerResponse response, HeraldException e) {
    error(response, e, null);
  }

  /** The same, with more fields in the body (e.g. the refused {@code topic}). */
  public static void error(HttpServerResponse response, HeraldException e, JsonObject extra) {
    if (response.headWritten() || response.ended()) {
      response.reset();
      return;
    }
    HeraldMetrics.get().rejected(e.code().code());
    response.setStatusCode(e.code().status())
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
      .end((extra == null ? e.toJson() : e.toJson().mergeIn(extra)).encode());
  }

  public static void error(HttpServerResponse response, ErrorCode code, String message) {
    error(response, new HeraldException(code, message));
  }
}
