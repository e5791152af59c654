package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.herald.replay.ReplayStoreFixture.draft;
import static io.herald.replay.ReplayStoreFixture.keyed;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The part of the {@link ReplayStore} contract about idempotent appends: a draft whose key matches
 * a retained event of its topic returns that event, run for every backend by
 * {@link ReplayStoreContractTest}, which implements it through {@link ReplayStoreContract}.
 */
interface ReplayStoreIdempotencyContract {

  /** The contract test this runs in: its stores, clock and helpers. */
  ReplayStoreFixture contract();

  @Test
  @DisplayName("a draft whose key matches a retained event returns that event and uses no sequence number")
  default void idempotentKey() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("idem");
    String other = c.topic("other");
    Event first = c.append(s, keyed(t, "first", "k1")).get(0);

    Event again = c.append(s, keyed(t, "second", "k1")).get(0);
    Event next = c.append(s, draft(t, "next")).get(0);
    Event elsewhere = c.append(s, keyed(other, "elsewhere", "k1")).get(0);

    assertThat(again).isEqualTo(first);
    assertThat(again.data()).isEqualTo("first");
    assertThat(next.seq()).isEqualTo(2);
    assertThat(c.head(s, t).seq()).isEqualTo(2);
    assertThat(elsewhere.seq()).as("keys are per topic").isEqualTo(1);
    assertThat(elsewhere.data()).isEqualTo("elsewhere");
    assertThat(c.readAll(s, t, new Position(first.epoch(), 0))).extracting(Event::data).containsExactly("first", "next");
  }

  @Test
  @DisplayName("two drafts with the same topic and key in one append store the first and return it twice")
  default void sameKeyInOneAppend() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("batch");
    List<Event> out = c.append(s, keyed(t, "one", "k"), keyed(t, "dup", "k"), draft(t, "two"));

    assertThat(out.get(1)).isEqualTo(out.get(0));
    assertThat(out).extracting(Event::seq).containsExactly(1L, 1L, 2L);
    assertThat(c.readAll(s, t, new Position(out.get(0).epoch(), 0))).extracting(Event::data).containsExactly("one", "two");
  }

  @Test
  @DisplayName("a key is stored again once its event is no longer retained")
  default void keyReusableAfterDrop() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxEventsPerTopic", 2));
    String t = c.topic("reuse");
    c.append(s, keyed(t, "old", "k"));
    c.appendMany(s, t, 2);

    Event again = c.append(s, keyed(t, "new", "k")).get(0);

    assertThat(again.seq()).isEqualTo(4);
    assertThat(again.data()).isEqualTo("new");
  }
}
