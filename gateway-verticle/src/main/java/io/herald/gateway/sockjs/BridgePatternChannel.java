package io.herald.gateway.sockjs;

import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.pattern.TopicFilter;
import io.herald.gateway.JsonFrames;
import io.herald.gateway.SseGateway;
import io.herald.gateway.fanout.EncodedEvent;
import io.herald.gateway.fanout.PatternSubscriber;
import io.herald.gateway.fanout.TopicAt;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A pattern held for this instance's bridge sockets ({@link BridgePattern}): one member of the
 * pattern's channel however many sockets registered it, following where the channel stands
 * ({@code logAt} and the topics given above it) and writing each event's frame, encoded once, to
 * all of them, with a {@code reset} when the channel or a topic's history changes. Confined to
 * the gateway instance's event loop.
 */
final class BridgePatternChannel implements PatternSubscriber {

  private final BridgePattern owner;
  private final SseGateway gateway;
  final String key;
  final TopicFilter filter;
  final String address;
  final Set<BridgePattern.Socket> sockets = new LinkedHashSet<>();
  /** Registrations (pending or live) that hold this pattern. */
  int holders;
  Future<Void> ready;
  Position logAt;
  final LinkedHashMap<String, TopicAt> above = new LinkedHashMap<>();

  BridgePatternChannel(BridgePattern owner, SseGateway gateway, String key, TopicFilter filter, String address) {
    this.owner = owner;
    this.gateway = gateway;
    this.key = key;
    this.filter = filter;
    this.address = address;
  }

  BridgePattern.Start start() {
    return new BridgePattern.Start(logAt, Map.copyOf(above));
  }

  String cursor() {
    return start().cursor(key);
  }

  @Override
  public void onPatternPosition(int index, Position at, Map<String, TopicAt> aboveAt) {
    logAt = at;
    above.clear();
    above.putAll(aboveAt);
  }

  @Override
  public void onPatternEvent(int index, EncodedEvent ev) {
    Event e = ev.event();
    Position log = e.log();
    if (log == null || logAt == null || (log.epoch().equals(logAt.epoch()) && log.seq() <= logAt.seq())) {
      return;
    }
    String topic = e.topic();
    TopicAt at = above.get(topic);
    if (at != null && at.epoch().equals(e.epoch()) && e.seq() <= at.seq()) {
      return;
    }
    if (at != null && !at.epoch().equals(e.epoch())
      && !(e.prev() != null && e.prev().epoch().equals(at.epoch()) && e.prev().seq() == at.seq())) {
      // The topic's history changed under us (a store outage or restart): say so before going on.
      above.remove(topic);
      if (!sockets.isEmpty()) {
        gateway.stats().resets += sockets.size();
        HeraldMetrics.get().reset("history_lost");
        fanOut(BridgeFrames.rec(address, JsonFrames.control(cursor(), "reset",
          new JsonObject().put("topic", topic).put("pattern", filter.source()).put("reason", "history_lost"))));
      }
    }
    above.remove(topic);
    above.put(topic, new TopicAt(e.epoch(), e.seq(), log.seq()));
    if (above.size() > BridgePattern.MAX_ABOVE) {
      // The channel cannot bring topics under logAt (its store is not answering): the oldest
      // entry leaves the cursor, and a resume may give that topic's events again.
      Iterator<String> it = above.keySet().iterator();
      it.next();
      it.remove();
    }
    if (!sockets.isEmpty()) {
      Buffer frame = BridgeFrames.rec(address, JsonFrames.withId(cursor(), ev.jsonTail()));
      for (BridgePattern.Socket s : sockets.toArray(new BridgePattern.Socket[0])) {
        BridgePattern.Registration reg = owner.registration(s, key);
        if (reg == null || !reg.has(e)) {
          s.deliver(frame);
        }
      }
    }
  }

  @Override
  public void onPatternCovered(int index, Position at) {
    if (logAt != null && at.epoch().equals(logAt.epoch()) && at.seq() > logAt.seq()) {
      logAt = at;
      long w = at.seq();
      above.values().removeIf(t -> t.log() <= w);
    }
  }

  @Override
  public void onPatternReset(int index, Position at, String reason) {
    logAt = at;
    above.clear();
    if (!sockets.isEmpty()) {
      gateway.stats().resets += sockets.size();
      HeraldMetrics.get().reset(reason);
      fanOut(BridgeFrames.rec(address, JsonFrames.control(cursor(), "reset",
        new JsonObject().put("pattern", filter.source()).put("reason", reason))));
    }
  }

  private void fanOut(Buffer frame) {
    for (BridgePattern.Socket s : sockets.toArray(new BridgePattern.Socket[0])) {
      s.deliver(frame);
    }
  }
}
