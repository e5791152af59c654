package io.herald.replay;

import io.herald.common.Addresses;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.RegistrationInfo;

import java.util.List;

/**
 * Which of the two delivery addresses a stored event goes to: {@link Addresses#topic(String)} for
 * gateways that fan out per topic, {@link Addresses#EVENTS} for those that fan out per node
 * ({@code gateway.fanout}).
 *
 * <p>In a cluster, a publish to an address nobody consumes is not free: the event bus caches
 * only the addresses that have consumers, so each such publish asks the cluster manager again
 * (a Hazelcast map read). So the replay role looks, every {@link #POLL_MILLIS} ms, whether any
 * gateway consumes {@link Addresses#EVENTS} and whether any per-topic gateway is there (each
 * registers {@link Addresses#FANOUT_TOPIC_GATEWAYS}), and publishes only where someone listens.
 * Until the first look, and whenever a look fails, it publishes to both. A gateway that joins in
 * between misses nothing: its channels check the store's head while their routes spread, and
 * fill what was published meanwhile. Alone, it publishes on the topic's address always (a
 * local lookup), and on {@link Addresses#EVENTS} once a per-node gateway of the process has
 * entered it in {@link Addresses#FANOUT_LOCAL_MAP}, which it does before it listens.
 */
final class FanoutRoutes {

  /** How often the cluster's gateways are looked at, ms. */
  static final long POLL_MILLIS = 500;

  private volatile boolean topicGateways = true;
  private volatile boolean nodeGateways = true;
  private long timer = -1;
  /** Alone: where a per-node gateway of this process says so ({@link Addresses#FANOUT_LOCAL_MAP}). */
  private volatile io.vertx.core.shareddata.LocalMap<String, Boolean> local;

  /** Starts looking: in a cluster at the cluster's registrations, alone at what this process's gateways said. */
  void start(Vertx vertx) {
    ClusterManager cm = ((io.vertx.core.internal.VertxInternal) vertx).clusterManager();
    if (cm == null) {
      local = vertx.sharedData().getLocalMap(Addresses.FANOUT_LOCAL_MAP);
      return;
    }
    poll(cm);
    timer = vertx.setPeriodic(POLL_MILLIS, id -> poll(cm));
  }

  void stop(Vertx vertx) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void poll(ClusterManager cm) {
    consumed(cm, Addresses.EVENTS).onComplete(ar -> nodeGateways = ar.failed() || ar.result());
    consumed(cm, Addresses.FANOUT_TOPIC_GATEWAYS).onComplete(ar -> topicGateways = ar.failed() || ar.result());
  }

  private static io.vertx.core.Future<Boolean> consumed(ClusterManager cm, String address) {
    Promise<List<RegistrationInfo>> p = Promise.promise();
    cm.getRegistrations(address, p);
    return p.future().map(list -> !list.isEmpty());
  }

  /** Publish on the topic's address. */
  boolean perTopic() {
    return topicGateways;
  }

  /** Publish on {@link Addresses#EVENTS}. */
  boolean perNode() {
    io.vertx.core.shareddata.LocalMap<String, Boolean> l = local;
    return l == null ? nodeGateways : l.containsKey(Addresses.EVENTS);
  }
}
