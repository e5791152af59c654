package io.herald.gateway;

import io.herald.common.ErrorCode;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.util.HashSet;
import java.util.Set;

/**
 * The cross-origin policy of the subscription endpoints ({@code gateway.allowedOrigins}): CORS
 * headers and preflights of {@code /events} and {@code /poll}, and the {@code Origin} check of a
 * WebSocket upgrade (browsers do not apply CORS to WebSockets). Immutable once built.
 */
final class GatewayCors {

  private final Set<String> allowedOrigins = new HashSet<>();

  GatewayCors(GatewayOptions options) {
    for (String o : options.allowedOrigins()) {
      allowedOrigins.add(o.toLowerCase(java.util.Locale.ROOT));
    }
  }

  /**
   * Whether a WebSocket upgrade may proceed from the request's {@code Origin}: none (not a
   * browser), the gateway's own origin (same host and port as the {@code Host} header), or one
   * of {@code gateway.allowedOrigins}.
   */
  boolean webSocketOriginAllowed(HttpServerRequest request) {
    String origin = request.getHeader(HttpHeaders.ORIGIN);
    if (origin == null) {
      return true;
    }
    String lower = origin.toLowerCase(java.util.Locale.ROOT);
    if (allowedOrigins.contains(lower)) {
      return true;
    }
    String host = request.getHeader(HttpHeaders.HOST);
    int scheme = lower.indexOf("://");
    if (host == null || scheme < 0) {
      return false;
    }
    String authority = lower.substring(scheme + 3);
    String hostLower = host.toLowerCase(java.util.Locale.ROOT);
    if (authority.equals(hostLower)) {
      return true;
    }
    // The default port may be written on one side only.
    String defaultPort = lower.startsWith("https://") ? ":443" : lower.startsWith("http://") ? ":80" : null;
    return defaultPort != null && (authority.equals(hostLower + defaultPort) || (authority + defaultPort).equals(hostLower));
  }

  /** CORS headers of a request to {@code /events}: the origin echoed when allowed, nothing otherwise. */
  void cors(HttpServerRequest request, HttpServerResponse response) {
    if (allowedOrigins.isEmpty()) {
      return;
    }
    response.putHeader(HttpHeaders.VARY, "Origin");
    String origin = request.getHeader(HttpHeaders.ORIGIN);
    if (origin != null && allowedOrigins.contains(origin.toLowerCase(java.util.Locale.ROOT))) {
      response.putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, origin)
        .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")
        .putHeader(HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS, "Retry-After");
    }
  }

  /** True when CORS is configured, so {@code OPTIONS /events} is a preflight this gateway answers. */
  boolean corsEnabled() {
    return !allowedOrigins.isEmpty();
  }

  /**
   * Answers a CORS preflight of {@code /events} or {@code /poll}: 204 with the allowed method and headers for an
   * allowed origin asking for GET, else 403 {@code access_denied} without CORS headers.
   */
  void preflight(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    cors(request, response);
    if (!response.headers().contains(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN)
      || !"GET".equalsIgnoreCase(request.getHeader(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD))) {
      Http.error(response, ErrorCode.ACCESS_DENIED, "cross-origin GET " + request.path() + " is not allowed from this origin");
      return;
    }
    response.setStatusCode(204)
      .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_METHODS, "GET")
      .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Last-Event-ID, Cache-Control")
      .putHeader(HttpHeaders.ACCESS_CONTROL_MAX_AGE, "600")
      .end();
  }
}
