package io.herald.gateway.presence;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The registry's entries and debounce, driven by an explicit clock: no timers, no sleeps. */
class PresenceRegistryTest {

  private static final long DEBOUNCE = 5000;

  private static PresenceEntry entry(String topic, String subject, long connection) {
    return new PresenceEntry(topic, subject, connection, "sse", "n1", 1000, null);
  }

  private static List<String> types(List<PresenceRegistry.Change> changes) {
    return changes.stream().map(c -> c.type() + ":" + c.member()).toList();
  }

  @Test
  @DisplayName("A member's first connection is a join, a second one is nothing")
  void joinOnce() {
    PresenceRegistry r = new PresenceRegistry(DEBOUNCE, 100);
    assertThat(types(r.add(entry("t", "alice", 1), "alice"))).containsExactly("join:alice");
    assertThat(r.add(entry("t", "alice", 2), "alice")).isEmpty();
    assertThat(types(r.add(entry("t", "bob", 3), "bob"))).containsExactly("join:bob");
    assertThat(r.counts()).containsEntry("t", 3);
    assertThat(r.members("t")).isEqualTo(2);
  }

  @Test
  @DisplayName("A reconnect within the debounce is neither a leave nor a join; the new entry replaces the old")
  void reconnectWithinDebounce() {
    PresenceRegistry r = new PresenceRegistry(DEBOUNCE, 100);
    r.add(entry("t", "alice", 1), "alice");
    assertThat(r.remove("t", 1, 10_000)).isEmpty();
    assertThat(r.sweep(14_999)).isEmpty();
    assertThat(r.counts()).containsEntry("t", 1); // still listed while it lingers
    assertThat(r.add(entry("t", "alice", 2), "alice")).isEmpty();
    assertThat(r.sweep(20_000)).isEmpty();
    JsonObject snap = r.snapshot("n1", "t");
    assertThat(snap.getInteger("count")).isEqualTo(1);
    assertThat(snap.getJsonArray("entries").getJsonObject(0).getString("connection")).isEqualTo("n1/2");
  }

  @Test
  @DisplayName("A member gone for the whole debounce leaves, once, when its last entry goes")
  void leaveAfterDebounce() {
    PresenceRegistry r = new PresenceRegistry(DEBOUNCE, 100);
    r.add(entry("t", "alice", 1), "alice");
    r.add(entry("t", "alice", 2), "alice");
    r.remove("t", 1, 10_000);
    assertThat(r.sweep(15_000)).isEmpty(); // connection 2 still holds alice
    r.remove("t", 2, 16_000);
    assertThat(r.remove("t", 2, 16_500)).isEmpty(); // a second release changes nothing
    assertThat(r.sweep(20_999)).isEmpty();
    assertThat(types(r.sweep(21_000))).containsExactly("leave:alice");
    assertThat(r.counts()).doesNotContainKey("t");
    assertThat(r.snapshot("n1", "t")).isNull();
    assertThat(r.drainDirty()).containsExactly("t");
    assertThat(r.drainDirty()).isEmpty();
  }

  @Test
  @DisplayName("With a debounce of 0 a leave comes at once")
  void noDebounce() {
    PresenceRegistry r = new PresenceRegistry(0, 100);
    r.add(entry("t", null, 1), "anonymous@127.0.0.1");
    assertThat(types(r.remove("t", 1, 10))).containsExactly("leave:anonymous@127.0.0.1");
  }

  @Test
  @DisplayName("Above maxListed a snapshot carries the count only; topics are independent")
  void countsOnlyAboveMaxListed() {
    PresenceRegistry r = new PresenceRegistry(DEBOUNCE, 2);
    for (int i = 1; i <= 3; i++) {
      r.add(entry("big", "u" + i, i), "u" + i);
    }
    r.add(entry("small", "u1", 9), "u1");
    assertThat(r.snapshot("n1", "big").getInteger("count")).isEqualTo(3);
    assertThat(r.snapshot("n1", "big").containsKey("entries")).isFalse();
    assertThat(r.snapshot("n1", "small").getJsonArray("entries")).hasSize(1);
    assertThat(r.topics()).containsExactlyInAnyOrder("big", "small");
  }

  @Test
  @DisplayName("The memory store merges nodes' snapshots and forgets a removed one")
  void memoryStore() throws Exception {
    MemoryPresenceStore store = new MemoryPresenceStore();
    store.write("n1", "t", new JsonObject().put("node", "n1").put("count", 1));
    store.write("n2", "t", new JsonObject().put("node", "n2").put("count", 2));
    assertThat(store.read("t").result()).hasSize(2);
    store.write("n1", "t", null);
    assertThat(store.read("t").result()).extracting(o -> o.getString("node")).containsExactly("n2");
    store.write("n2", "t", null);
    assertThat(store.read("t").result()).isEmpty();
  }
}
