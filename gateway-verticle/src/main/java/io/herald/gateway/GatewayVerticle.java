package io.herald.gateway;

import io.herald.common.ErrorCode;
import io.herald.common.EventCodec;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway role: an HTTP server holding client connections. It only wires things: the
 * routes, the heartbeat timer, draining on stop. One instance per event loop; each holds its own
 * connections and receives only the topics they hold.
 */
public final class GatewayVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);

  private final GatewayOptions options;
  private final GatewayStats stats = new GatewayStats();
  private SseGateway sse;
  private HttpServer server;
  private long heartbeatTimer = -1;

  public GatewayVerticle(GatewayOptions options) {
    this.options = options;
  }

  @Override
  public Future<?> start() {
    EventCodec.register(vertx);
    sse = new SseGateway(vertx, options, stats);
    Router router = Router.router(vertx);
    router.get("/events").handler(ctx -> sse.handle(ctx.request()));
    router.route("/events").handler(ctx -> Http.error(ctx.response().putHeader("Allow", "GET"),
      ErrorCode.METHOD_NOT_ALLOWED, "use GET /events?topic=NAME"));
    router.route().last().handler(ctx -> Http.error(ctx.response(), ErrorCode.NOT_FOUND, "no such resource: " + ctx.request().path()));
    router.errorHandler(500, ctx -> {
      LOG.error("request {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
      Http.error(ctx.response(), ErrorCode.INTERNAL, "internal error");
    });
    HttpServerOptions serverOptions = new HttpServerOptions()
      .setTcpNoDelay(true)
      .setIdleTimeout(0)
      .setCompressionSupported(false);
    heartbeatTimer = vertx.setPeriodic(options.heartbeatSeconds() * 1000L, id -> sse.heartbeat());
    return vertx.createHttpServer(serverOptions)
      .requestHandler(router)
      .listen(options.port(), options.host())
      .onSuccess(s -> {
        server = s;
        LOG.info("gateway listening on {}:{}", options.host(), s.actualPort());
      });
  }

  @Override
  public Future<?> stop() {
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
    if (sse != null) {
      sse.drain();
    }
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** The port the server listens on (useful with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  public GatewayStats stats() {
    return stats;
  }

  public SseGateway sse() {
    return sse;
  }
}
