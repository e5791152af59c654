package io.herald.common;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;

import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The cluster-wide view of the gateways: connections per node and in total, and the topics they
 * hold. Every gateway instance refreshes its own entry in the cluster-wide map {@link #MAP} every
 * {@link #REFRESH_MILLIS} with a time-to-live of {@link #TTL_MILLIS}, so a node that dies drops
 * out by itself. Anyone (admin endpoints, dashboards, limits) reads it with {@link #read}.
 */
public final class ClusterView {

  /** The cluster-wide map of gateway instances: key {@code <node>/<instance>}. */
  public static final String MAP = "herald.gateways";
  /** How often a gateway instance refreshes its entry. */
  public static final long REFRESH_MILLIS = 2000;
  /** How long an entry lives without a refresh. */
  public static final long TTL_MILLIS = 3 * REFRESH_MILLIS;
  /** Most topic names one entry carries (the count is always exact). */
  public static final int MAX_TOPIC_NAMES = 1000;
  /** Most topics an entry (and the aggregate) lists under {@code topTopics}. */
  public static final int MAX_TOP_TOPICS = 10;

  private ClusterView() {
  }

  /** One gateway instance's entry. */
  public static JsonObject entry(String node, int connections, java.util.Collection<String> topics) {
    JsonArray names = new JsonArray();
    for (String t : topics) {
      if (names.size() >= MAX_TOPIC_NAMES) {
        break;
      }
      names.add(t);
    }
    return new JsonObject().put("node", node).put("connections", connections).put("topicCount", topics.size())
      .put("topics", names);
  }

  /**
   * One gateway instance's entry with its counters, for dashboards that turn successive entries
   * into rates: {@link #entry(String, int, java.util.Collection)} plus
   * <ul>
   *   <li>{@code at}: when the entry was made (epoch ms, this node's clock);</li>
   *   <li>{@code deliveries}: event writes to this instance's connections since it started;</li>
   *   <li>{@code published}: events the whole process accepted from publishers since it started
   *       (the same counter in every instance's entry of a node, so per node it is taken once);</li>
   *   <li>{@code topTopics}: {@code [{"topic", "subscribers"}]}, this instance's topics with the most
   *       connections, at most {@link #MAX_TOP_TOPICS}, most first.</li>
   * </ul>
   */
  public static JsonObject entry(String node, int connections, java.util.Collection<String> topics,
                                 long deliveries, long published, Map<String, Integer> subscribersByTopic) {
    return entry(node, connections, topics)
      .put("at", System.currentTimeMillis())
      .put("deliveries", deliveries)
      .put("published", published)
      .put("topTopics", top(subscribersByTopic));
  }

  /** {@code [{"topic", "subscribers"}]}: the {@link #MAX_TOP_TOPICS} largest, most first, ties by name. */
  public static JsonArray top(Map<String, Integer> subscribersByTopic) {
    java.util.PriorityQueue<Map.Entry<String, Integer>> smallest = new java.util.PriorityQueue<>(TOP_ORDER.reversed());
    for (Map.Entry<String, Integer> e : subscribersByTopic.entrySet()) {
      // Once full, most topics rank below the last one kept: skip those without a new entry.
      if (smallest.size() == MAX_TOP_TOPICS && TOP_ORDER.compare(e, smallest.peek()) > 0) {
        continue;
      }
      smallest.add(Map.entry(e.getKey(), e.getValue()));
      if (smallest.size() > MAX_TOP_TOPICS) {
        smallest.poll();
      }
    }
    java.util.List<Map.Entry<String, Integer>> sorted = new java.util.ArrayList<>(smallest);
    sorted.sort(TOP_ORDER);
    JsonArray out = new JsonArray();
    sorted.forEach(e -> out.add(new JsonObject().put("topic", e.getKey()).put("subscribers", e.getValue())));
    return out;
  }

  /** Most subscribers first, then by name. */
  private static final java.util.Comparator<Map.Entry<String, Integer>> TOP_ORDER =
    Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey());

  public static Future<AsyncMap<String, JsonObject>> map(Vertx vertx) {
    return vertx.sharedData().getAsyncMap(MAP);
  }

  /**
   * {@code {"connections": total, "nodes": {"<node>": {"connections": n, "topics": [...],
   * "deliveries": n, "published": n, "topTopics": [...]}}, "topics": [held anywhere],
   * "topTopics": [...]}}. Counters and top topics come from the entries that carry them (see
   * {@link #entry(String, int, java.util.Collection, long, long, Map)}); top topics are merged
   * from each instance's own top list, so they are exact for the topics listed and may miss a
   * topic spread thinly over many instances.
   */
  public static Future<JsonObject> read(Vertx vertx) {
    return map(vertx).compose(AsyncMap::entries).map(ClusterView::aggregate);
  }

  static JsonObject aggregate(Map<String, JsonObject> entries) {
    Map<String, JsonObject> nodes = new TreeMap<>();
    TreeSet<String> all = new TreeSet<>();
    Map<String, Map<String, Integer>> topByNode = new TreeMap<>();
    Map<String, Integer> topAll = new java.util.HashMap<>();
    int total = 0;
    for (JsonObject e : entries.values()) {
      String node = e.getString("node");
      int c = e.getInteger("connections", 0);
      total += c;
      JsonObject n = nodes.computeIfAbsent(node, k -> new JsonObject().put("connections", 0).put("topics", new JsonArray())
        .put("deliveries", 0L).put("published", 0L));
      n.put("connections", n.getInteger("connections") + c);
      n.put("deliveries", n.getLong("deliveries") + e.getLong("deliveries", 0L));
      n.put("published", Math.max(n.getLong("published"), e.getLong("published", 0L)));
      for (Object o : e.getJsonArray("topTopics", new JsonArray())) {
        JsonObject t = (JsonObject) o;
        topByNode.computeIfAbsent(node, k -> new java.util.HashMap<>())
          .merge(t.getString("topic"), t.getInteger("subscribers", 0), Integer::sum);
        topAll.merge(t.getString("topic"), t.getInteger("subscribers", 0), Integer::sum);
      }
      TreeSet<String> merged = new TreeSet<>(n.getJsonArray("topics").getList());
      for (Object t : e.getJsonArray("topics", new JsonArray())) {
        merged.add((String) t);
        all.add((String) t);
      }
      n.put("topics", new JsonArray(new java.util.ArrayList<>(merged)));
    }
    JsonObject byNode = new JsonObject();
    nodes.forEach((node, n) -> byNode.put(node, n.put("topTopics", top(topByNode.getOrDefault(node, Map.of())))));
    return new JsonObject().put("connections", total).put("nodes", byNode).put("topics", new JsonArray(new java.util.ArrayList<>(all)))
      .put("topTopics", top(topAll));
  }

  /** This process's node id in the cluster, or {@code local} when not clustered. */
  public static String nodeId(Vertx vertx) {
    var cm = ((io.vertx.core.internal.VertxInternal) vertx).clusterManager();
    return cm == null ? "local" : cm.getNodeId();
  }
}
