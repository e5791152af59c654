package io.herald.gateway.sockjs;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.Topics;
import io.herald.common.admin.HeraldMetrics;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.JsonFrames;
import io.herald.gateway.SseGateway;
import io.herald.gateway.admission.SubscriberAuth;
import io.herald.gateway.admission.SubscriberTiers;
import io.herald.gateway.fanout.EncodedEvent;
import io.herald.gateway.fanout.Subscriber;
import io.herald.gateway.fanout.Subscriptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The exact-topic registrations of the bridge's sockets ({@code REGISTER} and {@code UNREGISTER}
 * of {@code herald.browser.<topic>}), and the {@link BridgeTopic} per topic that writes its events
 * to them. Confined to the bridge's event loop.
 */
final class BridgeRegistrations {

  private static final Logger LOG = LoggerFactory.getLogger(SockJSBridge.class);

  private final SockJSBridge bridge;
  private final SseGateway gateway;
  private final GatewayOptions options;
  private final Map<String, BridgeTopic> topics = new HashMap<>();
  /** Socket and topic of every registration that receives live events (read by tests off the loop). */
  private final Set<String> live = ConcurrentHashMap.newKeySet();

  BridgeRegistrations(SockJSBridge bridge) {
    this.bridge = bridge;
    this.gateway = bridge.gateway();
    this.options = gateway.options();
  }

  /** See {@link SockJSBridge#liveRegistrations}. */
  long liveRegistrations(String topic) {
    return live.stream().filter(k -> k.endsWith(" " + topic)).count();
  }

  void register(BridgeEvent event, BridgeSocket bs) {
    String address = event.getRawMessage() == null ? null : event.getRawMessage().getString("address");
    if (address == null || !address.startsWith(SockJSBridge.ADDRESS_PREFIX) || SockJSBridge.REPLAY_ADDRESS.equals(address)) {
      refuseRegister(event, bs, address, new HeraldException(ErrorCode.ACCESS_DENIED, "register herald.browser.<topic>"));
      return;
    }
    String topic = address.substring(SockJSBridge.ADDRESS_PREFIX.length());
    if (topic.startsWith(BridgePattern.MARK)) {
      bridge.patterns().register(event, bs, address, topic.substring(BridgePattern.MARK.length()), bs.topics.size());
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
    if (bs.topics.size() + bridge.patterns().count(bs) >= tier.maxTopicsPerConnection()) {
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
    reg.given(clientPosition(event.getRawMessage(), topic));
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
      gateway.presence().bridged(topic, bs.id, SockJSBridge.TRANSPORT, bs.grant, bridge.admission().client(bs.sock));
      event.complete(true);
    });
  }

  /**
   * Where the register's {@code headers.lastEventId} (the client's last id, optional) says the
   * client stands in {@code topic}; null without one or when it is not a cursor of the topic
   * (the replay then answers the reset).
   */
  private Position clientPosition(JsonObject raw, String topic) {
    if (!(raw.getValue("headers") instanceof JsonObject headers) || !(headers.getValue("lastEventId") instanceof String last)
      || last.isEmpty() || last.length() > options.maxLastEventIdLength()) {
      return null;
    }
    Cursor c = Cursor.parse(last, options.tiers().maxTopicsPerConnection());
    return c == null ? null : c.position(topic);
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
    bs.write(BridgeFrames.err(address, e));
  }

  void leave(BridgeSocket bs, String topic) {
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

  /** The socket ended: every topic it registered is released. */
  void release(BridgeSocket bs) {
    for (String topic : new ArrayList<>(bs.topics.keySet())) {
      leave(bs, topic);
    }
  }

  /** The token expired: a {@code herald.expired} frame on each live topic address, with its cursor. */
  void expire(BridgeSocket bs) {
    JsonObject data = new JsonObject().put("reason", "token_expired");
    for (Map.Entry<String, Registration> e : bs.topics.entrySet()) {
      Position p = e.getValue().topic.position;
      if (p != null && e.getValue().topic.sockets.contains(bs)) {
        bs.write(BridgeFrames.rec(SockJSBridge.ADDRESS_PREFIX + e.getKey(),
          JsonFrames.control(Cursor.single(e.getKey(), p.epoch(), p.seq()), "herald.expired", data)));
      }
    }
  }

  /**
   * One socket's registration of a topic; {@code started} is where its live events began, and
   * {@code given} where the client says it stands (its register's or replay's cursor): a live
   * event at or below it is one the client already has, from an earlier session on an instance or
   * node whose channel was ahead of this one, and is not written again (as a {@code Connection}
   * drops what its replay sent).
   */
  static final class Registration {
    final BridgeTopic topic;
    final Promise<Position> started = Promise.promise();
    private Position given;

    Registration(BridgeTopic topic) {
      this.topic = topic;
    }

    /** The client says it has the topic up to {@code p} (null: says nothing). */
    void given(Position p) {
      if (p != null && (given == null || !given.epoch().equals(p.epoch()) || p.seq() > given.seq())) {
        given = p;
      }
    }

    /** Whether the client already has {@code e}; past the first event it lacks, it has no later one either. */
    boolean has(Event e) {
      if (given == null) {
        return false;
      }
      if (given.epoch().equals(e.epoch()) && e.seq() <= given.seq()) {
        return true;
      }
      given = null; // live events come in per-topic order: every later one is new to the client
      return false;
    }

    /** Whether a reset of the topic to {@code p} is moot: the client already stands past it. */
    boolean past(Position p) {
      return given != null && given.epoch().equals(p.epoch()) && p.seq() <= given.seq();
    }
  }

  /**
   * A topic held for this instance's bridge sockets: one subscriber in {@link Subscriptions}
   * however many sockets registered it, writing each event's frame, encoded once, to all of them.
   */
  final class BridgeTopic implements Subscriber {
    final String topic;
    final String address;
    final Set<BridgeSocket> sockets = new LinkedHashSet<>();
    /** Registrations (pending or live) that hold this topic. */
    int holders;
    Future<Void> ready;
    Position position;

    BridgeTopic(String topic) {
      this.topic = topic;
      this.address = SockJSBridge.ADDRESS_PREFIX + topic;
    }

    @Override
    public void onPosition(int index, Position p) {
      position = p;
    }

    @Override
    public void onEvent(int index, EncodedEvent event) {
      position = event.event().position();
      if (!sockets.isEmpty()) {
        Event e = event.event();
        Buffer frame = BridgeFrames.rec(address, event.jsonSingle());
        for (BridgeSocket bs : sockets.toArray(new BridgeSocket[0])) {
          Registration reg = bs.topics.get(topic);
          if ((reg == null || !reg.has(e)) && (!e.privateUpdate() || !bs.grant.anonymous())) {
            bs.deliver(frame); // a private (Mercure) update only to sockets whose token was checked
          }
        }
      }
    }

    @Override
    public void onReset(int index, Position p, String reason) {
      position = p;
      if (!sockets.isEmpty()) {
        JsonObject data = new JsonObject().put("topic", topic).put("reason", reason);
        Buffer frame = BridgeFrames.rec(address, JsonFrames.control(Cursor.single(topic, p.epoch(), p.seq()), "reset", data));
        HeraldMetrics.get().reset(reason);
        for (BridgeSocket bs : sockets.toArray(new BridgeSocket[0])) {
          Registration reg = bs.topics.get(topic);
          if (reg == null || !reg.past(p)) {
            gateway.stats().resets++;
            bs.deliver(frame);
          }
        }
      }
    }
  }
}
