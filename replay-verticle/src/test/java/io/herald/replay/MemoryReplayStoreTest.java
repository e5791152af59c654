package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.herald.testsupport.IsolatedMetrics;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The contract on {@link MemoryReplayStore}, plus what only the embedded store promises. */
class MemoryReplayStoreTest extends ByteBudgetContractTest {

  @Override
  protected ReplayStore createStore(ReplayOptions options, LongSupplier clock) {
    return new MemoryReplayStore(options, clock);
  }

  @Override
  protected boolean holdsState(ReplayStore store, String topic) {
    return ((MemoryReplayStore) store).holds(topic);
  }

  private MemoryReplayStore memory(JsonObject options) {
    return (MemoryReplayStore) newStore(options);
  }

  @Test
  @DisplayName("the store draws an 8-character random epoch, different in every instance, and names itself memory")
  void instanceEpoch() {
    MemoryReplayStore one = memory(new JsonObject());
    MemoryReplayStore two = memory(new JsonObject());

    assertThat(one.instanceEpoch()).matches("[A-Za-z0-9]{8}");
    assertThat(two.instanceEpoch()).isNotEqualTo(one.instanceEpoch());
    assertThat(one.name()).isEqualTo("memory");
    assertThat(head(one, topic("t"))).isEqualTo(new Position(one.instanceEpoch(), 0));
    assertThat(append(one, draft(topic("t"), "x")).get(0).epoch()).isEqualTo(one.instanceEpoch());
  }

  @Test
  @DisplayName("a restarted memory store has a new log epoch: a log position of the old one gets a reset")
  void restartGivesNewLogEpoch() {
    MemoryReplayStore before = memory(new JsonObject());
    String t = topic("t");
    Event e = append(before, draft(t, "x")).get(0);
    assertThat(e.log()).isEqualTo(new Position(before.instanceEpoch(), 1));
    await(before::close);
    MemoryReplayStore after = memory(new JsonObject());
    Position head = logHead(after);
    assertThat(head.epoch()).isNotEqualTo(e.log().epoch());
    assertLogReset(readLog(after, e.log(), x -> true, 10), head);
    assertLogReset(readLog(after, new Position(e.log().epoch(), 0), x -> true, 10), head);
  }

  @Test
  @DisplayName("the in-heap log frees the slots of gone events from its front, and slots pinned behind an old event count against the byte budget until it is evicted")
  void logRingIsBounded() {
    String busy = topic("busy");
    String quiet = topic("quiet");
    long perEvent = MemoryReplayStore.estimatedBytes(draft(busy, "0000").toEvent("e", 1, 0));
    long budget = 20 * (perEvent + MemoryReplayStore.LOG_SLOT_BYTES);
    MemoryReplayStore s = memory(new JsonObject().put("maxEventsPerTopic", 3).put("maxBytes", budget));
    for (int i = 0; i < 1000; i++) {
      advance(1);
      append(s, draft(busy, String.format("%04d", i)));
    }
    assertThat(s.logSlotCount()).as("only the three retained events keep slots").isEqualTo(3);
    Position before = logHead(s);
    advance(1);
    append(s, draft(quiet, "pin!"));
    for (int i = 0; i < 200; i++) {
      advance(1);
      append(s, draft(busy, String.format("%04d", i)));
      assertThat(s.retainedBytes()).isLessThanOrEqualTo(budget);
    }
    assertThat(s.logSlotCount()).as("the pin was evicted for the budget and the slots behind it freed").isLessThanOrEqualTo(20);
    LogReadResult r = readLog(s, before, t -> t.equals(quiet), 10);
    assertThat(r.reset()).isTrue();
    assertThat(r.resetReason()).isIn(ReadResult.HISTORY_EVICTED, "history_unavailable");
  }

  @Test
  @DisplayName("a flood of 60 KB events over a new topic every 10 events never holds more than maxBytes, and counts its evictions")
  void byteBudgetBoundsFlood() throws Exception {
    // A metrics registry of this test's own: the counter equals the store's evictions exactly.
    try (IsolatedMetrics metrics = IsolatedMetrics.start()) {
      byteBudgetBoundsFlood(metrics);
    }
  }

