package io.herald.gateway.mercure;

import io.vertx.core.http.HttpServerResponse;

/**
 * A refusal of the Mercure hub, answered as RFC 6750 section 3 and the Mercure specification
 * say: {@code 401} with a bare {@code WWW-Authenticate: Bearer} when a token is needed and none
 * was presented, {@code 401 error="invalid_token"} for a token that fails validation (whatever
 * the reason: the reason is not disclosed), {@code 403 error="insufficient_scope"} for a valid
 * token without the right, {@code 400 error="invalid_request"} for a malformed request. The
 * body is plain text saying what is wrong (never the token).
 */
public final class MercureError extends RuntimeException {

  private final int status;
  private final String error;

  private MercureError(int status, String error, String message) {
    super(message, null, false, false);
    this.status = status;
    this.error = error;
  }

  /** 401 without an error code: the operation needs a token and none was presented. */
  public static MercureError noToken(String message) {
    return new MercureError(401, null, message);
  }

  /** 401 {@code invalid_token}. */
  public static MercureError invalidToken(String message) {
    return new MercureError(401, "invalid_token", message);
  }

  /** 403 {@code insufficient_scope}. */
  public static MercureError insufficientScope(String message) {
    return new MercureError(403, "insufficient_scope", message);
  }

  /** 400 {@code invalid_request}. */
  public static MercureError invalidRequest(String message) {
    return new MercureError(400, "invalid_request", message);
  }

  /** A refusal with another status and no Bearer challenge (403 for the reserved namespace, 413). */
  public static MercureError status(int status, String message) {
    return new MercureError(status, null, message);
  }

  public int status() { return status; }

  /** The RFC 6750 error code, or null. */
  public String error() { return error; }

  /** The {@code WWW-Authenticate} value, or null when the answer carries none. */
  public String challenge() {
    if (status == 401 && error == null) {
      return "Bearer";
    }
    return error == null ? null : "Bearer error=\"" + error + "\", error_description=\"" + getMessage().replace('"', '\'') + "\"";
  }

  /** Ends {@code response} with this refusal. */
  public void send(HttpServerResponse response) {
    if (response.ended() || response.closed()) {
      return;
    }
    String challenge = challenge();
    if (challenge != null) {
      response.putHeader("WWW-Authenticate", challenge);
    }
    response.setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8")
      .putHeader("Cache-Control", "no-store").end(getMessage() + "\n");
  }
}
