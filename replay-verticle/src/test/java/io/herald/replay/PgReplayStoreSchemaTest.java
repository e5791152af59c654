package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link PgReplayStore} across its tables' lives on a real PostgreSQL: a restart keeps the history,
 * lost data or dropped tables give new epochs (old positions reset, never a silent gap), and the
 * schema from before the log is migrated at start.
 */
class PgReplayStoreSchemaTest extends PgReplayStoreFixture {

  @Test
  @DisplayName("a database that lost the store's data gives a new epoch: old positions reset, never a silent gap")
  void lostDataNewEpoch() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions();
    PgReplayStore s = onContext(() -> store(options, prefix, this::now));
    String t = "lost-" + UUID.randomUUID();
    Event e = call(onContext(() -> s.append(List.of(new EventDraft(t, "message", "x", false, null))))).get(0);
    call(admin.query("TRUNCATE " + String.join(", ", s.tables())).execute());
    Event after = call(onContext(() -> s.append(List.of(new EventDraft(t, "message", "y", false, null))))).get(0);
    assertThat(after.epoch()).isNotEqualTo(e.epoch());
    assertThat(after.seq()).isEqualTo(1);
    ReadResult old = call(onContext(() -> s.read(t, e.position(), 10)));
    assertThat(old.reset()).isTrue();
    assertThat(old.head()).isEqualTo(after.position());
    call(onContext(s::close));
  }

  @Test
  @DisplayName("a batch of heads on a database that lost the store's data draws the new epoch once, as a single head does: every topic at seq 0 in it")
  void headsAfterLostData() {
    PgReplayStore s = (PgReplayStore) newStore();
    String t = topic("lost-heads");
    String u = topic("lost-heads-u");
    Event e = append(s, draft(t, "x")).get(0);
    call(admin.query("TRUNCATE " + String.join(", ", s.tables())).execute());

    java.util.Map<String, Position> heads = await(() -> s.heads(List.of(t, u)));
    assertThat(heads.get(t).epoch()).isNotEqualTo(e.epoch());
    assertThat(heads.values()).containsOnly(new Position(heads.get(t).epoch(), 0));
    assertThat(head(s, t)).isEqualTo(heads.get(t));
    assertThat(append(s, draft(u, "y")).get(0).position()).isEqualTo(new Position(heads.get(u).epoch(), 1));
  }

  @Test
  @DisplayName("a second store on the same tables keeps the epochs and the history of the first")
  void restartKeepsHistory() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions();
    PgReplayStore first = onContext(() -> store(options, prefix, this::now));
    String t = topic("restart");
    List<Event> stored = appendMany(first, t, 3);
    await(first::close);

    PgReplayStore second = onContext(() -> store(options, prefix, this::now));
    try {
      assertThat(stored.get(0).epoch()).matches("[A-Za-z0-9]{8}");
      assertThat(head(second, t)).isEqualTo(stored.get(2).position());
      assertThat(readAll(second, t, new Position(stored.get(0).epoch(), 0))).containsExactlyElementsOf(stored);
    } finally {
      await(second::close);
    }
  }

  @Test
  @DisplayName("tables dropped under a running store are created again, with new epochs, and old positions reset")
  void droppedTablesAreRecreated() {
    PgReplayStore s = (PgReplayStore) newStore();
    String t = topic("dropped");
    List<Event> stored = appendMany(s, t, 3);
    call(admin.query("DROP TABLE " + String.join(", ", s.tables())).execute());

    Position head = head(s, t);
    assertThat(head.seq()).isZero();
    assertThat(head.epoch()).isNotEqualTo(stored.get(0).epoch());
    assertReset(read(s, t, stored.get(2).position(), 100), head);
    assertThat(append(s, draft(t, "again")).get(0).position()).isEqualTo(new Position(head.epoch(), 1));
  }

  @Test
  @DisplayName("a lost topics table leaves no stale event behind: the topic restarts in a new epoch and serves only new events")
  void lostTopicsTableOnly() {
    PgReplayStore s = (PgReplayStore) newStore();
    String t = topic("half");
    List<Event> stored = appendMany(s, t, 3);
    call(admin.query("TRUNCATE " + s.tables().get(0)).execute());

    Event again = append(s, draft(t, "again")).get(0);

    assertThat(again.epoch()).isNotEqualTo(stored.get(0).epoch());
    assertThat(again.seq()).isEqualTo(1);
    assertReset(read(s, t, stored.get(2).position(), 100), again.position());
    assertThat(readAll(s, t, new Position(again.epoch(), 0))).containsExactly(again);
  }

  @Test
  @DisplayName("tables of the schema before the log get its columns at start: older events stay readable per topic, outside the log, and the log starts at 1")
  void migratesSchemaBeforeTheLog() {
    String prefix = newPrefix();
    tables.addAll(List.of(prefix + "replay_topics", prefix + "replay_events", prefix + "replay_store"));
    String t = topic("old");
    call(admin.query("""
      CREATE TABLE %1$sreplay_store (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), epoch text NOT NULL);
      CREATE TABLE %1$sreplay_topics (topic text PRIMARY KEY, epoch text NOT NULL, last_seq bigint NOT NULL);
      CREATE TABLE %1$sreplay_events (topic text NOT NULL, seq bigint NOT NULL, epoch text NOT NULL, type text NOT NULL,
        data text NOT NULL, json boolean NOT NULL, key text, ts bigint NOT NULL, PRIMARY KEY (topic, seq));
      INSERT INTO %1$sreplay_store VALUES (true, 'OldEpoch');
      INSERT INTO %1$sreplay_topics VALUES ('%2$s', 'OldEpoch', 2);
      INSERT INTO %1$sreplay_events VALUES ('%2$s', 1, 'OldEpoch', 'message', 'one', false, null, %3$d),
        ('%2$s', 2, 'OldEpoch', 'message', 'two', false, null, %3$d);
      """.formatted(prefix, t, now())).execute());
    PgReplayStore s = onContext(() -> store(new ReplayOptions(), prefix, this::now));
    try {
      assertThat(logHead(s)).isEqualTo(new Position("OldEpoch", 0));
      assertThat(readAll(s, t, new Position("OldEpoch", 0))).extracting(Event::data).containsExactly("one", "two");
      Event next = append(s, draft(t, "three")).get(0);
      assertThat(next.position()).isEqualTo(new Position("OldEpoch", 3));
      assertThat(next.log()).isEqualTo(new Position("OldEpoch", 1));
      assertThat(readLog(s, new Position("OldEpoch", 0), x -> true, 10).events()).containsExactly(next);
    } finally {
      await(s::close);
    }
  }
}
