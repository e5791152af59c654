package io.herald.gateway.sockjs;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.admin.HeraldMetrics;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.Http;
import io.herald.gateway.SseGateway;
import io.herald.gateway.admission.ClusterUsers;
import io.herald.gateway.admission.ConnectionLimiter;
import io.herald.gateway.admission.SubscriberAuth;
import io.herald.gateway.admission.SubscriberTiers;
import io.herald.gateway.websocket.WebSocketMessageCap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import io.vertx.ext.web.handler.sockjs.impl.JsonCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the bridge lets in: the HTTP requests under {@code /eventbus} (origin, bounded client
 * messages, the token read before SockJS strips cookies) and each new socket ({@code SOCKET_CREATED}:
 * the connection limits, the JWT, the per-user limits), see {@link SockJSBridge}. Confined to the
 * bridge's event loop, but for the HTTP guard, which runs where the request arrives.
 */
final class BridgeAdmission {

  private static final Logger LOG = LoggerFactory.getLogger(SockJSBridge.class);
  private static final AtomicLong IDS = new AtomicLong(1L << 40);
  private static final String TOKEN_KEY = "herald.token";

  private final SockJSBridge bridge;
  private final SseGateway gateway;
  private final GatewayOptions options;
  private final Vertx vertx;

  BridgeAdmission(SockJSBridge bridge) {
    this.bridge = bridge;
    this.gateway = bridge.gateway();
    this.options = gateway.options();
    this.vertx = gateway.vertx();
  }

  /**
   * Before SockJS: the Origin check of {@code /ws} (SockJS itself would echo any origin, with
   * credentials), no iframe pages, bounded client messages (a declared body over the cap, and on
   * the WebSocket transports {@link WebSocketMessageCap}), and the token read before SockJS
   * strips cookies from the socket's headers.
   */
  void guard(RoutingContext ctx) {
    var request = ctx.request();
    if (!gateway.webSocketOriginAllowed(request)) {
      Http.error(ctx.response(), ErrorCode.ACCESS_DENIED, "cross-origin use of " + SockJSBridge.PATH + " is not allowed from this origin");
      return;
    }
    try {
      SseGateway.heartbeatParam(request.getParam(SseGateway.HEARTBEAT_PARAM), options);
    } catch (HeraldException e) {
      Http.error(ctx.response(), e, SseGateway.heartbeatBounds(options));
      return;
    }
    String path = request.path();
    if (path.contains("/iframe")) {
      Http.error(ctx.response(), ErrorCode.NOT_FOUND, "no such resource: " + path);
      return;
    }
    if (request.method() == HttpMethod.POST) {
      String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
      long n;
      try {
        n = length == null ? 0 : Long.parseLong(length.trim());
      } catch (NumberFormatException e) {
        n = Long.MAX_VALUE;
      }
      // Without a Content-Length (a chunked body), BodyHandler stops reading at the cap.
      if (n < 0 || n > SockJSBridge.MAX_CLIENT_MESSAGE_BYTES) {
        tooLarge(ctx);
        return;
      }
      if (path.endsWith("/xhr")) {
        // SockJS closes the connection after every xhr-polling answer without saying so; a client
        // that reused it (Node.js keeps connections alive) lost its next xhr_send.
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      }
    } else if (request.method() == HttpMethod.GET && path.endsWith("/websocket")) {
      WebSocketMessageCap.install(request.connection(), SockJSBridge.MAX_CLIENT_MESSAGE_BYTES);
    }
    String token = SubscriberAuth.token(request);
    if (token != null) {
      ctx.put(TOKEN_KEY, token);
    }
    ctx.next();
  }

  /**
   * An {@code xhr_send} body SockJS would answer with a 500 (empty, or not a JSON string or array
   * of strings) is a client error: 400 with the catalogue's body.
   */
  void checkSend(RoutingContext ctx) {
    var body = ctx.body();
    if (body == null || !body.available() || body.length() <= 0) {
      Http.error(ctx.response(), ErrorCode.INVALID_REQUEST, "xhr_send needs a body: a JSON array of messages");
      return;
    }
    if (JsonCodec.decodeValues(body.asString()) == null) {
      Http.error(ctx.response(), ErrorCode.MALFORMED_JSON, "xhr_send takes a JSON array of strings");
      return;
    }
    ctx.next();
  }

