package io.herald.gateway.presence;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.spi.cluster.ClusterManager;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@link PresenceStore} of a clustered Vert.x: one cluster-wide map ({@value #MAP}, Hazelcast
 * behind the Vert.x cluster manager, reached through {@code sharedData()} like the per-user
 * counts of {@code admission.ClusterUsers}), key {@code <topic>|<node>}, each snapshot written
 * with a time to live of {@link #SNAPSHOT_TTL_MILLIS}, and one key per node,
 * {@value #ALIVE}{@code <node>}, written with a time to live of {@link #TTL_MILLIS}. A read gets
 * both keys of every current cluster member (the cluster manager's member list, read locally);
 * a snapshot whose node's mark has expired reads as nothing, so a dead node's snapshots vanish
 * at the mark's expiry whether or not the cluster has noticed the death yet. Every call is asynchronous (Hazelcast's async map API): nothing blocks an event loop.
 */
public final class HazelcastPresenceStore implements PresenceStore {

  /** The cluster map of presence snapshots. */
  static final String MAP = "herald.presence";
  /** Prefix of a node's alive mark (no topic starts with {@code _}). */
  static final String ALIVE = "_alive|";
  /**
   * Set in every snapshot written with a mark. A snapshot without it comes from a gateway of a
   * version before the marks (a rolling upgrade): it counts by its own time to live, as it did.
   */
  static final String MARKED = "marked";

  private final Vertx vertx;
  private final ClusterManager cluster;

  public HazelcastPresenceStore(Vertx vertx) {
    this.vertx = vertx;
    this.cluster = ((VertxInternal) vertx).clusterManager();
  }

  @Override
  public Future<Void> write(String node, String topic, JsonObject snapshot) {
    String key = key(topic, node);
    return map().compose(m -> snapshot == null ? m.remove(key).mapEmpty()
      : m.put(key, snapshot.copy().put(MARKED, true), SNAPSHOT_TTL_MILLIS));
  }

  @Override
  public Future<Void> alive(String node) {
    return map().compose(m -> m.put(ALIVE + node, new JsonObject().put("node", node), TTL_MILLIS));
  }

  @Override
  public Future<List<JsonObject>> read(String topic) {
    List<String> nodes = cluster.getNodes();
    return map().compose(m -> {
      List<Future<JsonObject>> reads = new ArrayList<>(2 * nodes.size());
      for (String n : nodes) {
        reads.add(m.get(ALIVE + n));
        reads.add(m.get(key(topic, n)));
      }
      return Future.all(reads).map(all -> {
        List<JsonObject> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i += 2) {
          JsonObject s = all.resultAt(i + 1);
          if (s != null && (all.resultAt(i) != null || !s.getBoolean(MARKED, false))) {
            s.remove(MARKED);
            out.add(s);
          }
        }
        return out;
      });
    });
  }

  private Future<AsyncMap<String, JsonObject>> map() {
    return vertx.sharedData().getAsyncMap(MAP);
  }

  private static String key(String topic, String node) {
    return topic + "|" + node;
  }
}
