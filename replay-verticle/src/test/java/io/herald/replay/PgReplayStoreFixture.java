package io.herald.replay;

import io.herald.common.replay.ReplayStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Shared setup of the {@link PgReplayStore} tests against a real PostgreSQL ({@value #DEFAULT_URL},
 * or the {@code HERALD_TEST_POSTGRES_URL} environment variable): each store gets tables of its own
 * (a random prefix), dropped after the test. An unreachable database fails every test. The store
 * takes the test's fake clock, so the age tests run too.
 */
abstract class PgReplayStoreFixture extends ReplayStoreFixture {

  static final String DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test";
  static final String URL = System.getenv().getOrDefault("HERALD_TEST_POSTGRES_URL", DEFAULT_URL);

  Pool admin;
  final List<String> tables = new ArrayList<>();

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

  /**
   * The contract is about what stores keep, not about time: an append that waits for its topic
   * row on a loaded machine must not meet the commit fence (3/4 of the default 2 s store
   * timeout), which would refuse it. The fence has its own test
   * ({@code GuardedReplayStorePgTest.fenceRefusesLateCommit}).
   */
  @Override
  protected JsonObject testDefaults() {
    return new JsonObject().put("storeTimeoutMillis", 60_000);
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

  PgReplayStore store(ReplayOptions options, String prefix, LongSupplier clock) {
    PgReplayStore s = new PgReplayStore(vertx, options, URL, prefix, clock);
    tables.addAll(s.tables());
    return s;
  }

  static String newPrefix() {
    return "herald_t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12) + "_";
  }

  static <T> T call(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  long count(String sql) {
    return call(admin.query(sql).execute()).iterator().next().getLong(0);
  }
}
