package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What only a shared database promises {@link PgReplayStore}s on one PostgreSQL: two stores on two
 * pools number one topic without holes or duplicates, share keys (stored once when appended through
 * both at once), initialize the same tables at once, and never deadlock on cross-topic appends;
 * an append PostgreSQL rolls back as a deadlock victim is tried again.
 */
class PgReplayStoreSharedDbTest extends PgReplayStoreFixture {

  /**
   * These tests are about what concurrent appends from several stores leave behind, not about
   * timeouts: a long store timeout, so that appends queued on the same rows on a loaded machine
   * are not refused at their fence (which CI saw at the default 2 s).
   */
  private static final int CONCURRENCY_TIMEOUT_MILLIS = 60_000;

  @Test
  @DisplayName("two stores on one database number one topic without holes or duplicates, concurrently")
  void concurrentStoresShareSequence() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions(new JsonObject().put("maxEventsPerTopic", 10_000).put("storeTimeoutMillis", CONCURRENCY_TIMEOUT_MILLIS));
    PgReplayStore a = onContext(() -> store(options, prefix, this::now));
    PgReplayStore b = onContext(() -> store(options, prefix, this::now));
    String t = "shared-" + UUID.randomUUID();
    List<Future<List<Event>>> all = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      ReplayStore s = i % 2 == 0 ? a : b;
      List<EventDraft> drafts = List.of(new EventDraft(t, "message", "a" + i, false, null),
        new EventDraft(t, "message", "b" + i, false, null));
      all.add(onContext(() -> s.append(drafts)));
    }
    Set<Long> seqs = new HashSet<>();
    for (Future<List<Event>> f : all) {
      List<Event> pair = call(f);
      assertThat(pair.get(1).seq()).as("one call's events are consecutive").isEqualTo(pair.get(0).seq() + 1);
      seqs.add(pair.get(0).seq());
      seqs.add(pair.get(1).seq());
    }
    assertThat(seqs).hasSize(200);
    assertThat(seqs).allMatch(s -> s >= 1 && s <= 200);
    Position head = call(onContext(() -> b.head(t)));
    assertThat(head.seq()).isEqualTo(200);
    ReadResult r = call(onContext(() -> a.read(t, new Position(head.epoch(), 0), 1000)));
    assertThat(r.events()).extracting(Event::seq).containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 200).boxed().toList());
    call(onContext(a::close));
    call(onContext(b::close));
  }

  @Test
  @DisplayName("a key stored through one store is recognized by another on the same database")
  void keysAreShared() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions(new JsonObject().put("storeTimeoutMillis", CONCURRENCY_TIMEOUT_MILLIS));
    PgReplayStore a = onContext(() -> store(options, prefix, this::now));
    PgReplayStore b = onContext(() -> store(options, prefix, this::now));
    String t = "keys-" + UUID.randomUUID();
    Event first = call(onContext(() -> a.append(List.of(new EventDraft(t, "message", "x", false, "k1"))))).get(0);
    AppendResult again = call(onContext(() -> b.appendReporting(List.of(new EventDraft(t, "message", "y", false, "k1")))));
    assertThat(again.events()).containsExactly(first);
    assertThat(again.stored()).isEmpty();
    call(onContext(a::close));
    call(onContext(b::close));
  }

  @Test
  @DisplayName("several stores initializing the same new tables at once all succeed")
  void concurrentInit() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions(new JsonObject().put("storeTimeoutMillis", CONCURRENCY_TIMEOUT_MILLIS));
    List<PgReplayStore> stores = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      stores.add(onContext(() -> store(options, prefix, this::now)));
    }
    try {
      await(() -> Future.all(stores.stream().map(PgReplayStore::init).toList()).mapEmpty());
      assertThat(count("SELECT count(*) FROM pg_indexes WHERE tablename = '" + prefix + "replay_events'"))
        .as("primary key, unique key index, ts index, log index, key index").isEqualTo(5);
    } finally {
      stores.forEach(s -> await(s::close));
    }
  }

  @Test
  @DisplayName("the same key appended through two stores at once is stored once")
  void concurrentKeyFromTwoStores() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions(new JsonObject().put("storeTimeoutMillis", CONCURRENCY_TIMEOUT_MILLIS));
    PgReplayStore a = onContext(() -> store(options, prefix, this::now));
    PgReplayStore b = onContext(() -> store(options, prefix, this::now));
    try {
      String t = topic("race-key");
      List<AppendResult> results = await(() -> {
        List<Future<AppendResult>> fs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          PgReplayStore s = i % 2 == 0 ? a : b;
          fs.add(s.appendReporting(List.of(keyed(t, "try-" + i, "k"))));
        }
        return Future.all(fs).map(c -> c.<AppendResult>list());
      });
      assertThat(results.stream().mapToInt(r -> r.stored().size()).sum()).isEqualTo(1);
      assertThat(results).extracting(r -> r.events().get(0)).containsOnly(results.get(0).events().get(0));
      assertThat(head(a, t).seq()).isEqualTo(1);
    } finally {
      await(a::close);
      await(b::close);
    }
  }

  @Test
  @DisplayName("appends to the same two topics in opposite orders from two stores neither deadlock nor leave holes")
  void crossTopicAppendsDoNotDeadlock() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions(new JsonObject().put("maxEventsPerTopic", 10_000).put("storeTimeoutMillis", CONCURRENCY_TIMEOUT_MILLIS));
    PgReplayStore a = onContext(() -> store(options, prefix, this::now));
    PgReplayStore b = onContext(() -> store(options, prefix, this::now));
    try {
      String x = topic("x");
      String y = topic("y");
      int n = 50;
      await(() -> {
        List<Future<List<Event>>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          fs.add(a.append(List.of(draft(x, "a" + i), draft(y, "a" + i))));
          fs.add(b.append(List.of(draft(y, "b" + i), draft(x, "b" + i))));
        }
        return Future.all(fs).mapEmpty();
      });
      for (String t : List.of(x, y)) {
        Position head = head(a, t);
        assertThat(head.seq()).isEqualTo(2L * n);
        assertThat(readAll(b, t, new Position(head.epoch(), 0))).extracting(Event::seq)
          .containsExactlyElementsOf(LongStream.rangeClosed(1, 2L * n).boxed().toList());
      }
    } finally {
      await(a::close);
      await(b::close);
    }
  }

  @Test
  @DisplayName("an append that PostgreSQL rolls back as a deadlock victim is tried again and stored once")
  void deadlockVictimIsTriedAgain() throws Exception {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions(new JsonObject().put("storeTimeoutMillis", CONCURRENCY_TIMEOUT_MILLIS));
    PgReplayStore s = onContext(() -> store(options, prefix, this::now));
    String t = "victim-" + UUID.randomUUID();
    String topics = s.tables().get(0);
    String store = s.tables().get(2);
    Event first = call(onContext(() -> s.append(List.of(draft(t, "before"))))).get(0);
    PgConnection other = call(PgConnection.connect(vertx, PgConnectOptions.fromUri(URL)));
    try {
      // Another session holds the log counter, and waits far longer than the store's session
      // before it looks for a deadlock: the store's transaction is the one PostgreSQL rolls back.
      call(other.query("BEGIN").execute());
      call(other.query("SET LOCAL deadlock_timeout = '60s'").execute());
      call(other.query("UPDATE " + store + " SET log_seq = log_seq").execute());
      Future<List<Event>> append = onContext(() -> s.append(List.of(draft(t, "victim"))));
      // The append holds the topic row and waits for the counter; then the other session asks
      // for the topic row: a cycle.
      awaitLockWait("UPDATE " + store);
      call(other.preparedQuery("SELECT 1 FROM " + topics + " WHERE topic = $1 FOR UPDATE").execute(Tuple.of(t)));
      // The other session got the row: the append's first transaction was rolled back.
      call(other.query("ROLLBACK").execute());
      List<Event> stored = call(append);
      assertThat(stored).extracting(Event::data).containsExactly("victim");
      assertThat(stored.get(0).seq()).isEqualTo(first.seq() + 1);
      ReadResult r = call(onContext(() -> s.read(t, new Position(first.epoch(), 0), 10)));
      assertThat(r.events()).extracting(Event::data).containsExactly("before", "victim");
    } finally {
      call(other.close());
      call(onContext(s::close));
    }
  }

  /** Until a session other than ours waits for a lock in a statement starting with {@code sql}. */
  private void awaitLockWait(String sql) throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    while (count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '"
      + sql.replace("'", "''") + "%'") == 0) {
      assertThat(System.nanoTime()).as("the append waits for the log counter").isLessThan(deadline);
      Thread.sleep(20);
    }
  }
}