  private void byteBudgetBoundsFlood(IsolatedMetrics metrics) {
    long budget = 2_000_000;
    MemoryReplayStore s = memory(new JsonObject().put("maxBytes", budget));
    String data = "y".repeat(60_000);
    Event last = null;
    for (int i = 0; i < 1000; i++) {
      last = append(s, draft(topic("flood" + i / 10), data)).get(0);
      assertThat(s.retainedBytes()).isLessThanOrEqualTo(budget);
    }

    assertThat(s.retainedBytes()).isGreaterThan(budget - 2 * MemoryReplayStore.estimatedBytes(last));
    assertThat(s.evictedEvents()).isGreaterThan(900);
    assertThat(metrics.registry().counter("herald_replay_evicted_events").count()).isEqualTo((double) s.evictedEvents());
    assertThat(read(s, last.topic(), new Position(last.epoch(), last.seq() - 1), 10).events()).containsExactly(last);
  }

  @Test
  @DisplayName("removed and expired topics give their bytes back to the budget")
  void removalReleasesBytes() {
    MemoryReplayStore s = memory(new JsonObject().put("maxTopics", 2));
    appendMany(s, topic("a"), 3);
    appendMany(s, topic("b"), 3);
    long two = s.retainedBytes();
    appendMany(s, topic("c"), 3);
    assertThat(s.retainedBytes()).isEqualTo(two);
    advance(ReplayOptions.DEFAULT_MAX_AGE_SECONDS * 1000L + 1);
    s.sweep();
    assertThat(s.retainedBytes()).isZero();
  }

  @Test
  @DisplayName("the default budget is maxHeapPercent of the max heap")
  void defaultBudget() {
    assertThat(memory(new JsonObject().put("maxHeapPercent", 10)).maxBytes())
      .isEqualTo(Runtime.getRuntime().maxMemory() / 100 * 10);
  }

  @Test
  @DisplayName("10,000 distinct topics with maxTopics 100 leave at most 100 topics and 100 tombstones")
  void maxTopicsBoundsMemory() {
    MemoryReplayStore s = memory(new JsonObject().put("maxTopics", 100));
    Event newest = null;
    for (int batch = 0; batch < 100; batch++) {
      List<EventDraft> drafts = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        drafts.add(draft(topic("t" + (batch * 100 + i)), "x"));
      }
      List<Event> out = append(s, drafts.toArray(new EventDraft[0]));
      newest = out.get(out.size() - 1);
      assertThat(s.topicCount()).isLessThanOrEqualTo(100);
      assertThat(s.tombstoneCount()).isLessThanOrEqualTo(100);
    }

