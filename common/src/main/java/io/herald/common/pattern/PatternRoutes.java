package io.herald.common.pattern;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The publishing side's view of the pattern subscriptions held in the cluster: which pattern
 * keys ({@link TopicFilters#key}) some gateway instance holds, indexed so that a published
 * topic finds its matching keys at the cost of a {@link PatternIndex} lookup, and at no cost at
 * all while no gateway holds a pattern.
 *
 * <p>Gateway instances announce their keys on {@link io.herald.common.Addresses#PATTERNS}
 * ({@link #add}, {@link #remove}, and every {@link #REFRESH_MILLIS} their {@link #full} set);
 * a set not refreshed for {@link #EXPIRY_MILLIS} is dropped, so the keys of a gateway that died
 * stop costing a publish within that time (events sent meanwhile to an address nobody consumes
 * are dropped by the event bus). A key held by several instances stays while one holds it.
 *
 * <p>Not thread-safe: one instance per event loop (a replay verticle instance).
 */
public final class PatternRoutes {

  /** How often a gateway instance announces its full set of keys, ms. */
  public static final long REFRESH_MILLIS = 10_000;
  /** A gateway instance whose set was not refreshed for this long is forgotten, ms. */
  public static final long EXPIRY_MILLIS = 3 * REFRESH_MILLIS;

  private final PatternIndex<String> index = new PatternIndex<>();
  private final Map<String, Set<String>> nodesByKey = new HashMap<>();
  private final Map<String, Set<String>> keysByNode = new HashMap<>();
  private final Map<String, Long> seen = new HashMap<>();

  /** An announcement: {@code node} now also holds {@code keys}. */
  public static JsonObject add(String node, Iterable<String> keys) {
    return message(node, "add", keys);
  }

  /** An announcement: {@code node} no longer holds {@code keys}. */
  public static JsonObject remove(String node, Iterable<String> keys) {
    return message(node, "remove", keys);
  }

  /** An announcement: {@code node} holds exactly {@code keys}. */
  public static JsonObject full(String node, Iterable<String> keys) {
    return message(node, "full", keys);
  }

  private static JsonObject message(String node, String op, Iterable<String> keys) {
    JsonArray arr = new JsonArray();
    keys.forEach(arr::add);
    return new JsonObject().put("node", node).put("op", op).put("keys", arr);
  }

  /** Applies an announcement received at {@code now} (ms); malformed ones and keys are ignored. */
  public void apply(JsonObject msg, long now) {
    String node = msg.getString("node");
    String op = msg.getString("op");
    JsonArray keys = msg.getJsonArray("keys");
    if (node == null || op == null || keys == null) {
      return;
    }
    seen.put(node, now);
    switch (op) {
      case "add" -> keys.forEach(k -> hold(node, k));
      case "remove" -> keys.forEach(k -> drop(node, k));
      case "full" -> {
        Set<String> now2 = new HashSet<>();
        keys.forEach(k -> {
          if (k instanceof String s) {
            now2.add(s);
          }
        });
        Set<String> held = keysByNode.get(node);
        if (held != null) {
          for (String k : Set.copyOf(held)) {
            if (!now2.contains(k)) {
              drop(node, k);
            }
          }
        }
        now2.forEach(k -> hold(node, k));
      }
      default -> {
      }
    }
  }

  private void hold(String node, Object key) {
    if (!(key instanceof String k)) {
      return;
    }
    Set<String> nodes = nodesByKey.get(k);
    if (nodes == null) {
      TopicFilter filter;
      try {
        filter = TopicFilters.fromKey(k);
      } catch (IllegalArgumentException bad) {
        return;
      }
      nodes = new HashSet<>();
      nodesByKey.put(k, nodes);
      index.add(filter, k);
    }
    nodes.add(node);
    keysByNode.computeIfAbsent(node, n -> new HashSet<>()).add(k);
  }

  private void drop(String node, Object key) {
    if (!(key instanceof String k)) {
      return;
    }
    Set<String> held = keysByNode.get(node);
    if (held != null) {
      held.remove(k);
      if (held.isEmpty()) {
        keysByNode.remove(node);
      }
    }
    Set<String> nodes = nodesByKey.get(k);
    if (nodes != null && nodes.remove(node) && nodes.isEmpty()) {
      nodesByKey.remove(k);
      index.remove(TopicFilters.fromKey(k), k);
    }
  }

  /** Forgets the sets of gateway instances not heard from for {@link #EXPIRY_MILLIS}. */
  public void expire(long now) {
    for (Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Long> e = it.next();
      if (now - e.getValue() > EXPIRY_MILLIS) {
        it.remove();
        Set<String> held = keysByNode.get(e.getKey());
        if (held != null) {
          for (String k : Set.copyOf(held)) {
            drop(e.getKey(), k);
          }
        }
      }
    }
  }

  /** True while no gateway holds a pattern: a publish then looks nothing up. */
  public boolean isEmpty() {
    return nodesByKey.isEmpty();
  }

  /** The keys held in the cluster. */
  public Set<String> keys() {
    return Set.copyOf(nodesByKey.keySet());
  }

  /** Gives every held key whose filter matches {@code topic}, each once. */
  public void forEachKey(String topic, Consumer<String> action) {
    if (nodesByKey.isEmpty()) {
      return;
    }
    index.forEachMatch(topic, action);
  }
}
