package io.herald.gateway;

import io.herald.common.ClusterView;
import io.herald.common.ErrorCode;
import io.herald.common.EventCodec;
import io.herald.common.SlowRequestGuard;
import io.herald.common.admin.Health;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.config.ConfigException;
import io.herald.gateway.admission.ClusterUsers;
import io.herald.gateway.admission.ConnectionLimiter;
import io.herald.gateway.admission.SubscriberAuth;
import io.herald.gateway.sockjs.SockJSBridge;
import io.herald.gateway.websocket.WsDeflate;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway role: an HTTP server holding client connections. It only wires things: the
 * routes, the heartbeat timer ({@link SseGateway#tick}), {@code TCP_USER_TIMEOUT}, draining on stop. One instance per event loop; each holds its own
 * connections and receives only the topics they hold.
 */
public final class GatewayVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);

  /** Numbers the gateway instances of the process, for their keys in the cluster view. */
  private static final java.util.concurrent.atomic.AtomicInteger VIEW_INSTANCES = new java.util.concurrent.atomic.AtomicInteger();
  /** The NIO warning about {@code deadPeerTimeoutSeconds} is logged once per process, not per instance. */
  private static final java.util.concurrent.atomic.AtomicBoolean NIO_WARNED = new java.util.concurrent.atomic.AtomicBoolean();

  private final GatewayOptions options;
  private final GatewayStats stats = new GatewayStats();
  private SseGateway sse;
  private HttpServer server;
  private long heartbeatTimer = -1;
  private long viewTimer = -1;
  private String viewKey;

  public GatewayVerticle(GatewayOptions options) {
    this.options = options;
  }

  @Override
  public Future<?> start() {
    EventCodec.register(vertx);
    // Key files are read (asynchronously) before the server listens; a bad one fails the deployment.
    return SubscriberAuth.create(vertx, options).compose(auth -> {
      if (auth.enabled()) {
        LOG.info("subscriber authentication: jwt (public topics: {})", options.publicTopics());
      }
      return listen(auth);
    });
  }

  private Future<?> listen(SubscriberAuth auth) {
    ConnectionLimiter limiter = sharedLimiter();
    sse = new SseGateway(vertx, options, stats, auth, limiter, sharedUsers(limiter));
    Router router = Router.router(vertx);
    io.herald.gateway.mercure.MercureHub.mount(vertx, router, options.mercure(), sse);
    if (options.transport(GatewayOptions.TRANSPORT_SSE)) {
      router.get("/events").handler(ctx -> sse.handle(ctx.request()));
      router.options("/events").handler(ctx -> {
        if (sse.corsEnabled()) {
          sse.preflight(ctx.request());
        } else {
          ctx.next();
        }
      });
      router.route("/events").handler(ctx -> Http.error(ctx.response().putHeader("Allow", "GET"),
        ErrorCode.METHOD_NOT_ALLOWED, "use GET /events?topic=NAME"));
    }
    if (options.transport(GatewayOptions.TRANSPORT_WEBSOCKET)) {
      // The route upgrades (request.toWebSocket()) once admission and authentication passed.
      router.get("/ws").handler(ctx -> sse.handleWebSocket(ctx.request()));
      router.route("/ws").handler(ctx -> Http.error(ctx.response().putHeader("Allow", "GET"),
        ErrorCode.METHOD_NOT_ALLOWED, "open a WebSocket to GET /ws?topic=NAME"));
    }
    if (options.transport(GatewayOptions.TRANSPORT_LONGPOLL)) {
      router.get("/poll").handler(ctx -> sse.handlePoll(ctx.request()));
      router.options("/poll").handler(ctx -> {
        if (sse.corsEnabled()) {
          sse.preflight(ctx.request());
        } else {
          ctx.next();
        }
      });
      router.route("/poll").handler(ctx -> Http.error(ctx.response().putHeader("Allow", "GET"),
        ErrorCode.METHOD_NOT_ALLOWED, "use GET /poll?topic=NAME"));
    }
    Future<Void> bridged = Future.succeededFuture();
    if (options.transport(GatewayOptions.TRANSPORT_SOCKJS)) {
      SockJSBridge bridge = new SockJSBridge(sse);
      sse.bridge(bridge);
      bridged = bridge.mount(router);
    }
    new io.herald.gateway.presence.PresenceApi(sse.presence().presence(), options, auth).mount(router);
    WebAssets.mount(vertx, router, options);
    router.route().last().handler(ctx -> Http.error(ctx.response(), ErrorCode.NOT_FOUND, "no such resource: " + ctx.request().path()));
    router.errorHandler(500, ctx -> {
      LOG.error("request {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
      Http.error(ctx.response(), ErrorCode.INTERNAL, "internal error");
    });
    HttpServerOptions serverOptions = serverOptions(options);
    SlowRequestGuard guard = new SlowRequestGuard(vertx, options.requestTimeoutMillis());
    if (options.deadPeerTimeoutSeconds() > 0) {
      // Heartbeats nobody acknowledges end the connection: the kernel gives up on them after this.
      serverOptions.setTcpUserTimeout(options.deadPeerTimeoutSeconds() * 1000);
      if (!vertx.isNativeTransportEnabled() && NIO_WARNED.compareAndSet(false, true)) {
        LOG.warn("gateway.deadPeerTimeoutSeconds ({}) needs the native epoll transport (TCP_USER_TIMEOUT); on NIO a client that"
          + " vanished is found by WebSocket pings, SockJS pings and the kernel's retransmission timeout (about 15 min)"
          + " for SSE streams", options.deadPeerTimeoutSeconds());
      }
    }
    heartbeatTimer = vertx.setPeriodic(SseGateway.TICK_MILLIS, id -> sse.tick());
    // Every instance of one deployment shares its deployment id: the key needs the instance too.
    viewKey = ClusterView.nodeId(vertx) + "/" + deploymentID() + "/" + VIEW_INSTANCES.incrementAndGet();
    viewTimer = vertx.setPeriodic(ClusterView.REFRESH_MILLIS, id -> publishView());
    return bridged.compose(v -> sse.start()).compose(v -> vertx.createHttpServer(serverOptions)
      .connectionHandler(connectionHandler(guard))
      .requestHandler(guard.wrap(router))
      .invalidRequestHandler(io.herald.common.MalformedRequests.HANDLER)
      .listen(options.port(), options.host())
      .recover(t -> Future.failedFuture(ConfigException.listenFailed("gateway", "port", options.host(), options.port(), t)))
      .onSuccess(s -> {
        server = s;
        LOG.info("gateway listening on {}:{}", options.host(), s.actualPort());
        // Ready while listening and not draining; per instance, so one stopping instance says so.
        Health.of(vertx).readiness().register("gateway-" + System.identityHashCode(this), p -> p.complete(draining
          ? Status.KO(new JsonObject().put("reason", "draining"))
          : Status.OK(new JsonObject().put("port", s.actualPort()).put("connections", sse.connectionCount()))));
      })
      .compose(s -> publishView()));
  }

  /** The HTTP server's options from the gateway's configuration (TLS included, dead-peer timeout not). */
  static HttpServerOptions serverOptions(GatewayOptions options) {
    HttpServerOptions serverOptions = new HttpServerOptions()
      .setTcpNoDelay(options.tcpNoDelay())
      // Reads and writes both count: a stream's heartbeats keep it alive, a silent socket is cut.
      .setIdleTimeout(options.idleTimeoutSeconds())
      .setMaxHeaderSize(options.maxHeaderBytes())
      .setMaxInitialLineLength(options.maxRequestLineBytes())
      .setCompressionSupported(false)
      // WebSocket deflate only when asked for (gateway.webSocketCompression): the negotiation
      // handler sits in every connection's pipeline. Messages are then compressed once per event
      // and written below Vert.x (WsDeflate): no deflater per connection. Clients are asked not
      // to keep a compression context, so that what they send is inflated message by message.
      .setPerMessageWebSocketCompressionSupported(options.webSocketCompression())
      .setWebSocketAllowServerNoContext(true)
      .setWebSocketPreferredClientNoContext(true)
      .setPerFrameWebSocketCompressionSupported(false)
      // Every response is written from its connection's event loop (Connection is confined to
      // it), so Vert.x can write straight to the channel: no per-connection MPSC outbound queue
      // (a 1,025-slot array, about 4 KB per idle stream) and no hop through it per write.
      .setStrictThreadMode(true)
      // h2c is off unless asked for: with it on, Vert.x holds a connection back until it has
      // seen enough of the request to rule out HTTP/2, so the slow-request guard below never
      // sees a trickling client.
      .setHttp2ClearTextEnabled(options.h2c());
    if (options.tls()) {
      // HTTPS with ALPN: browsers get HTTP/2, many streams over one connection instead of six.
      serverOptions.setSsl(true)
        .setUseAlpn(true)
        .setAlpnVersions(java.util.List.of(io.vertx.core.http.HttpVersion.HTTP_2, io.vertx.core.http.HttpVersion.HTTP_1_1))
        .setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions().setCertPath(options.tlsCertFile()).setKeyPath(options.tlsKeyFile()));
    }
    return serverOptions;
  }

  private volatile boolean draining;

  /**
   * The connection limiter of this process: every gateway instance (one per event loop) admits
   * against the same counts, so {@code gateway.maxConnections} is per process, not per instance.
   */
  private ConnectionLimiter sharedLimiter() {
    LocalMap<String, ConnectionLimiter> map = vertx.sharedData().getLocalMap("herald.gateway.limiter");
    ConnectionLimiter fresh = new ConnectionLimiter(options);
    ConnectionLimiter existing = map.putIfAbsent(options.toJson().encode(), fresh);
    return existing == null ? fresh : existing;
  }

  /** The process's cluster-wide per-user counts, started by the first gateway instance; null without a cluster or JWT. */
  private ClusterUsers sharedUsers(ConnectionLimiter limiter) {
    if (!vertx.isClustered() || !GatewayOptions.AUTH_JWT.equals(options.authMode())) {
      return null;
    }
    LocalMap<ConnectionLimiter, ClusterUsers> map = vertx.sharedData().getLocalMap("herald.gateway.users");
    ClusterUsers fresh = new ClusterUsers(vertx, limiter);
    ClusterUsers existing = map.putIfAbsent(limiter, fresh);
    return existing == null ? fresh.start() : existing;
  }


  /** The slow-request guard, and with WebSocket compression the bounded inflater ({@link WsDeflate#install}). */
  private io.vertx.core.Handler<io.vertx.core.http.HttpConnection> connectionHandler(SlowRequestGuard guard) {
    io.vertx.core.Handler<io.vertx.core.http.HttpConnection> guarded = guard.connectionHandler();
    if (!options.webSocketCompression()) {
      return guarded;
    }
    return conn -> {
      guarded.handle(conn);
      WsDeflate.install(conn);
    };
  }
  @Override
  public Future<?> stop() {
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
    if (viewTimer >= 0) {
      vertx.cancelTimer(viewTimer);
    }
    draining = true;
    if (sse != null) {
      sse.drain();
    }
    Health.of(vertx).readiness().unregister("gateway-" + System.identityHashCode(this));
    Future<Void> leaveView = ClusterView.map(vertx).compose(m -> m.remove(viewKey)).<Void>mapEmpty()
      .recover(t -> Future.succeededFuture());
    Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
    return Future.join(leaveView, closed);
  }

  /** Refreshes this instance's entry in the cluster-wide view (connections, held topics, counters, top topics). */
  private Future<Void> publishView() {
    JsonObject entry = ClusterView.entry(ClusterView.nodeId(vertx), sse.connectionCount(), sse.heldTopicsView(),
      stats.deliveries, publishedByProcess(), sse.subscribersByTopic()).put("topPresence", sse.presence().presence().top());
    return ClusterView.map(vertx)
      .compose(m -> m.put(viewKey, entry, ClusterView.TTL_MILLIS))
      .onFailure(t -> LOG.debug("cluster view refresh failed: {}", t.toString()))
      .recover(t -> Future.succeededFuture());
  }

  /** Events the process accepted from publishers (all sources), from its {@code herald_events_published} counters. */
  private static long publishedByProcess() {
    double sum = 0;
    for (var c : HeraldMetrics.get().registry().find("herald_events_published").counters()) {
      sum += c.count();
    }
    return (long) sum;
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