  /** Failures under {@code /eventbus} (BodyHandler's 413 and 400) in the catalogue's shape. */
  void failure(RoutingContext ctx) {
    switch (ctx.statusCode()) {
      case 413 -> tooLarge(ctx);
      case 400 -> {
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        Http.error(ctx.response(), ErrorCode.INVALID_REQUEST, "the request body cannot be read");
      }
      default -> ctx.next();
    }
  }

  private static void tooLarge(RoutingContext ctx) {
    // The rest of the body is not read: the connection cannot carry another request.
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    Http.error(ctx.response(), ErrorCode.PAYLOAD_TOO_LARGE, "messages to " + SockJSBridge.PATH + " are limited to "
      + SockJSBridge.MAX_CLIENT_MESSAGE_BYTES + " bytes");
  }

  // ---- sockets ----

  void created(BridgeEvent event) {
    SockJSSocket sock = event.socket();
    if (bridge.draining()) {
      refuse(event, new HeraldException(ErrorCode.SHUTTING_DOWN, "gateway is shutting down"), SockJSBridge.CLOSE_UNAVAILABLE);
      return;
    }
    String remote = client(sock);
    ConnectionLimiter.Permit permit;
    try {
      permit = gateway.limiter().admit(remote, System.currentTimeMillis());
    } catch (ConnectionLimiter.Refusal r) {
      HeraldMetrics.get().rejected(r.error().code().code());
      refuse(event, r.error(), r.error().code() == ErrorCode.RATE_LIMITED ? SockJSBridge.CLOSE_RATE_LIMITED : SockJSBridge.CLOSE_UNAVAILABLE);
      return;
    }
    boolean[] closedEarly = new boolean[1];
    // Until the bridge installs its own close handler (once admitted), a close is ours to see.
    sock.closeHandler(v -> closedEarly[0] = true);
    SubscriberAuth auth = gateway.auth();
    Future<SubscriberAuth.Grant> grant = auth == null || !auth.enabled()
      ? Future.succeededFuture(SubscriberAuth.Grant.ANONYMOUS)
      : auth.authenticate(token(sock), remote);
    grant.compose(g -> admitUser(permit, g)).onComplete(ar -> {
      if (closedEarly[0] || bridge.draining()) {
        permit.release();
        event.complete(false);
        return;
      }
      if (ar.failed()) {
        permit.release();
        HeraldException e = HeraldException.from(ar.cause());
        HeraldMetrics.get().rejected(e.code().code());
        refuse(event, e, e.code() == ErrorCode.UNAUTHORIZED ? SockJSBridge.CLOSE_UNAUTHORIZED
          : e.code() == ErrorCode.RATE_LIMITED ? SockJSBridge.CLOSE_RATE_LIMITED : SockJSBridge.CLOSE_UNAVAILABLE);
        return;
      }
      open(event, permit, ar.result());
    });
  }

  /** The client's address: the peer's, or the one its trusted proxies forward ({@code gateway.trustedProxies}). */
  String client(SockJSSocket sock) {
    String peer = sock.remoteAddress() == null ? null : sock.remoteAddress().hostAddress();
    return options.clientAddress().resolve(peer, sock.headers());
  }

  private Future<SubscriberAuth.Grant> admitUser(ConnectionLimiter.Permit permit, SubscriberAuth.Grant grant) {
    if (grant.anonymous() || grant.userKey() == null) {
      return Future.succeededFuture(grant);
    }
    SubscriberTiers.Tier tier = options.tiers().of(grant);
    try {
      gateway.limiter().admitUser(permit, grant.userKey(), tier, System.currentTimeMillis());
    } catch (ConnectionLimiter.Refusal r) {
      return Future.failedFuture(r.error());
    }
    ClusterUsers users = gateway.users();
    if (users == null) {
      return Future.succeededFuture(grant);
    }
    return users.withinLimit(grant.userKey(), tier.maxConnectionsPerUser()).compose(within -> {
      if (within) {
        return Future.succeededFuture(grant);
      }
      SubscriberTiers.refused(tier, "streams_per_user");
      return Future.failedFuture(new HeraldException(ErrorCode.RATE_LIMITED,
        "at most " + tier.maxConnectionsPerUser() + " streams per user across the cluster" + tier.suffix()));
    });
  }

