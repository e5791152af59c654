package io.herald.common;

/**
 * The one error catalogue: stable snake_case codes, the same on HTTP (as
 * {@code {"error": code, "message": ...}} with {@link #status()}), on the event bus (as the
 * failure code and JSON message of a reply failure) and on the bridges.
 */
public enum ErrorCode {
  INVALID_TOPIC("invalid_topic", 400),
  TOO_MANY_TOPICS("too_many_topics", 400),
  INVALID_TYPE("invalid_type", 400),
  INVALID_ID("invalid_id", 400),
  INVALID_DATA("invalid_data", 400),
  MALFORMED_JSON("malformed_json", 400),
  INVALID_REQUEST("invalid_request", 400),
  BATCH_TOO_LARGE("batch_too_large", 400),
  UNAUTHORIZED("unauthorized", 401),
  ACCESS_DENIED("access_denied", 403),
  NOT_FOUND("not_found", 404),
  METHOD_NOT_ALLOWED("method_not_allowed", 405),
  /** The request (headers or body) did not arrive in time; the connection is closed. */
  REQUEST_TIMEOUT("request_timeout", 408),
  PAYLOAD_TOO_LARGE("payload_too_large", 413),
  /** The request line is over the server's limit; the connection is closed. */
  URI_TOO_LONG("uri_too_long", 414),
  UNSUPPORTED_MEDIA_TYPE("unsupported_media_type", 415),
  RATE_LIMITED("rate_limited", 429),
  /** The request headers are over the server's limit; the connection is closed. */
  HEADERS_TOO_LARGE("headers_too_large", 431),
  INTERNAL("internal_error", 500),
  STORE_UNAVAILABLE("store_unavailable", 503),
  /** The node holds as many connections as it may; sent with {@code Retry-After}, try again or elsewhere. */
  OVER_CAPACITY("over_capacity", 503),
  SHUTTING_DOWN("shutting_down", 503),
  TIMEOUT("timeout", 504);

  private final String code;
  private final int status;

  ErrorCode(String code, int status) {
    this.code = code;
    this.status = status;
  }

  /** The stable wire code, e.g. {@code invalid_topic}. */
  public String code() {
    return code;
  }

  /** The HTTP status that goes with it. */
  public int status() {
    return status;
  }

  public static ErrorCode fromCode(String code) {
    for (ErrorCode c : values()) {
      if (c.code.equals(code)) return c;
    }
    return INTERNAL;
  }
}
