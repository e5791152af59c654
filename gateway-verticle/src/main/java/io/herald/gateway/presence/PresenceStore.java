package io.herald.gateway.presence;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Where each gateway node keeps its part of a topic's presence, so that any node can read the
 * whole. A node writes one <em>snapshot</em> per topic it holds presence for:
 * {@code {"node", "count", "entries": [PresenceEntry JSON] (absent when over the listed limit)}};
 * it rewrites it when it changes (and each at least every {@link #SNAPSHOT_REFRESH_MILLIS}, so
 * that what a dead node left is eventually dropped, {@link #SNAPSHOT_TTL_MILLIS}), and it marks
 * itself {@linkplain #alive alive} every {@link #REFRESH_MILLIS}. The snapshots of a node not
 * marked alive within {@link #TTL_MILLIS} read as nothing: a node that dies (even
 * {@code kill -9}) leaves every topic within {@link #TTL_MILLIS} of its last mark, with nobody
 * having to notice. One write per node every {@link #REFRESH_MILLIS}, not one per topic: a
 * node with 10,000 topics does not rewrite 10,000 snapshots every few seconds.
 *
 * <p>Contract: {@link #read} returns the live snapshots of every node for the topic, in no
 * particular order, the writer's latest or one before it; writing {@code null} removes the
 * node's snapshot. Every method is non-blocking (it returns a future, never waits) and
 * thread-safe. Implementations: {@link MemoryPresenceStore} (one process, no cluster) and
 * {@link HazelcastPresenceStore} (the Vert.x cluster's maps); {@link #create} picks one.
 */
public interface PresenceStore {

  /** How often a node marks itself alive, ms. */
  long REFRESH_MILLIS = 3000;
  /**
   * How long a node's mark lives without a rewrite, ms: the documented bound within which a dead
   * node's entries leave (9 s, under the 10 s promised in docs/clients.md).
   */
  long TTL_MILLIS = 3 * REFRESH_MILLIS;
  /** How often a node rewrites each snapshot that did not change, at least, ms. */
  long SNAPSHOT_REFRESH_MILLIS = 10 * 60_000;
  /** How long a snapshot lives without a rewrite, ms: what a dead node left is dropped by then. */
  long SNAPSHOT_TTL_MILLIS = 3 * SNAPSHOT_REFRESH_MILLIS;

  /**
   * Marks {@code node} alive for {@link #TTL_MILLIS}. A store of one process, where every reader
   * is the writer, needs no mark (the default does nothing).
   */
  default Future<Void> alive(String node) {
    return Future.succeededFuture();
  }

  /** Replaces {@code node}'s snapshot of {@code topic}; {@code null} removes it. */
  Future<Void> write(String node, String topic, JsonObject snapshot);

  /** Every live node's snapshot of {@code topic}. */
  Future<List<JsonObject>> read(String topic);

  /** The store of this Vert.x: Hazelcast's maps when clustered, else a process-local map. */
  static PresenceStore create(Vertx vertx) {
    return vertx.isClustered() ? new HazelcastPresenceStore(vertx) : new MemoryPresenceStore();
  }
}
