package io.herald.gateway.presence;

import io.herald.common.Addresses;
import io.herald.common.ClusterView;
import io.herald.common.admin.HeraldMetrics;
import io.herald.gateway.GatewayOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The presence of one gateway process, shared by its gateway instances ({@link #shared}): the
 * {@link PresenceRegistry} of its connections, written to the cluster's {@link PresenceStore}
 * (changed topics within {@link #TICK_MILLIS}, every topic every {@link PresenceStore#REFRESH_MILLIS}),
 * and the {@code join}/{@code leave} changes published on {@link Addresses#presence(String)},
 * where only the gateway instances watching that topic listen ({@link PresenceWatch}). Reads
 * for the API merge every node's snapshot. Thread-safe; timers run on the context of the instance
 * that created it; nothing here blocks (store calls are asynchronous).
 */
public final class Presence implements Shareable {

  private static final Logger LOG = LoggerFactory.getLogger(Presence.class);

  /** Period of the process's presence timer: store writes of changed topics, debounce sweeps, ms. */
  static final long TICK_MILLIS = 250;
  /** Topics the metrics and the dashboard show presence counts for: the largest, at most this many. */
  public static final int TOP_TOPICS = 10;

  private final Vertx vertx;
  private final String node;
  private final PresenceRegistry registry;
  private final PresenceStore store;
  private long lastRefresh;
  /** The first alive mark of this node, once the timer has written it. */
  private volatile Future<Void> firstMark;
  /** Where the slow rewrite of unchanged snapshots goes on ({@link PresenceStore#SNAPSHOT_REFRESH_MILLIS}). */
  private int refreshCursor;
  private volatile long lastTick;
  private long timerStarted;
  private long timer = -1;

  /** False for a presence of another kind ({@link #sharedOf}): no join/leave announced, no metrics. */
  private final boolean topics;

  Presence(Vertx vertx, GatewayOptions options, PresenceStore store) {
    this(vertx, options.presenceDebounceSeconds() * 1000L, options.presenceMaxListed(), store, true);
  }

  private Presence(Vertx vertx, long debounceMillis, int maxListed, PresenceStore store, boolean topics) {
    this.vertx = vertx;
    this.node = ClusterView.nodeId(vertx);
    this.registry = new PresenceRegistry(debounceMillis, maxListed);
    this.store = store;
    this.topics = topics;
  }

  /**
   * A process-wide presence of another kind than the topics' (the Mercure hub's active
   * subscriptions): the same registry, store (with its expiry of a dead node's entries) and
   * timer, under keys ({@code key} of {@link #add}'s entries) that are not topics, so they never
   * meet a topic's presence in the store; it announces no {@code join}/{@code leave} and feeds
   * no metrics. Made and started by the first instance that asks for {@code name}.
   */
  public static Presence sharedOf(Vertx vertx, String name, long debounceMillis, int maxListed) {
    LocalMap<String, Presence> map = vertx.sharedData().getLocalMap("herald.gateway.presence");
    String key = name + "|" + debounceMillis + "|" + maxListed;
    Presence existing = map.get(key);
    if (existing == null) {
      Presence fresh = new Presence(vertx, debounceMillis, maxListed, PresenceStore.create(vertx), false);
      existing = map.putIfAbsent(key, fresh);
      if (existing == null) {
        existing = fresh;
      }
    }
    existing.keepTicking();
    return existing;
  }

  /** The process's presence for gateways of {@code options}, made and started by the first instance that asks. */
  public static Presence shared(Vertx vertx, GatewayOptions options) {
    LocalMap<String, Presence> map = vertx.sharedData().getLocalMap("herald.gateway.presence");
    String key = options.toJson().encode();
    Presence existing = map.get(key);
    if (existing != null) {
      existing.keepTicking();
      return existing;
    }
    Presence fresh = new Presence(vertx, options, PresenceStore.create(vertx));
    existing = map.putIfAbsent(key, fresh);
    if (existing != null) {
      return existing;
    }
    LOG.info("presence store: {} (entries of a dead node expire within {} ms)",
      vertx.isClustered() ? "hazelcast" : "memory", PresenceStore.TTL_MILLIS);
    fresh.keepTicking();
    return fresh;
  }

  /**
   * Starts the timer on the caller's context, or again when the instance that started it was
   * undeployed (its timers went with it): a timer silent for {@code 8 * TICK_MILLIS} is replaced.
   */
  private synchronized void keepTicking() {
    long now = System.currentTimeMillis();
    if (timerStarted > 0 && (lastTick > 0 ? now - lastTick : now - timerStarted) <= 8 * TICK_MILLIS) {
      return;
    }
    if (timer >= 0) {
      vertx.cancelTimer(timer); // a timer that merely lagged is not doubled
    }
    timerStarted = now;
    lastTick = 0;
    timer = vertx.setPeriodic(TICK_MILLIS, id -> tick(System.currentTimeMillis()));
  }

  public String node() {
    return node;
  }

  /** A connection joined a topic; announces the member's {@code join} when it is new here. */
  public void add(PresenceEntry entry, String member) {
    announce(registry.add(entry, member));
  }

  /** A connection left a topic (its entry lingers for the debounce). */
  public void remove(String topic, long connection) {
    announce(registry.remove(topic, connection, System.currentTimeMillis()));
  }

  void tick(long now) {
    lastTick = now;
    announce(registry.sweep(now));
    List<String> topics = registry.drainDirty();
    if (now - lastRefresh >= PresenceStore.REFRESH_MILLIS) {
      lastRefresh = now;
      Future<Void> mark = store.alive(node).onFailure(e -> LOG.debug("presence mark of {} not written: {}", node, e.toString()));
      if (firstMark == null) {
        firstMark = mark;
      }
      // Unchanged snapshots are rewritten a slice at a time, each within SNAPSHOT_REFRESH_MILLIS.
      List<String> all = registry.topics();
      int slice = (int) Math.min(all.size(),
        (all.size() * PresenceStore.REFRESH_MILLIS + PresenceStore.SNAPSHOT_REFRESH_MILLIS - 1) / PresenceStore.SNAPSHOT_REFRESH_MILLIS);
      if (slice > 0) {
        java.util.Set<String> out = new java.util.LinkedHashSet<>(topics);
        for (int i = 0; i < slice; i++) {
          out.add(all.get(Math.floorMod(refreshCursor + i, all.size())));
        }
        refreshCursor = Math.floorMod(refreshCursor + slice, all.size());
        topics = new ArrayList<>(out);
      }
      if (this.topics) {
        HeraldMetrics.get().presence(topCounts());
      }
    }
    for (String t : topics) {
      store.write(node, t, registry.snapshot(node, t))
        .onFailure(e -> LOG.debug("presence of {} not written: {}", t, e.toString()));
    }
  }

  private void announce(List<PresenceRegistry.Change> changes) {
    if (!topics) {
      return;
    }
    for (PresenceRegistry.Change c : changes) {
      PresenceEntry e = c.entry();
      JsonObject frame = new JsonObject().put("topic", e.topic()).put("subject", e.subject()).put("anonymous", e.subject() == null);
      if (e.info() != null) {
        frame.put("info", e.info());
      }
      vertx.eventBus().publish(Addresses.presence(e.topic()), new JsonObject().put("type", c.type()).put("member", c.member())
        .put("node", node).put("frame", frame));
    }
  }

  /**
   * Writes this process's snapshot of {@code key} to the store now rather than at the next tick,
   * so that what follows the returned future (a subscription event) is never seen before the
   * entry it is about.
   */
  public Future<Void> flush(String key) {
    // Before the timer's first mark (a node just started), the snapshot alone would read as nothing.
    Future<Void> mark = firstMark;
    return (mark != null ? mark.recover(e -> Future.succeededFuture()) : store.alive(node))
      .compose(v -> store.write(node, key, registry.snapshot(node, key)));
  }

  /** Every node's snapshots of {@code topic} merged: {@code {"count", "listed", "entries"?}}. */
  public Future<JsonObject> read(String topic, int offset, int limit) {
    return store.read(topic).map(snapshots -> {
      int count = 0;
      boolean listed = true;
      List<JsonObject> entries = new ArrayList<>();
      for (JsonObject s : snapshots) {
        count += s.getInteger("count", 0);
        JsonArray list = s.getJsonArray("entries");
        if (list == null) {
          listed = false;
        } else {
          list.forEach(o -> entries.add((JsonObject) o));
        }
      }
      JsonObject out = new JsonObject().put("topic", topic).put("count", count);
      if (!listed) {
        return out.put("listed", false);
      }
      entries.sort(Comparator.comparing((JsonObject o) -> o.getString("connection")));
      int from = Math.min(offset, entries.size());
      int to = Math.min(entries.size(), from + limit);
      out.put("listed", true).put("entries", new JsonArray(new ArrayList<>(entries.subList(from, to))));
      if (to < entries.size()) {
        out.put("next", PresenceApi.cursor(to));
      }
      return out;
    });
  }

  /** Entries per topic across the cluster. */
  public Future<Integer> count(String topic) {
    return store.read(topic).map(snapshots -> snapshots.stream().mapToInt(s -> s.getInteger("count", 0)).sum());
  }

  /** This process's largest topics by entries, at most {@link #TOP_TOPICS}: {@code [{"topic", "subscribers"}]}. */
  public JsonArray top() {
    return ClusterView.top(registry.counts());
  }

  /** The same as a map, for the metrics. */
  Map<String, Integer> topCounts() {
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    top().forEach(o -> out.put(((JsonObject) o).getString("topic"), ((JsonObject) o).getInteger("subscribers")));
    return out;
  }

  /** The registry, for tests. */
  PresenceRegistry registry() {
    return registry;
  }
}
