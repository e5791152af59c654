package io.herald.replay;

import io.herald.common.Breakers;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.herald.testsupport.PostgresServerProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The PostgreSQL replay store during outages, against a private PostgreSQL the test kills and
 * starts again, or slows down for real by holding a topic row's lock from another connection:
 * an append the guard gave up on never commits late, and a resume from before an outage gets a
 * reset after it.
 */
@ExtendWith(VertxExtension.class)
class GuardedReplayStorePgTest extends OnContextCalls {

  private static final int STORE_TIMEOUT_MILLIS = 400;
  private static final String PREFIX = "herald_";

  private Vertx vertx;
  private PostgresServerProcess pg;
  private final ReplayOptions options = new ReplayOptions(new JsonObject().put("storeTimeoutMillis", STORE_TIMEOUT_MILLIS));

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    pg = new PostgresServerProcess().start();
  }

  @AfterEach
  void tearDown() {
    pg.close();
  }

  @Test
  @DisplayName("after a PostgreSQL outage, a resume from before it gets reset in every topic that had outage events, new topics included")
  void resumeFromBeforeOutageResets() throws Exception {
    GuardedReplayStore store = guarded();
    try {
      List<Event> durable = on(() -> store.appendReporting(List.of(draft("t", "d1"), draft("t", "d2"), draft("u", "u1")))).stored();
      Position lastDurable = durable.get(1).position();
      Position beforeNew = on(() -> store.head("n"));

      pg.kill();
      // No connection can be made: the append certainly stored nothing and goes to the outage store.
      List<Event> outage = on(() -> store.appendReporting(List.of(draft("t", "o1"), draft("n", "n1")))).stored();
      assertThat(store.degraded()).isTrue();
      assertThat(outage.get(0).epoch()).isNotEqualTo(lastDurable.epoch());
      pg.restart();

      List<Event> back = null;
      long deadline = System.nanoTime() + Duration.ofMillis(Breakers.RESET_TIMEOUT_MILLIS * 4).toNanos();
      while (back == null) {
        GuardedReplayStoreRedisTest.awaitTrial(store, deadline);
        AppendResult r = on(() -> store.appendReporting(List.of(draft("t", "x"), draft("n", "n2")))
          .recover(t -> Future.succeededFuture(null)));
        if (r != null && r.stored().get(0).epoch().equals(lastDurable.epoch())) {
          back = r.stored();
        }
      }
      assertThat(back).as("appends went back to PostgreSQL").isNotNull();
      assertThat(store.degraded()).isFalse();
      assertThat(on(() -> store.read("t", lastDurable, 100)).reset()).as("a resume of t from before the outage gets reset").isTrue();
      assertThat(on(() -> store.read("n", beforeNew, 100)).reset()).as("a resume of n from before the outage gets reset").isTrue();
      // Seq 3 of t and seq 1 of n are the holes left where the outage events went.
      assertThat(back.get(0).position()).isEqualTo(new Position(lastDurable.epoch(), 4));
      assertThat(back.get(1).position()).isEqualTo(new Position(beforeNew.epoch(), 2));
      Position firstBack = back.get(0).position();
      on(() -> store.appendReporting(List.of(draft("t", "y"))));
      ReadResult after = on(() -> store.read("t", firstBack, 100));
      assertThat(after.reset()).isFalse();
      assertThat(after.events()).extracting(Event::data).containsExactly("y");
      // u had no outage event: its durable history simply goes on.
      Event u2 = on(() -> store.appendReporting(List.of(draft("u", "u2")))).stored().get(0);
      assertThat(u2.position()).isEqualTo(new Position(lastDurable.epoch(), 2));
      ReadResult uHistory = on(() -> store.read("u", durable.get(2).position(), 100));
      assertThat(uHistory.reset()).isFalse();
      assertThat(uHistory.events()).extracting(Event::data).containsExactly("u2");
    } finally {
      on(store::close);
    }
  }

  @Test
  @DisplayName("an append held up by a locked topic row past the guard's timeout fails with store_unavailable and never commits when the lock goes")
  void lockedAppendNeverCommitsLate() throws Exception {
    GuardedReplayStore store = guarded();
    PgConnection locker = await(PgConnection.connect(vertx, PgConnectOptions.fromUri(pg.url())));
    try {
      Event first = on(() -> store.appendReporting(List.of(draft("t", "before")))).events().get(0);
      await(locker.query("BEGIN").execute());
      await(locker.preparedQuery("SELECT 1 FROM " + PREFIX + "replay_topics WHERE topic = $1 FOR UPDATE").execute(Tuple.of("t")));
      Throwable failure;
      try {
        failure = onFailure(() -> store.appendReporting(List.of(draft("t", "late"))));
      } finally {
        await(locker.query("COMMIT").execute());
      }
      assertThat(failure).as("an append whose fate is unknown is refused, not taken elsewhere").isInstanceOf(HeraldException.class);
      assertThat(((HeraldException) failure).code()).isEqualTo(ErrorCode.STORE_UNAVAILABLE);
      assertThat(store.degraded()).as("nothing went to the outage store").isFalse();

      // The held-up transaction goes on once the lock is free: wait until it has ended, then look.
      awaitNoOtherTransaction(locker);
      ReadResult history = on(() -> store.read("t", new Position(first.epoch(), 0), 100));
      assertThat(history.reset()).isFalse();
      assertThat(history.events()).extracting(Event::data).as("the late append did not commit").containsExactly("before");
      Event next = on(() -> store.appendReporting(List.of(draft("t", "after")))).events().get(0);
      assertThat(next.position()).isEqualTo(new Position(first.epoch(), 2));
    } finally {
      await(locker.close());
      on(store::close);
    }
  }

  @Test
  @DisplayName("the PostgreSQL store refuses to commit an append after its deadline, and stores nothing")
  void fenceRefusesLateCommit() throws Exception {
    PgReplayStore store = on(() -> {
      PgReplayStore s = new PgReplayStore(vertx, options, pg.url(), PREFIX);
      return s.init().map(s);
    });
    PgConnection locker = await(PgConnection.connect(vertx, PgConnectOptions.fromUri(pg.url())));
    try {
      Event first = on(() -> store.appendReporting(List.of(draft("t", "before")))).events().get(0);
      await(locker.query("BEGIN").execute());
      await(locker.preparedQuery("SELECT 1 FROM " + PREFIX + "replay_topics WHERE topic = $1 FOR UPDATE").execute(Tuple.of("t")));
      Future<AppendResult> late;
      try {
        late = onContext(() -> store.appendReporting(List.of(draft("t", "late"))));
        // Not before the deadline has passed: the point is that the transaction commits after it.
        Thread.sleep(PgReplayStore.fenceMillis(options) + 200);
      } finally {
        await(locker.query("COMMIT").execute());
      }
      Throwable failure = await(late.map(r -> (Throwable) null).recover(Future::succeededFuture));
      assertThat(failure).isInstanceOf(NotStoredException.class);
      assertThat(GuardedReplayStore.certainlyNotStored(failure)).isTrue();
      ReadResult history = on(() -> store.read("t", new Position(first.epoch(), 0), 100));
      assertThat(history.events()).extracting(Event::data).containsExactly("before");
      // An append in time still commits.
      Event next = on(() -> store.appendReporting(List.of(draft("t", "next")))).events().get(0);
      assertThat(next.position()).isEqualTo(new Position(first.epoch(), 2));
    } finally {
      await(locker.close());
      on(store::close);
    }
  }

  @Test
  @DisplayName("during a PostgreSQL outage a log read of a durable position fails, the outage store's log serves its own epoch, and the durable log goes on after it")
  void logDuringOutage() throws Exception {
    GuardedReplayStore store = guarded();
    try {
      List<Event> durable = on(() -> store.appendReporting(List.of(draft("t", "d1"), draft("u", "d2")))).stored();
      Position durableLog = durable.get(1).log();
      assertThat(durableLog.seq()).isEqualTo(2);
      assertThat(on(store::logHead)).isEqualTo(durableLog);

      pg.kill();
      Event outage = on(() -> store.appendReporting(List.of(draft("t", "o1")))).stored().get(0);
      Position outageLog = outage.log();
      assertThat(outageLog.epoch()).isNotEqualTo(durableLog.epoch());
      assertThat(on(store::logHead)).as("the log head during the outage is the outage store's").isEqualTo(outageLog);
      assertThat(onFailure(() -> store.readLog(durableLog, t -> true, 10)))
        .as("a durable position cannot be served: the caller answers store_unavailable or a reset").isNotNull();
      LogReadResult fromOutage = on(() -> store.readLog(new Position(outageLog.epoch(), 0), t -> true, 10));
      assertThat(fromOutage.reset()).isFalse();
      assertThat(fromOutage.events()).extracting(Event::data).containsExactly("o1");
      pg.restart();

      Event back = null;
      long deadline = System.nanoTime() + Duration.ofMillis(Breakers.RESET_TIMEOUT_MILLIS * 4).toNanos();
      while (back == null) {
        GuardedReplayStoreRedisTest.awaitTrial(store, deadline);
        AppendResult r = on(() -> store.appendReporting(List.of(draft("u", "back")))
          .recover(t -> Future.succeededFuture(null)));
        if (r != null && r.stored().get(0).log().epoch().equals(durableLog.epoch())) {
          back = r.stored().get(0);
        }
      }
      assertThat(back).as("appends went back to PostgreSQL").isNotNull();
      assertThat(back.log()).as("position 3 is the hole left where the outage events went")
        .isEqualTo(new Position(durableLog.epoch(), 4));
      assertThat(on(() -> store.readLog(durableLog, t -> true, 10)).reset())
        .as("a log resume from before the outage gets a reset: it may have missed o1").isTrue();
      LogReadResult after = on(() -> store.readLog(new Position(durableLog.epoch(), 3), t -> t.equals("u"), 10));
      assertThat(after.reset()).isFalse();
      assertThat(after.events()).extracting(Event::data).containsExactly("back");
      assertThat(on(() -> store.readLog(outageLog, t -> true, 10)).reset())
        .as("a position of the finished outage's log gets a reset").isTrue();
    } finally {
      on(store::close);
    }
  }

  private GuardedReplayStore guarded() {
    return on(() -> {
      GuardedReplayStore s = new GuardedReplayStore(vertx, options, new PgReplayStore(vertx, options, pg.url(), PREFIX));
      return s.init().map(s);
    });
  }

  /** Waits until no other client backend is inside a transaction or running a statement. */
  private void awaitNoOtherTransaction(PgConnection conn) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (await(conn.query("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
      + " AND backend_type = 'client backend' AND state <> 'idle'").execute()).iterator().next().getLong(0) > 0) {
      assertThat(System.nanoTime()).as("the held-up append ended within 10 s").isLessThan(deadline);
      Thread.sleep(20);
    }
  }
}
