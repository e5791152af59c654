package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.HeraldException;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.pattern.TopicFilter;
import io.herald.gateway.admission.ConnectionLimiter;
import io.herald.gateway.admission.SubscriberAuth;
import io.herald.gateway.admission.SubscriberTiers;
import io.herald.gateway.fanout.Subscriptions;
import io.herald.gateway.poll.PollConnection;
import io.herald.gateway.presence.PresenceWatch;
import io.herald.gateway.sse.SseConnection;
import io.herald.gateway.sse.SseGzip;
import io.herald.gateway.websocket.WebSocketConnection;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Opens an admitted request ({@link StreamAdmission}) as a {@link Connection} of its transport:
 * an SSE stream (its head, gzip), a WebSocket (joined before the upgrade) or a long-poll. Every
 * one is first registered with the {@link SseGateway} and joined to its topics and patterns
 * ({@link #join}: token expiry, presence, release); it starts, replaying from its cursor, once
 * every channel has positioned it. Confined to the gateway instance's event loop.
 */
final class StreamOpener {

  /** Logged under the gateway's name, as operators know it. */
  private static final Logger LOG = LoggerFactory.getLogger(SseGateway.class);

  private final SseGateway gateway;
  private final GatewayOptions options;
  private final Vertx vertx;
  private final GatewayStats stats;
  private final Subscriptions subscriptions;
  private final PresenceWatch presence;
  private final StreamAdmission admission;

  StreamOpener(SseGateway gateway, StreamAdmission admission) {
    this.gateway = gateway;
    this.options = gateway.options();
    this.vertx = gateway.vertx();
    this.stats = gateway.stats();
    this.subscriptions = gateway.subscriptions();
    this.presence = gateway.presence();
    this.admission = admission;
  }

  void openSse(HttpServerRequest request, String[] topics, TopicFilter[] patterns, Cursor cursor, boolean unknown, SubscriberAuth.Grant grant,
                       ConnectionLimiter.Permit permit, int heartbeat) {
    HttpServerResponse response = request.response();
    boolean gzip = gzip(request);
    SseConnection conn = new SseConnection(SseGateway.nextConnectionId(), gateway, request, topics, gzip);
    conn.patterns(patterns);
    if (heartbeat > 0) {
      conn.heartbeat(heartbeat);
    }
    join(conn, request, grant, permit, () -> {
      response.setChunked(true)
        .setWriteQueueMaxSize(options.maxWriteQueueBytes())
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .putHeader("X-Accel-Buffering", "no");
      if (!GatewayOptions.SSE_COMPRESSION_OFF.equals(options.sseCompression())) {
        response.headers().add(HttpHeaders.VARY, "Accept-Encoding");
      }
      if (gzip) {
        response.putHeader(HttpHeaders.CONTENT_ENCODING, "gzip");
      }
      logOpened(conn, request, cursor != null, grant);
      conn.start(cursor, unknown);
      SseGateway.releaseHeaders(request);
    });
  }

  /**
   * Whether this stream is sent gzip ({@code gateway.sseCompression}): the deployment allows it,
   * the client accepts gzip and, in {@code requested} mode, asks with {@code compress=gzip}; and
   * the stream is HTTP/1.1 with chunks written below Vert.x (no gzip over HTTP/1.0 or HTTP/2).
   */
  private boolean gzip(HttpServerRequest request) {
    String mode = options.sseCompression();
    if (GatewayOptions.SSE_COMPRESSION_OFF.equals(mode)
      || GatewayOptions.SSE_COMPRESSION_REQUESTED.equals(mode) && !"gzip".equals(request.getParam("compress"))) {
      return false;
    }
    return SseGzip.accepts(request.getHeader(HttpHeaders.ACCEPT_ENCODING)) && SseConnection.gzipPossible(request);
  }

  /** Joins the topics first (live events queue up), then upgrades, then replays and goes live. */
  void openWebSocket(HttpServerRequest request, String[] topics, TopicFilter[] patterns, Cursor cursor, boolean unknown, SubscriberAuth.Grant grant,
                             ConnectionLimiter.Permit permit, int heartbeat) {
    HttpServerResponse response = request.response();
    WebSocketConnection conn = new WebSocketConnection(SseGateway.nextConnectionId(), gateway, response, topics);
    conn.patterns(patterns);
    if (heartbeat > 0) {
      conn.heartbeat(heartbeat);
    }
    join(conn, request, grant, permit, () -> {
      // From the upgrade on, the socket's end is the connection's end.
      response.endHandler(null);
      response.closeHandler(null);
      response.exceptionHandler(null);
      io.netty.channel.Channel channel = request.connection() instanceof io.vertx.core.net.impl.ConnectionBase base
        ? base.channel() : null;
      request.toWebSocket().onComplete(ar -> {
        if (ar.failed()) {
          permit.release();
          LOG.atDebug().addKeyValue("connection", conn.id()).log("WebSocket upgrade failed: {}", ar.cause().toString());
          conn.onClosed();
          return;
        }
        ServerWebSocket ws = ar.result();
        ws.closeHandler(v -> {
          permit.release();
          conn.onClosed();
        });
        ws.exceptionHandler(t -> LOG.atDebug().addKeyValue("connection", conn.id()).log("WebSocket error: {}", t.toString()));
        if (conn.closed()) {
          // Ended while upgrading (shutdown, token expiry).
          ws.close(WebSocketConnection.GOING_AWAY, "shutting_down");
          return;
        }
        conn.attach(ws, channel);
        logOpened(conn, request, cursor != null, grant);
        conn.start(cursor, unknown);
      });
    });
  }

  void openPoll(HttpServerRequest request, String[] topics, TopicFilter[] patterns, Cursor cursor, boolean unknown, SubscriberAuth.Grant grant,
                        ConnectionLimiter.Permit permit, int heartbeat) {
    PollConnection conn = new PollConnection(SseGateway.nextConnectionId(), gateway, request.response(), topics);
    conn.patterns(patterns);
    conn.askedHeartbeat(heartbeat);
    join(conn, request, grant, permit, () -> conn.start(cursor, unknown));
  }

  /**
   * Registers a connection and joins its topics; {@code then} runs once every topic is
   * positioned, unless the connection ended meanwhile. A failure is answered with its HTTP error.
   */
  void join(Connection conn, HttpServerRequest request, SubscriberAuth.Grant grant, ConnectionLimiter.Permit permit,
                    Runnable then) {
    HttpServerResponse response = request.response();
    conn.readsPrivate(!grant.anonymous());
    gateway.track(conn);
    stats.connectionsOpened++;
    HeraldMetrics.get().connectionOpened(conn.transport());
    SubscriberTiers.admitted(options.tiers().of(grant));
    response.closeHandler(v -> {
      permit.release();
      conn.onClosed();
    });
    response.exceptionHandler(t -> conn.onClosed());
    if (grant.expiresAtMillis() > 0) {
      // The connection lives no longer than its token: the client reconnects with a fresh one.
      long delay = Math.max(1, grant.expiresAtMillis() + options.jwtLeewaySeconds() * 1000L - System.currentTimeMillis());
      conn.expiryTimer(vertx.setTimer(delay, id -> conn.expire()));
    }
    String[] topics = conn.topics();
    List<Future<Void>> joined = new ArrayList<>(topics.length);
    for (int i = 0; i < topics.length; i++) {
      topics[i] = subscriptions.canonical(topics[i]);
      joined.add(subscriptions.join(topics[i], conn, i));
    }
    TopicFilter[] patterns = conn.patterns();
    for (int p = 0; p < patterns.length; p++) {
      joined.add(subscriptions.joinPattern(patterns[p], conn, p));
    }
    Future.all(joined).onComplete(ar -> {
      if (conn.closed()) {
        return;
      }
      if (ar.failed()) {
        gateway.release(conn, "subscribe_failed");
        Http.error(response, HeraldException.from(ar.cause()));
        return;
      }
      if (!presence.open(conn, request, grant, admission.client(request))) {
        gateway.release(conn, "presence_refused");
        return;
      }
      then.run();
    });
  }

  void logOpened(Connection conn, HttpServerRequest request, boolean resume, SubscriberAuth.Grant grant) {
    LOG.atInfo().addKeyValue("connection", conn.id()).addKeyValue("transport", conn.transport())
      .addKeyValue("topics", String.join(",", conn.topics()))
      .addKeyValue("resume", resume).addKeyValue("subject", grant.subject())
      .addKeyValue("tier", options.tiers().of(grant).name()).addKeyValue("remote", admission.client(request))
      .log("connection opened");
  }
}
