package io.herald.gateway.mercure;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;

/**
 * The Mercure hub's routes on the gateway's router, under {@value MercurePublish#PATH}: the
 * publish side ({@code POST}, {@link MercurePublish}), the subscribe side ({@code GET},
 * {@link MercureSubscribe}, streams of the gateway instance) and the CORS preflight
 * ({@code OPTIONS}) as the official hub's {@code cors_origins} allows, and the active
 * subscriptions API ({@link MercureSubscriptions}; 404 unless {@code gateway.mercureSubscriptions}). Nothing is mounted when
 * {@code gateway.mercureEnabled} is false.
 */
public final class MercureHub {

  private MercureHub() {
  }

  /** Mounts the hub's routes when it is enabled; fails with a {@link io.herald.common.config.ConfigException} on an unusable key. */
  public static void mount(Vertx vertx, Router router, MercureOptions options, io.herald.gateway.SseGateway gateway) {
    if (!options.enabled()) {
      return;
    }
    MercureAuth auth = MercureAuth.create(vertx, options);
    MercurePublish publish = new MercurePublish(vertx, auth);
    router.post(MercurePublish.PATH).handler(ctx -> {
      challengesPointToMetadata(ctx.request());
      cors(options, ctx.request(), ctx.response());
      publish.handle(ctx.request());
    });
    MercureSubscriptions subscriptions = options.subscriptions() ? new MercureSubscriptions(vertx, gateway, auth, options) : null;
    MercureSubscribe subscribe = new MercureSubscribe(gateway, auth, options, subscriptions);
    router.get(MercurePublish.PATH).handler(ctx -> {
      challengesPointToMetadata(ctx.request());
      subscribe.handle(ctx.request());
    });
    router.get(MercureMetadata.PATH).handler(ctx -> ctx.response()
      .putHeader("Content-Type", "application/json")
      .putHeader("Access-Control-Allow-Origin", "*")
      .putHeader("Cache-Control", "max-age=300")
      .end(MercureMetadata.document(options, ctx.request()).encode()));
    for (String path : new String[] {MercureSubscriptions.PATH, MercureSubscriptions.PATH + "/*"}) {
      router.get(path).handler(ctx -> {
        challengesPointToMetadata(ctx.request());
        if (subscriptions != null) {
          subscriptions.handle(ctx.request());
        } else {
          // As the official hub without its subscriptions directive.
          cors(options, ctx.request(), ctx.response());
          MercureError.status(404, "active subscriptions are off (gateway.mercureSubscriptions)").send(ctx.response());
        }
      });
      router.options(path).handler(ctx -> preflight(options, ctx.request(), ctx.response()));
    }
    router.options(MercurePublish.PATH).handler(ctx -> preflight(options, ctx.request(), ctx.response()));
  }

  /** Every Bearer challenge the hub answers on {@code request} names the metadata document (RFC 9728 section 5.1). */
  private static void challengesPointToMetadata(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    response.headersEndHandler(v -> MercureMetadata.addToChallenge(response.headers(), request));
  }

  /** Adds the CORS answer headers when the request's Origin is allowed (the Last-Event-ID answer header exposed). */
  static boolean cors(MercureOptions options, HttpServerRequest request, HttpServerResponse response) {
    String origin = request.getHeader("Origin");
    if (origin == null || !(options.corsOrigins().contains("*") || options.corsOrigins().contains(origin))) {
      return false;
    }
    // Credentials (the cookie) need the origin itself, never *.
    response.putHeader("Access-Control-Allow-Origin", origin)
      .putHeader("Access-Control-Allow-Credentials", "true")
      .putHeader("Vary", "Origin")
      .putHeader("Access-Control-Expose-Headers", "Last-Event-ID");
    return true;
  }

  private static void preflight(MercureOptions options, HttpServerRequest request, HttpServerResponse response) {
    if (!cors(options, request, response)) {
      response.setStatusCode(403).putHeader("Content-Type", "text/plain; charset=utf-8").end("origin not allowed\n");
      return;
    }
    response.setStatusCode(204)
      .putHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
      .putHeader("Access-Control-Allow-Headers", "Authorization, Cache-Control, Content-Type, Last-Event-ID")
      .putHeader("Access-Control-Max-Age", "600")
      .end();
  }
}
