package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.pattern.TopicFilter;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.ReplayClient;
import io.herald.gateway.admission.ClusterUsers;
import io.herald.gateway.admission.ConnectionLimiter;
import io.herald.gateway.admission.SubscriberAuth;
import io.herald.gateway.fanout.Subscriptions;
import io.herald.gateway.poll.PollConnection;
import io.herald.gateway.sockjs.SockJSBridge;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The subscription endpoints of one gateway instance: SSE {@code GET /events?topic=a&topic=b},
 * WebSocket {@code GET /ws} and long-poll {@code GET /poll}, with resume by the
 * {@code Last-Event-ID} header or the {@code lastEventId} query parameter (for clients that
 * cannot set headers). Every transport goes through the same admission ({@link ConnectionLimiter}),
 * topic checks and, with {@code gateway.authMode} jwt, authorisation of every requested topic
 * ({@link SubscriberAuth}) before anything is subscribed or replayed; a connection ends when its
 * token expires. What follows is a {@link Connection} of the transport. Holds the instance's
 * connections, of every transport. Confined to its event loop.
 *
 * <p>This class is the front door: the entry points, the instance's connections, its heartbeat
 * tick and drain. A request is read by {@link SubscribeParams}, admitted by
 * {@link StreamAdmission} and opened as a connection of its transport by {@link StreamOpener};
 * {@link GatewayCors} is the cross-origin policy.
 */
public final class SseGateway {

  /** The transport label of this gateway's connections in metrics. */
  public static final String TRANSPORT = "sse";

  private static final Logger LOG = LoggerFactory.getLogger(SseGateway.class);
  private static final AtomicLong IDS = new AtomicLong();

  /**
   * The period of the instance's one heartbeat timer ({@link #tick}), ms. Intervals are whole
   * seconds: a heartbeat comes between its interval and a quarter of a second more after the
   * last write (exactly its interval after the previous heartbeat), so a gap stays below an idle
   * timeout longer than the interval. A pass reads two fields per connection: four a second cost
   * next to nothing.
   */
  static final long TICK_MILLIS = 250;
  /** The name of the query parameter that picks a connection's heartbeat interval, seconds. */
  public static final String HEARTBEAT_PARAM = "heartbeat";
  /** The query parameter of a pattern subscription (repeatable), beside {@code topic}. */
  public static final String PATTERN_PARAM = "pattern";

  private final Vertx vertx;
  private final GatewayOptions options;
  private final SubscribeParams params;
  private final SubscriberAuth auth;
  private final Subscriptions subscriptions;
  private final ReplayClient replay;
  private final GatewayStats stats;
  private final Set<Connection> connections = new HashSet<>();
  private final ConnectionLimiter limiter;
  private final ClusterUsers users;
  private final io.herald.gateway.presence.PresenceWatch presence;
  private final GatewayCors cors;
  private final StreamAdmission admission;
  private final StreamOpener opener;
  private boolean draining;
  private SockJSBridge bridge;
  /** Ticks of the heartbeat timer so far: the instance's coarse clock, read by every write. */
  private long ticks;
  /** The connections one tick works on, reused. */
  private final List<Connection> due = new ArrayList<>();

  public SseGateway(Vertx vertx, GatewayOptions options, GatewayStats stats) {
    this(vertx, options, stats, null);
  }

  /** With subscriber authentication; {@code auth} null means {@code authMode} none. */
  public SseGateway(Vertx vertx, GatewayOptions options, GatewayStats stats, SubscriberAuth auth) {
    this(vertx, options, stats, auth, new ConnectionLimiter(options));
  }

  public SseGateway(Vertx vertx, GatewayOptions options, GatewayStats stats, SubscriberAuth auth, ConnectionLimiter limiter) {
    this(vertx, options, stats, auth, limiter, null);
  }

  /**
   * With the process-wide {@code limiter} and cluster-wide per-user counts ({@code users}, null
   * for none) every gateway instance of the process shares.
   */
  public SseGateway(Vertx vertx, GatewayOptions options, GatewayStats stats, SubscriberAuth auth, ConnectionLimiter limiter,
             ClusterUsers users) {
    this.vertx = vertx;
    this.limiter = limiter;
    this.users = users;
    this.cors = new GatewayCors(options);
    this.options = options;
    this.params = new SubscribeParams(options);
    this.auth = auth;
    this.stats = stats;
    this.subscriptions = new Subscriptions(vertx, options, stats);
    this.replay = new ReplayClient(vertx, options.replayTimeoutMillis());
    this.presence = new io.herald.gateway.presence.PresenceWatch(vertx, options);
    this.admission = new StreamAdmission(this, auth, limiter, users, cors, params);
    this.opener = new StreamOpener(this, admission);
  }

  /** Registers what must be in before the gateway listens (the per-node event consumer, see {@link Subscriptions#start()}). */
  public Future<Void> start() {
    return subscriptions.start();
  }

  /** Handles {@code GET /events}. */
  public void handle(HttpServerRequest request) {
    admission.admit(request, null, opener::openSse);
  }