    assertThat(s.topicCount()).isEqualTo(100);
    assertThat(read(s, newest.topic(), new Position(newest.epoch(), 0), 10).events()).containsExactly(newest);
  }

  @Test
  @DisplayName("the least recently appended topic is the one pushed out")
  void evictsLeastRecentlyAppended() {
    MemoryReplayStore s = memory(new JsonObject().put("maxTopics", 2));
    String a = topic("a");
    String b = topic("b");
    String c = topic("c");
    String epoch = s.instanceEpoch();
    append(s, draft(a, "a1"));
    append(s, draft(b, "b1"));
    head(s, a);
    read(s, b, new Position(epoch, 0), 10);
    append(s, draft(a, "a2"));
    append(s, draft(c, "c1"));

    assertThat(s.topicCount()).isEqualTo(2);
    assertReset(read(s, b, new Position(epoch, 0), 10), new Position(epoch, 1));
    assertThat(read(s, a, new Position(epoch, 0), 10).events()).extracting(Event::data).containsExactly("a1", "a2");
  }

  @Test
  @DisplayName("heads and reads of unknown topics create no state")
  void unknownTopicsCreateNothing() {
    MemoryReplayStore s = memory(new JsonObject().put("maxTopics", 100));
    Position expected = new Position(s.instanceEpoch(), 0);
    await(() -> {
      for (int i = 0; i < 10_000; i++) {
        String t = topic("ghost" + i);
        assertThat(s.head(t).result()).isEqualTo(expected);
        assertThat(s.read(t, new Position("Zz", i), 10).result().reset()).isTrue();
        assertThat(s.read(t, expected, 10).result().events()).isEmpty();
      }
      return io.vertx.core.Future.succeededFuture();
    });

    assertThat(s.topicCount()).isZero();
    assertThat(s.tombstoneCount()).isZero();
  }

  @Test
  @DisplayName("a topic pushed out keeps a tombstone: its head stays and, recreated, it continues its seq in the same epoch")
  void tombstoneContinuity() {
    MemoryReplayStore s = memory(new JsonObject().put("maxTopics", 1));
    String a = topic("a");
    String epoch = s.instanceEpoch();
    appendMany(s, a, 2);
    append(s, draft(topic("b"), "push a out"));

    assertThat(s.topicCount()).isEqualTo(1);
    assertThat(s.tombstoneCount()).isEqualTo(1);
    assertThat(head(s, a)).isEqualTo(new Position(epoch, 2));
    assertReset(read(s, a, new Position(epoch, 1), 10), new Position(epoch, 2));

    Event a3 = append(s, draft(a, "back")).get(0);

    assertThat(a3.position()).isEqualTo(new Position(epoch, 3));
    assertThat(read(s, a, new Position(epoch, 2), 10).events()).containsExactly(a3);
    assertReset(read(s, a, new Position(epoch, 1), 10), new Position(epoch, 3));
    assertThat(head(s, topic("b"))).as("b, pushed out in turn, has the only tombstone").isEqualTo(new Position(epoch, 1));
    assertThat(s.tombstoneCount()).isEqualTo(1);
  }

  @Test
  @DisplayName("a topic recreated after its tombstone is gone gets a fresh epoch, so its old positions get a reset")
  void freshEpochWithoutTombstone() {
    MemoryReplayStore s = memory(new JsonObject().put("maxTopics", 1));
    String a = topic("a");
    String b = topic("b");
    String epoch = s.instanceEpoch();
    Position oldA = append(s, draft(a, "a1")).get(0).position();
    append(s, draft(b, "b1"));
    append(s, draft(topic("c"), "c1"));
    assertThat(s.tombstoneCount()).as("a's tombstone was pushed out by b's").isEqualTo(1);

    Position unknownHead = head(s, a);
    Event recreated = append(s, draft(a, "new a1")).get(0);

    assertThat(unknownHead.seq()).isZero();
    assertThat(unknownHead.epoch()).isNotEqualTo(epoch).matches("[A-Za-z0-9]{8}");
    assertThat(recreated.position()).isEqualTo(new Position(unknownHead.epoch(), 1));
    assertReset(read(s, a, oldA, 10), recreated.position());
    Position dHead = head(s, topic("d"));
    Event d = append(s, draft(topic("d"), "brand new")).get(0);
    assertThat(d.position()).as("new topics get the epoch their head announced").isEqualTo(new Position(dHead.epoch(), 1));
    assertThat(d.epoch()).isNotEqualTo(epoch);
  }

  @Test
  @DisplayName("sweep removes topics whose events all expired, keeps younger ones, and the removed topic continues its seq")
  void sweepRemovesExpiredTopics() {
    MemoryReplayStore s = memory(new JsonObject().put("maxAgeSeconds", 60));
    String a = topic("old");
    String b = topic("young");
    String epoch = s.instanceEpoch();
    append(s, draft(a, "a1"));
    advance(30_000);
    append(s, draft(b, "b1"));
    advance(31_000);

    maintain(s);

    assertThat(s.topicCount()).isEqualTo(1);
    assertThat(s.tombstoneCount()).isEqualTo(1);
    assertThat(head(s, a)).isEqualTo(new Position(epoch, 1));
    assertThat(read(s, b, new Position(epoch, 0), 10).events()).hasSize(1);
    assertThat(append(s, draft(a, "a2")).get(0).position()).isEqualTo(new Position(epoch, 2));

    advance(60_000);
    maintain(s);
    assertThat(s.topicCount()).as("b expired at last; a was appended 60 s ago, not more").isEqualTo(1);
    advance(1);
    maintain(s);
    assertThat(s.topicCount()).isZero();
  }

  @Test
  @DisplayName("reads return exactly the asked range whichever end of a topic it is near")
  void slicesFromBothEnds() {
    MemoryReplayStore s = memory(new JsonObject().put("maxEventsPerTopic", 10));
    String t = topic("slice");
    String epoch = s.instanceEpoch();
    appendMany(s, t, 25);
    for (long after = 15; after <= 25; after++) {
      for (int limit = 1; limit <= 12; limit++) {
        ReadResult r = read(s, t, new Position(epoch, after), limit);
        long last = Math.min(after + limit, 25);
        assertThat(r.reset()).isFalse();
        assertThat(r.events()).extracting(Event::seq)
          .as("after %d limit %d", after, limit)
          .containsExactlyElementsOf(LongStream.rangeClosed(after + 1, last).boxed().toList());
      }
    }
  }

  @Test
  @DisplayName("append reports which events it stored and which were idempotent duplicates")
  void appendReportsStored() {
    MemoryReplayStore s = memory(new JsonObject());
    String t = topic("report");
    append(s, keyed(t, "first", "k"));

    AppendResult r = await(() -> s.appendReporting(List.of(keyed(t, "dup", "k"), draft(t, "new"), keyed(t, "dup2", "k"))));

    assertThat(r.events()).extracting(Event::seq).containsExactly(1L, 2L, 1L);
    assertThat(r.stored()).extracting(Event::seq).containsExactly(2L);
  }

  @Test
  @DisplayName("a read with a limit below 1 fails")
  void limitBelowOneFails() {
    MemoryReplayStore s = memory(new JsonObject());
    String t = topic("limit");
    appendMany(s, t, 1);
    assertThat(onContext(() -> s.read(t, new Position(s.instanceEpoch(), 0), 0).failed())).isTrue();
  }
  @Test
  @DisplayName("under random appends, evictions, expiry and sweeps, a read from any position handed out is exact or a reset")
  void randomOperationsNeverGapSilently() {
    MemoryReplayStore s = memory(new JsonObject().put("maxTopics", 2).put("maxEventsPerTopic", 4)
      .put("maxAgeSeconds", 10).put("maxReadLimit", 3));
    java.util.Random random = new java.util.Random(42);
    List<String> pool = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      pool.add(topic("r" + i));
    }
    // Every event each topic stored, across incarnations, and where each handed-out event sits in it.
    java.util.Map<String, List<Event>> history = new java.util.HashMap<>();
    java.util.Map<Event, Integer> index = new java.util.IdentityHashMap<>();
    // Positions handed out: topic, position, index in history of the next event the holder expects.
    record Held(String topic, Position position, int next) {
    }
    List<Held> held = new ArrayList<>();
    int served = 0;
    int resets = 0;
    for (int op = 0; op < 20_000; op++) {
      int kind = random.nextInt(10);
      if (kind < 4) {
        List<EventDraft> drafts = new ArrayList<>();
        for (int i = random.nextInt(3) + 1; i > 0; i--) {
          String t = pool.get(random.nextInt(pool.size()));
          drafts.add(random.nextInt(3) == 0 ? keyed(t, "k", "key" + random.nextInt(3)) : draft(t, "d" + op));
        }
        AppendResult r = await(() -> s.appendReporting(drafts));
        for (Event e : r.stored()) {
          List<Event> h = history.computeIfAbsent(e.topic(), k -> new ArrayList<>());
          index.put(e, h.size());
          h.add(e);
        }
        for (Event e : r.events()) {
          held.add(new Held(e.topic(), e.position(), index.get(e) + 1));
        }
      } else if (kind < 6) {
        String t = pool.get(random.nextInt(pool.size()));
        held.add(new Held(t, head(s, t), history.getOrDefault(t, List.of()).size()));
      } else if (kind < 9 && !held.isEmpty()) {
        // Mostly recent positions (a client that resumes soon), sometimes any old one.
        int pick = random.nextInt(4) == 0 ? random.nextInt(held.size())
          : held.size() - 1 - random.nextInt(Math.min(held.size(), 10));
        Held h = held.get(pick);
        int limit = random.nextInt(5) + 1;
        ReadResult r = read(s, h.topic(), h.position(), limit);
        List<Event> all = history.getOrDefault(h.topic(), List.of());
        if (r.reset()) {
          resets++;
          assertThat(r.events()).isEmpty();
        } else {
          served++;
          int expected = Math.min(Math.min(limit, 3), all.size() - h.next());
          assertThat(r.events()).as("read of %s from %s at op %d", h.topic(), h.position(), op)
            .containsExactlyElementsOf(all.subList(h.next(), h.next() + expected));
        }
      } else {
        advance(random.nextInt(4000));
        if (random.nextBoolean()) {
          maintain(s);
        }
      }
      if (held.size() > 2000) {
        held.subList(0, 1000).clear();
      }
    }
    assertThat(served).isGreaterThan(1000);
    assertThat(resets).isGreaterThan(100);
    assertThat(s.topicCount()).isLessThanOrEqualTo(2);
    assertThat(s.tombstoneCount()).isLessThanOrEqualTo(2);
  }
}
