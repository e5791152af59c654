package io.herald.gateway.sockjs;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.Topics;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.pattern.TopicFilters;
import io.herald.common.replay.ReadResult;
import io.herald.gateway.Connection;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.Http;
import io.herald.gateway.JsonFrames;
import io.herald.gateway.SseGateway;
import io.herald.gateway.admission.ClusterUsers;
import io.herald.gateway.admission.ConnectionLimiter;
import io.herald.gateway.admission.SubscriberAuth;
import io.herald.gateway.admission.SubscriberTiers;
import io.herald.gateway.fanout.EncodedEvent;
import io.herald.gateway.fanout.Subscriber;
import io.herald.gateway.fanout.Subscriptions;
import io.herald.gateway.websocket.WebSocketMessageCap;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import io.vertx.ext.web.handler.sockjs.Transport;
import io.vertx.ext.web.handler.sockjs.impl.JsonCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The SockJS event-bus bridge of one gateway instance ({@code /eventbus}, vertx-web's
 * {@link SockJSHandler#bridge}), for browsers on the official client
 * ({@code @vertx/eventbus-bridge-client.js} over {@code sockjs-client}).
 *
 * <p><b>Default deny.</b> The bridge permits outbound registrations only on
 * {@code herald.browser.<topic>} and inbound messages only to {@value #REPLAY_ADDRESS}; on top of
 * that every bridge event goes through {@link #handle(BridgeEvent)}:
 * <ul>
 *   <li>{@code SOCKET_CREATED}: the same admission as the other transports (one SockJS session is
 *       one connection for {@link ConnectionLimiter}, released when it closes) and the same JWT
 *       ({@code Authorization}, {@code ?access_token=} in the bridge URL, or the {@code herald_token}
 *       cookie). A refusal is an {@code err} frame then a close with {@code 4000 + status}.</li>
 *   <li>{@code REGISTER} of {@code herald.browser.<topic>}: a valid topic the socket's grant may
 *       read, at most the {@code maxTopicsPerConnection} of its tier per socket; else one {@code err} frame for the
 *       address ({@code failureCode} the HTTP status, {@code message} the error code), and nothing
 *       from the bridge itself.</li>
 *   <li>{@code REGISTER} of {@code herald.browser.~<pattern>}: a pattern registration, the same
 *       checks (topics and patterns count together), see {@link BridgePattern}.</li>
 *   <li>{@code SEND} to {@value #REPLAY_ADDRESS} with a reply address: a replay, see below.
 *       Every other send or publish is refused.</li>
 *   <li>{@code RECEIVE}: only the replies to this socket's replays. Nothing published on the
 *       event bus ever reaches a browser through the bridge, not even on {@code herald.browser.*}.</li>
 * </ul>
 *
 * <p><b>Delivery.</b> Events do not travel over the event bus to the sockets: for each topic that
 * at least one of its sockets registered, the instance holds one {@link Subscriber} (a
 * {@link BridgeTopic}) in {@link Subscriptions}, and writes each event to the registered sockets
 * as the bridge's own {@code rec} frame, encoded once: {@code {"type":"rec","address":
 * "herald.browser.<topic>","body":<frame>}}, where the frame is the WebSocket/long-poll JSON frame
 * with a single-topic cursor as its {@code id} (any transport takes it as {@code lastEventId}).
 * So a socket gets exactly the events of its instance's subscription, in order, once, however many
 * gateway instances or cluster nodes there are; and a socket that lets more than
 * {@code maxWriteQueueBytes} pile up is dropped like a slow stream.
 *
 * <p><b>Replay.</b> {@code send("herald.browser.replay", {"topic": t, "lastEventId": cursor})}
 * (or {@code {"pattern": p, ...}}, {@link BridgePattern#replay})
 * answers {@code {"id": cursor, "events": [frames], "more": bool}} with what was stored after the
 * cursor, at most {@code maxReplayEvents} frames. When the socket registered the topic, the
 * answer stops where its live events began: replay plus live is then every event once. The
 * answer is computed here, on the socket's instance, and carried back by the bridge's own
 * request/reply through a local echo consumer.
 *
 * <p><b>Client messages</b> are at most {@value #MAX_CLIENT_MESSAGE_BYTES} bytes on every
 * transport: a larger {@code xhr_send} body is answered 413, a larger WebSocket message closes
 * the socket with 1009 before Vert.x assembles it ({@link WebSocketMessageCap}).
 *
 * <p>Confined to the gateway instance's event loop.
 */
public final class SockJSBridge {

  private static final Logger LOG = LoggerFactory.getLogger(SockJSBridge.class);
  private static final AtomicLong IDS = new AtomicLong(1L << 40);

  /** Where the bridge is mounted. */
  static final String PATH = "/eventbus";
  /** Prefix of the addresses a browser registers to receive a topic. */
  static final String ADDRESS_PREFIX = "herald.browser.";
  /** The one address a browser may send to: replay since a cursor. */
  static final String REPLAY_ADDRESS = "herald.browser.replay";
  /** The transport label in metrics and logs. */
  static final String TRANSPORT = GatewayOptions.TRANSPORT_SOCKJS;
  /** Replays one socket may have waiting for their answer. */
  static final int MAX_PENDING_REPLAYS = 4;
  /**
   * Largest message a client sends, bytes, as it travels: the body of one {@code xhr_send}, or one
   * WebSocket message (all its frames). More is answered 413 over XHR, closes a WebSocket with 1009.
   */
  public static final int MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;
  /** Close codes: 4000 plus the HTTP status of the reason; 4013 for a dropped slow socket. */
  static final int CLOSE_UNAUTHORIZED = 4401;
  static final int CLOSE_RATE_LIMITED = 4429;
  static final int CLOSE_UNAVAILABLE = 4503;
  static final int CLOSE_DROPPED = 4013;

  private static final String TOKEN_KEY = "herald.token";

  private final SseGateway gateway;
  private final GatewayOptions options;
  private final Vertx vertx;
  private final Context context;
  private final Map<SockJSSocket, BridgeSocket> sockets = new IdentityHashMap<>();
  private final Map<String, BridgeTopic> topics = new HashMap<>();
  /** Socket and topic of every registration that receives live events (read by tests off the loop). */
  private final Set<String> live = ConcurrentHashMap.newKeySet();
  private final BridgePattern patterns;
  private MessageConsumer<JsonObject> echo;
  /** The sockets one tick writes a heartbeat to, reused. */
  private final List<BridgeSocket> due = new ArrayList<>();
  private boolean draining;

  public SockJSBridge(SseGateway gateway) {
    this.gateway = gateway;
    this.options = gateway.options();
    this.vertx = gateway.vertx();
    this.context = vertx.getOrCreateContext();
    this.patterns = new BridgePattern(gateway);
  }

  /** The pattern registrations ({@code herald.browser.~<pattern>}), see {@link BridgePattern}. */
  public BridgePattern patterns() {
    return patterns;
  }

  /**
   * How many sockets receive the topic's live events: a registration counts once it is
   * positioned, so an event published after this count rose reaches the socket live.
   */
  public long liveRegistrations(String topic) {
    return live.stream().filter(k -> k.endsWith(" " + topic)).count();
  }

  /** Mounts {@code /eventbus/*}; completes once the replay consumer is registered. */
  public Future<Void> mount(Router router) {
    SockJSHandlerOptions sockJs = new SockJSHandlerOptions()
      // The h frames are the gateway's (tick, SockJSHeartbeat): vertx-web's per-session timer
      // writes from the loop where the session began, wrong for xhr-polling on several
      // instances. Never firing unless the session internals are unknown.
      .setHeartbeatInterval(SockJSHeartbeat.AVAILABLE ? Long.MAX_VALUE : options.heartbeatSeconds() * 1000L)
      .setInsertJSESSIONID(false)
      .setRegisterWriteHandler(false)
      // JSONP is read cross-site by a <script> tag, without Origin or CORS; the iframe transports
      // post what they receive to whatever page framed them. Only WebSocket, XHR and EventSource.
      .addDisabledTransport(Transport.JSON_P.name())
      .addDisabledTransport(Transport.HTML_FILE.name());
    SockJSBridgeOptions bridge = new SockJSBridgeOptions()
      .addInboundPermitted(new PermittedOptions().setAddress(REPLAY_ADDRESS))
      .addOutboundPermitted(new PermittedOptions().setAddressRegex("herald\\.browser\\.(?!replay$).+"))
      .setMaxAddressLength(ADDRESS_PREFIX.length() + Math.max(Topics.MAX_TOPIC_LENGTH, BridgePattern.MARK.length() + TopicFilters.MAX_LENGTH))
      .setMaxHandlersPerSocket(options.tiers().maxTopicsPerConnection() + MAX_PENDING_REPLAYS)
      .setReplyTimeout(options.replayTimeoutMillis() + 1000L);
    router.route(PATH + "/*").handler(this::guard).failureHandler(this::failure);
    // SockJS reads xhr_send bodies through vertx-web's BodyHandler: bounded (with or without a
    // Content-Length: sockjs-client in Node.js sends chunked bodies), no uploads to disk.
    router.post(PATH + "/*").handler(BodyHandler.create(false).setBodyLimit(MAX_CLIENT_MESSAGE_BYTES));
    router.postWithRegex(PATH + "/[^/.]+/[^/.]+/xhr_send").handler(this::checkSend);
    router.route(PATH + "/*").subRouter(SockJSHandler.create(vertx, sockJs).bridge(bridge, this::handle));
    // The answer is made by the socket's instance in its SEND hook; any local instance echoes it.
    echo = vertx.eventBus().localConsumer(REPLAY_ADDRESS, msg -> {
      JsonObject body = msg.body();
      int status = body == null ? 500 : body.getInteger("status", 500);
      if (status == 200) {
        msg.reply(body.getJsonObject("answer"));
      } else {
        msg.fail(status, body == null ? ErrorCode.INTERNAL.code() : body.getString("error", ErrorCode.INTERNAL.code()));
      }
    });
    return echo.completion();
  }

  /**
   * Before SockJS: the Origin check of {@code /ws} (SockJS itself would echo any origin, with
   * credentials), no iframe pages, bounded client messages (a declared body over the cap, and on
   * the WebSocket transports {@link WebSocketMessageCap}), and the token read before SockJS
   * strips cookies from the socket's headers.
   */
  private void guard(RoutingContext ctx) {
    var request = ctx.request();
    if (!gateway.webSocketOriginAllowed(request)) {
      Http.error(ctx.response(), ErrorCode.ACCESS_DENIED, "cross-origin use of " + PATH + " is not allowed from this origin");
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
      if (n < 0 || n > MAX_CLIENT_MESSAGE_BYTES) {
        tooLarge(ctx);
        return;
      }
      if (path.endsWith("/xhr")) {
        // SockJS closes the connection after every xhr-polling answer without saying so; a client
        // that reused it (Node.js keeps connections alive) lost its next xhr_send.
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      }
    } else if (request.method() == HttpMethod.GET && path.endsWith("/websocket")) {
      WebSocketMessageCap.install(request.connection(), MAX_CLIENT_MESSAGE_BYTES);
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
  private void checkSend(RoutingContext ctx) {
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
  private void failure(RoutingContext ctx) {
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
    Http.error(ctx.response(), ErrorCode.PAYLOAD_TOO_LARGE, "messages to " + PATH + " are limited to "
      + MAX_CLIENT_MESSAGE_BYTES + " bytes");
  }

  /** The bridge's hook: every event of every socket, see the class comment. */
  public void handle(BridgeEvent event) {
    if (Vertx.currentContext() != context) {
      context.runOnContext(v -> handle(event));
      return;
    }
    BridgeEventType type = event.type();
    if (type == BridgeEventType.SOCKET_CREATED) {
      created(event);
      return;
    }
    BridgeSocket bs = sockets.get(event.socket());
    if (bs == null || bs.closed) {
      // Closing, or never admitted: allow nothing but the bridge's own clean-up.
      event.complete(type == BridgeEventType.SOCKET_CLOSED || type == BridgeEventType.UNREGISTER);
      return;
    }
    switch (type) {
      case SOCKET_CLOSED -> {
        release(bs, "client_closed");
        event.complete(true);
      }
      case REGISTER -> register(event, bs);
      case UNREGISTER -> {
        String address = event.getRawMessage() == null ? null : event.getRawMessage().getString("address");
        if (address != null && address.startsWith(ADDRESS_PREFIX + BridgePattern.MARK)) {
          patterns.unregister(bs, address.substring(ADDRESS_PREFIX.length() + BridgePattern.MARK.length()));
        } else if (address != null && address.startsWith(ADDRESS_PREFIX)) {
          leave(bs, address.substring(ADDRESS_PREFIX.length()));
        }
        event.complete(true);
      }
      case SEND -> send(event, bs);
      case RECEIVE -> {
        String address = event.getRawMessage() == null ? null : event.getRawMessage().getString("address");
        Long timer = address == null ? null : bs.pendingReplies.remove(address);
        if (timer != null) {
          vertx.cancelTimer(timer);
        }
        event.complete(timer != null);
      }
      case PUBLISH -> event.complete(false);
      default -> event.complete(true); // SOCKET_PING, SOCKET_IDLE, SOCKET_ERROR, REGISTERED
    }
  }

  // ---- admission ----

  private void created(BridgeEvent event) {
    SockJSSocket sock = event.socket();
    if (draining) {
      refuse(event, new HeraldException(ErrorCode.SHUTTING_DOWN, "gateway is shutting down"), CLOSE_UNAVAILABLE);
      return;
    }
    String remote = client(sock);
    ConnectionLimiter.Permit permit;
    try {
      permit = gateway.limiter().admit(remote, System.currentTimeMillis());
    } catch (ConnectionLimiter.Refusal r) {
      HeraldMetrics.get().rejected(r.error().code().code());
      refuse(event, r.error(), r.error().code() == ErrorCode.RATE_LIMITED ? CLOSE_RATE_LIMITED : CLOSE_UNAVAILABLE);
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
      if (closedEarly[0] || draining) {
        permit.release();
        event.complete(false);
        return;
      }
      if (ar.failed()) {
        permit.release();
        HeraldException e = HeraldException.from(ar.cause());
        HeraldMetrics.get().rejected(e.code().code());
        refuse(event, e, e.code() == ErrorCode.UNAUTHORIZED ? CLOSE_UNAUTHORIZED
          : e.code() == ErrorCode.RATE_LIMITED ? CLOSE_RATE_LIMITED : CLOSE_UNAVAILABLE);
        return;
      }
      open(event, permit, ar.result());
    });
  }

  /** The client's address: the peer's, or the one its trusted proxies forward ({@code gateway.trustedProxies}). */
  private String client(SockJSSocket sock) {
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
    BridgeSocket bs = new BridgeSocket(IDS.incrementAndGet(), sock, permit, grant);
    bs.heartbeatTicks = SseGateway.ticks(heartbeatOf(sock));
    bs.lastWriteTick = gateway.ticks();
    sockets.put(sock, bs);
    sock.setWriteQueueMaxSize(options.maxWriteQueueBytes());
    gateway.stats().connectionsOpened++;
    HeraldMetrics.get().connectionOpened(TRANSPORT);
    SubscriberTiers.admitted(options.tiers().of(grant));
    if (grant.expiresAtMillis() > 0) {
      long delay = Math.max(1, grant.expiresAtMillis() + options.jwtLeewaySeconds() * 1000L - System.currentTimeMillis());
      bs.expiryTimer = vertx.setTimer(delay, id -> expire(bs));
    }
    LOG.atInfo().addKeyValue("connection", bs.id).addKeyValue("transport", TRANSPORT).addKeyValue("subject", grant.subject())
      .addKeyValue("tier", options.tiers().of(grant).name()).addKeyValue("remote", client(sock)).log("connection opened");
    event.complete(true);
    // Once the bridge has set its handlers (on completion, possibly after this returns): its
    // exception handler logs at ERROR even a client that went away without a close frame.
    context.runOnContext(v -> {
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
      LOG.atWarn().addKeyValue("connection", bs.id).addKeyValue("transport", TRANSPORT).log("socket failed, closing: {}", t.toString());
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

  /**
   * The gateway's tick ({@link SseGateway#tick}): an {@code h} frame for each socket on which
   * nothing was written for its interval.
   */
  public void tick(long now) {
    if (!SockJSHeartbeat.AVAILABLE) {
      return;
    }
    for (BridgeSocket bs : sockets.values()) {
      if (!bs.closed && now - bs.lastWriteTick > bs.heartbeatTicks) {
        due.add(bs); // written after the pass: a write may close a socket, which leaves the map
      }
    }
    try {
      for (BridgeSocket bs : due) {
        bs.lastWriteTick = now - 1; // as in Connection.onTick: every interval exactly when idle
        SockJSHeartbeat.beat(bs.sock);
      }
    } finally {
      due.clear();
    }
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
    sock.write(err(null, e));
    sock.close(code, e.code().code());
    event.complete(false);
  }

  /** {@code {"type":"err","address":..,"failureCode":<status>,"failureType":"RECIPIENT_FAILURE","message":<code>,"body":<code>,"detail":..}}. */
  public static Buffer err(String address, HeraldException e) {
    JsonObject frame = new JsonObject().put("type", "err");
    if (address != null) {
      frame.put("address", address);
    }
    return frame.put("failureCode", e.code().status()).put("failureType", "RECIPIENT_FAILURE")
      .put("message", e.code().code()).put("body", e.code().code()).put("detail", e.getMessage()).toBuffer();
  }

  // ---- registrations ----

  private void register(BridgeEvent event, BridgeSocket bs) {
    String address = event.getRawMessage() == null ? null : event.getRawMessage().getString("address");
    if (address == null || !address.startsWith(ADDRESS_PREFIX) || REPLAY_ADDRESS.equals(address)) {
      refuseRegister(event, bs, address, new HeraldException(ErrorCode.ACCESS_DENIED, "register herald.browser.<topic>"));
      return;
    }
    String topic = address.substring(ADDRESS_PREFIX.length());
    if (topic.startsWith(BridgePattern.MARK)) {
      patterns.register(event, bs, address, topic.substring(BridgePattern.MARK.length()), bs.topics.size());
      return;
    }
    if (!Topics.isValidTopic(topic)) {
      refuseRegister(event, bs, address, new HeraldException(ErrorCode.INVALID_TOPIC, "invalid topic name"));
      return;
    }
    if (bs.topics.containsKey(topic)) {
      event.complete(true); // the bridge answers address_already_registered
      return;
    }
    SubscriberTiers.Tier tier = options.tiers().of(bs.grant);
    if (bs.topics.size() + patterns.count(bs) >= tier.maxTopicsPerConnection()) {
      SubscriberTiers.refused(tier, "topics_per_connection");
      refuseRegister(event, bs, address, new HeraldException(ErrorCode.TOO_MANY_TOPICS,
        "at most " + tier.maxTopicsPerConnection() + " topics and patterns per connection" + tier.suffix()));
      return;
    }
    SubscriberAuth auth = gateway.auth();
    if (auth != null && auth.firstRefused(bs.grant, new String[] {topic}) != null) {
      LOG.atInfo().addKeyValue("connection", bs.id).addKeyValue("subject", bs.grant.subject()).addKeyValue("topic", topic)
        .log("bridge registration refused: topic not allowed");
      refuseRegister(event, bs, address, bs.grant.anonymous()
        ? new HeraldException(ErrorCode.UNAUTHORIZED, "a token is required to read topic \"" + topic + "\"")
        : new HeraldException(ErrorCode.ACCESS_DENIED, "this token may not read topic \"" + topic + "\""));
      return;
    }
    BridgeTopic bt = topics.get(topic);
    if (bt == null) {
      bt = new BridgeTopic(topic);
      topics.put(topic, bt);
      bt.ready = gateway.subscriptions().join(topic, bt, 0);
    }
    Registration reg = new Registration(bt);
    bt.holders++;
    bs.topics.put(topic, reg);
    BridgeTopic joined = bt;
    bt.ready.onComplete(ar -> {
      if (bs.closed || bs.topics.get(topic) != reg) {
        event.complete(false);
        return;
      }
      if (ar.failed()) {
        leave(bs, topic);
        refuseRegister(event, bs, address, new HeraldException(ErrorCode.STORE_UNAVAILABLE, "cannot subscribe to topic; retry"));
        return;
      }
      // Live events after this position go to the socket; a replay stops here.
      reg.started.complete(joined.position);
      joined.sockets.add(bs);
      live.add(bs.id + " " + topic);
      gateway.presence().bridged(topic, bs.id, TRANSPORT, bs.grant, client(bs.sock));
      event.complete(true);
    });
  }

  /**
   * One {@code err} frame for the address, which the official client hands to the handler's
   * callback. The event is left pending on purpose: completing it with {@code false} would make
   * the bridge send a second, generic {@code {"type":"err","body":"rejected"}} without an
   * address (the client's {@code onerror}); a pending event registers nothing and holds nothing
   * once this returns.
   */
  private void refuseRegister(BridgeEvent event, BridgeSocket bs, String address, HeraldException e) {
    HeraldMetrics.get().rejected(e.code().code());
    bs.sock.write(err(address, e));
  }

  private void leave(BridgeSocket bs, String topic) {
    Registration reg = bs.topics.remove(topic);
    if (reg == null) {
      return;
    }
    reg.started.tryFail("unregistered");
    BridgeTopic bt = reg.topic;
    bt.sockets.remove(bs);
    live.remove(bs.id + " " + topic);
    gateway.presence().unbridged(topic, bs.id);
    if (--bt.holders == 0) {
      if (topics.get(topic) == bt) {
        topics.remove(topic);
      }
      gateway.subscriptions().leave(topic, bt);
    }
  }

  // ---- replay ----

  private void send(BridgeEvent event, BridgeSocket bs) {
    JsonObject raw = event.getRawMessage();
    String replyAddress = raw == null ? null : raw.getString("replyAddress");
    if (raw == null || !REPLAY_ADDRESS.equals(raw.getString("address")) || replyAddress == null) {
      event.complete(false);
      return;
    }
    if (bs.pendingReplies.size() >= MAX_PENDING_REPLAYS) {
      answer(event, bs, Future.failedFuture(new HeraldException(ErrorCode.RATE_LIMITED,
        "at most " + MAX_PENDING_REPLAYS + " replays at once per connection")));
      return;
    }
    Future<JsonObject> answer;
    try {
      answer = replay(bs, raw.getValue("body"));
    } catch (HeraldException e) {
      answer = Future.failedFuture(e);
    }
    answer(event, bs, answer);
  }

  /** Puts the answer (or the refusal) in the message the bridge sends on; the echo consumer replies with it. */
  private void answer(BridgeEvent event, BridgeSocket bs, Future<JsonObject> answer) {
    JsonObject raw = event.getRawMessage();
    String replyAddress = raw.getString("replyAddress");
    bs.pendingReplies.put(replyAddress, vertx.setTimer(options.replayTimeoutMillis() + 5000L, id -> bs.pendingReplies.remove(replyAddress)));
    answer.onComplete(ar -> {
      JsonObject body;
      if (ar.succeeded()) {
        body = new JsonObject().put("status", 200).put("answer", ar.result());
      } else {
        HeraldException e = HeraldException.from(ar.cause());
        if (e.code() == ErrorCode.INTERNAL) {
          LOG.warn("connection {}: replay failed: {}", bs.id, ar.cause().toString());
        }
        HeraldMetrics.get().rejected(e.code().code());
        body = new JsonObject().put("status", e.code().status()).put("error", e.code().code());
      }
      raw.put("body", body).remove("headers");
      event.complete(!bs.closed);
    });
  }

  private Future<JsonObject> replay(BridgeSocket bs, Object body) {
    if (body instanceof JsonObject req && req.containsKey("pattern")) {
      return patterns.replay(bs, req);
    }
    if (!(body instanceof JsonObject req) || !(req.getValue("topic") instanceof String topic)) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "send {\"topic\": NAME, \"lastEventId\": CURSOR}");
    }
    if (!Topics.isValidTopic(topic)) {
      throw new HeraldException(ErrorCode.INVALID_TOPIC, "invalid topic name");
    }
    Object last = req.getValue("lastEventId");
    if (last != null && !(last instanceof String)) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "lastEventId is a string");
    }
    SubscriberAuth auth = gateway.auth();
    if (auth != null && auth.firstRefused(bs.grant, new String[] {topic}) != null) {
      throw bs.grant.anonymous()
        ? new HeraldException(ErrorCode.UNAUTHORIZED, "a token is required to read topic \"" + topic + "\"")
        : new HeraldException(ErrorCode.ACCESS_DENIED, "this token may not read topic \"" + topic + "\"");
    }
    Registration reg = bs.topics.get(topic);
    Future<Position> bound = reg == null ? Future.succeededFuture() : reg.started.future();
    String lastEventId = (String) last;
    return bound.recover(t -> Future.succeededFuture()).compose(b -> {
      Position from = null;
      boolean unknown = false;
      if (lastEventId != null && !lastEventId.isEmpty()) {
        Cursor c = lastEventId.length() > options.maxLastEventIdLength() ? null
          : Cursor.parse(lastEventId, options.tiers().maxTopicsPerConnection());
        from = c == null ? null : c.position(topic);
        unknown = from == null;
      }
      if (from == null) {
        // Nothing to replay: the answer says where the topic stands (and resets an unknown cursor).
        Future<Position> here = b != null ? Future.succeededFuture(b)
          : gateway.replay().heads(List.of(topic)).map(h -> h.get(topic));
        boolean reset = unknown;
        return here.map(p -> page(topic, p, reset ? List.of(resetFrame(topic, p, "unknown_last_event_id")) : List.of(), false));
      }
      return read(topic, from, b, bs.grant.anonymous());
    });
  }

  private Future<JsonObject> read(String topic, Position from, Position bound, boolean anonymous) {
    int max = Math.max(1, options.maxReplayEvents());
    if (bound != null && bound.equals(from)) {
      return Future.succeededFuture(page(topic, from, List.of(), false));
    }
    return gateway.replay().read(topic, from, max).transform(ar -> {
      if (ar.failed()) {
        Position at = bound != null ? bound : from;
        return Future.succeededFuture(page(topic, at, List.of(resetFrame(topic, at, "store_unavailable")), false));
      }
      ReadResult r = ar.result();
      HeraldMetrics.get().replayRead(r.events().size());
      if (r.reset() || (bound != null && !bound.epoch().equals(from.epoch()))) {
        Position at = bound != null ? bound : r.head();
        String reason = r.reset() ? r.resetReason() : "history_unavailable";
        return Future.succeededFuture(page(topic, at, List.of(resetFrame(topic, at, reason)), false));
      }
      List<JsonObject> frames = new ArrayList<>();
      Position at = from;
      long bytes = 0;
      boolean more = !r.complete();
      for (Event e : r.events()) {
        if (bound != null && (!e.epoch().equals(bound.epoch()) || e.seq() > bound.seq())) {
          more = false;
          break;
        }
        if (e.privateUpdate() && anonymous) {
          at = e.position(); // a private (Mercure) update: not for an anonymous socket
          continue;
        }
        Buffer frame = new EncodedEvent(e).jsonSingle();
        if (!frames.isEmpty() && bytes + frame.length() > options.maxWriteQueueBytes()) {
          more = true;
          break;
        }
        bytes += frame.length();
        frames.add(new JsonObject(frame));
        at = e.position();
      }
      if (bound != null && at.equals(bound)) {
        more = false;
      }
      return Future.succeededFuture(page(topic, at, frames, more));
    });
  }

  private static JsonObject page(String topic, Position at, List<JsonObject> frames, boolean more) {
    return new JsonObject().put("id", Cursor.single(topic, at.epoch(), at.seq())).put("events", new JsonArray(new ArrayList<>(frames)))
      .put("more", more);
  }

  private static JsonObject resetFrame(String topic, Position at, String reason) {
    return new JsonObject().put("id", Cursor.single(topic, at.epoch(), at.seq())).put("type", "reset")
      .put("data", new JsonObject().put("topic", topic).put("reason", reason));
  }

  // ---- the end of a socket ----

  private void expire(BridgeSocket bs) {
    bs.expiryTimer = -1;
    if (bs.closed) {
      return;
    }
    JsonObject data = new JsonObject().put("reason", "token_expired");
    for (Map.Entry<String, Registration> e : bs.topics.entrySet()) {
      Position p = e.getValue().topic.position;
      if (p != null && e.getValue().topic.sockets.contains(bs)) {
        bs.sock.write(rec(ADDRESS_PREFIX + e.getKey(), JsonFrames.control(Cursor.single(e.getKey(), p.epoch(), p.seq()), "herald.expired", data)));
      }
    }
    patterns.expire(bs);
    close(bs, CLOSE_UNAUTHORIZED, "token_expired");
  }

  /** Ends a socket from this side: released, then closed with {@code code}. */
  private void close(BridgeSocket bs, int code, String reason) {
    release(bs, reason);
    bs.sock.close(code, reason);
  }

  private void release(BridgeSocket bs, String reason) {
    if (bs.closed) {
      return;
    }
    bs.closed = true;
    sockets.remove(bs.sock);
    bs.permit.release();
    if (bs.expiryTimer >= 0) {
      vertx.cancelTimer(bs.expiryTimer);
    }
    for (Long timer : bs.pendingReplies.values()) {
      vertx.cancelTimer(timer);
    }
    bs.pendingReplies.clear();
    for (String topic : new ArrayList<>(bs.topics.keySet())) {
      leave(bs, topic);
    }
    patterns.release(bs);
    HeraldMetrics.get().connectionClosed(TRANSPORT);
    LOG.atInfo().addKeyValue("connection", bs.id).addKeyValue("transport", TRANSPORT).addKeyValue("reason", reason)
      .log("connection closed");
  }

  /** Ends every socket cleanly (shutdown): clients reconnect, elsewhere or later, and replay. */
  public void drain() {
    draining = true;
    for (BridgeSocket bs : new ArrayList<>(sockets.values())) {
      close(bs, CLOSE_UNAVAILABLE, "shutting_down");
    }
    if (echo != null) {
      echo.unregister();
    }
  }

  public int connectionCount() {
    return sockets.size();
  }

  /** {@code {"type":"rec","address":<address>,"body":<frame>}}, sharing the frame's bytes. */
  public static Buffer rec(String address, Buffer frame) {
    byte[] head = ("{\"type\":\"rec\",\"address\":" + Json.encode(address) + ",\"body\":").getBytes(StandardCharsets.UTF_8);
    return BufferInternal.buffer(Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(head), ((BufferInternal) frame).getByteBuf(),
      Unpooled.wrappedBuffer(new byte[] {'}'})));
  }

  /** One admitted SockJS session. */
  private final class BridgeSocket implements BridgePattern.Socket {
    final long id;
    final SockJSSocket sock;
    final ConnectionLimiter.Permit permit;
    final SubscriberAuth.Grant grant;
    final Map<String, Registration> topics = new LinkedHashMap<>();
    /** Reply addresses of this socket's replays still waiting for their answer, with their clean-up timers. */
    final Map<String, Long> pendingReplies = new HashMap<>();
    long expiryTimer = -1;
    boolean closed;
    /** The heartbeat interval, in the gateway's ticks. */
    int heartbeatTicks;
    /** The gateway's tick when a frame was last written to the socket by this bridge. */
    long lastWriteTick;

    public BridgeSocket(long id, SockJSSocket sock, ConnectionLimiter.Permit permit, SubscriberAuth.Grant grant) {
      this.id = id;
      this.sock = sock;
      this.permit = permit;
      this.grant = grant;
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public SubscriberAuth.Grant grant() {
      return grant;
    }

    @Override
    public boolean isClosed() {
      return closed;
    }

    @Override
    public void write(Buffer frame) {
      sock.write(frame);
    }

    @Override
    public void deliver(Buffer frame) {
      if (closed) {
        return;
      }
      sock.write(frame);
      lastWriteTick = gateway.ticks();
      if (sock.writeQueueFull()) {
        LOG.atInfo().addKeyValue("connection", id).addKeyValue("transport", TRANSPORT)
          .addKeyValue("limit", options.maxWriteQueueBytes()).log("slow consumer: write queue full, closing");
        gateway.stats().slowConsumersClosed++;
        HeraldMetrics.get().slowConsumerClosed();
        close(this, CLOSE_DROPPED, "dropped");
      }
    }
  }

  /** One socket's registration of a topic; {@code started} is where its live events began. */
  private static final class Registration {
    final BridgeTopic topic;
    final Promise<Position> started = Promise.promise();

    public Registration(BridgeTopic topic) {
      this.topic = topic;
    }
  }

  /**
   * A topic held for this instance's bridge sockets: one subscriber in {@link Subscriptions}
   * however many sockets registered it, writing each event's frame, encoded once, to all of them.
   */
  private final class BridgeTopic implements Subscriber {
    final String topic;
    final String address;
    final Set<BridgeSocket> sockets = new LinkedHashSet<>();
    /** Registrations (pending or live) that hold this topic. */
    int holders;
    Future<Void> ready;
    Position position;

    public BridgeTopic(String topic) {
      this.topic = topic;
      this.address = ADDRESS_PREFIX + topic;
    }

    @Override
    public void onPosition(int index, Position p) {
      position = p;
    }

    @Override
    public void onEvent(int index, EncodedEvent event) {
      position = event.event().position();
      if (!sockets.isEmpty()) {
        fanOut(rec(address, event.jsonSingle()), event.event().privateUpdate());
      }
    }

    @Override
    public void onReset(int index, Position p, String reason) {
      position = p;
      if (!sockets.isEmpty()) {
        JsonObject data = new JsonObject().put("topic", topic).put("reason", reason);
        gateway.stats().resets += sockets.size();
        HeraldMetrics.get().reset(reason);
        fanOut(rec(address, JsonFrames.control(Cursor.single(topic, p.epoch(), p.seq()), "reset", data)));
      }
    }

    private void fanOut(Buffer frame) {
      fanOut(frame, false);
    }

    /** A private (Mercure) update reaches only sockets whose token was checked for the topic. */
    private void fanOut(Buffer frame, boolean privateUpdate) {
      for (BridgeSocket bs : sockets.toArray(new BridgeSocket[0])) {
        if (!privateUpdate || !bs.grant.anonymous()) {
          bs.deliver(frame);
        }
      }
    }
  }
}
