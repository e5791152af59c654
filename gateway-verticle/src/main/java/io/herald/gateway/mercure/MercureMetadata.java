package io.herald.gateway.mercure;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.HostAndPort;

/**
 * The hub's OAuth 2.0 Protected Resource Metadata (RFC 9728), which the Mercure specification
 * asks hubs to publish at {@value #PATH}: the resource identifier tokens name in {@code aud}
 * ({@code gateway.mercureAudience}, else the hub's URL as the request reached it), the
 * authorization server when {@code gateway.mercureIssuer} is set, the bearer methods Herald
 * accepts (header and query), the cookie ({@code mercure_cookie}) and the protocol revision
 * ({@code mercure_version}). Every {@code WWW-Authenticate: Bearer} challenge of the hub points to
 * it with {@code resource_metadata}.
 */
final class MercureMetadata {

  /** RFC 9728's well-known path, followed by the hub's path. */
  static final String PATH = "/.well-known/oauth-protected-resource" + MercurePublish.PATH;
  /** The revision of the Mercure protocol the hub implements, as the specification numbers it. */
  static final int MERCURE_VERSION = 8;

  private MercureMetadata() {
  }

  /** The metadata document for a request that reached the hub as {@code request}. */
  static JsonObject document(MercureOptions options, HttpServerRequest request) {
    JsonObject doc = new JsonObject()
      .put("resource", options.audience() != null ? options.audience() : origin(request) + MercurePublish.PATH)
      .put("bearer_methods_supported", new JsonArray().add("header").add("query"))
      .put("mercure_cookie", true)
      .put("mercure_version", MERCURE_VERSION);
    if (options.issuer() != null) {
      doc.put("authorization_servers", new JsonArray().add(options.issuer()));
    }
    return doc;
  }

  /** The metadata's absolute URL, as the request reached the hub. */
  static String url(HttpServerRequest request) {
    return origin(request) + PATH;
  }

  /**
   * Adds {@code resource_metadata} to a {@code WWW-Authenticate: Bearer} challenge that
   * {@code headers} carry (RFC 9728 section 5.1); other answers are left alone.
   */
  static void addToChallenge(MultiMap headers, HttpServerRequest request) {
    String challenge = headers.get("WWW-Authenticate");
    if (challenge == null || !challenge.startsWith("Bearer") || challenge.contains("resource_metadata=")) {
      return;
    }
    String param = "resource_metadata=\"" + url(request) + "\"";
    headers.set("WWW-Authenticate", "Bearer".equals(challenge) ? "Bearer " + param : challenge + ", " + param);
  }

  private static String origin(HttpServerRequest request) {
    HostAndPort authority = request.authority();
    String host = authority == null ? "localhost" : authority.host();
    if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    String scheme = request.scheme() == null ? "http" : request.scheme();
    int port = authority == null ? -1 : authority.port();
    boolean defaultPort = port < 0 || "https".equals(scheme) && port == 443 || "http".equals(scheme) && port == 80;
    return scheme + "://" + host + (defaultPort ? "" : ":" + port);
  }
}
