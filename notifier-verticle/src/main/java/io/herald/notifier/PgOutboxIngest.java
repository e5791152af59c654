package io.herald.notifier;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.herald.common.tracing.TraceContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Ingests events that applications write into a PostgreSQL outbox table, in their own
 * transactions (see {@code config/sql/herald-outbox.sql}: the table, {@code herald_publish()}
 * and an example trigger).
 *
 * <h2>Delivery</h2>
 * A row is published at least once, after its transaction committed, and clients see it once:
 * each row is published with the idempotency key {@code outbox:<table>:<id>}, so a row
 * published again (the notifier died between publishing and marking it) is not stored twice
 * while the first copy is retained. NOTIFY is only a wake-up; the payload is in the row, so
 * rows larger than NOTIFY's 8000 bytes work and a lost notification only delays delivery until
 * the next poll ({@code pollMillis}).
 *
 * <h2>Order</h2>
 * Rows are published in id order, a batch as one append. A drain holds a transaction-level
 * advisory lock on the table, so of several notifier processes on the same table only one
 * drains at a time and per-topic order holds across them. Order is id order, which is commit
 * order for a producer that commits one transaction after the other; rows of concurrent
 * transactions are ordered by when they were inserted, and a row committed after a later id
 * was already published comes after it.
 *
 * <h2>Tracing</h2>
 * When the table has the text columns {@code traceparent} and {@code tracestate} (the
 * {@code herald_publish} overload of {@code config/sql/herald-outbox.sql} fills them; looked up
 * at each connect, so a table without them works as before), a row's W3C trace context is the
 * parent of its publish span. Rows with one are published one by one.
 *
 * <h2>Failures</h2>
 * A row Herald rejects (invalid topic, too large: a 4xx) is marked published with the reason
 * in {@code error} and counted as {@code rejected}, so it never blocks the rows behind it. When
 * the store is unavailable (5xx) or PostgreSQL fails, the drain rolls back and is retried with
 * backoff (100 ms doubling to 5 s, jittered). The LISTEN connection reconnects on its own with
 * the same backoff and drains after each reconnect to catch up. Every PostgreSQL call goes
 * through the circuit breaker {@value #BREAKER_NAME}, without retries (the drain retries itself).
 *
 * <h2>Retention</h2>
 * Published rows are deleted {@code retentionMillis} after publication, in batches of
 * {@value #CLEANUP_BATCH}, every {@value #CLEANUP_INTERVAL_MILLIS} ms at most.
 *
 * <h2>Threading</h2>
 * Everything runs on the context that {@link #start()} was called on (or a new one); nothing
 * blocks it. {@link #status()} may be called from any thread.
 */
public final class PgOutboxIngest extends AbstractIngest {

  private static final Logger LOG = LoggerFactory.getLogger(PgOutboxIngest.class);

  /** Name of the ingest and of its circuit breaker. */
  public static final String BREAKER_NAME = "postgres-outbox";
  /** Default outbox table, as in {@code herald-outbox.sql}. */
  public static final String DEFAULT_TABLE = "herald_outbox";
  /** Default LISTEN channel, as in {@code herald-outbox.sql}. */
  public static final String DEFAULT_CHANNEL = "herald_outbox";
  /** Default interval of the safety-net poll, ms. */
  public static final long DEFAULT_POLL_MILLIS = 1000;
  /** Default rows per drain transaction (and per publish batch); at most the notifier's maxBatchSize. */
  public static final int DEFAULT_BATCH_SIZE = 100;
  /** Default time published rows are kept before they are deleted, ms (1 hour). */
  public static final long DEFAULT_RETENTION_MILLIS = 3_600_000;
  /** A PostgreSQL call still running after this fails and counts against the breaker, ms. */
  public static final long SQL_TIMEOUT_MILLIS = 5000;
  /** Rows deleted per cleanup statement. */
  public static final int CLEANUP_BATCH = 1000;
  /** Longest time between two cleanups, ms. */
  public static final long CLEANUP_INTERVAL_MILLIS = 60_000;
  /**
   * Interval of a {@code SELECT 1} on the LISTEN connection, ms: a connection that died without
   * the TCP connection closing (a network partition) is found and replaced.
   */
  public static final long LISTENER_PING_MILLIS = 10_000;
  /** Delay before trying again when another notifier holds the drain lock, ms. */
  static final long BUSY_RETRY_MILLIS = 200;
  /** The lag is counted up to this many rows (a bounded index scan). */
  static final int LAG_CAP = 10_000;

  /**
   * The drain lock: one per table (by oid, whatever name form each notifier was configured
   * with), held until the transaction ends, in a key space of its own (first key "Herd").
   */
  /** How many of the optional columns traceparent and tracestate the table has. */
  private static final String TRACE_COLUMNS_SQL = "SELECT count(*) AS n FROM pg_attribute WHERE attrelid = $1::regclass"
    + " AND attname IN ('traceparent', 'tracestate') AND NOT attisdropped";
  private static final String LOCK_SQL = "SELECT pg_try_advisory_xact_lock(1214607972, $1::regclass::oid::int) AS locked";

  private static final Pattern IDENT = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final PgConnectOptions connectOptions;
  private final String table;
  private final String quotedTable;
  private final String channel;
  private final long pollMillis;
  private final int batchSize;
  private final long retentionMillis;
  private final String keyPrefix;

  private final String selectSql;
  private final String selectTracedSql;
  private final String markSql;
  private final String rejectSql;
  private final String cleanupSql;
  private final String lagSql;

  private volatile long lag = -1;
  /** Whether the table has the columns traceparent and tracestate (checked at each connect: migration-safe). */
  private volatile boolean traceColumns;

  // Confined to the context.
  private Pool pool;
  private PgConnection listener;
  private boolean draining;
  private boolean drainQueued;
  private Promise<Void> drainIdle;
  private long drainRetryTimer = -1;
  private int drainFailures;
  private long pollTimer = -1;
  private long cleanupTimer = -1;
  private long pingTimer = -1;
  private boolean batchTooLargeLogged;

  /** An ingest with the default retention of published rows ({@value #DEFAULT_RETENTION_MILLIS} ms). */
  public PgOutboxIngest(Vertx vertx, Function<JsonObject, Future<JsonObject>> publish, String postgresUrl, String table,
                        String channel, long pollMillis, int batchSize) {
    this(vertx, publish, postgresUrl, table, channel, pollMillis, batchSize, DEFAULT_RETENTION_MILLIS);
  }

  /**
   * @param publish         {@link Publisher#publish}: fails with a {@link HeraldException}
   * @param postgresUrl     {@code postgresql://user:password@host:port/database}
   * @param table           the outbox table, {@code name} or {@code schema.name}, lower case
   * @param channel         the channel {@code herald_publish()} notifies, lower case
   * @param pollMillis      interval of the poll that catches lost notifications, ms, > 0
   * @param batchSize       rows per transaction and publish batch, 1..10000 (at most the notifier's maxBatchSize)
   * @param retentionMillis published rows are deleted this long after publication, ms, >= 0
   * @throws IllegalArgumentException naming the bad setting
   */
  public PgOutboxIngest(Vertx vertx, Function<JsonObject, Future<JsonObject>> publish, String postgresUrl, String table,
                        String channel, long pollMillis, int batchSize, long retentionMillis) {
    super(vertx, publish, BREAKER_NAME, SQL_TIMEOUT_MILLIS);
    if (postgresUrl == null || postgresUrl.isBlank()) {
      throw new IllegalArgumentException("postgres url must be set");
    }
    try {
      this.connectOptions = PgConnectOptions.fromUri(postgresUrl);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("postgres url is not a valid postgresql:// URL: " + e.getMessage());
    }
    String[] parts = table == null ? new String[0] : table.split("\\.", -1);
    if (parts.length < 1 || parts.length > 2 || !Arrays.stream(parts).allMatch(p -> IDENT.matcher(p).matches())) {
      throw new IllegalArgumentException("table must be name or schema.name of lower-case letters, digits and _, got \"" + table + "\"");
    }
    if (channel == null || !IDENT.matcher(channel).matches()) {
      throw new IllegalArgumentException("channel must be lower-case letters, digits and _, got \"" + channel + "\"");
    }
    if (pollMillis <= 0) {
      throw new IllegalArgumentException("pollMillis must be > 0");
    }
    if (batchSize < 1 || batchSize > 10_000) {
      throw new IllegalArgumentException("batchSize must be 1..10000");
    }
    if (retentionMillis < 0) {
      throw new IllegalArgumentException("retentionMillis must be >= 0");
    }
    this.table = table;
    this.quotedTable = String.join(".", Arrays.stream(parts).map(p -> "\"" + p + "\"").toList());
    this.channel = channel;
    this.pollMillis = pollMillis;
    this.batchSize = batchSize;
    this.retentionMillis = retentionMillis;
    // The table is in the key: two outboxes publishing to one topic must not dedupe each other's ids.
    String prefix = "outbox:" + table + ":";
    this.keyPrefix = prefix.length() <= 100 ? prefix : "outbox:" + shortHash(table) + ":";
    // data as text: the pg client would decode json(b) numbers to doubles.
    this.selectSql = "SELECT id, topic, type, data::text AS data FROM " + quotedTable
      + " WHERE published_at IS NULL ORDER BY id LIMIT " + batchSize + " FOR UPDATE";
    this.selectTracedSql = "SELECT id, topic, type, data::text AS data, traceparent, tracestate FROM " + quotedTable
      + " WHERE published_at IS NULL ORDER BY id LIMIT " + batchSize + " FOR UPDATE";
    this.markSql = "UPDATE " + quotedTable + " SET published_at = now() WHERE id = ANY($1)";
    this.rejectSql = "UPDATE " + quotedTable + " t SET published_at = now(), error = r.error"
      + " FROM unnest($1::bigint[], $2::text[]) AS r(id, error) WHERE t.id = r.id";
    this.cleanupSql = "DELETE FROM " + quotedTable + " WHERE id IN (SELECT id FROM " + quotedTable
      + " WHERE published_at < now() - make_interval(secs => $1) ORDER BY id LIMIT " + CLEANUP_BATCH + ")";
    this.lagSql = "SELECT count(*) FROM (SELECT 1 FROM " + quotedTable + " WHERE published_at IS NULL LIMIT "
      + LAG_CAP + ") pending";
  }

  @Override
  protected void onStart() {
    pool = PgBuilder.pool()
      .with(new PoolOptions().setMaxSize(2).setMaxWaitQueueSize(16))
      .connectingTo(new PgConnectOptions(connectOptions).addProperty("application_name", "herald-outbox"))
      .using(vertx)
      .build();
    LOG.info("postgres outbox ingest started: table {} channel {} poll {} ms batch {}", table, channel, pollMillis, batchSize);
    pollTimer = vertx.setPeriodic(pollMillis, id -> {
      requestDrain();
      countLag();
    });
    cleanupTimer = vertx.setPeriodic(Math.max(1000, Math.min(CLEANUP_INTERVAL_MILLIS, retentionMillis)), id -> cleanup());
    pingTimer = vertx.setPeriodic(LISTENER_PING_MILLIS, id -> pingListener());
    connect();
    requestDrain();
  }

  @Override
  protected Future<Void> onStop() {
    cancelTimers(pollTimer, cleanupTimer, pingTimer, drainRetryTimer);
    drainRetryTimer = -1; // else a restart would think a retry is still due and not drain until the next poll
    Future<Void> idle = draining ? (drainIdle = Promise.promise()).future() : Future.succeededFuture();
    PgConnection l = listener;
    listener = null;
    Future<Void> listenerClosed = l == null ? Future.succeededFuture() : quietly(l.close());
    return idle.transform(x -> listenerClosed)
      .transform(x -> pool.close());
  }

  @Override
  protected void onStopped() {
    LOG.info("postgres outbox ingest stopped: table {}", table);
  }

  /**
   * {@code {"name", "connected": LISTEN connection up, "breaker": state of the PostgreSQL
   * breaker, "table", "received": rows read (again after a rolled-back drain), "published": rows
   * handed to the publisher and marked, "rejected": rows refused as bad input and marked with
   * their error, "failed": drains that failed and were retried, "reconnects": LISTEN
   * connections lost, "lag": unpublished rows at the last poll (capped at 10000, -1 unknown),
   * "lastError": the last failure while not working, else null}}
   */
  @Override
  public JsonObject status() {
    return super.status()
      .put("table", table)
      .put("lag", lag);
  }

  // ---- listener -------------------------------------------------------------------------

  @Override
  protected void connect() {
    PgConnectOptions opts = new PgConnectOptions(connectOptions).addProperty("application_name", "herald-outbox-listen");
    guard(() -> PgConnection.connect(vertx, opts))
      .compose(conn -> {
        if (stopped) {
          return conn.close().compose(x -> Future.failedFuture("stopped"));
        }
        conn.notificationHandler(n -> requestDrain());
        conn.exceptionHandler(t -> LOG.debug("postgres outbox listener error: {}", t.toString()));
        conn.closeHandler(x -> onListenerClosed(conn));
        listener = conn;
        return guard(() -> conn.preparedQuery(TRACE_COLUMNS_SQL).execute(Tuple.of(table)))
          .onSuccess(rs -> traceColumns = rs.iterator().next().getLong("n") == 2)
          .compose(rs -> guard(() -> conn.query("LISTEN \"" + channel + "\"").execute()))
          .recover(t -> conn.close().transform(x -> Future.failedFuture(t)))
          .map(rs -> conn);
      })
      .onSuccess(conn -> {
        if (markConnected()) {
          LOG.info("postgres outbox listener connected again: table {} channel {}", table, channel);
        }
        // The server is back: catch up now on what was written while we were not listening,
        // rather than when the drain's backoff ends.
        if (drainRetryTimer >= 0) {
          vertx.cancelTimer(drainRetryTimer);
          drainRetryTimer = -1;
        }
        requestDrain();
      })
      .onFailure(t -> {
        if (stopped) {
          return;
        }
        if (markConnectFailed("listen", t)) {
          LOG.warn("postgres outbox listener cannot connect, retrying with backoff: table {}: {}", table, t.toString());
        }
        scheduleReconnect(t);
      });
  }

  private void onListenerClosed(PgConnection conn) {
    if (listener != conn) {
      return;
    }
    listener = null;
    if (markLost()) {
      LOG.warn("postgres outbox listener connection closed, reconnecting: table {} channel {}", table, channel);
    }
    scheduleReconnect(null);
  }

  private void pingListener() {
    PgConnection l = listener;
    if (stopped || l == null || !connected) {
      return;
    }
    guard(() -> l.query("SELECT 1").execute()).onFailure(t -> {
      if (listener == l) {
        LOG.warn("postgres outbox listener does not answer, replacing it: table {}: {}", table, t.toString());
        // Closing fires the close handler, which reconnects.
        l.close();
      }
    });
  }

  // ---- drain ----------------------------------------------------------------------------

  /** Drains soon: at most one drain runs, and at most one more is queued behind it. */
  void requestDrain() {
    if (context != null && Vertx.currentContext() != context) {
      context.runOnContext(v -> requestDrain());
      return;
    }
    if (stopped) {
      return;
    }
    if (draining) {
      drainQueued = true;
      return;
    }
    if (drainRetryTimer >= 0) {
      // A retry with backoff is already planned; do not hammer a failing server.
      return;
    }
    draining = true;
    drainQueued = false;
    drainLoop().onComplete(ar -> {
      draining = false;
      if (drainIdle != null) {
        drainIdle.tryComplete();
      }
      if (stopped) {
        return;
      }
      if (ar.failed()) {
        counters.failed.incrementAndGet();
        if (!(ar.cause() instanceof OpenCircuitException)) {
          lastError = "drain: " + ar.cause().getMessage();
        }
        if (drainFailures++ == 0) {
          LOG.warn("postgres outbox drain failed, retrying with backoff: table {}: {}", table, ar.cause().toString());
        }
        drainRetryTimer = vertx.setTimer(retryDelay(ar.cause(), drainFailures - 1), id -> {
          drainRetryTimer = -1;
          requestDrain();
        });
        return;
      }
      if (drainFailures > 0) {
        LOG.info("postgres outbox drain works again: table {}", table);
      }
      drainFailures = 0;
      if (!connected) {
        // The server answers again: listen now rather than when the reconnect backoff ends.
        reconnectNow();
      }
      if (ar.result() == Pass.BUSY) {
        drainRetryTimer = vertx.setTimer(BUSY_RETRY_MILLIS, id -> {
          drainRetryTimer = -1;
          requestDrain();
        });
      } else if (drainQueued) {
        requestDrain();
      }
    });
  }

  private enum Pass { FULL, DONE, BUSY }

  /** Passes until a batch comes back short (or the lock is taken elsewhere). */
  private Future<Pass> drainLoop() {
    return drainOnce().compose(p -> p == Pass.FULL && !stopped ? drainLoop() : Future.succeededFuture(p));
  }

  /** One transaction: lock, read a batch, publish it, mark it. */
  private Future<Pass> drainOnce() {
    return guard(() -> pool.getConnection()).compose(conn ->
      guard(conn::begin).compose(tx ->
        inTransaction(conn)
          .compose(p -> guard(tx::commit).map(p))
          .recover(t -> tx.rollback().transform(x -> Future.<Pass>failedFuture(t))))
        .eventually(conn::close));
  }

  private Future<Pass> inTransaction(SqlConnection conn) {
    return guard(() -> conn.preparedQuery(LOCK_SQL).execute(Tuple.of(table)))
      .compose(lock -> {
        if (!lock.iterator().next().getBoolean("locked")) {
          return Future.succeededFuture(Pass.BUSY);
        }
        boolean traced = traceColumns;
        return guard(() -> conn.query(traced ? selectTracedSql : selectSql).execute()).compose(rows -> {
          if (rows.size() == 0) {
            lag = 0;
            return Future.succeededFuture(Pass.DONE);
          }
          List<OutboxRow> batch = new ArrayList<>(rows.size());
          for (Row r : rows) {
            Object data;
            HeraldException invalid = null;
            try {
              data = data(r.getValue("data"));
            } catch (HeraldException e) {
              data = null;
              invalid = e;
            }
            batch.add(new OutboxRow(r.getLong("id"), r.getString("topic"), r.getString("type"), data, invalid,
              traced ? TraceContext.of(r.getString("traceparent"), r.getString("tracestate")) : null));
          }
          counters.received.addAndGet(batch.size());
          return publishAll(batch).compose(bad -> mark(conn, batch, bad))
            .map(v -> batch.size() == batchSize ? Pass.FULL : Pass.DONE);
        });
      });
  }

  /** {@code invalid}: why the row's data was refused while reading it, else null. */
  private record OutboxRow(long id, String topic, String type, Object data, HeraldException invalid, TraceContext trace) {
  }

  /**
   * Publishes the batch; returns the rejected rows with their reasons (empty when all went
   * through). Rows with a trace context go one by one: each publish span has one parent.
   */
  private Future<List<Rejected>> publishAll(List<OutboxRow> batch) {
    if (batch.stream().anyMatch(r -> r.invalid() != null || r.trace() != null)) {
      return oneByOne(batch, 0, new ArrayList<>());
    }
    JsonArray events = new JsonArray();
    for (OutboxRow r : batch) {
      events.add(body(r));
    }
    return publish.apply(new JsonObject().put("events", events))
      .map(ok -> List.<Rejected>of())
      .recover(t -> {
        HeraldException e = HeraldException.from(t);
        if (e.code().status() >= 500) {
          return Future.failedFuture(e);
        }
        if (e.code() == ErrorCode.BATCH_TOO_LARGE && !batchTooLargeLogged) {
          batchTooLargeLogged = true;
          LOG.warn("postgres outbox batchSize {} is above the notifier's maxBatchSize: rows go one by one; lower it: table {}",
            batchSize, table);
        }
        // The whole batch was refused (nothing stored): find the bad rows one by one, in order.
        return oneByOne(batch, 0, new ArrayList<>());
      });
  }

  private Future<List<Rejected>> oneByOne(List<OutboxRow> batch, int i, List<Rejected> bad) {
    if (i == batch.size()) {
      return Future.succeededFuture(bad);
    }
    OutboxRow r = batch.get(i);
    Future<JsonObject> published = r.invalid() != null ? Future.failedFuture(r.invalid()) : publish.apply(body(r));
    return published
      .transform(ar -> {
        if (ar.failed()) {
          HeraldException e = HeraldException.from(ar.cause());
          if (e.code().status() >= 500) {
            return Future.failedFuture(e);
          }
          bad.add(new Rejected(r.id(), e.code().code() + ": " + e.getMessage()));
          LOG.warn("postgres outbox row rejected: table {} id {} topic {}: {} {}", table, r.id(), r.topic(), e.code().code(), e.getMessage());
        }
        return oneByOne(batch, i + 1, bad);
      });
  }

  private record Rejected(long id, String error) {
  }

  /** The row as a publish body; its trace context in fields {@link Publisher#publishCarrying} takes out. */
  private JsonObject body(OutboxRow r) {
    JsonObject body = new JsonObject().put("topic", r.topic()).put("type", r.type()).put("data", r.data()).put("id", keyPrefix + r.id());
    if (r.trace() != null) {
      body.put(TraceContext.TRACEPARENT, r.trace().traceparent());
      if (r.trace().tracestate() != null) {
        body.put(TraceContext.TRACESTATE, r.trace().tracestate());
      }
    }
    return body;
  }

  private Future<Void> mark(SqlConnection conn, List<OutboxRow> batch, List<Rejected> bad) {
    List<Long> ok = new ArrayList<>(batch.size());
    for (OutboxRow r : batch) {
      if (bad.stream().noneMatch(b -> b.id() == r.id())) {
        ok.add(r.id());
      }
    }
    Future<?> marked = ok.isEmpty() ? Future.succeededFuture()
      : guard(() -> conn.preparedQuery(markSql).execute(Tuple.tuple().addArrayOfLong(ok.toArray(new Long[0]))));
    return marked.compose(x -> bad.isEmpty() ? Future.succeededFuture()
        : guard(() -> conn.preparedQuery(rejectSql).execute(Tuple.tuple()
          .addArrayOfLong(bad.stream().map(Rejected::id).toArray(Long[]::new))
          .addArrayOfString(bad.stream().map(Rejected::error).toArray(String[]::new)))))
      .map(x -> {
        // Counted before the commit: a failed commit publishes these again (deduplicated downstream).
        counters.published.addAndGet(ok.size());
        counters.rejected.addAndGet(bad.size());
        return null;
      });
  }

  /**
   * The column's JSON text as the event's data, numbers as PostgreSQL holds them (a text column
   * that does not hold JSON is text); a value that cannot be delivered as it is (a lone
   * surrogate in a json or text column) throws {@code invalid_data}.
   */
  private static Object data(Object value) {
    if (value == null || value == Tuple.JSON_NULL) {
      return null;
    }
    String text = value.toString();
    try {
      return PublishParser.data(text);
    } catch (HeraldException e) {
      if (e.code() == ErrorCode.INVALID_DATA) {
        throw e;
      }
      return text; // a text column holding text, not JSON
    }
  }

  // ---- housekeeping ---------------------------------------------------------------------

  /** Deletes published rows older than the retention, in bounded batches; the number deleted. */
  Future<Long> cleanup() {
    if (context != null && Vertx.currentContext() != context) {
      Promise<Long> done = Promise.promise();
      context.runOnContext(v -> cleanup().onComplete(done));
      return done.future();
    }
    if (stopped) {
      return Future.succeededFuture(0L);
    }
    return cleanupRound(0, 0).onFailure(t -> LOG.debug("postgres outbox cleanup failed: table {}: {}", table, t.toString()));
  }

  private Future<Long> cleanupRound(int round, long total) {
    return guard(() -> pool.preparedQuery(cleanupSql).execute(Tuple.of(retentionMillis / 1000.0)))
      .compose(rs -> {
        long n = total + rs.rowCount();
        // Bounded: at most 100 statements per run; the next run continues.
        return rs.rowCount() == CLEANUP_BATCH && round < 100 && !stopped ? cleanupRound(round + 1, n) : Future.succeededFuture(n);
      });
  }

  private void countLag() {
    if (stopped || !connected) {
      return;
    }
    guard(() -> pool.query(lagSql).execute())
      .onSuccess(rs -> lag = rs.iterator().next().getLong(0))
      .onFailure(t -> lag = -1);
  }
}