  /**
   * Handles {@code GET /ws}: the same admission, authentication and topic checks as
   * {@code /events}, refused with the same HTTP errors before the upgrade, and a cross-origin
   * check of its own (browsers do not apply CORS to WebSockets): a request with an
   * {@code Origin} is upgraded only from the gateway's own origin or an allowed one.
   */
  public void handleWebSocket(HttpServerRequest request) {
    // The upgrade happens after asynchronous checks: until then the request must not be read to
    // its end, or Vert.x can no longer upgrade it. toWebSocket() resumes it; an HTTP refusal too.
    request.pause();
    request.response().headersEndHandler(v -> request.resume());
    String problem = null;
    ErrorCode code = ErrorCode.INVALID_REQUEST;
    if (!"websocket".equalsIgnoreCase(request.getHeader(HttpHeaders.UPGRADE))) {
      problem = "GET /ws is a WebSocket endpoint: send Upgrade: websocket";
    } else if (!cors.webSocketOriginAllowed(request)) {
      code = ErrorCode.ACCESS_DENIED;
      problem = "cross-origin WebSocket is not allowed from this origin";
    }
    admission.admit(request, problem == null ? null : new HeraldException(code, problem), opener::openWebSocket);
  }

  /** Handles {@code GET /poll}: the same checks as {@code /events}, one answer per request. */
  public void handlePoll(HttpServerRequest request) {
    admission.admit(request, null, opener::openPoll);
  }

  /**
   * A stream lives for hours and its request's headers, query and response headers are read by
   * then (the head is written by {@code start}): their entries go, a few hundred bytes per
   * connection. Vert.x reads none of them again for a chunked response it keeps alive.
   */
  public static void releaseHeaders(HttpServerRequest request) {
    request.headers().clear();
    request.params().clear();
    request.response().headers().clear();
  }

  /**
   * Whether a WebSocket upgrade may proceed from the request's {@code Origin}: none (not a
   * browser), the gateway's own origin (same host and port as the {@code Host} header), or one
   * of {@code gateway.allowedOrigins}.
   */
  public boolean webSocketOriginAllowed(HttpServerRequest request) {
    return cors.webSocketOriginAllowed(request);
  }

  /** True when CORS is configured, so {@code OPTIONS /events} is a preflight this gateway answers. */
  public boolean corsEnabled() {
    return cors.corsEnabled();
  }

  /**
   * Answers a CORS preflight of {@code /events} or {@code /poll}: 204 with the allowed method and headers for an
   * allowed origin asking for GET, else 403 {@code access_denied} without CORS headers.
   */
  public void preflight(HttpServerRequest request) {
    cors.preflight(request);
  }

  /**
   * A {@code Last-Event-ID} as a resume cursor for these topics and patterns, or null when it is
   * not one: too long, malformed, or well-formed but about none of them (as good as garbage).
   */
  public Cursor resumeCursor(String lastEventId, String[] topics, TopicFilter[] patterns) {
    return params.resumeCursor(lastEventId, topics, patterns);
  }

  /**
   * The admission of {@code /events} for a stream of another protocol (Mercure): refused while
   * draining or over the connection limits (answered as {@code /events} answers), else
   * {@code open} runs with the permit, released however the exchange ends.
   */
  public void admitStream(HttpServerRequest request, java.util.function.Consumer<ConnectionLimiter.Permit> open) {
    ConnectionLimiter.Permit permit = admission.admission(request);
    if (permit != null) {
      open.accept(permit);
    }
  }

  /**
   * Registers a stream of another protocol and joins its topics and patterns as {@code /events}
   * does (token expiry, presence, release); {@code then} runs once every one is positioned,
   * unless the connection ended meanwhile, and should start it and then
   * {@link #releaseHeaders} the request. Refused while draining (the admission may be a token
   * check ago). {@code resuming}: the client gave a last event id (the log says so).
   */
  public void joinStream(Connection conn, HttpServerRequest request, SubscriberAuth.Grant grant, ConnectionLimiter.Permit permit,
                         boolean resuming, Runnable then) {
    if (draining) {
      Http.error(request.response().putHeader("Retry-After", "1"), new HeraldException(ErrorCode.SHUTTING_DOWN, "gateway is shutting down"));
      return;
    }
    opener.join(conn, request, grant, permit, () -> {
      opener.logOpened(conn, request, resuming, grant);
      then.run();
    });
  }

  /**
   * A cursor that resumes any pattern subscription after the store's log position {@code at}
   * (the Mercure subscription API's {@code lastEventID}): a pattern whose own entry it lacks reads
   * the log from there.
   */
  public static String anyPatternCursor(io.herald.common.Position at) {
    return PatternState.anyPatternCursor(at.epoch(), at.seq());
  }

  /** A new connection id, unique in the process. */
  public static long nextConnectionId() {
    return IDS.incrementAndGet();
  }

  /** Adds a connection to the instance, before it joins its topics. */
  void track(Connection conn) {
    connections.add(conn);
  }

