package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store contract plus the promise of a backend that keeps its history in this JVM's heap
 * within {@code replay.maxBytes} (memory, Hazelcast): beyond the budget it evicts, oldest first,
 * and a resume past an evicted event gets {@code reset history_evicted}. Redis and PostgreSQL keep
 * history outside the heap and make no such promise, so they run {@link ReplayStoreContractTest}
 * only: nothing is skipped.
 */
public abstract class ByteBudgetContractTest extends ReplayStoreContractTest {

  /**
   * Whether the byte budget evicts whole topics (least recently appended first, each moved to a
   * new epoch) rather than the oldest events of the whole store one by one.
   */
  protected boolean evictsWholeTopics() {
    return false;
  }

  @Test
  @DisplayName("beyond replay.maxBytes the oldest events of the whole store are evicted first, and a resume past one gets reset history_evicted")
  void byteBudgetEvictsOldestFirst() {
    String data = "x".repeat(1000);
    List<String> names = List.of(topic("a"), topic("b"), topic("c"));
    // An event and its log slot (the in-heap log counts its slots against the budget too).
    long perEvent = MemoryReplayStore.estimatedBytes(draft(names.get(0), data).toEvent("e", 1, 0)) + MemoryReplayStore.LOG_SLOT_BYTES;
    ReplayStore s = newStore(new JsonObject().put("maxBytes", perEvent * 10));
    List<Event> all = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      advance(1);
      all.add(append(s, draft(names.get(i % 3), data)).get(0));
    }

    if (evictsWholeTopics()) {
      assertWholeTopicEviction(s, names, all, perEvent * 10);
      return;
    }
    List<Event> retained = new ArrayList<>();
    for (String t : names) {
      Position head = head(s, t);
      ReadResult fromStart = read(s, t, new Position(head.epoch(), 0), 100);
      assertReset(fromStart, head);
      assertThat(fromStart.reason()).isEqualTo(ReadResult.HISTORY_EVICTED);
      for (long seq = 0; seq < head.seq(); seq++) {
        ReadResult r = read(s, t, new Position(head.epoch(), seq), 100);
        if (!r.reset()) {
          retained.addAll(r.events());
          break;
        }
        assertThat(r.reason()).isEqualTo(ReadResult.HISTORY_EVICTED);
      }
    }
    assertThat(retained).as("the ten newest events, whatever their topic")
      .containsExactlyInAnyOrderElementsOf(all.subList(20, 30));
  }

  /**
   * The same promise from a store that evicts whole topics (moving each to a new epoch): what it
   * retains fits the budget and is, per topic, the newest of that topic's events; the newest
   * event of all is retained; a resume from a position of an evicted epoch gets reset
   * history_evicted.
   */
  private void assertWholeTopicEviction(ReplayStore s, List<String> names, List<Event> all, long budget) {
    long retainedBytes = 0;
    int moved = 0;
    for (String t : names) {
      List<Event> ofTopic = all.stream().filter(e -> e.topic().equals(t)).toList();
      Position head = head(s, t);
      List<Event> retained = readAll(s, t, new Position(head.epoch(), 0));
      assertThat(ofTopic).as("the retained events of %s are its newest", t).endsWith(retained.toArray(new Event[0]));
      retainedBytes += retained.stream().mapToLong(MemoryReplayStore::estimatedBytes).sum();
      Position first = ofTopic.get(0).position();
      if (!first.epoch().equals(head.epoch())) {
        moved++;
        ReadResult fromEvicted = read(s, t, first, 100);
        assertReset(fromEvicted, head);
        assertThat(fromEvicted.reason()).isEqualTo(ReadResult.HISTORY_EVICTED);
      }
    }
    assertThat(moved).as("topics evicted").isPositive();
    assertThat(retainedBytes).as("retained bytes").isLessThanOrEqualTo(budget);
    Event newest = all.get(all.size() - 1);
    assertThat(read(s, newest.topic(), new Position(newest.epoch(), newest.seq() - 1), 10).events())
      .as("the newest event is retained").containsExactly(newest);
  }
}
