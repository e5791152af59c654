package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The {@link io.herald.common.replay.ReplayStore} on PostgreSQL ({@code replay.store = postgres}):
 * history lives in two tables of one database, so every replay node pointed at it serves the
 * same history, and it survives replay and database restarts.
 *
 * <h2>Layout</h2>
 * The three table names start with the table prefix ({@code replay.postgresTablePrefix}, default
 * {@code herald_}); {@link #init()} creates them if missing:
 * <ul>
 *   <li>{@code <prefix>replay_store (singleton boolean primary key, epoch text)}: one row, the
 *   store's epoch, a random string of {@value #EPOCH_LENGTH} ASCII letters and digits drawn when
 *   the row is created. A topic that has no row yet has the head {@code (store epoch, 0)}.</li>
 *   <li>{@code <prefix>replay_topics (topic text primary key, epoch text, last_seq bigint)}: one
 *   row per topic, created by the topic's first append (never by a head or a read: subscribers
 *   create no state, so naming topics that do not exist costs the database nothing), with the
 *   store's epoch and {@code last_seq} 0. {@code last_seq} is the topic's head: it never goes
 *   back, so a topic whose events all expired continues its sequence. If a row is lost while its
 *   events are still there (table truncated or rows deleted by hand), it is created again with
 *   a fresh random epoch, and every position handed out before gets a {@code reset}; if the
 *   tables are lost together, the store row is drawn again with a new epoch, to the same effect.
 *   A database restored from a backup older than its topics' last events should be given a new
 *   store epoch ({@code DELETE FROM <prefix>replay_store}) before Herald uses it.</li>
 *   <li>{@code <prefix>replay_events (topic, seq, epoch, type, data, json, key, ts)}: one row per
 *   retained event, primary key {@code (topic, seq)} (the index every read and trim walks),
 *   {@code ts} in epoch milliseconds, a unique partial index on {@code (topic, key) where key is
 *   not null} that backs idempotency, and an index on {@code ts} for the age sweep. Events left
 *   behind by a lost topic row are deleted when the row is created again.</li>
 * </ul>
 * <h2>Log</h2>
 * The log ({@link io.herald.common.replay.ReplayStore#readLog}) is a column of the events table,
 * {@code log_seq bigint} (an index on it), and a counter on the store row,
 * {@code <prefix>replay_store.log_seq}; the log epoch is the store epoch. An append, once it
 * holds its topic rows, adds its number of new events to the counter
 * ({@code UPDATE ... RETURNING}) in the same transaction and gives the events the positions
 * below it, in draft order. The counter row stays locked until the transaction commits, so
 * appends commit their log positions in log order: a reader that reads the head first and then
 * only committed rows up to it never sees a position appear below one it read. The price is
 * that appends of all topics serialize on that row for the end of their transaction. A gap in
 * the column (a row deleted by the count trim or the age sweep, whose topic is then unknown) is
 * a reset for a log reader whose window holds it. Existing tables get both columns by
 * {@code ALTER TABLE ... ADD COLUMN IF NOT EXISTS}; older events have no log position. The
 * events table's {@code flags} column (added the same way) holds an event's Mercure delivery
 * flags ({@code Event#flagsText}: {@code p} private, {@code r<ms>} retry, then the topics of an
 * update with alternates), null for none; an index on {@code key} serves {@link #findKey}.
 *
 * <p>It also creates the function {@code <prefix>replay_topics_fence()} and the constraint trigger
 * of the same name on the topics table (see Outages); dropping the tables leaves the function.
 *
 * <h2>Appends</h2>
 * One transaction per {@link #append} call. For each topic of the call, in topic-name order
 * (so that two calls never wait for each other's topic rows in a cycle), it locks the topic row
 * ({@code SELECT ... FOR UPDATE}, creating it with {@code INSERT ... ON CONFLICT DO NOTHING}
 * when missing), looks up the drafts' keys among the topic's retained events, inserts the new
 * events with {@code last_seq + 1, + 2, ...}, moves {@code last_seq} and trims. The row lock
 * serializes appends to a topic across any number of stores and processes: sequences have no
 * holes and no duplicates, and a key is never stored twice while its event is retained. A
 * transaction PostgreSQL rolls back as a deadlock victim or serialization failure is tried
 * again (at most three tries, within the first try's deadline).
 *
 * <h2>Outages</h2>
 * An append must not commit after {@link GuardedReplayStore} gave up on it (the guard may then
 * have told the publisher to retry, or taken later appends into its outage store): each append
 * transaction carries a deadline, {@link #fenceMillis 3/4 of storeTimeoutMillis} after the
 * append started, on PostgreSQL's clock, and a deferred constraint trigger on the topics table
 * ({@code <prefix>replay_topics_fence}) refuses to commit it later; the append then fails with
 * {@link NotStoredException}. What it cannot cover: a commit that passed the check but whose
 * reply was lost, or whose WAL flush outlasted the guard's timeout; the guard answers those
 * {@code store_unavailable}, as an append of unknown fate.
 *
 * <p>When appends come back from an outage, {@link GuardedReplayStore} first calls {@link #skip}:
 * every topic that had outage events moves its {@code last_seq} one on without an event (a
 * topic first published during the outage gets its row, at seq 1). A read from before the outage
 * then finds its next seq missing and gets a {@code reset}, as for an expired event, instead of
 * passing silently over the events the outage store had.
 *
 * <h2>Retention</h2>
 * By count: each append deletes the topic's events with {@code seq <= last_seq -
 * maxEventsPerTopic} in its transaction, so a topic never holds more than
 * {@code maxEventsPerTopic} events. By age: {@link #sweep()} (run periodically by the replay
 * verticle) deletes events older than {@code maxAgeSeconds} in batches of
 * {@value #SWEEP_BATCH}, at most {@value #SWEEP_MAX_BATCHES} batches per call, skipping rows an
 * append holds; reads never serve an event older than that, swept or not (a read whose next
 * event has expired gets a reset), and an expired event's key is free for a new event. Event
 * timestamps are this store's clock; replay nodes sharing a database should have synchronized
 * clocks.
 *
 * <h2>Limits</h2>
 * {@code maxTopics} is not enforced: each topic ever published to keeps its small row in the
 * topics table (deleting it would cost its subscribers a reset, never a silent gap). Only
 * publishers create rows; subscribers' heads and reads leave the database as it was. The schema is
 * created idempotently under a transaction-scoped advisory lock, so replay nodes starting
 * together do not race on it; if the tables disappear while the store runs, the next call that
 * finds one missing creates them again (and the topics get new epochs).
 *
 * <h2>Threading</h2>
 * Never blocks: every call is asynchronous on a {@link Pool} of at most {@value #MAX_POOL_SIZE}
 * connections. Construction does no I/O; see {@link #init()}. There is no circuit breaker here:
 * {@link ReplayStoreFactory} wraps the store in a {@link GuardedReplayStore}.
 */
public final class PgReplayStore implements ReportingReplayStore, Initializable, Sweepable, SeqSkipping {

  /** Length of the epochs this store draws. */
  public static final int EPOCH_LENGTH = 8;
  /** PostgreSQL connections this store opens at most. */
  static final int MAX_POOL_SIZE = 8;
  /** Requests that may wait for a free connection before new ones fail. */
  static final int MAX_POOL_WAITING = 10_000;
  /** Most expired events one sweep statement deletes. */
  static final int SWEEP_BATCH = 1000;
  /** Most sweep statements one {@link #sweep()} runs; the next sweep goes on from there. */
  static final int SWEEP_MAX_BATCHES = 10;

  private static final Logger LOG = LoggerFactory.getLogger(PgReplayStore.class);
  private static final String UNDEFINED_TABLE = "42P01";
  private static final String DEADLOCK_DETECTED = "40P01";
  private static final String SERIALIZATION_FAILURE = "40001";
  private static final int MAX_APPEND_TRIES = 3;
  /** Tries of the schema transaction ({@link #createSchema}). */
  private static final int MAX_SCHEMA_TRIES = 5;
  /** SQLSTATE the fence trigger raises when a transaction commits after its deadline. */
  static final String PAST_DEADLINE = "HR001";
  /** The transaction-local setting that carries an append's deadline to the fence trigger. */
  private static final String DEADLINE_SETTING = "herald.append_deadline";
  private static final char[] EPOCH_ALPHABET =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private final Pool pool;
  private final String configError;
  private final String safeUrl;
  private final String store;
  private final String topics;
  private final String events;
  private final int maxEventsPerTopic;
  private final int maxReadLimit;
  private final long maxAgeMillis;
  private final LongSupplier clock;
  private final long fenceMillis;
  private final SecureRandom random = new SecureRandom();
  private final Sql sql;
  private Future<Void> ready;
  private boolean sweeping;
  /** PostgreSQL's clock minus this process's wall clock, ms, as last measured (see {@link #fenceMillis}). */
  private volatile long serverClockOffset;

  /**
   * A store on the database at {@code postgresUrl} ({@code postgresql://[user[:password]@]host[:port]/db})
   * whose tables are named {@code <tablePrefix>replay_topics} and {@code <tablePrefix>replay_events}.
   * Opens no connection yet; a malformed URL fails {@link #init()}.
   */
  public PgReplayStore(Vertx vertx, ReplayOptions options, String postgresUrl, String tablePrefix) {
    this(vertx, options, postgresUrl, tablePrefix, System::currentTimeMillis);
  }

  /**
   * A store on the given clock (tests).
   *
   * @param clock current time in epoch milliseconds: event timestamps and the age limit use it
   */
  PgReplayStore(Vertx vertx, ReplayOptions options, String postgresUrl, String tablePrefix, LongSupplier clock) {
    if (!tablePrefix.matches("[a-z_][a-z0-9_]{0,30}")) {
      throw new IllegalArgumentException("table prefix must match [a-z_][a-z0-9_]{0,30}, got \"" + tablePrefix + "\"");
    }
    this.safeUrl = postgresUrl
      .replaceFirst("//([^:@/]*):[^@/]*@", "//$1@")
      .replaceAll("(?i)([?&]password=)[^&]*", "$1***");
    Pool p = null;
    String error = null;
    try {
      PgConnectOptions connect = PgConnectOptions.fromUri(postgresUrl).setCachePreparedStatements(true);
      p = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(MAX_POOL_SIZE).setMaxWaitQueueSize(MAX_POOL_WAITING))
        .connectingTo(connect)
        .using(vertx)
        .build();
    } catch (RuntimeException e) {
      // The parser quotes the URL, password included.
      error = String.valueOf(e.getMessage()).replace(postgresUrl, safeUrl);
    }
    this.pool = p;
    this.configError = error;
    this.store = tablePrefix + "replay_store";
    this.topics = tablePrefix + "replay_topics";
    this.events = tablePrefix + "replay_events";
    this.sql = new Sql(store, topics, events);
    this.maxEventsPerTopic = options.maxEventsPerTopic();
    this.maxReadLimit = options.maxReadLimit();
    this.maxAgeMillis = options.maxAgeMillis();
    this.clock = clock;
    this.fenceMillis = fenceMillis(options);
  }

  /**
   * How long after it is started an append may still commit: {@code 3/4} of
   * {@code storeTimeoutMillis}. Each append transaction carries its deadline on PostgreSQL's
   * clock (against an offset measured from this process at init and refreshed by every quick
   * write), and a deferred constraint trigger on the topics table checks it with
   * {@code clock_timestamp()} when the transaction commits: past it, the commit fails and
   * nothing is stored. So an append the guard gave up on at {@code storeTimeoutMillis} (a row
   * lock held, the server slow or stopped) can never commit later.
   */
  static long fenceMillis(ReplayOptions options) {
    return options.storeTimeoutMillis() * 3L / 4;
  }

  /**
   * Connects and creates the tables and indexes if missing. Memoized while it succeeds or is in
   * flight; after a failure the next call tries again. Fails with a message naming
   * {@code replay.postgresUrl} and the database address (without password) when the URL is
   * malformed or the database is not usable.
   */
  @Override
  public synchronized Future<Void> init() {
    if (ready == null || ready.failed()) {
      if (pool == null) {
        ready = Future.failedFuture(new IllegalStateException(
          "PostgreSQL replay store: replay.postgresUrl " + safeUrl + " is not a valid PostgreSQL URL: " + configError));
      } else {
        ready = createSchema(1)
          .compose(v -> measureClock())
          .recover(t -> Future.failedFuture(new IllegalStateException(
            "PostgreSQL replay store: the database at replay.postgresUrl " + safeUrl + " is not usable: "
              + t.getMessage(), t)));
      }
    }
    return ready;
  }

  /**
   * The schema transaction, tried again when PostgreSQL rolled it back as a deadlock victim or a
   * serialization failure: its {@code ALTER TABLE}s take exclusive locks, and another store
   * already appending to the same tables (a second replay node starting, or this one re-creating
   * a dropped schema) holds row and table locks in another order. Nothing of a rolled-back try
   * is left, and every statement is idempotent.
   */
  private Future<Void> createSchema(int attempt) {
    return pool.withTransaction(conn -> conn.query(sql.schema).execute()).<Void>mapEmpty()
      .recover(t -> attempt < MAX_SCHEMA_TRIES && rolledBackForRetry(t) ? createSchema(attempt + 1) : Future.failedFuture(t));
  }

  /** Measures {@link #serverClockOffset} with one query. */
  private Future<Void> measureClock() {
    long sent = System.currentTimeMillis();
    return pool.query(sql.now).execute().map(rows -> {
      long serverNow = rows.iterator().next().getLong(0);
      serverClockOffset = serverNow - (sent + System.currentTimeMillis()) / 2;
      return null;
    });
  }

  @Override
  public String name() {
    return "postgres";
  }

  // ---------------------------------------------------------------- append

  @Override
  public Future<AppendResult> appendReporting(List<EventDraft> drafts) {
    if (drafts.isEmpty()) {
      return Future.succeededFuture(new AppendResult(List.of(), List.of()));
    }
    return withSchema(() -> doAppend(drafts));
  }

  private Future<AppendResult> doAppend(List<EventDraft> drafts) {
    return doAppend(drafts, System.currentTimeMillis(), 1);
  }

  /**
   * One try of an append that started at {@code started} (this process's clock): its deadline
   * stays that of the first try. PostgreSQL may end a transaction of it as a deadlock victim
   * ({@code 40P01}; seen with appends of one key from two stores sharing a database under load)
   * or a serialization failure ({@code 40001}): the whole transaction was rolled back, nothing of
   * it stored, so it is tried again, up to {@value #MAX_APPEND_TRIES} times, while its deadline
   * has not passed.
   */
  private Future<AppendResult> doAppend(List<EventDraft> drafts, long started, int attempt) {
    return tryAppend(drafts, started).recover(t -> attempt < MAX_APPEND_TRIES && rolledBackForRetry(t)
      && System.currentTimeMillis() < started + fenceMillis
      ? doAppend(drafts, started, attempt + 1)
      : Future.failedFuture(t));
  }

  private static boolean rolledBackForRetry(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof PgException pg && (DEADLOCK_DETECTED.equals(pg.getSqlState()) || SERIALIZATION_FAILURE.equals(pg.getSqlState()))) {
        return true;
      }
    }
    return false;
  }

  private Future<AppendResult> tryAppend(List<EventDraft> drafts, long started) {
    long now = clock.getAsLong();
    long deadline = started + serverClockOffset + fenceMillis;
    // Sorted: concurrent calls lock the topic rows they share in the same order.
    Map<String, List<Integer>> byTopic = new TreeMap<>();
    for (int i = 0; i < drafts.size(); i++) {
      byTopic.computeIfAbsent(drafts.get(i).topic(), t -> new ArrayList<>()).add(i);
    }
    Event[] out = new Event[drafts.size()];
    boolean[] stored = new boolean[drafts.size()];
    return pool.withTransaction(conn -> {
      List<TopicWrite> writes = new ArrayList<>();
      Future<Void> chain = Future.succeededFuture();
      for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
        chain = chain.compose(v -> appendTopic(conn, e.getKey(), e.getValue(), drafts, now, out, stored))
          .map(w -> {
            if (w != null) {
              writes.add(w);
            }
            return null;
          });
      }
      // Topic rows first (sorted), the log counter last: no lock cycle with another append.
      return chain.compose(v -> writes.isEmpty() ? Future.succeededFuture()
        : takeLog(conn, writes.stream().mapToInt(w -> w.indexes().size()).sum()).compose(last -> {
          long next = last.seq() - writes.stream().mapToInt(w -> w.indexes().size()).sum();
          for (int i = 0; i < out.length; i++) {
            if (stored[i]) {
              out[i] = out[i].withLog(new Position(last.epoch(), ++next));
            }
          }
          Future<Void> w = Future.succeededFuture();
          for (TopicWrite tw : writes) {
            w = w.compose(x -> write(conn, tw, now, deadline, out));
          }
          return w;
        }));
    }).recover(t -> Future.failedFuture(pastDeadline(t)
      ? new NotStoredException("PostgreSQL refused to commit the append after its deadline (" + fenceMillis
        + " ms after it started) and stored nothing")
      : t)).map(v -> {
      List<Event> storedEvents = new ArrayList<>();
      for (int i = 0; i < out.length; i++) {
        if (stored[i]) {
          storedEvents.add(out[i]);
        }
      }
      return new AppendResult(List.of(out), storedEvents);
    });
  }

  /** What an append writes in one topic: its stored drafts, in draft order, and the trim. */
  private record TopicWrite(String topic, String epoch, List<Integer> indexes, long last, long trimThrough) {
  }

  /**
   * Locks the topic row and numbers the drafts of the topic (finding the retained events of
   * their keys); writes nothing yet. Null when every draft was a retained duplicate.
   */
  private Future<TopicWrite> appendTopic(SqlConnection conn, String topic, List<Integer> indexes, List<EventDraft> drafts,
                                         long now, Event[] out, boolean[] stored) {
    LinkedHashSet<String> keys = new LinkedHashSet<>();
    for (int i : indexes) {
      if (drafts.get(i).key() != null) {
        keys.add(drafts.get(i).key());
      }
    }
    return lockTopic(conn, topic).compose(head -> retainedByKey(conn, topic, head.epoch(), keys, now).map(retained -> {
      List<Integer> fresh = new ArrayList<>(indexes.size());
      Map<String, Event> byKey = new HashMap<>(retained);
      long seq = head.seq();
      for (int i : indexes) {
        EventDraft d = drafts.get(i);
        Event found = d.key() != null ? byKey.get(d.key()) : null;
        if (found != null) {
          out[i] = found;
          continue;
        }
        Event e = new Event(topic, head.epoch(), ++seq, d.type(), d.data(), d.json(), d.key(), now)
          .withFlags(d.privateUpdate(), d.retry()).withAlternates(d.alternates());
        out[i] = e;
        stored[i] = true;
        fresh.add(i);
        if (d.key() != null) {
          byKey.put(d.key(), e);
        }
      }
      return fresh.isEmpty() ? null : new TopicWrite(topic, head.epoch(), fresh, seq, seq - maxEventsPerTopic);
    }));
  }

  /** Takes {@code n} log positions: the log epoch and the last of them (the store row stays locked). */
  private Future<Position> takeLog(SqlConnection conn, int n) {
    return conn.preparedQuery(sql.takeLog).execute(Tuple.of(n)).compose(rows -> {
      if (rows.size() == 1) {
        Row r = rows.iterator().next();
        return Future.succeededFuture(new Position(r.getString("epoch"), r.getLong("log_seq")));
      }
      // The store row is missing (its table was emptied): draw it again, then count.
      return conn.preparedQuery(sql.ensureStore).execute(Tuple.of(randomEpoch()))
        .compose(v -> conn.preparedQuery(sql.takeLog).execute(Tuple.of(n)))
        .map(again -> {
          Row r = again.iterator().next();
          return new Position(r.getString("epoch"), r.getLong("log_seq"));
        });
    });
  }

  private Future<Void> write(SqlConnection conn, TopicWrite w, long now, long deadline, Event[] out) {
    long trimThrough = w.trimThrough();
    // Events trimmed by this very append are not inserted at all: the statement's DELETE
    // could not see rows its own INSERT adds.
    List<Event> kept = w.indexes().stream().map(i -> out[i]).filter(e -> e.seq() > trimThrough).toList();
    int n = kept.size();
    Long[] seqs = new Long[n];
    String[] types = new String[n];
    String[] datas = new String[n];
    Boolean[] jsons = new Boolean[n];
    String[] keyArray = new String[n];
    Long[] logSeqs = new Long[n];
    String[] flags = new String[n];
    for (int j = 0; j < n; j++) {
      Event e = kept.get(j);
      seqs[j] = e.seq();
      types[j] = e.type();
      datas[j] = e.data();
      jsons[j] = e.json();
      keyArray[j] = e.key();
      logSeqs[j] = e.log().seq();
      flags[j] = e.flagsText();
    }
    Tuple args = Tuple.tuple()
      .addString(w.topic()).addString(w.epoch()).addLong(now)
      .addArrayOfLong(seqs).addArrayOfString(types).addArrayOfString(datas).addArrayOfBoolean(jsons)
      .addArrayOfString(keyArray)
      .addLong(w.last()).addLong(trimThrough).addString(Long.toString(deadline))
      .addArrayOfLong(logSeqs)
      .addArrayOfString(flags);
    long sent = System.currentTimeMillis();
    return conn.preparedQuery(sql.write).execute(args).map(rows -> {
      long received = System.currentTimeMillis();
      if (received - sent <= fenceMillis / 4) {
        // A quick round trip pins the server's clock well enough to keep the offset fresh.
        serverClockOffset = rows.iterator().next().getLong("now") - (sent + received) / 2;
      }
      return null;
    });
  }

  /**
   * The topic's row, locked until the transaction ends; created if missing, with the store's
   * epoch, or a fresh one when events of a lost row are still there.
   */
  private Future<Position> lockTopic(SqlConnection conn, String topic) {
    return conn.preparedQuery(sql.lockTopic).execute(Tuple.of(topic)).compose(rows -> {
      if (rows.size() == 1) {
        return Future.succeededFuture(position(rows.iterator().next()));
      }
      return conn.preparedQuery(sql.createTopic).execute(Tuple.of(topic, randomEpoch(), randomEpoch()))
        .compose(created -> conn.preparedQuery(sql.lockTopic).execute(Tuple.of(topic)))
        .compose(again -> again.size() == 1
          ? Future.succeededFuture(position(again.iterator().next()))
          : Future.failedFuture(new IllegalStateException("topic row of " + topic + " vanished while appending")));
    });
  }

  /**
   * The retained events of {@code topic} that have one of {@code keys}; expired ones found on
   * the way are deleted, so that their keys can be stored again.
   */
  private Future<Map<String, Event>> retainedByKey(SqlConnection conn, String topic, String epoch, LinkedHashSet<String> keys,
                                                   long now) {
    if (keys.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    long cutoff = now - maxAgeMillis;
    return conn.preparedQuery(sql.findKeys).execute(Tuple.tuple().addString(topic).addArrayOfString(keys.toArray(new String[0]))).compose(rows -> {
      Map<String, Event> retained = new HashMap<>();
      List<String> expired = new ArrayList<>();
      for (Row r : rows) {
        Event e = toEvent(topic, r.getString("epoch"), r);
        if (e.timestamp() >= cutoff && e.epoch().equals(epoch)) {
          retained.put(e.key(), e);
        } else {
          expired.add(e.key());
        }
      }
      if (expired.isEmpty()) {
        return Future.succeededFuture(retained);
      }
      return conn.preparedQuery(sql.deleteKeys).execute(Tuple.tuple().addString(topic).addArrayOfString(expired.toArray(new String[0])))
        .map(v -> retained);
    });
  }

  private static boolean pastDeadline(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof PgException pg && PAST_DEADLINE.equals(pg.getSqlState())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Moves the head of each topic one seq on without storing an event (creating the rows of
   * topics that have none, as a first append would), in one transaction; answers the hole of
   * each. Reads treat the missing event like an expired one: a position before it gets a reset.
   */
  @Override
  public Future<Map<String, Position>> skip(Collection<String> topicNames) {
    if (topicNames.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    String[] names = new TreeSet<>(topicNames).toArray(new String[0]);
    return withSchema(() -> pool.withTransaction(conn -> conn.preparedQuery(sql.ensureStore).execute(Tuple.of(randomEpoch()))
      .compose(store -> conn.preparedQuery(sql.skip).execute(Tuple.tuple().addArrayOfString(names)
        .addString(store.iterator().next().getString("epoch")).addString(randomEpoch())))
      // And one log position without an event: a log reader from before the outage meets the
      // hole and gets a reset instead of passing over the outage events (topic rows first,
      // the store row last, as appends lock them).
      .compose(rows -> takeLog(conn, 1).map(log -> rows))
      .map(rows -> {
        Map<String, Position> holes = new HashMap<>();
        for (Row r : rows) {
          holes.put(r.getString("topic"), position(r));
        }
        return holes;
      })));
  }

  // ---------------------------------------------------------------- read and head

  @Override
  public Future<ReadResult> read(String topic, Position after, int limit) {
    if (limit < 1) {
      return Future.failedFuture(new IllegalArgumentException("limit must be >= 1, got " + limit));
    }
    int count = Math.min(limit, maxReadLimit);
    return withSchema(() -> {
      Tuple args = Tuple.of(topic, after.epoch(), after.seq(), count);
      return pool.preparedQuery(sql.read).execute(args).compose(rows -> rows.size() > 0
        ? Future.succeededFuture(toReadResult(topic, after, rows))
        // No row: the topic has no history, and its head is the store's (epoch, 0).
        : head(topic).map(head -> after.equals(head) ? new ReadResult(head, false, List.of()) : ReadResult.reset(head)));
    });
  }

  private ReadResult toReadResult(String topic, Position after, RowSet<Row> rows) {
    Row first = rows.iterator().next();
    Position head = position(first);
    if (!after.epoch().equals(head.epoch()) || after.seq() > head.seq()) {
      return ReadResult.reset(head);
    }
    if (after.seq() == head.seq()) {
      return new ReadResult(head, false, List.of());
    }
    long cutoff = clock.getAsLong() - maxAgeMillis;
    List<Event> young = new ArrayList<>(rows.size());
    for (Row r : rows) {
      if (r.getLong("seq") == null) {
        break;
      }
      Event e = toEvent(topic, head.epoch(), r);
      if (e.timestamp() < cutoff) {
        break;
      }
      young.add(e);
    }
    if (young.isEmpty() || young.get(0).seq() != after.seq() + 1) {
      return ReadResult.reset(head);
    }
    return new ReadResult(head, false, young);
  }

  /** The topic's row, or {@code (store epoch, 0)} for a topic without one: creates no topic row. */
  @Override
  public Future<Position> head(String topic) {
    return withSchema(() -> pool.preparedQuery(sql.head).execute(Tuple.of(topic)).compose(rows -> rows.size() == 1
      ? Future.succeededFuture(position(rows.iterator().next()))
      // The store row itself is missing (its table was emptied): draw it again, once.
      : pool.preparedQuery(sql.ensureStore).execute(Tuple.of(randomEpoch()))
        .map(created -> new Position(created.iterator().next().getString("epoch"), 0))));
  }

  /** The heads of several topics in one statement, not one per topic. */
  @Override
  public Future<Map<String, Position>> heads(List<String> topics) {
    String[] distinct = new LinkedHashSet<>(topics).toArray(new String[0]);
    if (distinct.length == 0) {
      return Future.succeededFuture(Map.of());
    }
    return withSchema(() -> pool.preparedQuery(sql.heads).execute(Tuple.of(distinct)).compose(rows -> {
      Map<String, Position> out = new LinkedHashMap<>();
      for (String t : distinct) {
        out.put(t, null); // the request's order
      }
      boolean storeMissing = false;
      for (Row r : rows) {
        String epoch = r.getString("epoch");
        storeMissing |= epoch == null;
        out.put(r.getString("topic"), epoch == null ? null : position(r));
      }
      if (!storeMissing) {
        return Future.succeededFuture(out);
      }
      // The store row itself is missing (its table was emptied): draw it again, once, as head() does.
      return pool.preparedQuery(sql.ensureStore).execute(Tuple.of(randomEpoch())).map(created -> {
        String epoch = created.iterator().next().getString("epoch");
        out.replaceAll((t, p) -> p != null ? p : new Position(epoch, 0));
        return out;
      });
    }));
  }

  @Override
  public Future<Position> logHead() {
    return withSchema(() -> pool.preparedQuery(sql.logHead).execute().compose(rows -> rows.size() == 1
      ? Future.succeededFuture(logPosition(rows.iterator().next()))
      : pool.preparedQuery(sql.ensureStore).execute(Tuple.of(randomEpoch()))
        .map(created -> new Position(created.iterator().next().getString("epoch"), 0))));
  }

  /**
   * Three statements: the head (the counter, committed), the window of the log after
   * {@code after} up to it (positions, topics and times only), then the matching events. Reading
   * the head first is what makes it safe: every position up to a committed counter value is
   * committed too (see the class doc).
   */
  @Override
  public Future<LogReadResult> readLog(Position after, Predicate<String> topicFilter, int limit) {
    if (limit < 1) {
      return Future.failedFuture(new IllegalArgumentException("limit must be >= 1, got " + limit));
    }
    int max = Math.min(limit, maxReadLimit);
    return withSchema(() -> logHead().compose(head -> {
      if (!after.epoch().equals(head.epoch()) || after.seq() > head.seq()) {
        return Future.succeededFuture(LogReadResult.reset(head, null));
      }
      if (after.seq() == head.seq()) {
        return Future.succeededFuture(LogReadResult.of(head, List.of(), head));
      }
      long upTo = Math.min(head.seq(), after.seq() + (long) LOG_SCAN_FACTOR * max);
      long cutoff = clock.getAsLong() - maxAgeMillis;
      return pool.preparedQuery(sql.logScan).execute(Tuple.of(after.seq(), upTo)).compose(rows -> {
        long expected = after.seq() + 1;
        List<Long> matching = new ArrayList<>();
        for (Row r : rows) {
          long logSeq = r.getLong("log_seq");
          if (logSeq != expected) {
            // An entry whose row is gone: its topic is unknown, so it may have matched.
            return Future.succeededFuture(LogReadResult.reset(head, null));
          }
          expected++;
          if (topicFilter.test(r.getString("topic"))) {
            if (r.getLong("ts") < cutoff) {
              return Future.succeededFuture(LogReadResult.reset(head, null));
            }
            matching.add(logSeq);
            if (matching.size() == max) {
              break;
            }
          }
        }
        if (matching.size() < max && expected <= upTo) {
          return Future.succeededFuture(LogReadResult.reset(head, null));
        }
        Position scannedTo = new Position(head.epoch(), expected - 1);
        if (matching.isEmpty()) {
          return Future.succeededFuture(LogReadResult.of(head, List.of(), scannedTo));
        }
        return pool.preparedQuery(sql.logFetch).execute(Tuple.tuple().addArrayOfLong(matching.toArray(new Long[0])))
          .map(found -> {
            if (found.size() != matching.size()) {
              // Deleted (trimmed, swept) between the two statements.
              return LogReadResult.reset(head, null);
            }
            List<Event> events = new ArrayList<>(found.size());
            for (Row r : found) {
              events.add(logEvent(r, head.epoch()));
            }
            return LogReadResult.of(head, events, scannedTo);
          });
      });
    }));
  }

  /** An event of a log read: its topic epoch is the one it was stored in. */
  private Event logEvent(Row r, String logEpoch) {
    return new Event(r.getString("topic"), r.getString("epoch"), r.getLong("seq"), r.getString("type"), r.getString("data"),
      r.getBoolean("json"), r.getString("key"), r.getLong("ts"), null, null, new Position(logEpoch, r.getLong("log_seq")))
      .withFlagsText(r.getString("flags"));
  }

  private static Position logPosition(Row r) {
    return new Position(r.getString("epoch"), r.getLong("log_seq"));
  }

  // ---------------------------------------------------------------- age sweep

  /**
   * Deletes events older than {@code maxAgeSeconds}, at most {@value #SWEEP_BATCH} times
   * {@value #SWEEP_MAX_BATCHES}; does nothing while the previous sweep runs or before
   * {@link #init()} succeeded. Failures are logged, the next sweep tries again.
   */
  @Override
  public void sweep() {
    Future<Void> r = ready;
    if (sweeping || r == null || !r.succeeded()) {
      return;
    }
    sweeping = true;
    sweepNow().onComplete(ar -> {
      sweeping = false;
      if (ar.failed()) {
        LOG.warn("replay store postgres: age sweep of {} failed: {}", events, ar.cause().getMessage());
      }
    });
  }

  /** One sweep, whatever else runs; the number of events it deleted (tests). */
  Future<Integer> sweepNow() {
    return sweepBatches(clock.getAsLong() - maxAgeMillis, 0, 0);
  }

  private Future<Integer> sweepBatches(long cutoff, int batches, int deleted) {
    return pool.preparedQuery(sql.sweep).execute(Tuple.of(cutoff, SWEEP_BATCH)).compose(rows -> {
      int total = deleted + rows.rowCount();
      if (rows.rowCount() < SWEEP_BATCH || batches + 1 >= SWEEP_MAX_BATCHES) {
        return Future.succeededFuture(total);
      }
      return sweepBatches(cutoff, batches + 1, total);
    });
  }

  @Override
  public Future<Void> close() {
    return pool == null ? Future.succeededFuture() : pool.close();
  }

  // ---------------------------------------------------------------- plumbing

  /**
   * Runs {@code op} once the schema exists; if a table went missing (dropped under a running
   * store), creates the schema again and runs {@code op} once more.
   */
  private <T> Future<T> withSchema(Supplier<Future<T>> op) {
    return init().compose(v -> op.get()).recover(t -> {
      if (t instanceof PgException pg && UNDEFINED_TABLE.equals(pg.getSqlState())) {
        LOG.warn("replay store postgres: table missing ({}), creating the schema again", pg.getMessage());
        synchronized (this) {
          if (ready != null && ready.succeeded()) {
            ready = null;
          }
        }
        return init().compose(v -> op.get());
      }
      return Future.failedFuture(t);
    });
  }

  /** The table prefix (tests: a second store on the same tables). */
  String tablePrefix() {
    return store.substring(0, store.length() - "replay_store".length());
  }

  /** The two table names (tests drop them). */
  List<String> tables() {
    return List.of(topics, events, store);
  }

  /**
   * The keyed events of every topic ({@code <prefix>replay_events_bykey}, an index on {@code key}:
   * rows leave it when retention deletes them), younger than {@code maxAgeSeconds}, in log order.
   */
  @Override
  public Future<List<Event>> findKey(String key) {
    return withSchema(() -> pool.preparedQuery(sql.findKey)
      .execute(Tuple.of(key, clock.getAsLong() - maxAgeMillis, MAX_KEY_EVENTS))).map(rows -> {
        List<Event> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
          out.add(0, toEvent(r.getString("topic"), r.getString("epoch"), r));
        }
        return out;
      });
  }

  /** Whether the topic has a row (tests: heads and reads must not create one). */
  Future<Boolean> hasTopicRow(String topic) {
    return pool.preparedQuery("SELECT 1 FROM " + topics + " WHERE topic = $1").execute(Tuple.of(topic)).map(rows -> rows.size() > 0);
  }

  private static Position position(Row r) {
    return new Position(r.getString("epoch"), r.getLong("last_seq"));
  }

  private static Event toEvent(String topic, String epoch, Row r) {
    Long logSeq = r.getLong("log_seq");
    String logEpoch = r.getString("log_epoch");
    return new Event(topic, epoch, r.getLong("seq"), r.getString("type"), r.getString("data"), r.getBoolean("json"),
      r.getString("key"), r.getLong("ts"), null, null,
      logSeq == null || logEpoch == null ? null : new Position(logEpoch, logSeq)).withFlagsText(r.getString("flags"));
  }

  private String randomEpoch() {
    char[] c = new char[EPOCH_LENGTH];
    for (int i = 0; i < c.length; i++) {
      c[i] = EPOCH_ALPHABET[random.nextInt(EPOCH_ALPHABET.length)];
    }
    return new String(c);
  }

  /** The statements, on the store's two tables (names from a validated prefix). */
  private static final class Sql {

    final String schema;
    final String ensureStore;
    final String head;
    final String heads;
    final String lockTopic;
    final String createTopic;
    final String findKeys;
    final String deleteKeys;
    final String write;
    final String read;
    final String sweep;
    final String skip;
    final String now;
    final String takeLog;
    final String logHead;
    final String logScan;
    final String logFetch;
    final String findKey;

    Sql(String s, String t, String e) {
      // Quiet: "already exists, skipping" notices would be logged as warnings at every start.
      schema = """
        SET LOCAL client_min_messages = warning;
        SELECT pg_advisory_xact_lock(hashtext('herald.replay.schema:%1$s'));
        CREATE TABLE IF NOT EXISTS %3$s (
          singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
          epoch text NOT NULL
        );
        CREATE TABLE IF NOT EXISTS %1$s (
          topic text PRIMARY KEY,
          epoch text NOT NULL,
          last_seq bigint NOT NULL
        );
        CREATE TABLE IF NOT EXISTS %2$s (
          topic text NOT NULL,
          seq bigint NOT NULL,
          epoch text NOT NULL,
          type text NOT NULL,
          data text NOT NULL,
          json boolean NOT NULL,
          key text,
          ts bigint NOT NULL,
          PRIMARY KEY (topic, seq)
        );
        ALTER TABLE %3$s ADD COLUMN IF NOT EXISTS log_seq bigint NOT NULL DEFAULT 0;
        ALTER TABLE %2$s ADD COLUMN IF NOT EXISTS log_seq bigint;
        ALTER TABLE %2$s ADD COLUMN IF NOT EXISTS flags text;
        CREATE INDEX IF NOT EXISTS %2$s_log ON %2$s (log_seq);
        CREATE UNIQUE INDEX IF NOT EXISTS %2$s_key ON %2$s (topic, key) WHERE key IS NOT NULL;
        CREATE INDEX IF NOT EXISTS %2$s_ts ON %2$s (ts);
        CREATE INDEX IF NOT EXISTS %2$s_bykey ON %2$s (key) WHERE key IS NOT NULL;
        CREATE OR REPLACE FUNCTION %1$s_fence() RETURNS trigger LANGUAGE plpgsql AS $fence$
        DECLARE
          deadline text := current_setting('%4$s', true);
        BEGIN
          IF deadline <> '' AND (extract(epoch FROM clock_timestamp()) * 1000)::bigint > deadline::bigint THEN
            RAISE EXCEPTION 'append committed after its deadline' USING ERRCODE = '%5$s';
          END IF;
          RETURN NULL;
        END
        $fence$;
        DO $fence$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '%1$s_fence' AND tgrelid = '%1$s'::regclass) THEN
            CREATE CONSTRAINT TRIGGER %1$s_fence AFTER UPDATE ON %1$s DEFERRABLE INITIALLY DEFERRED
              FOR EACH ROW EXECUTE FUNCTION %1$s_fence();
          END IF;
        END $fence$;
        """.formatted(t, e, s, DEADLINE_SETTING, PAST_DEADLINE);
      // The store's epoch, drawn ($1) if the row is missing; returns it either way.
      ensureStore = """
        WITH drawn AS (
          INSERT INTO %1$s (singleton, epoch) VALUES (true, $1) ON CONFLICT (singleton) DO NOTHING RETURNING epoch
        )
        SELECT epoch FROM drawn UNION ALL SELECT epoch FROM %1$s
        """.formatted(s);
      // The topic's row if it has one, else the store's epoch at 0 (no row when the store row
      // is missing too).
      head = """
        SELECT epoch, last_seq FROM (
          SELECT 0 AS o, epoch, last_seq FROM %1$s WHERE topic = $1
          UNION ALL SELECT 1, epoch, 0 FROM %2$s
        ) h ORDER BY o LIMIT 1
        """.formatted(t, s);
      // The same for each topic of $1 (text[]), in one statement: epoch null when neither the
      // topic's row nor the store row is there.
      heads = """
        SELECT q.topic, COALESCE(r.epoch, st.epoch) AS epoch, COALESCE(r.last_seq, 0) AS last_seq
        FROM unnest($1::text[]) AS q(topic)
        LEFT JOIN %1$s r ON r.topic = q.topic
        LEFT JOIN (SELECT epoch FROM %2$s LIMIT 1) st ON true
        """.formatted(t, s);
      lockTopic = "SELECT epoch, last_seq FROM " + t + " WHERE topic = $1 FOR UPDATE";
      // A new row takes the store's epoch ($3 drawn if the store row is missing), unless events
      // of the topic are still there: they belong to a lost row, so the new row gets a fresh
      // epoch ($2) and the leftovers go.
      createTopic = """
        WITH drawn AS (
          INSERT INTO %3$s (singleton, epoch) VALUES (true, $3) ON CONFLICT (singleton) DO NOTHING RETURNING epoch
        ), store AS (
          SELECT epoch FROM drawn UNION ALL SELECT epoch FROM %3$s LIMIT 1
        ), lost AS (
          SELECT EXISTS (SELECT 1 FROM %2$s WHERE topic = $1) AS yes
        ), created AS (
          INSERT INTO %1$s (topic, epoch, last_seq)
          SELECT $1, CASE WHEN lost.yes THEN $2 ELSE store.epoch END, 0 FROM store, lost
          ON CONFLICT (topic) DO NOTHING RETURNING epoch, last_seq
        ), leftovers AS (
          DELETE FROM %2$s WHERE topic = $1 AND EXISTS (SELECT 1 FROM created)
        )
        SELECT epoch, last_seq FROM created
        """.formatted(t, e, s);
      findKeys = "SELECT seq, epoch, type, data, json, key, ts, log_seq, flags, (SELECT epoch FROM " + s + ") AS log_epoch FROM " + e
        + " WHERE topic = $1 AND key = ANY($2)";
      // Keyed events of any topic, in their topic's current epoch (a lost row's leftovers are not).
      findKey = "SELECT ev.topic, ev.seq, ev.epoch, ev.type, ev.data, ev.json, ev.key, ev.ts, ev.log_seq, ev.flags, (SELECT epoch FROM "
        + s + ") AS log_epoch FROM " + e + " ev JOIN " + t + " tp ON tp.topic = ev.topic AND tp.epoch = ev.epoch"
        + " WHERE ev.key = $1 AND ev.ts >= $2 AND ev.log_seq IS NOT NULL ORDER BY ev.log_seq DESC LIMIT $3";
      takeLog = "UPDATE " + s + " SET log_seq = log_seq + $1 RETURNING epoch, log_seq";
      logHead = "SELECT epoch, log_seq FROM " + s;
      logScan = "SELECT log_seq, topic, ts FROM " + e + " WHERE log_seq > $1 AND log_seq <= $2 ORDER BY log_seq";
      logFetch = "SELECT topic, seq, epoch, type, data, json, key, ts, log_seq, flags FROM " + e + " WHERE log_seq = ANY($1) ORDER BY log_seq";
      deleteKeys = "DELETE FROM " + e + " WHERE topic = $1 AND key = ANY($2)";
      write = """
        WITH inserted AS (
          INSERT INTO %2$s (topic, seq, epoch, type, data, json, key, ts, log_seq, flags)
          SELECT $1, u.seq, $2, u.type, u.data, u.json, u.key, $3, u.log_seq, u.flags
          FROM unnest($4::bigint[], $5::text[], $6::text[], $7::boolean[], $8::text[], $12::bigint[], $13::text[])
            AS u(seq, type, data, json, key, log_seq, flags)
        ), moved AS (
          UPDATE %1$s SET last_seq = $9 WHERE topic = $1
        ), trimmed AS (
          DELETE FROM %2$s WHERE topic = $1 AND seq <= $10
        )
        SELECT set_config('%3$s', $11, true) AS deadline, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now
        """.formatted(t, e, DEADLINE_SETTING);
      read = """
        SELECT t.epoch, t.last_seq, ev.seq, ev.type, ev.data, ev.json, ev.key, ev.ts, ev.log_seq, ev.flags,
          (SELECT epoch FROM %3$s) AS log_epoch
        FROM %1$s t LEFT JOIN LATERAL (
          SELECT seq, type, data, json, key, ts, log_seq, flags FROM %2$s
          WHERE topic = t.topic AND t.epoch = $2 AND seq > $3 AND seq <= t.last_seq AND epoch = t.epoch
          ORDER BY seq LIMIT $4
        ) ev ON true
        WHERE t.topic = $1
        """.formatted(t, e, s);
      // SKIP LOCKED: the sweep never waits for an append, so the two cannot deadlock.
      sweep = """
        DELETE FROM %1$s WHERE (topic, seq) IN (
          SELECT topic, seq FROM %1$s WHERE ts < $1 LIMIT $2 FOR UPDATE SKIP LOCKED
        )
        """.formatted(e);
      // One seq more for each topic ($1, sorted); a missing row is created as a first append
      // would: the store's epoch ($2), or a fresh one ($3) when events of a lost row are there.
      skip = """
        WITH upserted AS (
          INSERT INTO %1$s (topic, epoch, last_seq)
          SELECT u.topic, CASE WHEN EXISTS (SELECT 1 FROM %2$s ev WHERE ev.topic = u.topic) THEN $3 ELSE $2 END, 1
          FROM unnest($1::text[]) AS u(topic) ORDER BY u.topic
          ON CONFLICT (topic) DO UPDATE SET last_seq = %1$s.last_seq + 1
          RETURNING topic, epoch, last_seq, xmax = 0 AS created
        ), leftovers AS (
          DELETE FROM %2$s WHERE topic IN (SELECT topic FROM upserted WHERE created)
        )
        SELECT topic, epoch, last_seq FROM upserted
        """.formatted(t, e);
      now = "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint";
    }
  }
}
