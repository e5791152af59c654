package io.herald.common.admin;

import io.herald.common.Breakers;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The operators' HTTP server of a process, on its own port ({@code admin.port}):
 * <ul>
 *   <li>{@code GET /health}: liveness (200 UP / 503 DOWN, JSON with every procedure), including
 *       the state of every circuit breaker of the process under {@code breakers};</li>
 *   <li>{@code GET /ready}: readiness (the procedures the roles registered in {@link Health});</li>
 *   <li>{@code GET /metrics}: Prometheus text format, behind {@code admin.token} when set;</li>
 *   <li>{@code GET /dashboard}: the live dashboard page, and its stream {@code /dashboard/stream}
 *       behind {@code admin.token} when set (see {@link Dashboard}).</li>
 * </ul>
 */
public final class AdminServer {

  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

  private AdminServer() {
  }

  /** Starts the server; the future fails when the port cannot be bound (naming {@code admin.port}). */
  public static Future<HttpServer> start(Vertx vertx, AdminOptions options) {
    Health health = Health.of(vertx);
    health.liveness().register("breakers", promise -> {
      JsonObject states = Breakers.status(vertx);
      // An open breaker is a dependency's problem, not this process's: the process stays live
      // (and serves live events); the states are here for operators and alerts.
      promise.complete(Status.OK(states));
    });
    Router router = Router.router(vertx);
    router.get("/health").handler(HealthCheckHandler.createWithHealthChecks(health.liveness()));
    router.get("/ready").handler(HealthCheckHandler.createWithHealthChecks(health.readiness()));
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      var scrape = PrometheusScrapingHandler.create();
      router.get("/metrics").handler(ctx -> {
        if (!options.token().isEmpty() && !tokenMatches(ctx.request().getHeader(HttpHeaders.AUTHORIZATION), options.token())) {
          ctx.response().setStatusCode(401).putHeader("WWW-Authenticate", "Bearer realm=\"herald-admin\"")
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .end(new JsonObject().put("error", "unauthorized").put("message", "send Authorization: Bearer <admin.token>").encode());
          return;
        }
        scrape.handle(ctx);
      });
    }
    new Dashboard(vertx, options).mount(router);
    router.route().last().handler(ctx -> ctx.response().setStatusCode(404)
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .end(new JsonObject().put("error", "not_found").put("message", "admin paths: /health, /ready, /metrics, /dashboard").encode()));
    // HTTP/1.1 only, like the gateway and the notifier: with h2c on, Vert.x 5.0.8 was seen to
    // leave an occasional HTTP/1.1 request unanswered (tests of all three servers timed out on
    // CI until h2c was turned off), and scrapers do not need HTTP/2.
    return vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions().setHttp2ClearTextEnabled(false)
        .setPerMessageWebSocketCompressionSupported(false).setPerFrameWebSocketCompressionSupported(false))
      .requestHandler(router).listen(options.port(), options.host())
      .recover(t -> {
        Throwable e = io.herald.common.config.ConfigException.listenFailed("admin", "port", options.host(), options.port(), t);
        return Future.failedFuture(e instanceof io.herald.common.config.ConfigException ? e
          : new io.herald.common.config.ConfigException("admin.port", "cannot listen on " + options.host() + ":" + options.port() + ": " + t.getMessage()));
      })
      .onSuccess(s -> LOG.info("admin server (/health, /ready, /metrics, /dashboard) listening on {}:{}", options.host(), s.actualPort()));
  }

  private static boolean tokenMatches(String header, String token) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    return MessageDigest.isEqual(header.substring(7).trim().getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
  }
}
