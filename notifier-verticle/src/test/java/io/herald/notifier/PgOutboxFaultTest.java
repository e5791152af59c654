package io.herald.notifier;

import io.herald.common.Event;
import io.herald.testsupport.PostgresServerProcess;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static io.herald.notifier.PgOutboxIngestTest.await;
import static io.herald.notifier.StoredEvents.readAll;
import static io.herald.notifier.PgOutboxIngestTest.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The PostgreSQL outbox ingest when its server crashes: a private PostgreSQL (local binaries,
 * {@link PostgresServerProcess}) is killed while a producer writes and the ingest drains, then
 * started again on the same port and data.
 */
@ExtendWith(VertxExtension.class)
class PgOutboxFaultTest {

  private static PostgresServerProcess server;

  @BeforeAll
  static void startServer() {
    server = new PostgresServerProcess().start();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  @DisplayName("A server killed mid-stream: the ingest says it is down, opens its breaker, reconnects after the restart and delivers every committed row once, in order")
  void serverKilledMidStream(Vertx vertx) throws Exception {
    PgOutboxIngestTest.Harness h = PgOutboxIngestTest.Harness.start(vertx);
    Pool db = PgOutboxIngestTest.pool(vertx, server.url(), null);
    PgOutboxIngestTest.loadShippedSql(db);
    PgOutboxIngest ingest = new PgOutboxIngest(vertx, h.publisher()::publish, server.url(), "herald_outbox", "herald_outbox",
      500, 50);
    try {
      await(ingest.start());
      waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "listener connected");

      // A producer commits one row per transaction, one after the other, until the server dies.
      List<Integer> committed = new CopyOnWriteArrayList<>();
      AtomicInteger attempted = new AtomicInteger();
      AtomicBoolean producing = new AtomicBoolean(true);
      vertx.runOnContext(v -> produce(vertx, db, 1, committed, attempted, producing));
      waitUntil(() -> committed.size() >= 80, 10_000, "80 rows committed");
      // Another "node" takes the drain lock: the rows committed from now on wait in the outbox,
      // so the crash finds a backlog that only the restarted server can hand over.
      SqlConnection holder = await(db.getConnection());
      await(holder.begin());
      await(holder.query("SELECT pg_advisory_xact_lock(1214607972, 'herald_outbox'::regclass::oid::int)").execute());
      waitUntil(() -> committed.size() >= 160, 10_000, "160 rows committed");

      long killedAt = System.nanoTime();
      long publishedBefore = ingest.status().getLong("published");
      server.kill();
      waitUntil(() -> !producing.get(), 5000, "producer stopped by the crash");
      waitUntil(() -> !ingest.status().getBoolean("connected"), 5000, "status connected=false");
      long down = System.nanoTime();
      waitUntil(() -> "OPEN".equals(ingest.status().getString("breaker")), 10_000, "breaker open");
      long open = System.nanoTime();
      System.out.println("[measure] after the kill: connected=false in " + ms(killedAt, down) + " ms, breaker OPEN in "
        + ms(killedAt, open) + " ms; " + committed.size() + " rows committed, " + attempted.get() + " attempted, " + publishedBefore
        + " published before the kill; status " + ingest.status().encode());

      assertThat(publishedBefore).as("rows left in the outbox at the kill").isLessThan(committed.size() - 50L);
      holder.close();

      long restartAt = System.nanoTime();
      server.restart();
      long upAt = System.nanoTime();
      waitUntil(() -> ingest.status().getBoolean("connected"), 15_000, "reconnected after restart");
      long back = System.nanoTime();
      int least = committed.size();
      waitUntil(() -> {
        try {
          return readAll(h.replay(), "stream").size() >= least;
        } catch (Exception e) {
          return false;
        }
      }, 15_000, "every committed row delivered");
      long delivered = System.nanoTime();
      System.out.println("[measure] after the restart: server up in " + ms(restartAt, upAt) + " ms, ingest reconnected "
        + ms(upAt, back) + " ms later (the breaker's reset timeout), all committed rows stored "
        + ms(upAt, delivered) + " ms after the server was up; status " + ingest.status().encode());

      // A marker row committed now: the outbox goes in id order, so once it is stored every row
      // committed before it (a commit in flight at the kill included) is stored too.
      await(db.query("SELECT herald_publish('stream.marker', 'n', to_jsonb(1))").execute());
      waitUntil(() -> {
        try {
          return !readAll(h.replay(), "stream.marker").isEmpty();
        } catch (Exception e) {
          return false;
        }
      }, 15_000, "the marker row delivered");
      List<Event> got = readAll(h.replay(), "stream");
      // A commit in flight at the kill may have landed without the producer hearing so: at most one more.
      assertThat(got.size()).isBetween(least, attempted.get());
      assertThat(got).extracting(Event::data)
        .containsExactlyElementsOf(IntStream.rangeClosed(1, got.size()).mapToObj(String::valueOf).toList());
      Set<String> keys = new HashSet<>();
      assertThat(got).allMatch(e -> keys.add(e.key()));
      // A row is marked published after its events are stored: the marker's mark may still be on its way.
      waitUntil(() -> {
        try {
          return await(db.query("SELECT count(*) FROM herald_outbox WHERE published_at IS NULL").execute())
            .iterator().next().getLong(0) == 0;
        } catch (Exception e) {
          return false;
        }
      }, 15_000, "every row marked published");
      assertThat(ingest.status().getString("breaker")).isEqualTo("CLOSED");
    } finally {
      await(ingest.stop());
      await(db.close());
    }
  }

  private static void produce(Vertx vertx, Pool db, int n, List<Integer> committed, AtomicInteger attempted, AtomicBoolean producing) {
    attempted.set(n);
    db.preparedQuery("SELECT herald_publish('stream', 'n', to_jsonb($1::int))").execute(Tuple.of(n))
      .onSuccess(rs -> {
        committed.add(n);
        vertx.setTimer(2, id -> produce(vertx, db, n + 1, committed, attempted, producing));
      })
      .onFailure(t -> producing.set(false));
  }

  private static long ms(long from, long to) {
    return TimeUnit.NANOSECONDS.toMillis(to - from);
  }
}
