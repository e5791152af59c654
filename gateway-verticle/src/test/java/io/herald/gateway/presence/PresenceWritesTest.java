package io.herald.gateway.presence;

import io.herald.gateway.GatewayOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a node writes to its presence store, driven by an explicit clock ({@link Presence#tick}):
 * changed topics at the next tick, an alive mark every {@link PresenceStore#REFRESH_MILLIS}, and
 * the unchanged snapshots a slice at a time, each within {@link PresenceStore#SNAPSHOT_REFRESH_MILLIS},
 * not all of them every few seconds (on Hazelcast each write is a cluster operation).
 */
class PresenceWritesTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** The memory store, counting writes per topic and alive marks. */
  private static final class Counting implements PresenceStore {
    final PresenceStore memory = new MemoryPresenceStore();
    final Map<String, Integer> writes = new HashMap<>();
    int marks;

    @Override
    public synchronized Future<Void> write(String node, String topic, JsonObject snapshot) {
      writes.merge(topic, 1, Integer::sum);
      return memory.write(node, topic, snapshot);
    }

    @Override
    public Future<List<JsonObject>> read(String topic) {
      return memory.read(topic);
    }

    @Override
    public synchronized Future<Void> alive(String node) {
      marks++;
      return Future.succeededFuture();
    }

    synchronized int total() {
      return writes.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  @Test
  @DisplayName("1,000 unchanged topics: an alive mark every refresh, each snapshot rewritten within the slow refresh, never all at once")
  void unchangedTopicsAreRewrittenSlowly() {
    Counting store = new Counting();
    Presence presence = new Presence(vertx, new GatewayOptions(), store);
    int topics = 1000;
    for (int i = 0; i < topics; i++) {
      presence.add(new PresenceEntry("t" + i, null, i, "sse", "n1", 0, null), "c" + i);
    }
    long now = 1_000_000;
    presence.tick(now);
    assertThat(store.writes).as("every new topic written at the next tick").hasSize(topics);
    assertThat(store.marks).isEqualTo(1);
    store.writes.clear();

    // A whole slow refresh period, one tick every 250 ms as the timer does.
    long ticks = PresenceStore.SNAPSHOT_REFRESH_MILLIS / Presence.TICK_MILLIS;
    int maxPerRefresh = 0;
    int before = 0;
    for (long t = 1; t <= ticks; t++) {
      presence.tick(now + t * Presence.TICK_MILLIS);
      if (t % (PresenceStore.REFRESH_MILLIS / Presence.TICK_MILLIS) == 0) {
        maxPerRefresh = Math.max(maxPerRefresh, store.total() - before);
        before = store.total();
      }
    }
    assertThat(store.marks).as("one mark per refresh").isEqualTo(1 + (int) (PresenceStore.SNAPSHOT_REFRESH_MILLIS / PresenceStore.REFRESH_MILLIS));
    assertThat(store.writes).as("every unchanged snapshot rewritten within the slow refresh").hasSize(topics);
    assertThat(store.writes.values()).as("once or twice each, not every few seconds").allMatch(n -> n <= 2);
    long slices = PresenceStore.SNAPSHOT_REFRESH_MILLIS / PresenceStore.REFRESH_MILLIS;
    assertThat(maxPerRefresh).as("a slice per refresh").isLessThanOrEqualTo((int) ((topics + slices - 1) / slices));
  }

  @Test
  @DisplayName("A topic that changes is written at the next tick, however recently it was")
  void changedTopicsAtTheNextTick() {
    Counting store = new Counting();
    Presence presence = new Presence(vertx, new GatewayOptions(), store);
    presence.add(new PresenceEntry("t", null, 1, "sse", "n1", 0, null), "c1");
    presence.tick(1_000_000);
    presence.add(new PresenceEntry("t", null, 2, "sse", "n1", 0, null), "c2");
    presence.tick(1_000_000 + Presence.TICK_MILLIS);
    assertThat(store.writes).containsEntry("t", 2);
    assertThat(List.copyOf(store.writes.keySet())).containsExactly("t");
  }
}
