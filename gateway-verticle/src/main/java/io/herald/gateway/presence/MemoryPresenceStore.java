package io.herald.gateway.presence;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link PresenceStore} of a process that is not clustered (the all-in-one hub): one map in
 * memory. Its only writer is this process, which removes what it no longer holds, so nothing
 * expires. Bounded by the topics this process holds connections on.
 */
public final class MemoryPresenceStore implements PresenceStore {

  private final Map<String, Map<String, JsonObject>> byTopic = new ConcurrentHashMap<>();

  @Override
  public Future<Void> write(String node, String topic, JsonObject snapshot) {
    if (snapshot == null) {
      byTopic.computeIfPresent(topic, (t, nodes) -> {
        nodes.remove(node);
        return nodes.isEmpty() ? null : nodes;
      });
    } else {
      byTopic.computeIfAbsent(topic, t -> new ConcurrentHashMap<>()).put(node, snapshot.copy());
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<List<JsonObject>> read(String topic) {
    Map<String, JsonObject> nodes = byTopic.get(topic);
    return Future.succeededFuture(nodes == null ? List.of() : new ArrayList<>(nodes.values()));
  }
}
