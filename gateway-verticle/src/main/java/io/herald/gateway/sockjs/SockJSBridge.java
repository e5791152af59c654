package io.herald.gateway.sockjs;

import io.herald.common.ErrorCode;
import io.herald.common.Topics;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.pattern.TopicFilters;
import io.herald.gateway.Connection;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.SseGateway;
import io.herald.gateway.admission.ConnectionLimiter;
import io.herald.gateway.fanout.Subscriber;
import io.herald.gateway.fanout.Subscriptions;
import io.herald.gateway.websocket.WebSocketMessageCap;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import io.vertx.ext.web.handler.sockjs.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

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
 * {@link BridgeRegistrations.BridgeTopic}) in {@link Subscriptions}, and writes each event to the registered sockets
 * as the bridge's own {@code rec} frame, encoded once: {@code {"type":"rec","address":
 * "herald.browser.<topic>","body":<frame>}}, where the frame is the WebSocket/long-poll JSON frame
 * with a single-topic cursor as its {@code id} (any transport takes it as {@code lastEventId}).
 * So a socket gets exactly the events of its instance's subscription, in order, once, however many
 * gateway instances or cluster nodes there are; and a socket that lets more than
 * {@code maxWriteQueueBytes} pile up (bytes written whose write has not completed, replay answers
 * included) is dropped like a slow stream, see {@link BridgeSocket}.
 *
 * <p><b>Replay.</b> {@code send("herald.browser.replay", {"topic": t, "lastEventId": cursor})}
 * (or {@code {"pattern": p, ...}}, {@link BridgePattern#replay})
 * answers {@code {"id": cursor, "events": [frames], "more": bool}} with what was stored after the
 * cursor, at most {@code maxReplayEvents} frames. When the socket registered the topic, the
 * answer stops where its live events began: replay plus live is then every event once. The
 * client's cursor, given in the register's {@code headers.lastEventId} or in the replay, also
 * holds back the live events it says the client has (a client that an instance or node ahead of
 * this one served before), as a {@code Connection} drops what its replay sent. The
 * answer is computed here, on the socket's instance, and carried back by the bridge's own
 * request/reply through a local echo consumer.
 *
 * <p><b>Client messages</b> are at most {@value #MAX_CLIENT_MESSAGE_BYTES} bytes on every
 * transport: a larger {@code xhr_send} body is answered 413, a larger WebSocket message closes
 * the socket with 1009 before Vert.x assembles it ({@link WebSocketMessageCap}).
 *
 * <p><b>Layout.</b> This class mounts the bridge and routes its events; the work is done by
 * package-private classes, one per concern: {@link BridgeAdmission} (the HTTP guard and each new
 * socket), {@link BridgeSocket} (one socket's state and writes), {@link BridgeRegistrations}
 * (exact topics), {@link BridgePattern} (patterns), {@link BridgeReplay} (replays) and
 * {@link BridgeFrames} (the {@code rec} and {@code err} frames).
 *
 * <p>Confined to the gateway instance's event loop.
 */
public final class SockJSBridge {

  private static final Logger LOG = LoggerFactory.getLogger(SockJSBridge.class);

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

  private final SseGateway gateway;
  private final GatewayOptions options;
  private final Vertx vertx;
  private final Context context;
  private final Map<SockJSSocket, BridgeSocket> sockets = new IdentityHashMap<>();
  private final BridgePattern patterns;
  private final BridgeAdmission admission;
  private final BridgeRegistrations registrations;
  private final BridgeReplay replay;
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
    this.admission = new BridgeAdmission(this);
    this.registrations = new BridgeRegistrations(this);
    this.replay = new BridgeReplay(this);
  }

  SseGateway gateway() {
    return gateway;
  }

  GatewayOptions options() {
    return options;
  }

  Context context() {
    return context;
  }

  BridgeAdmission admission() {
    return admission;
  }

  boolean draining() {
    return draining;
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
    return registrations.liveRegistrations(topic);
  }

  /** How many replay answers this bridge has written to its sockets (read by tests off the loop). */
  public long replayAnswers() {
    return replay.answered();
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
    router.route(PATH + "/*").handler(admission::guard).failureHandler(admission::failure);
    // SockJS reads xhr_send bodies through vertx-web's BodyHandler: bounded (with or without a
    // Content-Length: sockjs-client in Node.js sends chunked bodies), no uploads to disk.
    router.post(PATH + "/*").handler(BodyHandler.create(false).setBodyLimit(MAX_CLIENT_MESSAGE_BYTES));
    router.postWithRegex(PATH + "/[^/.]+/[^/.]+/xhr_send").handler(admission::checkSend);
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

  /** The bridge's hook: every event of every socket, see the class comment. */
  public void handle(BridgeEvent event) {
    if (Vertx.currentContext() != context) {
      context.runOnContext(v -> handle(event));
      return;
    }
    BridgeEventType type = event.type();
    if (type == BridgeEventType.SOCKET_CREATED) {
      admission.created(event);
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
      case REGISTER -> registrations.register(event, bs);
      case UNREGISTER -> {
        String address = event.getRawMessage() == null ? null : event.getRawMessage().getString("address");
        if (address != null && address.startsWith(ADDRESS_PREFIX + BridgePattern.MARK)) {
          patterns.unregister(bs, address.substring(ADDRESS_PREFIX.length() + BridgePattern.MARK.length()));
        } else if (address != null && address.startsWith(ADDRESS_PREFIX)) {
          registrations.leave(bs, address.substring(ADDRESS_PREFIX.length()));
        }
        event.complete(true);
      }
      case SEND -> replay.send(event, bs);
      case RECEIVE -> replay.received(event, bs);
      case PUBLISH -> event.complete(false);
      default -> event.complete(true); // SOCKET_PING, SOCKET_IDLE, SOCKET_ERROR, REGISTERED
    }
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

  // ---- the end of a socket ----

  /** An admitted socket, from now on the bridge's. */
  void opened(BridgeSocket bs) {
    sockets.put(bs.sock, bs);
  }

  void expire(BridgeSocket bs) {
    bs.expiryTimer = -1;
    if (bs.closed) {
      return;
    }
    registrations.expire(bs);
    patterns.expire(bs);
    // A SockJS session hands each write to its transport's event loop and drops the writes still
    // on their way when it is closed: close once the herald.expired frames are out (at the latest
    // after EXPIRED_FLUSH_MILLIS, for a client that reads nothing). Released now: nothing else goes out.
    io.vertx.core.Future<Void> written = bs.lastWrite();
    release(bs, "token_expired");
    long guard = vertx.setTimer(EXPIRED_FLUSH_MILLIS, id -> bs.sock.close(CLOSE_UNAUTHORIZED, "token_expired"));
    written.onComplete(ar -> {
      vertx.cancelTimer(guard);
      bs.sock.close(CLOSE_UNAUTHORIZED, "token_expired");
    });
  }

  /** How long an expired socket's last frames may take to be written before it is closed anyway. */
  static final long EXPIRED_FLUSH_MILLIS = 5000;

  /** Ends a socket from this side: released, then closed with {@code code}. */
  void close(BridgeSocket bs, int code, String reason) {
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
    registrations.release(bs);
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
}
