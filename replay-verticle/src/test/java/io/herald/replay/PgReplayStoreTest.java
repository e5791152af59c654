package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The contract on {@link PgReplayStore} against a real PostgreSQL ({@value #DEFAULT_URL}, or
 * the {@code HERALD_TEST_POSTGRES_URL} environment variable), plus what only a shared database
 * promises: two stores on two pools number one topic without holes or duplicates, keys are
 * shared, and a database that lost its data gives a new epoch. Each store gets tables of its own
 * (a random prefix), dropped after the test. An unreachable database fails every test. The
 * store takes the test's fake clock, so the age tests run too.
 */
class PgReplayStoreTest extends ReplayStoreContractTest {

  static final String DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test";
  static final String URL = System.getenv().getOrDefault("HERALD_TEST_POSTGRES_URL", DEFAULT_URL);

  private Pool admin;
  private final List<String> tables = new ArrayList<>();

  @BeforeEach
  void connectAdmin() {
    admin = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(URL)).using(vertx).build();
    try {
      call(admin.query("SELECT 1").execute());
    } catch (Throwable t) {
      fail("PostgreSQL is not reachable at " + URL + " (start it, or set HERALD_TEST_POSTGRES_URL): " + t, t);
    }
  }

  @AfterEach
  void dropTables() {
    try {
      for (String t : tables) {
        call(admin.query("DROP TABLE IF EXISTS " + t).execute());
        if (t.endsWith("replay_topics")) {
          // The append fence's trigger function outlives its table.
          call(admin.query("DROP FUNCTION IF EXISTS " + t + "_fence()").execute());
        }
      }
    } finally {
      tables.clear();
      call(admin.close());
    }
  }

  @Override
  protected ReplayStore createStore(ReplayOptions options, LongSupplier clock) {
    return store(options, newPrefix(), clock);
  }

  @Override
  protected ReplayStore createSharingStore(ReplayStore first, ReplayOptions options, LongSupplier clock) {
    return new PgReplayStore(vertx, options, URL, ((PgReplayStore) first).tablePrefix(), clock);
  }

  @Override
  protected boolean holdsState(ReplayStore store, String topic) {
    return call(((PgReplayStore) store).hasTopicRow(topic))
      || call(admin.preparedQuery("SELECT 1 FROM " + ((PgReplayStore) store).tables().get(1) + " WHERE topic = $1")
        .execute(io.vertx.sqlclient.Tuple.of(topic))).size() > 0;
  }

  private PgReplayStore store(ReplayOptions options, String prefix, LongSupplier clock) {
    PgReplayStore s = new PgReplayStore(vertx, options, URL, prefix, clock);
    tables.addAll(s.tables());
    return s;
  }

  private static String newPrefix() {
    return "herald_t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12) + "_";
  }

  private static <T> T call(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  @DisplayName("two stores on one database number one topic without holes or duplicates, concurrently")
  void concurrentStoresShareSequence() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions(new JsonObject().put("maxEventsPerTopic", 10_000));
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
    ReplayOptions options = new ReplayOptions();
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
  @DisplayName("the store names itself postgres, and an unreachable database fails init naming replay.postgresUrl")
  void nameAndBadUrl() throws Exception {
    ReplayOptions options = new ReplayOptions();
    PgReplayStore bad = onContext(() -> new PgReplayStore(vertx, options, "postgresql://postgres@127.0.0.1:1/test", newPrefix(), this::now));
    assertThat(bad.name()).isEqualTo("postgres");
    Throwable failure = onContext(bad::init).toCompletionStage().toCompletableFuture().handle((v, t) -> t).get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(failure).isNotNull();
    assertThat(failure.getMessage()).contains("replay.postgresUrl").contains("127.0.0.1:1");
    call(onContext(bad::close));
  }
  private long count(String sql) {
    return call(admin.query(sql).execute()).iterator().next().getLong(0);
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
  @DisplayName("several stores initializing the same new tables at once all succeed")
  void concurrentInit() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions();
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
    ReplayOptions options = new ReplayOptions();
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
    ReplayOptions options = new ReplayOptions(new JsonObject().put("maxEventsPerTopic", 10_000));
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
  @DisplayName("one append of more events than maxEventsPerTopic keeps only the newest, with every seq handed out")
  void appendLargerThanRetention() {
    ReplayStore s = newStore(new JsonObject().put("maxEventsPerTopic", 3));
    String t = topic("big");
    List<EventDraft> drafts = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      drafts.add(draft(t, Integer.toString(i)));
    }
    List<Event> out = append(s, drafts.toArray(new EventDraft[0]));

    assertThat(out).extracting(Event::seq).containsExactlyElementsOf(LongStream.rangeClosed(1, 10).boxed().toList());
    assertThat(read(s, t, new Position(out.get(0).epoch(), 7), 100).events()).containsExactlyElementsOf(out.subList(7, 10));
    assertReset(read(s, t, new Position(out.get(0).epoch(), 6), 100), out.get(9).position());
  }

  @Test
  @DisplayName("the sweep deletes expired events in bounded batches and leaves young ones")
  void sweepDeletesExpired() {
    PgReplayStore s = (PgReplayStore) newStore(new JsonObject().put("maxAgeSeconds", 60).put("maxEventsPerTopic", 10_000));
    int old = PgReplayStore.SWEEP_BATCH * 2 + 500;
    List<EventDraft> drafts = new ArrayList<>();
    for (int i = 0; i < old; i++) {
      drafts.add(draft(topic("t" + (i % 7)), Integer.toString(i)));
    }
    append(s, drafts.toArray(new EventDraft[0]));
    advance(61_000);
    Event young = append(s, draft(topic("t0"), "young")).get(0);

    int deleted = await(s::sweepNow);

    assertThat(deleted).isEqualTo(old);
    assertThat(count("SELECT count(*) FROM " + s.tables().get(1))).isEqualTo(1);
    assertThat(read(s, topic("t0"), new Position(young.epoch(), young.seq() - 1), 10).events()).containsExactly(young);
    assertThat(await(s::sweepNow)).isZero();
  }

  @Test
  @DisplayName("a malformed postgresUrl fails init naming replay.postgresUrl, never showing the password")
  void malformedUrl() {
    PgReplayStore bad = onContext(() -> new PgReplayStore(vertx, new ReplayOptions(),
      "postgresql://postgres:secret@127.0.0.1:notaport/test", newPrefix(), this::now));
    try {
      assertThatThrownBy(() -> await(bad::init)).hasMessageContaining("replay.postgresUrl").hasMessageNotContaining("secret");
      assertThatThrownBy(() -> head(bad, topic("x"))).hasMessageContaining("replay.postgresUrl");
    } finally {
      await(bad::close);
    }
  }

  @Test
  @DisplayName("measured: 2000 single-event appends through one store, 100 at a time")
  void appendThroughput() {
    PgReplayStore s = (PgReplayStore) newStore();
    String t = topic("speed");
    int n = 2000;
    long start = System.nanoTime();
    for (int round = 0; round < n / 100; round++) {
      int r = round;
      await(() -> {
        List<Future<List<Event>>> fs = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          fs.add(s.append(List.of(draft(t, r + "-" + i))));
        }
        return Future.all(fs).mapEmpty();
      });
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf("PgReplayStore: %d appends to one topic in %.2f s (%.0f/s)%n", n, seconds, n / seconds);
    assertThat(head(s, t).seq()).isEqualTo(n);
  }

  @Test
  @DisplayName("a skip (the guard's hole after an outage) also takes a log position without an entry: a log read across it gets a reset")
  void skipLeavesLogHole() {
    PgReplayStore s = (PgReplayStore) newStore();
    String t = topic("t");
    Position before = append(s, draft(t, "a"), draft(t, "b")).get(1).log();
    await(() -> s.skip(List.of(t)));
    Event after = append(s, draft(t, "c")).get(0);
    assertThat(after.log()).isEqualTo(new Position(before.epoch(), before.seq() + 2));
    assertThat(logHead(s)).isEqualTo(after.log());
    assertLogReset(readLog(s, before, x -> x.equals("nothing"), 10), after.log());
    assertThat(readLog(s, new Position(before.epoch(), before.seq() + 1), x -> true, 10).events()).containsExactly(after);
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
