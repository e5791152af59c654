package io.herald.gateway.fanout;

import io.herald.common.Addresses;
import io.herald.common.Event;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Per-node fan-out for the instances of one gateway deployment: one consumer of
 * {@link Addresses#EVENTS} for the whole process, registered by the first instance that starts,
 * and a table of which instances hold which topic. An event of a topic no instance holds stops
 * here, on one event loop: the other instances are not woken for it. An event of a held topic
 * goes to each holding instance on its own event loop, in the order the consumer got them (one
 * consumer, one queue per target context: per-topic order holds).
 *
 * <p>An instance enters a topic in the table before it reads the topic's head, so every event
 * stored after that read is handed to it; it leaves the table when its channel goes, and an event
 * already on its way then finds no channel and is dropped by the instance.
 */
final class NodeFanout implements Shareable {

  private static final String MAP = "herald.gateway.fanout";

  private final ConcurrentHashMap<String, CopyOnWriteArrayList<Subscriptions>> holders = new ConcurrentHashMap<>();
  private Future<Void> registered;
  /** Instances joined and not yet gone: the last to go takes the table out of the process's map. */
  private int joined;

  /** The deployment's table, shared by its instances (key: the deployment id). */
  static NodeFanout of(Vertx vertx, String deployment) {
    LocalMap<String, NodeFanout> map = vertx.sharedData().getLocalMap(MAP);
    NodeFanout fresh = new NodeFanout();
    NodeFanout had = map.putIfAbsent(deployment, fresh);
    return had != null ? had : fresh;
  }

  /**
   * Joins an instance; the first registers the consumer on its own context (Vert.x removes it
   * when that instance is undeployed, with the rest of the deployment). Completes when the
   * consumer's registration is in.
   */
  synchronized Future<Void> join(Vertx vertx) {
    joined++;
    if (registered == null) {
      MessageConsumer<Event> consumer = vertx.eventBus().consumer(Addresses.EVENTS, msg -> dispatch(msg.body()));
      registered = consumer.completion();
    }
    return registered;
  }

  /** An instance stops; the last one removes the deployment's table from the process's map. */
  synchronized void leave(Vertx vertx, String deployment) {
    if (--joined == 0) {
      vertx.sharedData().<String, NodeFanout>getLocalMap(MAP).remove(deployment, this);
    }
  }

  /** An instance now holds {@code topic}. */
  void hold(String topic, Subscriptions instance) {
    holders.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).addIfAbsent(instance);
  }

  /** An instance no longer holds {@code topic}. */
  void release(String topic, Subscriptions instance) {
    holders.computeIfPresent(topic, (t, list) -> {
      list.remove(instance);
      return list.isEmpty() ? null : list;
    });
  }

  private void dispatch(Event e) {
    CopyOnWriteArrayList<Subscriptions> held = holders.get(e.topic());
    if (held == null) {
      return;
    }
    Context here = Vertx.currentContext();
    for (Subscriptions s : held) {
      if (s.context() == here) {
        s.deliver(e);
      } else {
        s.context().runOnContext(v -> s.deliver(e));
      }
    }
  }
}
