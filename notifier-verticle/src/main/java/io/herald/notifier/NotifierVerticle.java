package io.herald.notifier;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.EventCodec;
import io.herald.common.HeraldException;
import io.herald.common.replay.ReplayClient;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The notifier role: publisher ingestion. {@code POST /publish} and {@code POST /publish/batch}
 * over HTTP (publisher key required), and {@link Addresses#PUBLISH} on the event bus for
 * internal producers. Validation and storage live in {@link Publisher}.
 */
public final class NotifierVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(NotifierVerticle.class);

  private final NotifierOptions options;
  private HttpServer server;

  public NotifierVerticle(NotifierOptions options) {
    this.options = options;
  }

  @Override
  public Future<?> start() {
    EventCodec.register(vertx);
    if (options.isDevelopmentKey()) {
      LOG.warn("the development publisher key is accepted: set notifier.publisherKeys (HERALD_NOTIFIER_PUBLISHER_KEYS) in production");
    }
    Publisher publisher = new Publisher(new PublishParser(options), new ReplayClient(vertx, options.replayTimeoutMillis()));
    PublisherAuth auth = new PublisherAuth(options.publisherKeys());

    Router router = Router.router(vertx);
    router.post("/publish*").handler(ctx -> {
      if (!auth.allows(ctx.request())) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"herald\"");
        error(ctx.response(), new HeraldException(ErrorCode.UNAUTHORIZED, "a valid publisher key is required (Authorization: Bearer <key>)"));
        return;
      }
      String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
      if (type != null && !type.toLowerCase().startsWith("application/json")) {
        error(ctx.response(), new HeraldException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "send application/json"));
        return;
      }
      ctx.next();
    });
    router.post("/publish*").handler(BodyHandler.create(false).setBodyLimit(options.maxBodyBytes()));
    router.post("/publish").handler(ctx -> handle(ctx, publisher, false));
    router.post("/publish/batch").handler(ctx -> handle(ctx, publisher, true));
    router.route("/publish").handler(ctx -> methodNotAllowed(ctx));
    router.route("/publish/batch").handler(ctx -> methodNotAllowed(ctx));
    router.route().last().handler(ctx -> error(ctx.response(),
      new HeraldException(ErrorCode.NOT_FOUND, "no such resource: " + ctx.request().path())));
    router.errorHandler(413, ctx -> error(ctx.response(),
      new HeraldException(ErrorCode.PAYLOAD_TOO_LARGE, "the body is larger than " + options.maxBodyBytes() + " bytes")));
    router.errorHandler(500, ctx -> {
      LOG.error("request {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
      error(ctx.response(), new HeraldException(ErrorCode.INTERNAL, "internal error"));
    });

    MessageConsumer<JsonObject> bus = vertx.eventBus().consumer(Addresses.PUBLISH, msg -> onBus(msg, publisher));
    Future<HttpServer> listening = vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true))
      .requestHandler(router)
      .listen(options.port(), options.host())
      .onSuccess(s -> {
        server = s;
        LOG.info("notifier listening on {}:{}", options.host(), s.actualPort());
      });
    return Future.join(bus.completion(), listening);
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  public int actualPort() {
    return server.actualPort();
  }

  private static void handle(RoutingContext ctx, Publisher publisher, boolean batchPath) {
    JsonObject body;
    try {
      body = PublishParser.object(ctx.body().asString());
    } catch (HeraldException e) {
      error(ctx.response(), e);
      return;
    }
    if (batchPath != PublishParser.isBatch(body)) {
      error(ctx.response(), new HeraldException(ErrorCode.INVALID_REQUEST, batchPath
        ? "POST /publish/batch takes {\"events\": [...]}" : "POST /publish takes one event; use /publish/batch for {\"events\": [...]}"));
      return;
    }
    publisher.publish(body).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(ar.result().encode());
      } else {
        error(ctx.response(), HeraldException.from(ar.cause()));
      }
    });
  }

  private static void onBus(Message<JsonObject> msg, Publisher publisher) {
    if (msg.body() == null) {
      HeraldException e = new HeraldException(ErrorCode.INVALID_REQUEST, "publish needs a JSON object");
      msg.fail(e.code().status(), e.toJson().encode());
      return;
    }
    publisher.publish(msg.body()).onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(ar.result());
      } else {
        HeraldException e = HeraldException.from(ar.cause());
        msg.fail(e.code().status(), e.toJson().encode());
      }
    });
  }

  private static void methodNotAllowed(RoutingContext ctx) {
    ctx.response().putHeader("Allow", "POST");
    error(ctx.response(), new HeraldException(ErrorCode.METHOD_NOT_ALLOWED, "use POST"));
  }

  private static void error(HttpServerResponse response, HeraldException e) {
    if (response.ended()) {
      return;
    }
    response.setStatusCode(e.code().status())
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .end(e.toJson().encode());
  }
}
