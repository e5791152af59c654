package io.herald.notifier;

import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.common.EventCodec;
import io.herald.common.replay.ReplayClient;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.Await;
import io.herald.testsupport.Ports;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The PostgreSQL outbox ingest against a real PostgreSQL (env {@code HERALD_TEST_POSTGRES_URL},
 * default {@code postgresql://postgres@127.0.0.1:5432/test}; an unreachable database fails the
 * tests) with the real replay verticle behind a {@link Publisher}. Each test loads the shipped
 * {@code config/sql/herald-outbox.sql} into a schema of its own and drops it afterwards; what
 * clients would see is read back from the replay store.
 */
@ExtendWith(VertxExtension.class)
class PgOutboxIngestTest {

  static final String URL = System.getenv().getOrDefault("HERALD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test");

  private Vertx vertx;
  private Publisher publisher;
  private ReplayClient replay;
  private String schema;
  private Pool db;
  private final List<PgOutboxIngest> ingests = new ArrayList<>();

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

  @Test
  @DisplayName("The shipped ticket trigger publishes each insert and update with the row's data, in order")
  void shippedTicketTrigger() throws Exception {
    PgOutboxIngest ingest = ingest(1000, 100);
    await(ingest.start());
    await(db.query("INSERT INTO tickets (title) VALUES ('Printer on fire')").execute());
    await(db.query("INSERT INTO tickets (title) VALUES ('Coffee machine empty')").execute());
    await(db.query("UPDATE tickets SET status = 'closed' WHERE id = 1").execute());

    List<Event> one = waitForEvents("tickets.1", 2);
    assertThat(one).extracting(Event::type).containsOnly("ticket.updated");
    assertThat(one).extracting(e -> new JsonObject(e.data())).containsExactly(
      new JsonObject().put("id", 1).put("status", "open").put("title", "Printer on fire"),
      new JsonObject().put("id", 1).put("status", "closed").put("title", "Printer on fire"));
    assertThat(one).allMatch(Event::json);
    List<Event> all = waitForEvents("tickets", 3);
    assertThat(all).extracting(e -> new JsonObject(e.data()).getString("status") + "/" + new JsonObject(e.data()).getLong("id"))
      .containsExactly("open/1", "open/2", "closed/1");
    assertThat(readAll("tickets.2")).hasSize(1);
    // Rows are marked published when the drain commits, a moment after the events are readable.
    // Three statements, two rows each (tickets.<id> and tickets).
    waitUntil(() -> ingest.status().getLong("published") == 6, 5000, "6 rows counted as published");
    waitUntil(() -> {
      try {
        return count("SELECT count(*) FROM herald_outbox WHERE published_at IS NULL") == 0;
      } catch (Exception e) {
        return false;
      }
    }, 5000, "every row marked published");
  }

  @Test
  @DisplayName("Data is delivered as PostgreSQL holds it, digit for digit (jsonb and json columns); a lone surrogate rejects the row")
  void exactData() throws Exception {
    PgOutboxIngest ingest = ingest(1000, 100);
    await(ingest.start());
    String pi = ExactValues.PI;
    // jsonb keeps every digit (it turns -0 into 0 itself, and refuses 1e999999)
    await(db.preparedQuery("SELECT herald_publish('exact', 'n', $1::text::jsonb)")
      .execute(Tuple.of("{\"pi\": " + pi + ", \"big\": 123456789012345678901234567890, \"one\": 1.0, \"n\": [[1.0, [" + pi + "]], []]}")));
    List<Event> jsonb = waitForEvents("exact", 1);
    assertThat(jsonb.get(0).data())
      .isEqualTo("{\"n\":[[1.0,[" + pi + "]],[]],\"pi\":" + pi + ",\"big\":123456789012345678901234567890,\"one\":1.0}");
    // a json column keeps the text as written
    await(db.query("ALTER TABLE herald_outbox ALTER COLUMN data TYPE json USING data::json").execute());
    for (String v : ExactValues.VALUES) {
      await(db.preparedQuery("INSERT INTO herald_outbox (topic, type, data) VALUES ('exact', 'n', $1::text::json)").execute(Tuple.of(v)));
    }
    await(db.query("INSERT INTO herald_outbox (topic, type, data) VALUES ('exact', 'n', '[\"\\ud800\"]'::json)").execute());
    await(db.query("INSERT INTO herald_outbox (topic, type, data) VALUES ('exact', 'n', '\"marker\"'::json)").execute());
    List<Event> got = waitForEvents("exact", ExactValues.VALUES.size() + 2);
    List<String> expected = new java.util.ArrayList<>(ExactValues.VALUES);
    expected.add("marker");
    assertThat(got.subList(1, got.size())).extracting(Event::data).containsExactlyElementsOf(expected);
    // The rejection is committed a moment after the events are readable.
    waitUntil(() -> {
      try {
        return count("SELECT count(*) FROM herald_outbox WHERE error IS NOT NULL") == 1;
      } catch (Exception e) {
        return false;
      }
    }, 5000, "the row with a lone surrogate marked rejected");
    assertThat(ingest.status().getLong("rejected")).isEqualTo(1);
    Row bad = await(db.query("SELECT error FROM herald_outbox WHERE data::text LIKE '%ud800%'").execute()).iterator().next();
    assertThat(bad.getString("error")).startsWith("invalid_data").contains("lone surrogate");
  }

  @Test
  @DisplayName("A 20 KB payload, beyond NOTIFY's 8000-byte limit, arrives whole")
  void largePayload() throws Exception {
    PgOutboxIngest ingest = ingest(1000, 100);
    await(ingest.start());
    String text = "x".repeat(20_000);
    await(db.preparedQuery("SELECT herald_publish('big', 'blob', jsonb_build_object('text', $1::text))").execute(Tuple.of(text)));
    await(db.query("SELECT herald_publish('big', NULL, '\"plain text\"')").execute());
    List<Event> got = waitForEvents("big", 2);
    assertThat(new JsonObject(got.get(0).data()).getString("text")).isEqualTo(text);
    assertThat(got.get(0).type()).isEqualTo("blob");
    assertThat(got.get(1).data()).isEqualTo("plain text");
    assertThat(got.get(1).json()).isFalse();
    assertThat(got.get(1).type()).isEqualTo("message");
  }

  @Test
  @DisplayName("Rows written while no notifier runs are delivered once, in order, when one starts (and not again on restart)")
  void rowsWrittenWhileStopped() throws Exception {
    await(db.query("SELECT herald_publish('backlog', 'n', to_jsonb(g)) FROM generate_series(1, 250) g").execute());
    PgOutboxIngest first = ingest(60_000, 100);
    long t0 = System.nanoTime();
    await(first.start());
    List<Event> got = waitForEvents("backlog", 250);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.println("[measure] backlog of 250 rows delivered " + ms + " ms after start");
    assertThat(got).extracting(Event::data).containsExactlyElementsOf(IntStream.rangeClosed(1, 250).mapToObj(String::valueOf).toList());
    waitUntil(() -> first.status().getLong("published") == 250, 5000, "250 rows marked published");
    await(first.stop());

    PgOutboxIngest second = ingest(60_000, 100);
    await(second.start());
    // A marker row written after: once it is delivered, a backlog row delivered again would have been too.
    await(db.query("SELECT herald_publish('backlog.marker', 'n', to_jsonb(1))").execute());
    waitForEvents("backlog.marker", 1);
    assertThat(readAll("backlog")).hasSize(250);
    waitUntil(() -> second.status().getLong("received") >= 1, 5000, "the marker row received");
    assertThat(second.status().getLong("received")).as("rows the second ingest received: the marker only").isEqualTo(1);
  }

  @Test
  @DisplayName("Rows written without NOTIFY (a lost wake-up) are delivered by the poll")
  void droppedNotify() throws Exception {
    PgOutboxIngest ingest = ingest(300, 100);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "listener connected");
    long t0 = System.nanoTime();
    await(db.query("INSERT INTO herald_outbox (topic, type, data) SELECT 'quiet', 'n', to_jsonb(g) FROM generate_series(1, 5) g").execute());
    List<Event> got = waitForEvents("quiet", 5);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.println("[measure] rows without NOTIFY delivered after " + ms + " ms (poll 300 ms)");
    assertThat(got).extracting(Event::data).containsExactly("1", "2", "3", "4", "5");
  }

  @Test
  @DisplayName("A NOTIFY wakes the notifier at once, well before the poll")
  void notifyIsFast() throws Exception {
    // The poll comes every 10 minutes and each event is waited for 10 s at most: an event that
    // arrives was woken by its NOTIFY, not picked up by the poll.
    PgOutboxIngest ingest = ingest(600_000, 100);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "listener connected");
    long worst = 0;
    for (int i = 1; i <= 20; i++) {
      long t0 = System.nanoTime();
      await(db.preparedQuery("SELECT herald_publish('fast', 'n', to_jsonb($1::int))").execute(Tuple.of(i)));
      waitForEvents("fast", i);
      worst = Math.max(worst, System.nanoTime() - t0);
    }
    System.out.println("[measure] commit-to-stored latency via NOTIFY, worst of 20: " + TimeUnit.NANOSECONDS.toMillis(worst) + " ms");
  }

  @Test
  @DisplayName("When the LISTEN connection is killed the ingest reconnects and delivers what was written meanwhile, once")
  void listenerKilled() throws Exception {
    PgOutboxIngest ingest = ingest(60_000, 100);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "listener connected");
    await(db.query("SELECT herald_publish('relisten', 'n', to_jsonb(g)) FROM generate_series(1, 3) g").execute());
    waitForEvents("relisten", 3);

    long killed = count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
      + " WHERE application_name = 'herald-outbox-listen' AND query ILIKE 'LISTEN%'");
    assertThat(killed).isEqualTo(1);
    await(db.query("SELECT herald_publish('relisten', 'n', to_jsonb(g)) FROM generate_series(4, 10) g").execute());
    waitUntil(() -> ingest.status().getLong("reconnects") >= 1 && ingest.status().getBoolean("connected"), 10_000, "reconnected");
    waitForEvents("relisten", 10);
    // The poll is a minute away: this one arrives through the new LISTEN.
    await(db.query("SELECT herald_publish('relisten', 'n', to_jsonb(11))").execute());
    waitForEvents("relisten", 11);
    // Nothing twice: a twelfth row written after comes right after the eleventh.
    await(db.query("SELECT herald_publish('relisten', 'n', to_jsonb(12))").execute());
    List<Event> got = waitForEvents("relisten", 12);
    assertThat(got).extracting(Event::data)
      .containsExactlyElementsOf(IntStream.rangeClosed(1, 12).mapToObj(String::valueOf).toList());
  }

  @Test
  @DisplayName("Two notifier nodes on one outbox deliver every row once and keep per-topic order")
  void twoNodes() throws Exception {
    PgOutboxIngest a = ingest(500, 10);
    PgOutboxIngest b = ingest(500, 10);
    await(a.start());
    await(b.start());
    int perTopic = 100;
    List<String> topics = List.of("node.a", "node.b", "node.c");
    // One producer per topic, each committing its rows one after the other; the three run at once.
    List<Future<Void>> producers = new ArrayList<>();
    for (String t : topics) {
      Future<Void> chain = Future.succeededFuture();
      for (int i = 1; i <= perTopic; i++) {
        int n = i;
        chain = chain.compose(v -> db.preparedQuery("SELECT herald_publish($1, 'n', to_jsonb($2::int))").execute(Tuple.of(t, n)).mapEmpty());
      }
      producers.add(chain);
    }
    await(Future.all(producers));
    for (String t : topics) {
      List<Event> got = waitForEvents(t, perTopic);
      assertThat(got).as(t).extracting(Event::data)
        .containsExactlyElementsOf(IntStream.rangeClosed(1, perTopic).mapToObj(String::valueOf).toList());
    }
    // A marker row written after all of them: once both nodes have marked it too, every row before it is counted.
    await(db.query("SELECT herald_publish('node.marker', 'n', to_jsonb(1))").execute());
    waitForEvents("node.marker", 1);
    waitUntil(() -> a.status().getLong("published") + b.status().getLong("published") >= 3L * perTopic + 1, 5000,
      "every row and the marker marked published");
    long pa = a.status().getLong("published");
    long pb = b.status().getLong("published");
    System.out.println("[measure] two nodes: node A published " + pa + ", node B " + pb);
    assertThat(pa + pb).isEqualTo(3L * perTopic + 1);
    for (String t : topics) {
      assertThat(readAll(t)).hasSize(perTopic);
    }
  }

  @Test
  @DisplayName("A row Herald rejects is marked with the reason and does not block the rows behind it")
  void badRow() throws Exception {
    await(db.query("BEGIN; SELECT herald_publish('mixed', 'n', '1'); SELECT herald_publish('no good', 'n', '2');"
      + " SELECT herald_publish('mixed', 'n', '3'); COMMIT").execute());
    PgOutboxIngest ingest = ingest(1000, 100);
    await(ingest.start());
    waitForEvents("mixed", 2);
    await(db.query("SELECT herald_publish('mixed', 'n', '4')").execute());
    assertThat(waitForEvents("mixed", 3)).extracting(Event::data).containsExactly("1", "3", "4");
    Row bad = await(db.query("SELECT published_at, error FROM herald_outbox WHERE topic = 'no good'").execute()).iterator().next();
    assertThat(bad.getValue("published_at")).isNotNull();
    assertThat(bad.getString("error")).startsWith("invalid_topic");
    // The row is marked and counted after the store answered, a moment after the event is readable.
    waitUntil(() -> ingest.status().getLong("published") == 3, 5000, "3 rows counted as published");
    assertThat(ingest.status().getLong("rejected")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM herald_outbox WHERE published_at IS NULL")).isZero();
  }

  @Test
  @DisplayName("Published rows past the retention are deleted; unpublished rows are kept")
  void cleanup() throws Exception {
    PgOutboxIngest ingest = ingest(60_000, 100, 0);
    await(ingest.start());
    await(db.query("SELECT herald_publish('gone', 'n', to_jsonb(g)) FROM generate_series(1, 5) g").execute());
    waitForEvents("gone", 5);
    waitUntil(() -> {
      try {
        return count("SELECT count(*) FROM herald_outbox WHERE published_at IS NULL") == 0;
      } catch (Exception e) {
        return false;
      }
    }, 5000, "marked");
    // Another "node" holds the drain lock: the new row stays unpublished while cleanup runs.
    SqlConnection holder = await(db.getConnection());
    Transaction tx = await(holder.begin());
    await(holder.preparedQuery("SELECT pg_advisory_xact_lock(1214607972, $1::regclass::oid::int)")
      .execute(Tuple.of(schema + ".herald_outbox")));
    await(db.query("SELECT herald_publish('later', 'n', '1')").execute());
    assertThat(await(ingest.cleanup())).isEqualTo(5);
    assertThat(count("SELECT count(*) FROM herald_outbox WHERE topic = 'gone'")).isZero();
    assertThat(count("SELECT count(*) FROM herald_outbox WHERE topic = 'later' AND published_at IS NULL")).isEqualTo(1);
    await(tx.commit());
    await(holder.close());
    waitForEvents("later", 1);
  }

  @Test
  @DisplayName("A publish whose answer is lost (store stored it, the notifier saw a failure) is retried and still stored once")
  void lostAnswerIsRetriedOnce() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Function<JsonObject, Future<JsonObject>> lossy = body -> publisher.publish(body).compose(r -> calls.getAndIncrement() == 0
      ? Future.failedFuture(new HeraldException(ErrorCode.STORE_UNAVAILABLE, "answer lost"))
      : Future.succeededFuture(r));
    PgOutboxIngest ingest = new PgOutboxIngest(vertx, lossy, URL, schema + ".herald_outbox", "herald_outbox", 60_000, 100);
    ingests.add(ingest);
    await(db.query("SELECT herald_publish('lossy', 'n', to_jsonb(g)) FROM generate_series(1, 5) g").execute());
    await(ingest.start());
    waitUntil(() -> ingest.status().getLong("published") == 5, 5000, "published after the retry");
    assertThat(calls.get()).isEqualTo(2);
    assertThat(ingest.status().getLong("failed")).isEqualTo(1);
    assertThat(waitForEvents("lossy", 5)).extracting(Event::data).containsExactly("1", "2", "3", "4", "5");
  }

  @Test
  @DisplayName("An unreachable server does not fail the start: the ingest says so and keeps trying")
  void unreachableAtStart() throws Exception {
    int port = Ports.freePort();
    PgOutboxIngest ingest = new PgOutboxIngest(vertx, publisher::publish, "postgresql://postgres@127.0.0.1:" + port + "/none",
      "herald_outbox", "herald_outbox", 60_000, 100);
    ingests.add(ingest);
    await(ingest.start());
    waitUntil(() -> ingest.status().getString("lastError") != null, 5000, "the failure in the status");
    assertThat(ingest.status().getBoolean("connected")).isFalse();
    assertThat(ingest.status().getString("lastError")).contains("Connection refused");
  }

  @Test
  @DisplayName("Bad settings are refused with the setting's name")
  void badSettings() {
    assertThatThrownBy(() -> new PgOutboxIngest(vertx, publisher::publish, URL, "x; drop", "c", 1, 1))
      .hasMessageContaining("table");
    assertThatThrownBy(() -> new PgOutboxIngest(vertx, publisher::publish, URL, "t", "Bad-Channel", 1, 1))
      .hasMessageContaining("channel");
    assertThatThrownBy(() -> new PgOutboxIngest(vertx, publisher::publish, URL, "t", "c", 0, 1))
      .hasMessageContaining("pollMillis");
    assertThatThrownBy(() -> new PgOutboxIngest(vertx, publisher::publish, URL, "t", "c", 1, 0))
      .hasMessageContaining("batchSize");
  }

  // ---- helpers --------------------------------------------------------------------------

  private PgOutboxIngest ingest(long pollMillis, int batchSize) {
    return ingest(pollMillis, batchSize, PgOutboxIngest.DEFAULT_RETENTION_MILLIS);
  }

  private PgOutboxIngest ingest(long pollMillis, int batchSize, long retention) {
    PgOutboxIngest i = new PgOutboxIngest(vertx, publisher::publish, URL, schema + ".herald_outbox", "herald_outbox",
      pollMillis, batchSize, retention);
    ingests.add(i);
    return i;
  }

  private long count(String sql) throws Exception {
    return await(db.query(sql).execute()).iterator().next().getLong(0);
  }

  private List<Event> readAll(String topic) throws Exception {
    return StoredEvents.readAll(replay, topic);
  }

  private List<Event> waitForEvents(String topic, int n) throws Exception {
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
