package io.herald.gateway;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The browser-facing files the gateway serves, from the classpath folder {@code herald-web/}:
 * <ul>
 *   <li>{@code GET /herald.js}: the JavaScript client ({@code window.Herald}), cacheable for 5 minutes;</li>
 *   <li>{@code GET /} (with {@code /demo.js}, {@code /demo.css}): the demo page, under a strict
 *   Content-Security-Policy (its own files, its own origin's HTTP and WebSocket endpoints);</li>
 *   <li>{@code GET /dev/config}: {@code {"devMode": bool, "publishPort": port}} (the port only when a
 *   notifier runs in this process), which the page reads to show its publish form and hint;</li>
 *   <li>{@code POST /dev/publish} (only with {@code gateway.devMode}): a JSON body
 *   {@code {"topic","type","data"}} forwarded over the event bus to {@link Addresses#PUBLISH}, no
 *   publisher key asked. Without dev mode the path is 404.</li>
 * </ul>
 * The files are read once, off the event loop, and kept (a few tens of kilobytes).
 */
public final class WebAssets {

  private static final Logger LOG = LoggerFactory.getLogger(WebAssets.class);

  private static final String RESOURCES = "herald-web/";
  /** Largest {@code /dev/publish} body. */
  static final int MAX_DEV_PUBLISH_BYTES = 64 * 1024;
  /** How long {@code /dev/publish} waits for the notifier's answer, ms. */
  static final long DEV_PUBLISH_TIMEOUT_MILLIS = 10_000;

  /** Served path → file and content type. Only these are served. */
  private static final Map<String, String[]> ASSETS = Map.of(
    "/herald.js", new String[] {"herald.js", "application/javascript; charset=utf-8"},
    "/", new String[] {"index.html", "text/html; charset=utf-8"},
    "/demo.js", new String[] {"demo.js", "application/javascript; charset=utf-8"},
    "/demo.css", new String[] {"demo.css", "text/css; charset=utf-8"});

  /** A Host header we are willing to echo into the page's CSP (anything else: 'self' only). */
  private static final Pattern SAFE_HOST = Pattern.compile("[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]{2,45}\\](:[0-9]{1,5})?");

  private WebAssets() {
  }

  /** The files, once read (a plain map: it outlives any one Vert.x instance). */
  private static volatile Map<String, Asset> loaded;

  public record Asset(Buffer bytes, String etag) {
  }

  public static void mount(Vertx vertx, Router router, GatewayOptions options) {
    for (Map.Entry<String, String[]> e : ASSETS.entrySet()) {
      String path = e.getKey();
      router.get(path).handler(ctx -> serve(vertx, ctx, path));
    }
    router.get("/dev/config").handler(ctx -> ctx.response()
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
      .end(devConfig(vertx, options).encode()));
    if (options.devMode()) {
      LOG.warn("gateway.devMode is on: POST /dev/publish publishes to any topic without a publisher key; never use it in production");
      router.post("/dev/publish")
        .handler(BodyHandler.create(false).setBodyLimit(MAX_DEV_PUBLISH_BYTES))
        .handler(ctx -> devPublish(vertx, ctx))
        .failureHandler(WebAssets::devPublishFailure);
      router.route("/dev/publish").handler(ctx -> Http.error(ctx.response().putHeader("Allow", "POST"),
        ErrorCode.METHOD_NOT_ALLOWED, "use POST /dev/publish with a JSON body {\"topic\",\"type\",\"data\"}"));
    }
  }

  private static void serve(Vertx vertx, RoutingContext ctx, String path) {
    Map<String, Asset> ready = loaded;
    Future<Map<String, Asset>> f = ready != null ? Future.succeededFuture(ready)
      // Read off the event loop; two first requests at once both read, harmlessly.
      : vertx.executeBlocking(WebAssets::load, false).onSuccess(m -> loaded = m);
    String[] meta = ASSETS.get(path);
    f.onComplete(ar -> {
      HttpServerResponse resp = ctx.response();
      if (ar.failed()) {
        LOG.error("web assets cannot be read from the classpath folder {}", RESOURCES, ar.cause());
        Http.error(resp, ErrorCode.INTERNAL, "web assets missing");
        return;
      }
      Asset asset = ar.result().get(meta[0]);
      resp.putHeader(HttpHeaders.CONTENT_TYPE, meta[1])
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader(HttpHeaders.ETAG, asset.etag());
      if (path.equals("/herald.js")) {
        // Loaded by other origins' pages too (a plain <script src>, no CORS needed).
        resp.putHeader(HttpHeaders.CACHE_CONTROL, "public, max-age=300");
      } else {
        resp.putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
          .putHeader("Referrer-Policy", "no-referrer")
          .putHeader("X-Frame-Options", "DENY")
          .putHeader("Content-Security-Policy", csp(ctx));
      }
      String inm = ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH);
      if (inm != null && inm.contains(asset.etag())) {
        resp.setStatusCode(304).end();
        return;
      }
      resp.end(asset.bytes());
    });
  }

  /**
   * Own files only; connections to this origin over HTTP and, for the WebSocket transport, to the
   * same host over ws:/wss: (older browsers do not count those as 'self').
   */
  public static String csp(RoutingContext ctx) {
    String host = ctx.request().getHeader(HttpHeaders.HOST);
    String connect = "'self'";
    if (host != null && SAFE_HOST.matcher(host).matches()) {
      connect += " ws://" + host + " wss://" + host;
    }
    return "default-src 'self'; connect-src " + connect + "; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  }

  private static Map<String, Asset> load() throws IOException {
    Map<String, Asset> out = new HashMap<>();
    for (String[] meta : ASSETS.values()) {
      try (InputStream in = WebAssets.class.getClassLoader().getResourceAsStream(RESOURCES + meta[0])) {
        if (in == null) {
          throw new IOException(RESOURCES + meta[0] + " not on the classpath");
        }
        byte[] bytes = in.readAllBytes();
        byte[] hash = io.herald.common.Sha256.of(bytes);
        String etag = "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(hash).substring(0, 22) + "\"";
        out.put(meta[0], new Asset(Buffer.buffer(bytes), etag));
      }
    }
    return out;
  }

  /** {@code GET /dev/config}: dev mode, and the publish API's port when a notifier runs in this process. */
  public static JsonObject devConfig(Vertx vertx, GatewayOptions options) {
    JsonObject config = new JsonObject().put("devMode", options.devMode());
    Integer publishPort = io.herald.common.LocalRoles.publishPort(vertx);
    if (publishPort != null) {
      config.put("publishPort", publishPort);
    }
    return config;
  }

    /** {@code POST /dev/publish}: the body's topic, type and data, published through the notifier's event-bus address. */
  private static void devPublish(Vertx vertx, RoutingContext ctx) {
    HttpServerResponse resp = ctx.response();
    String contentType = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    // JSON only: a cross-site form cannot send it without a CORS preflight, which this path never grants.
    if (contentType == null || !contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
      Http.error(resp, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "send Content-Type: application/json");
      return;
    }
    JsonObject body;
    try {
      Buffer raw = ctx.body().buffer();
      body = raw == null || raw.length() == 0 ? null : new JsonObject(raw);
    } catch (DecodeException | ClassCastException e) {
      Http.error(resp, ErrorCode.MALFORMED_JSON, "the body is not a JSON object");
      return;
    }
    if (body == null) {
      Http.error(resp, ErrorCode.INVALID_REQUEST, "send {\"topic\", \"type\", \"data\"}");
      return;
    }
    JsonObject request = new JsonObject();
    for (String key : new String[] {"topic", "type", "data"}) {
      if (body.containsKey(key)) {
        request.put(key, body.getValue(key));
      }
    }
    vertx.eventBus().<JsonObject>request(Addresses.PUBLISH, request, new DeliveryOptions().setSendTimeout(DEV_PUBLISH_TIMEOUT_MILLIS))
      .onComplete(ar -> {
        if (resp.ended() || resp.closed()) {
          return;
        }
        if (ar.succeeded()) {
          Object answer = ar.result().body();
          resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
            .end(answer instanceof JsonObject j ? j.encode() : String.valueOf(answer));
          return;
        }
        replyFailure(resp, ar.cause());
      });
  }

  /** A reply failure as the notifier meant it: its status and JSON error body when it sent one. */
  private static void replyFailure(HttpServerResponse resp, Throwable t) {
    if (t instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE
      && r.failureCode() >= 400 && r.failureCode() <= 599 && r.getMessage() != null && r.getMessage().startsWith("{")) {
      try {
        JsonObject error = new JsonObject(r.getMessage());
        if (error.getValue("error") instanceof String) {
          if (!error.containsKey("message")) {
            error.put("message", error.getString("error"));
          }
          resp.setStatusCode(r.failureCode())
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
            .end(error.encode());
          return;
        }
      } catch (DecodeException e) {
        // a text message: mapped below
      }
    }
    HeraldException e = HeraldException.from(t);
    if (e.code() == ErrorCode.INTERNAL) {
      LOG.warn("dev publish failed: {}", t.toString());
    }
    Http.error(resp, e);
  }

  /** The body handler's refusals (413 above the limit, 400 on a bad body) in the catalogue's JSON. */
  private static void devPublishFailure(RoutingContext ctx) {
    int status = ctx.statusCode();
    if (status == 413) {
      Http.error(ctx.response(), ErrorCode.PAYLOAD_TOO_LARGE, "the body is larger than " + MAX_DEV_PUBLISH_BYTES + " bytes");
    } else if (status >= 400 && status < 500) {
      Http.error(ctx.response(), ErrorCode.INVALID_REQUEST, "bad request body");
    } else {
      LOG.error("dev publish failed", ctx.failure());
      Http.error(ctx.response(), ErrorCode.INTERNAL, "internal error");
    }
  }
}
