package io.herald.gateway.mercure;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Cross-site request forgery on the publish side. A browser sends the hub's cookie with any
 * form POST, even one a foreign page makes, so a publish authenticated by the cookie (no
 * {@code Authorization} header, no {@code access_token} parameter) must come from a page the hub
 * trusts: the request's {@code Origin} (else the origin of its {@code Referer}) is the hub's own
 * (the same host and port as the request's {@code Host}, whatever the scheme: a TLS-terminating
 * proxy in front does not change it) or one of {@code gateway.mercurePublishOrigins} (the
 * official hub's {@code publish_origins}; {@code *}: any). Neither header: refused, as the
 * Mercure specification's security considerations and OWASP's cheat sheet advise. Publishes
 * with a header or parameter token are not concerned: a foreign page cannot set them.
 */
final class MercureCsrf {

  private MercureCsrf() {
  }

  /** Null when {@code request}, authenticated by the cookie, may publish; else why not (a 403). */
  static String refusal(List<String> publishOrigins, HttpServerRequest request) {
    String origin = request.getHeader(HttpHeaders.ORIGIN);
    if (origin == null || origin.isEmpty() || "null".equals(origin)) {
      origin = refererOrigin(request.getHeader(HttpHeaders.REFERER));
    }
    if (origin == null) {
      return "a publish authenticated by the cookie needs an Origin or Referer header (cross-site request forgery protection)";
    }
    HostAndPort authority = request.authority();
    if (publishOrigins.contains("*") || publishOrigins.contains(origin)
      || authority != null && sameHost(origin, authority.host(), authority.port())) {
      return null;
    }
    return "a publish authenticated by the cookie from origin " + origin + " is refused: it is not the hub's origin nor one of"
      + " gateway.mercurePublishOrigins";
  }

  private static String refererOrigin(String referer) {
    if (referer == null || referer.isEmpty()) {
      return null;
    }
    try {
      URI u = URI.create(referer);
      if (u.getScheme() == null || u.getRawAuthority() == null) {
        return null;
      }
      return u.getScheme().toLowerCase(Locale.ROOT) + "://" + u.getRawAuthority().toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Whether {@code origin} (scheme://host[:port]) names {@code host} and {@code port} (the request's
   * {@code Host}; port -1 when it has none), default ports filled in.
   */
  static boolean sameHost(String origin, String host, int port) {
    try {
      URI o = URI.create(origin);
      if (o.getHost() == null || host == null) {
        return false;
      }
      String h = host.startsWith("[") && host.endsWith("]") ? host : host.contains(":") ? "[" + host + "]" : host;
      if (!o.getHost().equalsIgnoreCase(h)) {
        return false;
      }
      int defaultPort = "https".equalsIgnoreCase(o.getScheme()) ? 443 : 80;
      int originPort = o.getPort() != -1 ? o.getPort() : defaultPort;
      // The Host header omits the default port of the scheme the client used, which only the origin says.
      int hostPort = port > 0 ? port : defaultPort;
      return originPort == hostPort;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
