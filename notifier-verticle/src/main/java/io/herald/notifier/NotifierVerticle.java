package io.herald.notifier;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.EventCodec;
import io.herald.common.HeraldException;
import io.herald.common.SlowRequestGuard;
import io.herald.common.admin.Health;
import io.herald.common.admin.HeapPressure;
import io.herald.common.admin.HeraldMetrics;
import io.vertx.ext.healthchecks.Status;
import io.herald.common.replay.ReplayClient;
import io.herald.common.config.ConfigException;
import io.herald.common.tracing.TraceContext;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The notifier role: publisher ingestion. {@code POST /publish} and {@code POST /publish/batch}
 * over HTTP (publisher key required), {@link Addresses#PUBLISH} on the event bus for
 * internal producers, and, with {@code tcpBridgeEnabled}, the TCP event-bus bridge for non-JVM
 * internal producers ({@link TcpBridge}: same credentials, grants and rate buckets as HTTP).
 * Validation and storage live in {@link Publisher}.
 *
 * <p>Abuse limits of the HTTP API, in the order a request meets them: the connection must
 * deliver its headers within {@code requestTimeoutMillis} ({@link SlowRequestGuard}; at most
 * {@code maxHeaderBytes}, idle connections closed after {@code idleTimeoutSeconds}); the client
 * address must be in {@code trustedProducers} when that is set (403 before anything else); the
 * body must follow within {@code requestTimeoutMillis} (408); the authenticated publisher must
 * have tokens left ({@code publishRatePerKey}, {@code publishBurst}: 429 with
 * {@code Retry-After}). The token buckets belong to this verticle instance and its event loop,
 * so the rate is per notifier instance (per process with the one instance the launcher deploys).
 */
public final class NotifierVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(NotifierVerticle.class);

  private final java.util.function.LongSupplier nanoClock;
  private final NotifierOptions options;
  private HttpServer server;
  private final java.util.List<Ingest> ingests = new java.util.ArrayList<>();
  /** Only touched on this verticle's event loop. */
  private PublishQuota quota;
  /** Null when {@code tcpBridgeEnabled} is false. */
  private TcpBridge tcpBridge;
  /** The producing requests whose body has not arrived yet, each with its deadline; this verticle's event loop only. */
  private io.herald.common.Deadlines<HttpServerRequest> bodyDeadlines;

  public NotifierVerticle(NotifierOptions options) {
    this(options, System::nanoTime);
  }

  /** As above, with the clock (nanoseconds) the publish quotas refill by (tests: a fake one). */
  NotifierVerticle(NotifierOptions options, java.util.function.LongSupplier nanoClock) {
    this.options = options;
    this.nanoClock = nanoClock;
  }

  @Override
  public Future<?> start() {
    EventCodec.register(vertx);
    if (options.isDevelopmentKey()) {
      LOG.warn("the development publisher key is accepted: set notifier.publisherKeys (HERALD_NOTIFIER_PUBLISHER_KEYS) in production");
    }
    HeapPressure heap = HeapPressure.of(vertx);
    Publisher publisher = new Publisher(new PublishParser(options), new ReplayClient(vertx, options.replayTimeoutMillis()), heap::over,
      io.herald.common.tracing.Tracing.of(vertx));
    long plain = PublisherAuth.plainKeys(options.publisherKeys());
    if (plain > 0) {
      LOG.warn("{} publisher key(s) are configured in plain text: configure them as sha256:<hex of the key's SHA-256> in production", plain);
    }
    PublisherAuth auth = new PublisherAuth(vertx, options);
    WebhookAuth webhooks = new WebhookAuth(options.webhooks(), options.webhookToleranceSeconds());
    if (!options.webhooks().isEmpty()) {
      LOG.info("signed webhooks enabled: {}", options.webhooks().keySet());
    }

    quota = new PublishQuota(options, nanoClock, PublishQuota.MAX_RECENT_TOPICS);
    if (!options.producerAllowlist().allowsAll()) {
      LOG.info("publishing restricted to trusted producers {}", options.trustedProducers());
    }

    bodyDeadlines = new io.herald.common.Deadlines<>(vertx, options.requestTimeoutMillis(), this::bodyTimedOut);
    Router router = Router.router(vertx);
    router.post("/publish*").handler(this::admit);
    router.post("/webhook/:name").handler(this::admit);
    router.post("/publish*").handler(ctx -> authenticated(ctx.request(), auth, grant -> {
      ctx.put(GRANT, grant);
      ctx.next(); // BodyHandler resumes the request
    }));
    router.post("/publish*").handler(BodyHandler.create(false).setBodyLimit(options.maxBodyBytes()));
    // Reached only by paths the fast path leaves to the router (see publishFirst): "/publish/", say.
    router.post("/publish").handler(ctx -> handle(ctx.request(), bytes(ctx), ctx.get(GRANT), publisher, false));
    router.post("/publish/batch").handler(ctx -> handle(ctx.request(), bytes(ctx), ctx.get(GRANT), publisher, true));
    router.route("/publish").handler(ctx -> methodNotAllowed(ctx));
    router.route("/publish/batch").handler(ctx -> methodNotAllowed(ctx));
    router.post("/webhook/:name").handler(ctx -> {
      if (!webhooks.exists(ctx.pathParam("name"))) {
        error(ctx.response(), new HeraldException(ErrorCode.NOT_FOUND, "no such webhook: " + ctx.pathParam("name")));
        return;
      }
      if (jsonContent(ctx.request())) {
        ctx.next();
      }
    });
    router.post("/webhook/:name").handler(BodyHandler.create(false).setBodyLimit(options.maxBodyBytes()));
    router.post("/webhook/:name").handler(ctx -> webhook(ctx, webhooks, publisher));
    router.route("/webhook/:name").handler(ctx -> methodNotAllowed(ctx));
    router.route().last().handler(ctx -> error(ctx.response(),
      new HeraldException(ErrorCode.NOT_FOUND, "no such resource: " + ctx.request().path())));
    // The rest of the body is still on its way: the connection carries no other request, so
    // the answer says so, and the connection closes once the body has been read to its end.
    router.errorHandler(413, ctx -> tooLarge(ctx.request()));
    router.errorHandler(500, ctx -> internalError(ctx.request(), ctx.failure()));

    MessageConsumer<Object> bus = vertx.eventBus().consumer(Addresses.PUBLISH, msg -> onBus(msg, publisher));
    ingests.addAll(ingests(publisher));
    HttpServerOptions serverOptions = new HttpServerOptions()
      .setTcpNoDelay(true)
      .setIdleTimeout(options.idleTimeoutSeconds())
      .setMaxHeaderSize(options.maxHeaderBytes())
      // No h2c: with it on, Vert.x 5 announces a connection only once the first request's
      // headers are complete, so the slow-request guard would never see a trickling client.
      .setHttp2ClearTextEnabled(false)
      // No WebSocket here: without these (on by default in Vert.x) a WebSocket extension
      // handler sits in every publisher connection's pipeline and sees every read.
      .setPerMessageWebSocketCompressionSupported(false)
      .setPerFrameWebSocketCompressionSupported(false);
    SlowRequestGuard guard = new SlowRequestGuard(vertx, options.requestTimeoutMillis());
    Future<HttpServer> listening = vertx.createHttpServer(serverOptions)
      .connectionHandler(guard.connectionHandler())
      .requestHandler(guard.wrap(publishFirst(router, auth, publisher)))
      .invalidRequestHandler(io.herald.common.MalformedRequests.HANDLER)
      .listen(options.port(), options.host())
      .recover(t -> Future.failedFuture(ConfigException.listenFailed("notifier", "port", options.host(), options.port(), t)))
      .onSuccess(s -> {
        server = s;
        LOG.info("notifier listening on {}:{}", options.host(), s.actualPort());
        io.herald.common.LocalRoles.publishPort(vertx, s.actualPort());
        Health.of(vertx).readiness().register(healthName(), p -> p.complete(Status.OK(new JsonObject().put("port", s.actualPort()))));
      });
    Future<Void> bridged = Future.succeededFuture();
    if (options.tcpBridgeEnabled()) {
      tcpBridge = new TcpBridge(vertx, options, auth, publisher, quota::admit);
      bridged = tcpBridge.start().onSuccess(v -> {
        LOG.info("notifier TCP event-bus bridge listening on {}:{}", options.tcpBridgeHost(), tcpBridge.actualPort());
        Health.of(vertx).readiness().register(healthName() + "-tcp-bridge",
          p -> p.complete(Status.OK(new JsonObject().put("port", tcpBridge.actualPort()))));
      });
    }
    return Future.join(bus.completion(), listening, bridged).compose(v -> startIngests());
  }

  /** The ingests the options turn on, each publishing with its own source label. */
  private java.util.List<Ingest> ingests(Publisher publisher) {
    java.util.List<Ingest> out = new java.util.ArrayList<>();
    if (!options.redisChannels().isEmpty()) {
      out.add(new RedisPubSubIngest(vertx, body -> publisher.publishCarrying(body, "redis-pubsub"), options.redisUrl(),
        options.redisChannels(), options.redisChannelPrefix()));
    }
    if (!options.redisStreams().isEmpty()) {
      out.add(new RedisStreamsIngest(vertx, body -> publisher.publishCarrying(body, "redis-streams"), options.redisUrl(),
        options.redisStreams(), options.redisStreamGroup(), options.redisStreamConsumer(), options.redisClaimIdleMillis()));
    }
    if (!options.postgresOutboxTable().isEmpty()) {
      out.add(new PgOutboxIngest(vertx, body -> publisher.publishCarrying(body, "postgres"), options.postgresUrl(),
        options.postgresOutboxTable(), options.postgresChannel(), options.postgresPollMillis(), options.postgresBatchSize()));
    }
    return out;
  }

  /** Starts every ingest; their health is in {@code /health} under {@code ingests}. */
  private Future<Void> startIngests() {
    if (ingests.isEmpty()) {
      return Future.succeededFuture();
    }
    Health.of(vertx).liveness().register("ingests", p -> {
      JsonObject out = new JsonObject();
      for (Ingest i : ingests) {
        out.put(i.name(), i.status());
      }
      p.complete(Status.OK(out));
    });
    java.util.List<Future<Void>> started = new java.util.ArrayList<>();
    for (Ingest i : ingests) {
      started.add(i.start().onSuccess(v -> LOG.info("ingest {} started", i.name())));
    }
    return Future.all(started).mapEmpty();
  }

  private String healthName() {
    return "notifier-" + System.identityHashCode(this);
  }

  @Override
  public Future<?> stop() {
    Health.of(vertx).readiness().unregister(healthName());
    Health.of(vertx).readiness().unregister(healthName() + "-tcp-bridge");
    Health.of(vertx).liveness().unregister("ingests");
    java.util.List<Future<Void>> stopped = new java.util.ArrayList<>();
    for (Ingest i : ingests) {
      stopped.add(i.stop().recover(t -> Future.succeededFuture()));
    }
    if (tcpBridge != null) {
      stopped.add(tcpBridge.stop().recover(t -> Future.succeededFuture()));
    }
    return Future.join(stopped).transform(ar -> server == null ? Future.succeededFuture() : server.close());
  }

  public int actualPort() {
    return server.actualPort();
  }

  /** The port the TCP event-bus bridge listens on; -1 when {@code tcpBridgeEnabled} is false. */
  public int tcpBridgePort() {
    return tcpBridge == null ? -1 : tcpBridge.actualPort();
  }

  private static final String GRANT = "herald.grant";

  /**
   * The first handler of every producing request: refuses client addresses (behind
   * {@code trustedProxies}, the forwarded ones) outside {@code trustedProducers} (before authentication or reading the body), then bounds the time
   * the body may take to arrive.
   */
  private void admit(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    if (admit(request)) {
      ctx.addEndHandler(ar -> bodyDeadlines.disarm(request));
      ctx.next();
    }
  }

  /**
   * {@link #admit(RoutingContext)} for a request outside the router: false when refused (the
   * answer is sent); when admitted, its body deadline is armed, to be disarmed by the caller once
   * the response ends.
   */
  private boolean admit(HttpServerRequest request) {
    SocketAddress peer = request.connection().remoteAddress();
    // Behind a trusted proxy the client is the address it forwards, for the allowlist and the logs.
    String ip = options.clientAddress().resolve(peer == null ? null : peer.hostAddress(), request.headers());
    if (!options.producerAllowlist().allows(ip)) {
      LOG.debug("refused {} {} from untrusted address {}", request.method(), request.path(), ip);
      error(request.response(), new HeraldException(ErrorCode.ACCESS_DENIED, "this address may not publish"));
      return false;
    }
    bodyDeadlines.arm(request);
    return true;
  }

  /**
   * {@code POST /publish} and {@code POST /publish/batch}, the hot path of every publish, served
   * without the router: the same steps as its handlers (address allowlist and body deadline,
   * content type, authentication with the body held meanwhile, the body read up to
   * {@code maxBodyBytes}, then {@link #handle}), without a routing context, the route matching of
   * each of the four handlers and the body handler's generic machinery (vertx-web was about 3 %
   * of the publish path's CPU, BENCHMARKS.md run 26). Only these two exact paths come here; every
   * other request (another method, {@code /publish/}, webhooks, the 404s) goes to {@code router}
   * as before.
   */
  private io.vertx.core.Handler<HttpServerRequest> publishFirst(Router router, PublisherAuth auth, Publisher publisher) {
    return request -> {
      if (request.method() == io.vertx.core.http.HttpMethod.POST) {
        String path = request.path();
        boolean single = "/publish".equals(path);
        if (single || "/publish/batch".equals(path)) {
          try {
            publishRequest(request, auth, publisher, !single);
          } catch (RuntimeException e) {
            internalError(request, e);
          }
          return;
        }
      }
      router.handle(request);
    };
  }

  private void publishRequest(HttpServerRequest request, PublisherAuth auth, Publisher publisher, boolean batchPath) {
    HttpServerResponse response = request.response();
    if (!admit(request)) {
      return;
    }
    response.endHandler(v -> bodyDeadlines.disarm(request));
    authenticated(request, auth, grant -> {
      try {
        readBody(request, body -> handle(request, body, grant, publisher, batchPath));
      } catch (RuntimeException e) {
        internalError(request, e);
      }
    });
  }

  /**
   * The steps every publish request takes before its body is read, on either path: a JSON
   * content type (else 415), then authentication, with the request paused meanwhile (it may be
   * asynchronous, a JWT: a body arriving before a handler is there to read it would be dropped
   * and the request would hang, vertx-web issue 2438). {@code then} gets the grant with the
   * request still paused; a failure is answered 401 or 403 and the unread body discarded.
   */
  private static void authenticated(HttpServerRequest request, PublisherAuth auth, java.util.function.Consumer<PublisherAuth.Grant> then) {
    if (!jsonContent(request)) {
      return;
    }
    request.pause();
    auth.authenticate(request).onComplete(ar -> {
      if (ar.failed()) {
        request.resume(); // the unread body is discarded
        request.response().putHeader("WWW-Authenticate", "Bearer realm=\"herald\"");
        error(request.response(), HeraldException.from(ar.cause()));
        return;
      }
      then.accept(ar.result());
    });
  }

  /**
   * Reads the body of {@code request} (paused) up to {@code maxBodyBytes}, then gives its bytes
   * to {@code then}; a larger body, declared or sent, is answered 413 as the body handler's limit
   * was, and the connection closed once the rest has been read.
   */
  private void readBody(HttpServerRequest request, java.util.function.Consumer<byte[]> then) {
    long limit = options.maxBodyBytes();
    String declared = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (declared != null) {
      long length;
      try {
        length = Long.parseLong(declared);
      } catch (NumberFormatException e) {
        length = -1; // Netty's decoder refuses a malformed Content-Length before we see it
      }
      if (length > limit) {
        tooLarge(request);
        return;
      }
    }
    io.vertx.core.buffer.Buffer body = io.vertx.core.buffer.Buffer.buffer();
    boolean[] over = {false};
    request.handler(chunk -> {
      if (over[0]) {
        return;
      }
      if ((long) body.length() + chunk.length() > limit) {
        over[0] = true;
        tooLarge(request);
        return;
      }
      body.appendBuffer(chunk);
    });
    request.endHandler(v -> {
      if (!over[0]) {
        try {
          then.accept(body.getBytes());
        } catch (RuntimeException e) {
          internalError(request, e);
        }
      }
    });
    request.exceptionHandler(t -> LOG.debug("publish request body from {} failed: {}", request.connection().remoteAddress(), t.toString()));
    request.resume();
  }

  /** A body larger than {@code maxBodyBytes}: 413, and the connection closed after the body (see the router's 413 handler). */
  private void tooLarge(HttpServerRequest request) {
    request.response().putHeader(HttpHeaders.CONNECTION, "close");
    error(request.response(), new HeraldException(ErrorCode.PAYLOAD_TOO_LARGE, "the body is larger than " + options.maxBodyBytes() + " bytes"))
      .onComplete(ar -> closeAfterBody(request));
  }

  /** What the router's 500 handler does, for the fast path. */
  private static void internalError(HttpServerRequest request, Throwable t) {
    LOG.error("request {} {} failed", request.method(), request.path(), t);
    error(request.response(), new HeraldException(ErrorCode.INTERNAL, "internal error"));
  }

  /** A request whose body did not arrive within {@code requestTimeoutMillis}: 408, and the connection closed. */
  private void bodyTimedOut(HttpServerRequest request) {
    if (request.isEnded() || request.response().ended() || request.response().closed()) {
      return; // the body arrived (storing has its own timeout), or the answer is already out
    }
    HttpConnection conn = request.connection();
    long timeout = options.requestTimeoutMillis();
    if (LOG.isDebugEnabled()) {
      SocketAddress peer = conn.remoteAddress();
      LOG.debug("request body from {} not received within {} ms: closing",
        options.clientAddress().resolve(peer == null ? null : peer.hostAddress(), request.headers()), timeout);
    }
    request.response().putHeader(HttpHeaders.CONNECTION, "close");
    error(request.response(), new HeraldException(ErrorCode.REQUEST_TIMEOUT, "the request body did not arrive within " + timeout + " ms"))
      .onComplete(ar -> conn.close());
  }

  /**
   * Closes the connection of {@code request}, whose answer is out, once the rest of its body has
   * been read and dropped, or after {@code requestTimeoutMillis} at most (a lingering close, as
   * nginx and Apache do). Closed at once, with body bytes still unread, the kernel resets the
   * connection, and a client still sending its body may lose the answer it was sent (seen: the
   * JDK client's "header parser received no bytes" instead of the 413).
   */
  private void closeAfterBody(HttpServerRequest request) {
    HttpConnection conn = request.connection();
    if (request.isEnded()) {
      conn.close();
      return;
    }
    long timer = vertx.setTimer(options.requestTimeoutMillis(), id -> conn.close());
    try {
      request.handler(dropped -> { });
      request.endHandler(v -> {
        vertx.cancelTimer(timer);
        conn.close();
      });
      request.resume();
    } catch (IllegalStateException ended) {
      // The body ended meanwhile: nothing is left to read.
      vertx.cancelTimer(timer);
      conn.close();
    }
  }

  /**
   * Takes what {@code body} costs from {@code publisher}'s limits ({@link PublishQuota}: events,
   * bytes and new topics); false, with 429 and {@code Retry-After} sent, when one is exhausted.
   * Invalid bodies count too (at most {@code maxBatchSize} events): a flood of bad requests is
   * limited like a flood of good ones.
   */
  private boolean admitRate(HttpServerResponse response, String publisher, String tier, JsonObject body, long bytes) {
    PublishQuota.Refusal refused = quota.admit(publisher, tier, body, bytes);
    if (refused == null) {
      return true;
    }
    response.putHeader("Retry-After", Integer.toString(refused.retryAfterSeconds()));
    error(response, new HeraldException(ErrorCode.RATE_LIMITED, refused.message()));
    return false;
  }

  /** False (and a 415 sent) when the request declares a content type other than JSON. */
  private static boolean jsonContent(HttpServerRequest request) {
    String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null && !type.toLowerCase().startsWith("application/json")) {
      error(request.response(), new HeraldException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "send application/json"));
      return false;
    }
    return true;
  }

  /** A signed delivery: verified on the raw bytes, then published like {@code /publish} or {@code /publish/batch}. */
  private void webhook(RoutingContext ctx, WebhookAuth webhooks, Publisher publisher) {
    String name = ctx.pathParam("name");
    String remembered;
    try {
      remembered = webhooks.verify(name, ctx.request().getHeader("X-Herald-Timestamp"),
        ctx.request().getHeader("X-Herald-Signature"), ctx.body().buffer() == null ? io.vertx.core.buffer.Buffer.buffer() : ctx.body().buffer());
    } catch (HeraldException e) {
      if (e.code() == ErrorCode.UNAUTHORIZED) {
        ctx.response().putHeader("WWW-Authenticate", "Herald-Signature realm=\"herald\"");
        LOG.info("webhook {} rejected: {}", name, e.getMessage());
      }
      error(ctx.response(), e);
      return;
    }
    byte[] raw = bytes(ctx);
    JsonObject body;
    try {
      body = PublishParser.object(raw);
    } catch (HeraldException e) {
      error(ctx.response(), e);
      return;
    }
    if (!admitRate(ctx.response(), "webhook:" + name, null, body, raw.length)) {
      webhooks.forget(remembered); // refused before storing: the sender may retry the same delivery
      return;
    }
    java.util.List<String> topics = options.webhookTopics().get(name);
    PublisherAuth.Grant grant = new PublisherAuth.Grant("webhook:" + name, topics == null ? TopicPatterns.ANY : TopicPatterns.of(topics, null));
    publisher.publish(body, "webhook", grant, trace(ctx.request(), publisher)).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(ar.result().encode());
      } else {
        HeraldException e = HeraldException.from(ar.cause());
        if (e.code().status() >= 500) {
          webhooks.forget(remembered);
        }
        error(ctx.response(), e);
      }
    });
  }

  /** A publish request whose body ({@code raw}) has arrived, from an authenticated publisher ({@code grant}). */
  private void handle(HttpServerRequest request, byte[] raw, PublisherAuth.Grant grant, Publisher publisher, boolean batchPath) {
    HttpServerResponse response = request.response();
    JsonObject body;
    try {
      body = PublishParser.object(raw);
    } catch (HeraldException e) {
      error(response, e);
      return;
    }
    if (batchPath != PublishParser.isBatch(body)) {
      error(response, new HeraldException(ErrorCode.INVALID_REQUEST, batchPath
        ? "POST /publish/batch takes {\"events\": [...]}" : "POST /publish takes one event; use /publish/batch for {\"events\": [...]}"));
      return;
    }
    if (!admitRate(response, grant.publisher(), grant.tier(), body, raw.length)) {
      return;
    }
    publisher.publish(body, "http", grant, trace(request, publisher)).onComplete(ar -> {
      if (ar.succeeded()) {
        response.putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(ar.result().encode());
      } else {
        error(response, HeraldException.from(ar.cause()));
      }
    });
  }

  /** The producer's W3C trace context from the request headers, read only when tracing is on. */
  private static TraceContext trace(HttpServerRequest request, Publisher publisher) {
    return publisher.tracing()
      ? TraceContext.of(request.getHeader(TraceContext.TRACEPARENT), request.getHeader(TraceContext.TRACESTATE))
      : null;
  }

  private static byte[] bytes(RoutingContext ctx) {
    io.vertx.core.buffer.Buffer b = ctx.body().buffer();
    return b == null ? new byte[0] : b.getBytes();
  }

  /**
   * A publish on the event bus: a {@link JsonObject}, or the body's JSON text as a
   * {@link String} or {@link io.vertx.core.buffer.Buffer}, read exactly like an HTTP body. A
   * JsonObject from another node arrives as JSON decoded by Herald's codec
   * ({@link io.herald.common.json.ExactJsonCodec}), its numbers as written.
   */
  private static void onBus(Message<Object> msg, Publisher publisher) {
    JsonObject body;
    try {
      Object raw = msg.body();
      if (raw instanceof JsonObject o) {
        body = o;
      } else if (raw instanceof String s) {
        body = PublishParser.object(s);
      } else if (raw instanceof io.vertx.core.buffer.Buffer b) {
        body = PublishParser.object(b.getBytes());
      } else {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, "publish needs a JSON object (or its JSON text as a String or Buffer)");
      }
    } catch (HeraldException e) {
      msg.fail(e.code().status(), e.toJson().encode());
      return;
    }
    TraceContext trace = publisher.tracing()
      ? TraceContext.of(msg.headers().get(TraceContext.TRACEPARENT), msg.headers().get(TraceContext.TRACESTATE))
      : null;
    publisher.publish(body, "eventbus", null, trace).onComplete(ar -> {
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

  private static Future<Void> error(HttpServerResponse response, HeraldException e) {
    if (response.ended()) {
      return Future.succeededFuture();
    }
    HeraldMetrics.get().rejected(e.code().code());
    if (e.code() == ErrorCode.OVER_CAPACITY) {
      response.putHeader("Retry-After", Integer.toString(HeapPressure.RETRY_AFTER_SECONDS));
    } else if (e.code() == ErrorCode.STORE_UNAVAILABLE) {
      response.putHeader("Retry-After", "1"); // retry with the same event id: it is stored once
    }
    return response.setStatusCode(e.code().status())
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .end(e.toJson().encode());
  }
}
