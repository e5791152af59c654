package io.herald.gateway.admission;

import io.herald.common.ClusterView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Streams per user across the cluster ({@code gateway.maxConnectionsPerUser}). Each gateway
 * process writes how many streams each of its users holds to a cluster map, one key per user and
 * process ({@code sub|node}) with a time to live, refreshed while the streams last; a process
 * that dies takes its counts with it when they expire ({@value #TTL_MILLIS} ms). Admitting a
 * stream adds the user's counts on the other gateway processes (listed in the {@link ClusterView})
 * to this process's own.
 *
 * <p>The limit is soft by the width of a race: two streams of one user admitted at the same
 * moment on two processes can both pass. Reads of the map that fail or time out admit the stream
 * (the per-process limit still holds): an unreachable map must not lock users out. Without a
 * cluster this does nothing and the per-process count in {@link ConnectionLimiter} is the limit.
 * One instance per process, shared by its gateway instances; all state is thread-safe.
 */
public final class ClusterUsers implements Shareable {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterUsers.class);

  /** The cluster map of per-process stream counts. */
  static final String MAP = "herald.user-streams";
  /** How long a count outlives its last refresh, ms. */
  static final long TTL_MILLIS = 60_000;
  /** How often a process rewrites the counts of its users, ms. */
  static final long REFRESH_MILLIS = 20_000;
  /** Longest wait for the other processes' counts before admitting anyway, ms. */
  static final long READ_TIMEOUT_MILLIS = 1000;

  private final Vertx vertx;
  private final ConnectionLimiter limiter;
  private final String node;
  private final boolean clustered;
  private volatile Set<String> otherNodes = Set.of();

  public ClusterUsers(Vertx vertx, ConnectionLimiter limiter) {
    this.vertx = vertx;
    this.limiter = limiter;
    this.node = ClusterView.nodeId(vertx);
    this.clustered = vertx.isClustered();
    if (clustered) {
      limiter.onUserChange(this::publish);
    }
  }

  /** Starts the timers (on the caller's context): the list of gateway processes and the refresh of this one's counts. */
  public ClusterUsers start() {
    if (clustered) {
      refreshNodes();
      vertx.setPeriodic(ClusterView.REFRESH_MILLIS, id -> refreshNodes());
      vertx.setPeriodic(REFRESH_MILLIS, id -> limiter.userCounts().forEach(this::write));
    }
    return this;
  }

  /**
   * Whether {@code subject}, already counted in this process, stays within {@code max} streams
   * across the cluster. Completes with true when there is no cluster or the counts cannot be read.
   */
  public Future<Boolean> withinLimit(String subject, int max) {
    Set<String> others = otherNodes;
    if (!clustered || others.isEmpty()) {
      return Future.succeededFuture(true);
    }
    int local = limiter.userCount(subject);
    return map().compose(m -> {
        List<Future<Integer>> reads = new ArrayList<>(others.size());
        for (String n : others) {
          reads.add(m.get(key(subject, n)).map(v -> v == null ? 0 : v.getInteger("streams", 0)));
        }
        return Future.all(reads).map(all -> {
          int sum = local;
          for (int i = 0; i < all.size(); i++) {
            sum += all.<Integer>resultAt(i);
          }
          return sum <= max;
        });
      })
      .timeout(READ_TIMEOUT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)
      .recover(t -> {
        LOG.debug("per-user counts unreadable, admitting on the per-process count: {}", t.toString());
        return Future.succeededFuture(true);
      });
  }

  /** This process's count of {@code subject} changed: writes it (or removes it at 0). */
  private void publish(String subject) {
    write(subject, limiter.userCount(subject));
  }

  private void write(String subject, int streams) {
    String key = key(subject, node);
    map().compose(m -> streams <= 0 ? m.remove(key).mapEmpty()
        : m.put(key, new JsonObject().put("streams", streams), TTL_MILLIS))
      .onFailure(t -> LOG.debug("per-user count of {} not written: {}", subject, t.toString()));
  }

  private void refreshNodes() {
    ClusterView.map(vertx).compose(AsyncMap::entries).onSuccess(entries -> {
      Set<String> nodes = new HashSet<>();
      for (Map.Entry<String, JsonObject> e : entries.entrySet()) {
        String n = e.getValue().getString("node");
        if (n != null && !n.equals(node)) {
          nodes.add(n);
        }
      }
      otherNodes = Set.copyOf(nodes);
    });
  }

  private Future<AsyncMap<String, JsonObject>> map() {
    return vertx.sharedData().getAsyncMap(MAP);
  }

  private static String key(String subject, String node) {
    return subject + "|" + node;
  }
}
