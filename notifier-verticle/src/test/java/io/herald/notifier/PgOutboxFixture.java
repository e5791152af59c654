package io.herald.notifier;

import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.replay.ReplayClient;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shared setup of the PostgreSQL outbox ingest tests: a real PostgreSQL (env
 * {@code HERALD_TEST_POSTGRES_URL}, default {@code postgresql://postgres@127.0.0.1:5432/test}; an
 * unreachable database fails the tests) with the real replay verticle behind a {@link Publisher}.
 * Each test loads the shipped {@code config/sql/herald-outbox.sql} into a schema of its own and
 * drops it afterwards; what clients would see is read back from the replay store. The static
 * helpers are shared with the other ingest tests.
 */
@ExtendWith(VertxExtension.class)
abstract class PgOutboxFixture {

  static final String URL = System.getenv().getOrDefault("HERALD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test");

  Vertx vertx;
  Publisher publisher;
  ReplayClient replay;
  String schema;
  Pool db;
  final List<PgOutboxIngest> ingests = new ArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    this.vertx = vertx;
    Harness h = Harness.start(vertx);
    publisher = h.publisher();
    replay = h.replay();
    schema = "herald_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    Pool admin = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(URL)).using(vertx).build();
    try {
      await(admin.query("CREATE SCHEMA " + schema).execute());
    } finally {
      await(admin.close());
    }
    db = pool(vertx, URL, schema);
    loadShippedSql(db);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (PgOutboxIngest i : ingests) {
      await(i.stop());
    }
    if (db != null) {
      await(db.query("DROP SCHEMA " + schema + " CASCADE").execute());
      await(db.close());
    }
  }

  PgOutboxIngest ingest(long pollMillis, int batchSize) {
    return ingest(pollMillis, batchSize, PgOutboxIngest.DEFAULT_RETENTION_MILLIS);
  }

  PgOutboxIngest ingest(long pollMillis, int batchSize, long retention) {
    PgOutboxIngest i = new PgOutboxIngest(vertx, publisher::publish, URL, schema + ".herald_outbox", "herald_outbox",
      pollMillis, batchSize, retention);
    ingests.add(i);
    return i;
  }

  long count(String sql) throws Exception {
    return await(db.query(sql).execute()).iterator().next().getLong(0);
  }

  List<Event> readAll(String topic) throws Exception {
    return StoredEvents.readAll(replay, topic);
  }

  List<Event> waitForEvents(String topic, int n) throws Exception {
    return waitForEvents(replay, topic, n, 10_000);
  }

  /** The real replay verticle (memory store) and a publisher in front of it. */
  record Harness(Publisher publisher, ReplayClient replay) {
    static Harness start(Vertx vertx) throws Exception {
      EventCodec.register(vertx);
      await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
      NotifierOptions options = new NotifierOptions(new JsonObject().put("publisherKeys", List.of("test-publisher-key")));
      ReplayClient replay = new ReplayClient(vertx, 5000);
      return new Harness(new Publisher(new PublishParser(options), replay), replay);
    }
  }

  /** A pool whose connections use {@code schema} (null: the default search path). */
  static Pool pool(Vertx vertx, String url, String schema) {
    PgConnectOptions o = PgConnectOptions.fromUri(url);
    if (schema != null) {
      o.addProperty("search_path", schema);
    }
    return PgBuilder.pool().with(new PoolOptions().setMaxSize(4)).connectingTo(o).using(vertx).build();
  }

  /**
   * Runs the shipped {@code config/sql/herald-outbox.sql} and then the shipped example
   * {@code config/sql/example-tickets.sql}, read from the repository, as they are.
   */
  static void loadShippedSql(Pool db) throws Exception {
    Path here = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    Path file = null;
    for (Path p = here; p != null && file == null; p = p.getParent()) {
      Path candidate = p.resolve("config/sql/herald-outbox.sql");
      if (Files.isRegularFile(candidate)) {
        file = candidate;
      }
    }
    assertThat(file).as("config/sql/herald-outbox.sql above " + here).isNotNull();
    await(db.query(Files.readString(file)).execute());
    await(db.query(Files.readString(file.resolveSibling("example-tickets.sql"))).execute());
  }

  /** Waits until the topic holds at least n events; fails on more than n or on a duplicate key. */
  static List<Event> waitForEvents(ReplayClient replay, String topic, int n, long timeoutMillis) throws Exception {
    List<Event> got = StoredEvents.waitForEvents(replay, topic, n, timeoutMillis);
    assertThat(got).allSatisfy(e -> assertThat(e.key()).as("idempotency key").startsWith("outbox:"));
    return got;
  }

  static void waitUntil(BooleanSupplier condition, long timeoutMillis, String what) throws InterruptedException {
    Await.until(what, condition, java.time.Duration.ofMillis(timeoutMillis));
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
  }
}
