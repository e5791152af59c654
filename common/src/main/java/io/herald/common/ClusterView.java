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

  public static Future<AsyncMap<String, JsonObject>> map(Vertx vertx) {
    return vertx.sharedData().getAsyncMap(MAP);
  }

  /**
   * {@code {"connections": total, "nodes": {"<node>": {"connections": n, "topics": [...]}},
   * "topics": [held anywhere]}}.
   */
  public static Future<JsonObject> read(Vertx vertx) {
    return map(vertx).compose(AsyncMap::entries).map(ClusterView::aggregate);
  }

  static JsonObject aggregate(Map<String, JsonObject> entries) {
    Map<String, JsonObject> nodes = new TreeMap<>();
    TreeSet<String> all = new TreeSet<>();
    int total = 0;
    for (JsonObject e : entries.values()) {
      String node = e.getString("node");
      int c = e.getInteger("connections", 0);
      total += c;
      JsonObject n = nodes.computeIfAbsent(node, k -> new JsonObject().put("connections", 0).put("topics", new JsonArray()));
      n.put("connections", n.getInteger("connections") + c);
      TreeSet<String> merged = new TreeSet<>(n.getJsonArray("topics").getList());
      for (Object t : e.getJsonArray("topics", new JsonArray())) {
        merged.add((String) t);
        all.add((String) t);
      }
      n.put("topics", new JsonArray(new java.util.ArrayList<>(merged)));
    }
    JsonObject byNode = new JsonObject();
    nodes.forEach(byNode::put);
    return new JsonObject().put("connections", total).put("nodes", byNode).put("topics", new JsonArray(new java.util.ArrayList<>(all)));
  }

  /** This process's node id in the cluster, or {@code local} when not clustered. */
  public static String nodeId(Vertx vertx) {
    var cm = ((io.vertx.core.internal.VertxInternal) vertx).clusterManager();
    return cm == null ? "local" : cm.getNodeId();
  }
}