  private void open(BridgeEvent event, ConnectionLimiter.Permit permit, SubscriberAuth.Grant grant) {
    SockJSSocket sock = event.socket();
    BridgeSocket bs = new BridgeSocket(bridge, IDS.incrementAndGet(), sock, permit, grant);
    bs.heartbeatTicks = SseGateway.ticks(heartbeatOf(sock));
    bs.lastWriteTick = gateway.ticks();
    bridge.opened(bs);
    sock.setWriteQueueMaxSize(options.maxWriteQueueBytes());
    gateway.stats().connectionsOpened++;
    HeraldMetrics.get().connectionOpened(SockJSBridge.TRANSPORT);
    SubscriberTiers.admitted(options.tiers().of(grant));
    if (grant.expiresAtMillis() > 0) {
      long delay = Math.max(1, grant.expiresAtMillis() + options.jwtLeewaySeconds() * 1000L - System.currentTimeMillis());
      bs.expiryTimer = vertx.setTimer(delay, id -> bridge.expire(bs));
    }
    LOG.atInfo().addKeyValue("connection", bs.id).addKeyValue("transport", SockJSBridge.TRANSPORT).addKeyValue("subject", grant.subject())
      .addKeyValue("tier", options.tiers().of(grant).name()).addKeyValue("remote", client(sock)).log("connection opened");
    event.complete(true);
    // Once the bridge has set its handlers (on completion, possibly after this returns): its
    // exception handler logs at ERROR even a client that went away without a close frame.
    bridge.context().runOnContext(v -> {
      if (bs.closed) {
        return;
      }
      try {
        sock.exceptionHandler(t -> socketException(bs, t));
      } catch (IllegalStateException closed) {
        // A raw WebSocket closed meanwhile: its close handler is on its way, nothing more can fail.
      }
    });
  }

  private void socketException(BridgeSocket bs, Throwable t) {
    if (t instanceof HttpClosedException || t instanceof IOException) {
      // The client went away without a close frame, or reset the connection: not our failure.
      LOG.atDebug().addKeyValue("connection", bs.id).log("connection lost without a close: {}", t.toString());
    } else {
      LOG.atWarn().addKeyValue("connection", bs.id).addKeyValue("transport", SockJSBridge.TRANSPORT).log("socket failed, closing: {}", t.toString());
    }
    // The socket's close handler follows (the bridge's clean-up, then ours); close() makes sure.
    bs.sock.close();
  }

  /** The socket's heartbeat interval: its URL's {@code heartbeat} parameter (checked by {@link #guard}), or the default. */
  private int heartbeatOf(SockJSSocket sock) {
    String uri = sock.uri();
    if (uri != null) {
      List<String> asked = new io.netty.handler.codec.http.QueryStringDecoder(uri).parameters().get(SseGateway.HEARTBEAT_PARAM);
      if (asked != null && !asked.isEmpty()) {
        try {
          return SseGateway.heartbeatParam(asked.get(0), options);
        } catch (HeraldException e) {
          // guard() refused it already; a socket that got here anyway keeps the default
        }
      }
    }
    return options.heartbeatSeconds();
  }

  private static String token(SockJSSocket sock) {
    RoutingContext rc = sock.routingContext();
    String token = rc == null ? null : rc.get(TOKEN_KEY);
    return token != null ? token : SubscriberAuth.token(sock.headers(), sock.uri());
  }

  /** An {@code err} frame saying why, then the socket is closed with {@code code}; the bridge's refusal follows. */
  private void refuse(BridgeEvent event, HeraldException e, int code) {
    SockJSSocket sock = event.socket();
    LOG.atDebug().addKeyValue("remote", client(sock)).addKeyValue("error", e.code().code())
      .log("bridge connection refused: {}", e.getMessage());
    sock.write(BridgeFrames.err(null, e));
    sock.close(code, e.code().code());
    event.complete(false);
  }
}
