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

import static io.herald.replay.ReplayStoreFixture.assertReset;
import static io.herald.replay.ReplayStoreFixture.otherEpoch;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The part of the {@link ReplayStore} contract about reads: after a position, at the head, limits
 * and paging, and the resets for another epoch or a position beyond the head, run for every backend by
 * {@link ReplayStoreContractTest}, which implements it through {@link ReplayStoreContract}.
 */
interface ReplayStoreReadContract {

  /** The contract test this runs in: its stores, clock and helpers. */
  ReplayStoreFixture contract();

  @Test
  @DisplayName("a read after seq 0 returns every retained event in order, with the head")
  default void readAfterZero() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("all");
    List<Event> stored = c.appendMany(s, t, 5);
    String epoch = stored.get(0).epoch();

    ReadResult r = c.read(s, t, new Position(epoch, 0), 100);

    assertThat(r.reset()).isFalse();
    assertThat(r.head()).isEqualTo(new Position(epoch, 5));
    assertThat(r.events()).containsExactlyElementsOf(stored);
    assertThat(r.complete()).isTrue();
  }

  @Test
  @DisplayName("a read after seq n returns the events after n in order")
  default void readAfterN() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("rest");
    List<Event> stored = c.appendMany(s, t, 5);
    String epoch = stored.get(0).epoch();

    ReadResult r = c.read(s, t, new Position(epoch, 2), 100);

    assertThat(r.reset()).isFalse();
    assertThat(r.events()).containsExactlyElementsOf(stored.subList(2, 5));
    assertThat(r.events()).extracting(Event::seq).containsExactly(3L, 4L, 5L);
  }

  @Test
  @DisplayName("a read at the head returns no events and no reset")
  default void readAtHead() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("head");
    String epoch = c.appendMany(s, t, 3).get(0).epoch();

    ReadResult r = c.read(s, t, new Position(epoch, 3), 100);

    assertThat(r.reset()).isFalse();
    assertThat(r.events()).isEmpty();
    assertThat(r.head()).isEqualTo(new Position(epoch, 3));
    assertThat(r.complete()).isTrue();
  }

  @Test
  @DisplayName("a read returns at most limit events and paging by the last seq reaches the head")
  default void limitAndPaging() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("paging");
    List<Event> stored = c.appendMany(s, t, 10);
    Position at = new Position(stored.get(0).epoch(), 0);
    List<Event> seen = new ArrayList<>();
    List<Integer> pageSizes = new ArrayList<>();
    ReadResult r;
    do {
      r = c.read(s, t, at, 3);
      assertThat(r.reset()).isFalse();
      assertThat(r.events()).hasSizeLessThanOrEqualTo(3);
      pageSizes.add(r.events().size());
      seen.addAll(r.events());
      if (!r.events().isEmpty()) {
        at = r.events().get(r.events().size() - 1).position();
      }
    } while (!r.complete() && pageSizes.size() < 20);

    assertThat(pageSizes).containsExactly(3, 3, 3, 1);
    assertThat(seen).containsExactlyElementsOf(stored);
    assertThat(at).isEqualTo(r.head());
  }

  @Test
  @DisplayName("a limit above maxReadLimit is capped to maxReadLimit")
  default void maxReadLimitCaps() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxReadLimit", 4));
    String t = c.topic("cap");
    List<Event> stored = c.appendMany(s, t, 10);

    ReadResult r = c.read(s, t, new Position(stored.get(0).epoch(), 0), 1000);

    assertThat(r.reset()).isFalse();
    assertThat(r.events()).containsExactlyElementsOf(stored.subList(0, 4));
    assertThat(r.complete()).isFalse();
  }

  @Test
  @DisplayName("a position of another epoch gets a reset that carries the head and no events")
  default void otherEpochResets() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("epoch");
    String epoch = c.appendMany(s, t, 3).get(0).epoch();
    String other = otherEpoch(epoch);

    for (long seq : new long[] {0, 1, 3}) {
      assertReset(c.read(s, t, new Position(other, seq), 100), new Position(epoch, 3));
    }
    String unknown = c.topic("never");
    Position unknownHead = c.head(s, unknown);
    assertReset(c.read(s, unknown, new Position(otherEpoch(unknownHead.epoch()), 0), 100), unknownHead);
  }

  @Test
  @DisplayName("a position beyond the head gets a reset that carries the head")
  default void beyondHeadResets() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("beyond");
    String epoch = c.appendMany(s, t, 5).get(0).epoch();

    assertReset(c.read(s, t, new Position(epoch, 6), 100), new Position(epoch, 5));
    assertReset(c.read(s, t, new Position(epoch, 1_000_000), 100), new Position(epoch, 5));

    String unknown = c.topic("never");
    Position unknownHead = c.head(s, unknown);
    assertReset(c.read(s, unknown, new Position(unknownHead.epoch(), 1), 100), unknownHead);
    ReadResult atZero = c.read(s, unknown, unknownHead, 100);
    assertThat(atZero.reset()).isFalse();
    assertThat(atZero.events()).isEmpty();
  }
}
