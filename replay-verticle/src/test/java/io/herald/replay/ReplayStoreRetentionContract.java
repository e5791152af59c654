package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.herald.replay.ReplayStoreFixture.assertReset;
import static io.herald.replay.ReplayStoreFixture.draft;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The part of the {@link ReplayStore} contract about retention: {@code maxEventsPerTopic},
 * {@code maxAgeSeconds} and {@code maxTopics} drop history with a reset and never move positions
 * back, run for every backend by
 * {@link ReplayStoreContractTest}, which implements it through {@link ReplayStoreContract}.
 */
interface ReplayStoreRetentionContract {

  /** The contract test this runs in: its stores, clock and helpers. */
  ReplayStoreFixture contract();

  @Test
  @DisplayName("history truncated by maxEventsPerTopic gets a reset when the next event is gone, and is served when it is not")
  default void truncatedHistoryResets() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxEventsPerTopic", 3));
    String t = c.topic("count");
    List<Event> stored = c.appendMany(s, t, 5);
    String epoch = stored.get(0).epoch();
    Position head = new Position(epoch, 5);

    assertReset(c.read(s, t, new Position(epoch, 0), 100), head);
    assertReset(c.read(s, t, new Position(epoch, 1), 100), head);
    ReadResult served = c.read(s, t, new Position(epoch, 2), 100);
    assertThat(served.reset()).isFalse();
    assertThat(served.events()).containsExactlyElementsOf(stored.subList(2, 5));
    assertThat(c.head(s, t)).as("dropping events never moves positions").isEqualTo(head);
  }

  @Test
  @DisplayName("each topic keeps its own maxEventsPerTopic events")
  default void retentionIsPerTopic() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxEventsPerTopic", 2));
    String a = c.topic("busy");
    String b = c.topic("quiet");
    List<Event> bs = c.appendMany(s, b, 1);
    List<Event> as = c.appendMany(s, a, 5);

    assertThat(c.read(s, b, new Position(bs.get(0).epoch(), 0), 10).events()).containsExactlyElementsOf(bs);
    assertThat(c.read(s, a, new Position(as.get(0).epoch(), 3), 10).events()).containsExactlyElementsOf(as.subList(3, 5));
  }

  @Test
  @DisplayName("history older than maxAgeSeconds gets a reset, younger history is served, positions stay")
  default void expiredHistoryResets() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxAgeSeconds", 60));
    String t = c.topic("age");
    List<Event> old = c.appendMany(s, t, 2);
    String epoch = old.get(0).epoch();
    c.advance(30_000);
    Event young = c.append(s, draft(t, "young")).get(0);
    c.advance(31_000);
    Position head = new Position(epoch, 3);

    assertReset(c.read(s, t, new Position(epoch, 0), 100), head);
    assertReset(c.read(s, t, new Position(epoch, 1), 100), head);
    assertThat(c.read(s, t, new Position(epoch, 2), 100).events()).containsExactly(young);

    c.advance(30_000);
    assertReset(c.read(s, t, new Position(epoch, 2), 100), head);
    ReadResult atHead = c.read(s, t, head, 100);
    assertThat(atHead.reset()).isFalse();
    assertThat(atHead.events()).isEmpty();
    assertThat(c.head(s, t)).isEqualTo(head);
  }

  @Test
  @DisplayName("after a topic is pushed out by maxTopics and recreated, its seq never goes back and old positions never skip silently")
  default void seqContinuesAfterTopicEviction() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxTopics", 2));
    String t = c.topic("evicted");
    Position old = c.appendMany(s, t, 3).get(2).position();
    for (String other : List.of("x", "y", "z")) {
      c.appendMany(s, c.topic(other), 1);
    }
    c.maintain(s);

    Event recreated = c.append(s, draft(t, "again")).get(0);

    assertContinues(s, t, old, recreated);
  }

  @Test
  @DisplayName("after all of a topic's events expire and it is recreated, its seq never goes back and old positions never skip silently")
  default void seqContinuesAfterExpiry() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxAgeSeconds", 60));
    String t = c.topic("expired");
    Position old = c.appendMany(s, t, 2).get(1).position();
    c.advance(61_000);
    c.maintain(s);

    Event recreated = c.append(s, draft(t, "again")).get(0);

    assertContinues(s, t, old, recreated);
  }

  /**
   * Either the same epoch with the very next seq (served from {@code old}; older positions get
   * a reset, or, if the backend kept the older events, exactly those and then the new one),
   * or another epoch (reset).
   */
  private void assertContinues(ReplayStore s, String t, Position old, Event recreated) {
    ReplayStoreFixture c = contract();
    ReadResult fromOld = c.read(s, t, old, 100);
    if (recreated.epoch().equals(old.epoch())) {
      assertThat(recreated.seq()).isEqualTo(old.seq() + 1);
      assertThat(fromOld.reset()).isFalse();
      assertThat(fromOld.events()).containsExactly(recreated);
      if (old.seq() > 1) {
        ReadResult before = c.read(s, t, new Position(old.epoch(), old.seq() - 1), 100);
        if (before.reset()) {
          assertReset(before, recreated.position());
        } else {
          // A backend that never dropped the topic (no maxTopics eviction, e.g. hazelcast)
          // still has the event at old.seq: it must serve it, then the new one, no gap.
          assertThat(before.events()).extracting(Event::seq).containsExactly(old.seq(), recreated.seq());
          assertThat(before.events().get(1)).isEqualTo(recreated);
        }
      }
    } else {
      assertReset(fromOld, recreated.position());
    }
  }

  @Test
  @DisplayName("history dropped by maxEventsPerTopic is not reported as evicted by the byte budget")
  default void countTruncationIsNotEviction() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxEventsPerTopic", 2));
    String t = c.topic("count");
    List<Event> stored = c.appendMany(s, t, 4);
    ReadResult r = c.read(s, t, new Position(stored.get(0).epoch(), 0), 10);
    assertThat(r.reset()).isTrue();
    assertThat(r.resetReason()).isEqualTo("history_unavailable");
  }
}
