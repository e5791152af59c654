package io.herald.gateway.sockjs;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.pattern.TopicFilter;
import io.herald.common.pattern.TopicFilters;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.JsonFrames;
import io.herald.gateway.SseGateway;
import io.herald.gateway.admission.SubscriberAuth;
import io.herald.gateway.admission.SubscriberTiers;
import io.herald.gateway.fanout.TopicAt;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pattern registrations of the SockJS bridge: a browser that registers
 * {@code herald.browser.~<pattern>} receives every event of every topic the pattern matches,
 * topics first published later included, on that address.
 *
 * <p><b>The pattern</b> is the text after {@code ~}, in the syntax of {@code pattern=} on
 * {@code /events}, and its kind is chosen the same way ({@link TopicFilters#parse(String)}): with
 * {@code ://} a URL Pattern or a URI template, else Herald's syntax ({@code *}, a final
 * {@code **}); text without any pattern syntax matches one topic (kind exact). Unlike
 * {@code /events}, which turns such a pattern into an exact topic, the bridge keeps it on its
 * {@code ~} address as a one-topic pattern (its frames carry pattern cursors).
 *
 * <p><b>Delivery.</b> Per pattern key, the instance holds one {@link BridgePatternChannel}: one member of the
 * instance's {@link io.herald.gateway.fanout.PatternChannel} however many sockets registered the
 * pattern. It mirrors where the channel stands (a log position {@code logAt} and the few topics
 * given above it, as {@code PatternState} does for a stream) and writes each event, encoded once,
 * as a {@code rec} frame whose body is the {@code /ws} frame (with its {@code topic}) and whose
 * {@code id} is the pattern's cursor: an entry {@code ~<key>} for {@code logAt} and one entry per
 * topic above it, the form {@code /events?pattern=} takes as {@code Last-Event-ID}. Each
 * registration is served on its own: an event of a topic the socket also registered exactly,
 * or that two of its patterns match, arrives on each of those addresses.
 *
 * <p><b>Resume</b> as for exact topics: register first, then
 * {@code send("herald.browser.replay", {"pattern": p, "lastEventId": cursor})}; the answer is
 * every matching event after the cursor up to where the registration's live events began
 * (its channel position when it registered), read from the store's log, skipping what the
 * cursor's topic entries say the client has. Replay plus live is every event once. The reading
 * is {@link BridgePatternReplay}'s.
 *
 * <p>Confined to the gateway instance's event loop.
 */
public final class BridgePattern {

  private static final Logger LOG = LoggerFactory.getLogger(BridgePattern.class);

  /** What marks a pattern in a registered address: {@code herald.browser.~<pattern>}. */
  static final String MARK = "~";
  /** Topics above {@code logAt} a pattern keeps in its cursor, as {@code PatternState.MAX_ABOVE}. */
  static final int MAX_ABOVE = 32;
  /** Log reads one replay answer may make before it answers {@code more}. */
  static final int MAX_READS_PER_ANSWER = 8;

  /** A bridge socket as the patterns see it. */
  interface Socket {
    long id();

    SubscriberAuth.Grant grant();

    boolean isClosed();

    /** Writes an event or control frame (a slow socket is dropped). */
    void deliver(Buffer frame);

    /** Writes a frame of the bridge's own (an {@code err}). */
    void write(Buffer frame);
  }

  private final SseGateway gateway;
  private final GatewayOptions options;
  private final Map<String, BridgePatternChannel> channels = new HashMap<>();
  private final Map<Socket, Map<String, Registration>> sockets = new IdentityHashMap<>();
  /** Socket and pattern of every registration that receives live events (read by tests off the loop). */
  private final Set<String> live = ConcurrentHashMap.newKeySet();
  private final BridgePatternReplay replays;

  BridgePattern(SseGateway gateway) {
    this.gateway = gateway;
    this.options = gateway.options();
    this.replays = new BridgePatternReplay(this, gateway);
  }

  /** How many sockets receive the pattern's live events (the pattern as registered, without {@code ~}). */
  public long liveRegistrations(String pattern) {
    return live.stream().filter(k -> k.endsWith(" " + pattern)).count();
  }

  /** How many patterns {@code s} registered (pending or live). */
  int count(Socket s) {
    Map<String, Registration> regs = sockets.get(s);
    return regs == null ? 0 : regs.size();
  }

  // ---- registrations ----

  /**
   * A {@code REGISTER} of {@code herald.browser.~<text>}: the same checks as an exact topic
   * (syntax, the tier's topics and patterns per socket, the token), then live from where the
   * pattern's channel stands. {@code topics} is how many exact topics the socket holds.
   */
  void register(BridgeEvent event, Socket s, String address, String text, int topics) {
    TopicFilter filter;
    try {
      filter = TopicFilters.parse(text);
    } catch (IllegalArgumentException e) {
      refuse(s, address, text, new HeraldException(ErrorCode.INVALID_REQUEST, "invalid pattern: " + e.getMessage()));
      return;
    }
    String key = TopicFilters.key(filter);
    Map<String, Registration> regs = sockets.get(s);
    if (regs != null && regs.containsKey(key)) {
      event.complete(true); // the bridge answers address_already_registered
      return;
    }
    SubscriberTiers.Tier tier = options.tiers().of(s.grant());
    if (topics + count(s) >= tier.maxTopicsPerConnection()) {
      SubscriberTiers.refused(tier, "topics_per_connection");
      refuse(s, address, text, new HeraldException(ErrorCode.TOO_MANY_TOPICS,
        "at most " + tier.maxTopicsPerConnection() + " topics and patterns per connection" + tier.suffix()));
      return;
    }
    HeraldException denied = denied(s.grant(), filter);
    if (denied != null) {
      refuse(s, address, text, denied);
      return;
    }
    BridgePatternChannel ch = channels.get(key);
    if (ch == null) {
      ch = new BridgePatternChannel(this, gateway, key, filter, address);
      channels.put(key, ch);
      ch.ready = gateway.subscriptions().joinPattern(filter, ch, 0);
    }
    Registration reg = new Registration(ch);
    if (event.getRawMessage().getValue("headers") instanceof JsonObject headers && headers.getValue("lastEventId") instanceof String last) {
      reg.given(parse(last), key);
    }
    ch.holders++;
    sockets.computeIfAbsent(s, k -> new LinkedHashMap<>()).put(key, reg);
    BridgePatternChannel joined = ch;
    ch.ready.onComplete(ar -> {
      if (s.isClosed() || registration(s, key) != reg) {
        event.complete(false);
        return;
      }
      if (ar.failed()) {
        leave(s, key);
        refuse(s, address, text, new HeraldException(ErrorCode.STORE_UNAVAILABLE, "cannot subscribe to pattern; retry"));
        return;
      }
      // Live events after this position go to the socket; a replay stops here.
      reg.started.complete(joined.start());
      joined.sockets.add(s);
      live.add(s.id() + " " + text);
      event.complete(true);
    });
  }

  /** An {@code UNREGISTER} of {@code herald.browser.~<text>}. */
  void unregister(Socket s, String text) {
    try {
      leave(s, TopicFilters.key(TopicFilters.parse(text)));
    } catch (IllegalArgumentException e) {
      // never registered: nothing to release
    }
  }

  Registration registration(Socket s, String key) {
    Map<String, Registration> regs = sockets.get(s);
    return regs == null ? null : regs.get(key);
  }

  private void leave(Socket s, String key) {
    Map<String, Registration> regs = sockets.get(s);
    Registration reg = regs == null ? null : regs.remove(key);
    if (reg == null) {
      return;
    }
    if (regs.isEmpty()) {
      sockets.remove(s);
    }
    reg.started.tryFail("unregistered");
    BridgePatternChannel ch = reg.channel;
    ch.sockets.remove(s);
    live.remove(s.id() + " " + ch.filter.source());
    if (--ch.holders == 0) {
      if (channels.get(key) == ch) {
        channels.remove(key);
      }
      gateway.subscriptions().leavePattern(ch.filter, ch);
    }
  }

  /** The socket ended: every pattern it registered is released. */
  void release(Socket s) {
    Map<String, Registration> regs = sockets.get(s);
    if (regs != null) {
      for (String key : new ArrayList<>(regs.keySet())) {
        leave(s, key);
      }
    }
  }

  /** The token expired: a {@code herald.expired} frame on each live pattern address, with its cursor. */
  void expire(Socket s) {
    Map<String, Registration> regs = sockets.get(s);
    if (regs == null) {
      return;
    }
    JsonObject data = new JsonObject().put("reason", "token_expired");
    for (Registration reg : regs.values()) {
      BridgePatternChannel ch = reg.channel;
      if (ch.logAt != null && ch.sockets.contains(s)) {
        s.deliver(BridgeFrames.rec(ch.address, JsonFrames.control(ch.cursor(), "herald.expired", data)));
      }
    }
  }

  /** A pattern cursor a client sent, or null when it is none (too long, or not a cursor). */
  Cursor parse(String lastEventId) {
    return lastEventId.isEmpty() || lastEventId.length() > options.maxLastEventIdLength() ? null
      : Cursor.parse(lastEventId, options.tiers().maxTopicsPerConnection() + 1 + MAX_ABOVE);
  }

  /** Why {@code grant} may not read every topic {@code filter} can match, or null when it may. */
  HeraldException denied(SubscriberAuth.Grant grant, TopicFilter filter) {
    SubscriberAuth auth = gateway.auth();
    if (auth == null || auth.firstRefused(grant, new TopicFilter[] {filter}) == null) {
      return null;
    }
    if (grant.anonymous()) {
      return new HeraldException(ErrorCode.UNAUTHORIZED, "a token is required to read pattern \"" + filter.source() + "\"");
    }
    LOG.atInfo().addKeyValue("subject", grant.subject()).addKeyValue("pattern", filter.source())
      .log("bridge registration refused: pattern not covered by its token");
    return new HeraldException(ErrorCode.ACCESS_DENIED, "this token may not read every topic of pattern \""
      + filter.source() + "\" (a pattern needs one grant that covers all it can match)");
  }

  /**
   * The bridge's refusal of a registration ({@link BridgeFrames#err}) with the pattern named in
   * a {@code pattern} field; the event stays pending, as for exact topics.
   */
  private static void refuse(Socket s, String address, String pattern, HeraldException e) {
    HeraldMetrics.get().rejected(e.code().code());
    s.write(new JsonObject(BridgeFrames.err(address, e)).put("pattern", pattern).toBuffer());
  }

  // ---- replay ----

  /** A replay of a pattern, see {@link BridgePatternReplay#replay}. */
  Future<JsonObject> replay(Socket s, JsonObject req) {
    return replays.replay(s, req);
  }

  /** The name of a pattern's own entry in a cursor, as on {@code /events}. */
  static String entryName(String key) {
    return MARK + key;
  }

  // ---- state ----

  /** Where a registration went live: the channel's {@code logAt} and the topics above it. */
  record Start(Position logAt, Map<String, TopicAt> above) {

    /** The highest log position this start says was given. */
    long maxLog() {
      long max = logAt.seq();
      for (TopicAt at : above.values()) {
        max = Math.max(max, at.log());
      }
      return max;
    }

    /** An event above {@code logAt} that this start counts as given (so not live: replayed). */
    boolean covers(Event e) {
      TopicAt at = above.get(e.topic());
      return at != null && at.epoch().equals(e.epoch()) && e.seq() <= at.seq();
    }

    String cursor(String key) {
      List<String> entries = new ArrayList<>(above.size() + 1);
      entries.add(Cursor.entry(entryName(key), logAt.epoch(), logAt.seq()));
      above.forEach((t, at) -> entries.add(Cursor.entry(t, at.epoch(), at.seq())));
      return Cursor.join(entries.toArray(new String[0]));
    }
  }

  /**
   * One socket's registration of a pattern; {@code started} is where its live events began, and
   * {@code given} the client's cursor (its register's or replay's): a live event it says the
   * client has, from an earlier session on an instance or node whose channel was ahead of this
   * one, is not written again.
   */
  static final class Registration {
    final BridgePatternChannel channel;
    final Promise<Start> started = Promise.promise();
    private Cursor given;
    private Position givenLog;

    Registration(BridgePatternChannel channel) {
      this.channel = channel;
    }

    /**
     * The client's cursor {@code c} for the pattern of {@code key} (null: none, or not a cursor).
     * One naming the pattern further on in the log replaces an earlier one.
     */
    void given(Cursor c, String key) {
      Position log = c == null ? null : c.position(entryName(key));
      if (log != null && (givenLog == null || !givenLog.epoch().equals(log.epoch()) || log.seq() >= givenLog.seq())) {
        given = c;
        givenLog = log;
      }
    }

    /** Whether the client's cursor says it has {@code e}: at or below its log position, or its topic's entry. */
    boolean has(Event e) {
      if (given == null) {
        return false;
      }
      Position log = e.log();
      if (log != null && log.epoch().equals(givenLog.epoch()) && log.seq() <= givenLog.seq()) {
        return true;
      }
      Position at = given.position(e.topic());
      return at != null && at.epoch().equals(e.epoch()) && e.seq() <= at.seq();
    }
  }
}