  /** Removes a connection from its topics and from the instance. */
  public void release(Connection conn, String reason) {
    if (connections.remove(conn)) {
      if (conn instanceof PollConnection) {
        LOG.atDebug().addKeyValue("connection", conn.id()).addKeyValue("reason", reason).log("poll closed");
      } else {
        LOG.atInfo().addKeyValue("connection", conn.id()).addKeyValue("transport", conn.transport()).addKeyValue("reason", reason)
          .log("connection closed");
      }
      HeraldMetrics.get().connectionClosed(conn.transport());
      conn.released();
      presence.close(conn);
      for (String t : conn.topics()) {
        subscriptions.leave(t, conn);
      }
      for (TopicFilter f : conn.patterns()) {
        subscriptions.leavePattern(f, conn);
      }
    }
  }

  /**
   * The instance's one heartbeat timer, every {@link #TICK_MILLIS}: a heartbeat (an SSE comment,
   * a WebSocket ping, a SockJS {@code h}) for each connection on which nothing was written for
   * its interval, none for the others; WebSocket connections whose ping went unanswered are
   * dropped. No timer per connection: one pass that reads two fields per connection.
   */
  public void tick() {
    long now = ++ticks;
    for (Connection c : connections) {
      if (c.due(now)) {
        due.add(c); // not acted on here: a write can close a connection, which leaves the set
      }
    }
    try {
      for (Connection c : due) {
        c.onTick(now);
      }
    } finally {
      due.clear();
    }
    if (bridge != null) {
      bridge.tick(now);
    }
  }

  /** The ticks so far ({@link #tick}): the coarse clock of the instance's heartbeats. */
  public long ticks() {
    return ticks;
  }

  /** {@code seconds} in ticks. */
  public static int ticks(int seconds) {
    return (int) (seconds * 1000L / TICK_MILLIS);
  }

  /**
   * A {@code heartbeat} parameter: the interval asked for, seconds, or 0 when there is none.
   * A value that is not a whole number of seconds within {@code heartbeatMinSeconds} and
   * {@code heartbeatMaxSeconds} is refused (400 {@code invalid_request}, with {@link #heartbeatBounds}).
   */
  public static int heartbeatParam(String value, GatewayOptions options) {
    return SubscribeParams.heartbeatParam(value, options);
  }

  /** The fields a refused {@code heartbeat} adds to the error body: the parameter and its bounds. */
  public static io.vertx.core.json.JsonObject heartbeatBounds(GatewayOptions options) {
    return SubscribeParams.heartbeatBounds(options);
  }

  /** True once {@link #drain} began: new streams are refused. */
  boolean draining() {
    return draining;
  }

  /** Stops accepting streams and ends the open ones cleanly so that clients reconnect elsewhere. */
  public void drain() {
    draining = true;
    List<Connection> open = new ArrayList<>(connections);
    for (Connection c : open) {
      c.end();
    }
    if (!open.isEmpty()) {
      LOG.info("ended {} stream(s) for shutdown", open.size());
    }
    if (bridge != null) {
      bridge.drain();
    }
    subscriptions.stop();
  }

  public ConnectionLimiter limiter() {
    return limiter;
  }

  /** A copy of the connections this instance holds (tests read it off the loop, like the count). */
  public List<Connection> connections() {
    return List.copyOf(connections);
  }

  public int connectionCount() {
    return connections.size() + (bridge == null ? 0 : bridge.connectionCount());
  }

  /** The instance's SockJS bridge, or null when the transport is off. */
  public SockJSBridge bridge() {
    return bridge;
  }

  /** The instance's SockJS bridge, whose sockets count as connections and end on drain. */
  public void bridge(SockJSBridge bridge) {
    this.bridge = bridge;
  }

  public SubscriberAuth auth() {
    return auth;
  }

  /** This instance's presence hooks and frames. */
  public io.herald.gateway.presence.PresenceWatch presence() {
    return presence;
  }

  public ClusterUsers users() {
    return users;
  }

  public Subscriptions subscriptions() {
    return subscriptions;
  }

  /** Connections per topic this instance holds (a copy). */
  public java.util.Map<String, Integer> subscribersByTopic() {
    return subscriptions.subscribersByTopic();
  }

  /** Topics this instance holds a consumer for (a copy). */
  public Set<String> heldTopics() {
    return Set.copyOf(subscriptions.topics());
  }

  /**
   * The same, live and without a copy, for the instance's own periodic report (read on its
   * event loop only): a gateway holding many topics copied them all every 2 s for a report
   * that names at most {@link io.herald.common.ClusterView#MAX_TOPIC_NAMES}.
   */
  Set<String> heldTopicsView() {
    return java.util.Collections.unmodifiableSet(subscriptions.topics());
  }

  public GatewayOptions options() {
    return options;
  }

  public Vertx vertx() {
    return vertx;
  }

  public ReplayClient replay() {
    return replay;
  }

  public GatewayStats stats() {
    return stats;
  }
}
