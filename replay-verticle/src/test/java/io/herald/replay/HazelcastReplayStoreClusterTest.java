package io.herald.replay;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.LongStream;

import static io.herald.replay.HazelcastMembers.memberConfig;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What only the clustered {@link HazelcastReplayStore} promises, each test on members (or a clustered Vert.x) of its
 * own: the factory on a clustered Vert.x, history that survives the loss of a member, concurrent appends on two
 * members numbering one topic without duplicates or holes, and a byte budget that counts the appends of the whole
 * cluster. The contract runs in {@link HazelcastReplayStoreTest}.
 */
class HazelcastReplayStoreClusterTest extends ReplayStoreFixture {

  @Override
  protected ReplayStore createStore(ReplayOptions options, LongSupplier clock) {
    throw new UnsupportedOperationException("these tests build their stores on members of their own");
  }

  @Override
  protected boolean holdsState(ReplayStore store, String topic) {
    throw new UnsupportedOperationException("these tests build their stores on members of their own");
  }

  @Test
  @DisplayName("on a clustered Vert.x the factory builds a hazelcast store over the cluster's own Hazelcast")
  void factoryOnClusteredVertx() throws Exception {
    Vertx clustered = Vertx.builder()
      .withClusterManager(new HazelcastClusterManager(memberConfig("herald-test-" + UUID.randomUUID())))
      .buildClustered().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    try {
      ReplayOptions options = new ReplayOptions(new JsonObject().put("store", "hazelcast"));
      ReplayStore s = ReplayStoreFactory.create(clustered, options);
      CompletableFuture<Position> done = new CompletableFuture<>();
      clustered.runOnContext(v -> ((HazelcastReplayStore) s).init()
        .compose(x -> s.append(List.of(draft(topic("f"), "x"))))
        .compose(events -> s.head(topic("f")))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            done.complete(ar.result());
          } else {
            done.completeExceptionally(ar.cause());
          }
        }));

      assertThat(s.name()).isEqualTo("hazelcast");
      assertThat(done.get(TIMEOUT_SECONDS, TimeUnit.SECONDS).seq()).isEqualTo(1);
    } finally {
      clustered.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("history appended on one member is read intact from another after the first is killed")
  void survivesMemberLoss() {
    String cluster = "herald-test-" + UUID.randomUUID();
    HazelcastInstance one = Hazelcast.newHazelcastInstance(memberConfig(cluster));
    HazelcastInstance two = Hazelcast.newHazelcastInstance(memberConfig(cluster));
    try {
      assertThat(two.getCluster().getMembers()).hasSize(2);
      ReplayOptions options = new ReplayOptions();
      ReplayStore onOne = onContext(() -> new HazelcastReplayStore(vertx, one, options));
      ReplayStore onTwo = onContext(() -> new HazelcastReplayStore(vertx, two, options));
      List<String> topics = new ArrayList<>();
      List<Event> stored = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        topics.add(topic("loss" + t));
      }
      for (int i = 0; i < 5; i++) {
        for (String t : topics) {
          stored.addAll(append(onOne, new EventDraft(t, "message", t + "#" + i, false, "key" + i)));
        }
      }

      one.getLifecycleService().terminate();

      for (String t : topics) {
        List<Event> expected = stored.stream().filter(e -> e.topic().equals(t)).toList();
        Position head = expected.get(expected.size() - 1).position();
        assertThat(head(onTwo, t)).isEqualTo(head);
        assertThat(readAll(onTwo, t, new Position(head.epoch(), 0))).containsExactlyElementsOf(expected);
        assertThat(append(onTwo, new EventDraft(t, "message", "dup", false, "key0")).get(0))
          .as("idempotency keys survive too").isEqualTo(expected.get(0));
        assertThat(append(onTwo, draft(t, "after")).get(0).position()).isEqualTo(new Position(head.epoch(), 6));
      }
      await(onTwo::close);
    } finally {
      one.getLifecycleService().terminate();
      two.shutdown();
    }
  }

  @Test
  @DisplayName("concurrent appends from stores on two members to one topic get seqs 1..N without duplicates or holes")
  void concurrentAppendsOnTwoMembers() throws Exception {
    String cluster = "herald-test-" + UUID.randomUUID();
    HazelcastInstance one = Hazelcast.newHazelcastInstance(memberConfig(cluster));
    HazelcastInstance two = Hazelcast.newHazelcastInstance(memberConfig(cluster));
    Vertx other = Vertx.vertx();
    try {
      ReplayOptions options = new ReplayOptions();
      ReplayStore onOne = onContext(() -> new HazelcastReplayStore(vertx, one, options));
      ReplayStore onTwo = new HazelcastReplayStore(other, two, options);
      String t = topic("race");
      int perStore = 100;
      CompletableFuture<List<List<Event>>> fromTwo = new CompletableFuture<>();
      other.runOnContext(v -> {
        List<Future<List<Event>>> fs = new ArrayList<>();
        for (int i = 0; i < perStore; i++) {
          fs.add(onTwo.append(List.of(draft(t, "two-" + i), draft(t, "two-" + i + "b"))));
        }
        Future.all(fs).onComplete(ar -> {
          if (ar.succeeded()) {
            fromTwo.complete(ar.result().list());
          } else {
            fromTwo.completeExceptionally(ar.cause());
          }
        });
      });
      List<List<Event>> fromOne = await(() -> {
        List<Future<List<Event>>> fs = new ArrayList<>();
        for (int i = 0; i < perStore; i++) {
          fs.add(onOne.append(List.of(draft(t, "one-" + i), draft(t, "one-" + i + "b"))));
        }
        return Future.all(fs).map(c -> c.<List<Event>>list());
      });
      List<List<Event>> twos = fromTwo.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);

      List<Event> all = new ArrayList<>();
      for (List<List<Event>> side : List.of(fromOne, twos)) {
        for (List<Event> pair : side) {
          assertThat(pair.get(1).seq()).as("one call's events of a topic are consecutive").isEqualTo(pair.get(0).seq() + 1);
          all.addAll(pair);
        }
      }
      Set<Long> seqs = new HashSet<>();
      all.forEach(e -> seqs.add(e.seq()));
      int n = 4 * perStore;
      assertThat(seqs).hasSize(n).containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, n).boxed().toList());
      assertThat(all).extracting(Event::epoch).containsOnly(all.get(0).epoch());
      List<Event> read = readAll(onOne, t, new Position(all.get(0).epoch(), 0));
      assertThat(read).extracting(Event::seq).containsExactlyElementsOf(LongStream.rangeClosed(1, n).boxed().toList());
      assertThat(read).containsExactlyInAnyOrderElementsOf(all);
      await(onOne::close);
    } finally {
      other.close();
      one.shutdown();
      two.shutdown();
    }
  }

  @Test
  @DisplayName("appends on two members are summed against replay.maxBytes: the sweep evicts the least recently appended topic, resumes from it get reset history_evicted, the latest events stay readable, the metric counts it, and heads create nothing")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void byteBudgetIsClusterWide() {
    String cluster = "herald-test-" + UUID.randomUUID();
    HazelcastInstance one = Hazelcast.newHazelcastInstance(memberConfig(cluster));
    HazelcastInstance two = Hazelcast.newHazelcastInstance(memberConfig(cluster));
    try {
      assertThat(two.getCluster().getMembers()).hasSize(2);
      String ns = "budget" + UUID.randomUUID().toString().substring(0, 8);
      String data = "x".repeat(1000);
      String old = topic("old");
      String mid = topic("mid");
      String fresh = topic("new");
      long perEvent = MemoryReplayStore.estimatedBytes(draft(old, data).toEvent("e", 1, 0));
      ReplayOptions options = new ReplayOptions(new JsonObject().put("maxBytes", perEvent * 10));
      HazelcastReplayStore onOne = onContext(() -> new HazelcastReplayStore(vertx, one, options, ns));
      HazelcastReplayStore onTwo = onContext(() -> new HazelcastReplayStore(vertx, two, options, ns));
      // Two members, every event held twice (primary and backup): ten events in all fill each member's budget.
      assertThat(onContext(onOne::clusterBudget)).isEqualTo(perEvent * 10);
      double evictedBefore = HeraldMetrics.get().replayEvictedEvents();

      List<Event> olds = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        olds.addAll(append(onOne, draft(old, data)));
      }
      List<Event> mids = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        mids.addAll(append(onTwo, draft(mid, data)));
      }
      List<Event> news = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        news.addAll(append(onOne, draft(fresh, data)));
      }
      // Neither member appended more than the budget; together they did (11 events).
      assertThat(olds.get(3).epoch()).as("nothing evicted by the appends").isEqualTo(head(onOne, old).epoch());

      await(onTwo::check);

      Position moved = head(onOne, old);
      assertThat(moved.epoch()).as("the least recently appended topic moved to a new epoch").isNotEqualTo(olds.get(0).epoch());
      assertThat(moved.seq()).isZero();
      for (ReplayStore s : List.of(onOne, onTwo)) {
        ReadResult resume = read(s, old, olds.get(1).position(), 10);
        assertReset(resume, moved);
        assertThat(resume.resetReason()).isEqualTo(ReadResult.HISTORY_EVICTED);
        assertThat(readAll(s, mid, new Position(mids.get(0).epoch(), 0))).containsExactlyElementsOf(mids);
        assertThat(readAll(s, fresh, new Position(news.get(0).epoch(), 0))).containsExactlyElementsOf(news);
      }
      assertThat(onTwo.evictedEvents()).as("evicted by the member that saw the sum, though appended on the other").isEqualTo(4);
      assertThat(HeraldMetrics.get().replayEvictedEvents() - evictedBefore).isEqualTo(4);
      String ghost = topic("ghost");
      assertThat(head(onTwo, ghost).seq()).isZero();
      assertThat(read(onOne, ghost, new Position("AAAAAAAA", 3), 10).reset()).isTrue();
      assertThat(one.getDistributedObjects())
        .as("the evicted ringbuffer is gone; heads and reads of the moved and of unknown topics create none")
        .noneMatch(o -> o.getName().contains(".history." + old) || o.getName().contains(ghost));
      assertThat(one.<String, String>getMap(ns + ".epochs").containsKey(ghost)).isFalse();

      // onOne still has the old epoch cached: its append lands in the new one all the same.
      Event again = append(onOne, draft(old, "again")).get(0);
      assertThat(again.position()).isEqualTo(new Position(moved.epoch(), 1));
      assertThat(readAll(onTwo, old, moved)).containsExactly(again);
      assertThat(one.getDistributedObjects()).as("no ringbuffer of the evicted epoch left behind")
        .noneMatch(o -> o.getName().equals(ns + ".history." + old + "#" + olds.get(0).epoch()));
      assertThat(read(onTwo, old, olds.get(3).position(), 10).resetReason()).isEqualTo(ReadResult.HISTORY_EVICTED);
    } finally {
      one.shutdown();
      two.shutdown();
    }
  }
}
