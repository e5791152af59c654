package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The contract on {@link PgReplayStore} against a real PostgreSQL ({@value #DEFAULT_URL}, or
 * the {@code HERALD_TEST_POSTGRES_URL} environment variable), plus its own promises: its name and
 * bad URLs, retention within one append and by the sweep, the log's hole after a skip, and a
 * measured throughput. What only a shared database promises is in {@link PgReplayStoreSharedDbTest},
 * surviving lost or old tables in {@link PgReplayStoreSchemaTest}; those run no contract again.
 */
class PgReplayStoreTest extends PgReplayStoreFixture implements ReplayStoreContract {

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
  @DisplayName("2000 single-event appends to one topic, 100 at a time through one store: every one stored, numbered without a hole")
  void manyConcurrentAppendsToOneTopic() {
    // 100 appends wait for one topic row in turn: the fixture's long store timeout keeps the
    // commit fence out of the way (this is about numbering under contention).
    PgReplayStore s = (PgReplayStore) newStore(new JsonObject().put("maxEventsPerTopic", 10_000));
    String t = topic("many");
    int n = 2000;
    List<Long> seqs = new ArrayList<>();
    for (int round = 0; round < n / 100; round++) {
      int r = round;
      seqs.addAll(await(() -> {
        List<Future<List<Event>>> fs = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          fs.add(s.append(List.of(draft(t, r + "-" + i))));
        }
        return Future.all(fs).map(c -> c.<List<Event>>list().stream().map(l -> l.get(0).seq()).toList());
      }));
    }
    assertThat(seqs).doesNotHaveDuplicates().hasSize(n);
    assertThat(seqs.stream().mapToLong(Long::longValue).max()).hasValue(n);
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
}
