package io.herald.standalone;

import io.herald.common.ClusterView;
import io.herald.common.HeraldLauncher;
import io.herald.common.config.ClusterOptions;
import io.herald.gateway.presence.HazelcastPresenceStore;
import io.herald.gateway.presence.MemoryPresenceStore;
import io.herald.gateway.presence.PresenceStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The presence store contract on both backends, and what only Hazelcast has to do: one node's
 * snapshot read from another, and a snapshot nobody refreshes gone within the time to live
 * while its node is still a member (the path a hung or partitioned node takes; a killed one is
 * also dropped from the member list, see PresenceClusterIT). Two clustered nodes in one JVM.
 */
class HazelcastPresenceStoreTest {

  private static Vertx nodeA;
  private static Vertx nodeB;

  @BeforeAll
  static void formCluster() throws Exception {
    ClusterOptions cluster = new ClusterOptions(new JsonObject().put("enabled", true)
      .put("name", "herald-presence-" + ProcessHandle.current().pid()));
    nodeA = await(HeraldLauncher.clusteredVertx(cluster));
    nodeB = await(HeraldLauncher.clusteredVertx(cluster));
  }

  @AfterAll
  static void leave() throws Exception {
    for (Vertx v : new Vertx[] {nodeB, nodeA}) {
      if (v != null) {
        await(v.close());
      }
    }
  }

  private static void contract(PresenceStore writerA, PresenceStore writerB, PresenceStore reader, String a, String b) throws Exception {
    String topic = "contract-" + System.nanoTime();
    assertThat(await(reader.read(topic))).isEmpty();
    await(writerA.alive(a));
    await(writerB.alive(b));
    await(writerA.write(a, topic, new JsonObject().put("node", a).put("count", 1)));
    await(writerB.write(b, topic, new JsonObject().put("node", b).put("count", 2)));
    assertThat(await(reader.read(topic))).extracting(o -> o.getString("node")).containsExactlyInAnyOrder(a, b);
    await(writerA.write(a, topic, new JsonObject().put("node", a).put("count", 5)));
    assertThat(await(reader.read(topic))).extracting(o -> o.getInteger("count")).containsExactlyInAnyOrder(5, 2);
    await(writerB.write(b, topic, null));
    assertThat(await(reader.read(topic))).extracting(o -> o.getString("node")).containsExactly(a);
    await(writerA.write(a, topic, null));
    assertThat(await(reader.read(topic))).isEmpty();
  }

  @Test
  @DisplayName("The contract holds in memory and on Hazelcast, where each node reads what the other wrote")
  void contractOnBothBackends() throws Exception {
    MemoryPresenceStore memory = new MemoryPresenceStore();
    contract(memory, memory, memory, "n1", "n2");
    contract(new HazelcastPresenceStore(nodeA), new HazelcastPresenceStore(nodeB), new HazelcastPresenceStore(nodeB),
      ClusterView.nodeId(nodeA), ClusterView.nodeId(nodeB));
  }

  @Test
  @DisplayName("On Hazelcast the snapshots of a node nobody marks alive again are gone within the time to live, the node still a member")
  void expires() throws Exception {
    String topic = "expiring-" + System.nanoTime();
    String a = ClusterView.nodeId(nodeA);
    HazelcastPresenceStore writer = new HazelcastPresenceStore(nodeA);
    await(writer.alive(a));
    await(writer.write(a, topic, new JsonObject().put("node", a).put("count", 1)));
    long written = System.nanoTime();
    PresenceStore reader = new HazelcastPresenceStore(nodeB);
    assertThat(await(reader.read(topic))).hasSize(1);
    // The bound docs/clients.md promises is the store's time to live (9 s), a setting checked
    // here; the expiry itself is Hazelcast's, waited for, not timed: gone eventually, while the
    // node that wrote it is still a member (nothing but the time to live removed it).
    assertThat(PresenceStore.TTL_MILLIS).as("the time to live docs/clients.md promises").isEqualTo(9000);
    long deadline = written + Duration.ofSeconds(60).toNanos();
    List<JsonObject> seen = await(reader.read(topic));
    while (!seen.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(100);
      seen = await(reader.read(topic));
    }
    System.out.printf("HazelcastPresenceStoreTest: gone %d ms after the write (time to live %d ms)%n",
      (System.nanoTime() - written) / 1_000_000, PresenceStore.TTL_MILLIS);
    assertThat(seen).as("the entry, %d ms after the write", (System.nanoTime() - written) / 1_000_000).isEmpty();
    assertThat(((io.vertx.core.internal.VertxInternal) nodeB).clusterManager().getNodes()).contains(a);
  }

  @Test
  @DisplayName("On Hazelcast a snapshot of a gateway from before the alive marks (a rolling upgrade) counts by its own time to live")
  void snapshotOfAnEarlierVersion() throws Exception {
    String topic = "legacy-" + System.nanoTime();
    String a = ClusterView.nodeId(nodeA);
    // What such a gateway wrote: its snapshot alone, 9 s to live, and no mark of its node (one
    // another test left is taken away).
    await(nodeA.sharedData().<String, JsonObject>getAsyncMap("herald.presence")
      .compose(m -> m.remove("_alive|" + a).compose(x -> m.put(topic + "|" + a, new JsonObject().put("node", a).put("count", 3), PresenceStore.TTL_MILLIS))));
    assertThat(await(new HazelcastPresenceStore(nodeB).read(topic))).extracting(o -> o.getInteger("count")).containsExactly(3);
    // (A snapshot of this version whose node's mark has lapsed does not count: expires().)
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
