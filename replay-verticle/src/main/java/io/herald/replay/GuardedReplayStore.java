package io.herald.replay;

import io.herald.common.Breakers;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A durable store on an external server (Redis, PostgreSQL) behind circuit breakers, with the
 * documented fallback for when that server is down: <b>live delivery goes on, resumes that
 * cannot be served get {@code reset}, recovery is automatic</b>.
 *
 * <ul>
 *   <li>Appends go through the {@code replay-store-write} breaker (a timeout, no retries: an
 *       append that timed out may have been stored, and repeating it could store it twice).
 *       <b>Each append lands in exactly one place.</b> Only an append that certainly stored
 *       nothing (the breaker is open, no connection could be made, or the server refused it)
 *       goes to an in-memory <em>outage store</em> with an epoch of its own and is published
 *       from there, so subscribers keep receiving events. An append whose fate is unknown (a
 *       timeout, a connection lost after sending) fails with {@code store_unavailable}: the
 *       publisher retries, with its event id safely. The Redis and PostgreSQL stores refuse an
 *       append they run or would commit after a deadline below the breaker's timeout, so one the
 *       guard gave up on cannot land late.</li>
 *   <li>The first event of a topic in a new epoch (entering or leaving an outage) carries the
 *       topic's last position in the epoch before as {@link Event#prev()}, when this process
 *       knows it: a gateway standing exactly there follows the new epoch without a
 *       {@code reset}; any other gets one.</li>
 *   <li>Reads and heads go through the {@code replay-store-read} breaker (a timeout, one retry
 *       with backoff). A read of a position in the current outage epoch is served from the
 *       outage store; any other read that fails fails, and the gateway answers the resume with
 *       a {@code reset} to the live position. A head that fails comes from the outage store,
 *       so new subscriptions still go live.</li>
 *   <li>When the breaker lets a trial call through and the server answers, appends go back to
 *       the durable store (a gateway that followed the outage epoch to its last event follows
 *       the durable one on; others reset). Each outage gets
 *       a fresh outage store, so a cursor of an earlier outage is never served across the
 *       durable events that came after it.</li>
 * </ul>
 *
 * <p>Events accepted during an outage live only in this process and are not copied to the
 * durable store later: resuming across an outage costs a {@code reset}, never a silent gap.
 * With several replay processes, each numbers its own outage events, so clients may see more
 * resets while the server is down. Confined to the replay verticle's context.
 */
final class GuardedReplayStore implements ReportingReplayStore, Initializable, Sweepable {

  private static final Logger LOG = LoggerFactory.getLogger(GuardedReplayStore.class);

  /** Name of the breaker around appends. */
  static final String WRITE_BREAKER = "replay-store-write";
  /** Name of the breaker around reads and heads. */
  static final String READ_BREAKER = "replay-store-read";

  private final Vertx vertx;
  private final ReplayOptions options;
  private final ReplayStore durable;
  private final CircuitBreaker writes;
  private final CircuitBreaker reads;
  private MemoryReplayStore outage;
  private long outageAppends;
  /** Per topic, the last durable position this process appended (bounded by maxTopics). */
  private final Map<String, Position> lastDurable;
  /** Per topic, the last seq appended in the current outage store (bounded by maxTopics). */
  private Map<String, Long> outageHeads;
  /** After an outage: its epoch, and the last outage seq of the topics not yet back in the durable store. */
  private String leftEpoch;
  private Map<String, Long> leftHeads;

  GuardedReplayStore(Vertx vertx, ReplayOptions options, ReplayStore durable) {
    this.vertx = vertx;
    this.options = options;
    this.durable = durable;
    this.writes = Breakers.create(vertx, WRITE_BREAKER, options.storeTimeoutMillis(), 0);
    this.reads = Breakers.create(vertx, READ_BREAKER, options.storeTimeoutMillis(), 1);
    this.lastDurable = boundedMap();
    this.outageHeads = boundedMap();
  }

  @Override
  public String name() {
    return durable.name();
  }

  @Override
  public boolean shared() {
    return durable.shared();
  }

  @Override
  public Future<Void> init() {
    return durable instanceof Initializable i ? i.init() : Future.succeededFuture();
  }

  /** True while appends go to the outage store. */
  boolean degraded() {
    return outage != null;
  }

  /** For health: whether the store is degraded, and how many events went to the outage store. */
  JsonObject status() {
    return new JsonObject().put("store", durable.name()).put("degraded", degraded())
      .put("outageEpoch", outage == null ? null : outage.instanceEpoch()).put("outageAppends", outageAppends)
      .put("breakers", new JsonObject().put(WRITE_BREAKER, writes.state().name()).put(READ_BREAKER, reads.state().name()));
  }

  /**
   * For readiness: whether the durable store answers now (a head read through the read
   * breaker; fails at once while that breaker is open).
   */
  Future<Void> probe() {
    return reads.<Position>execute(() -> call(() -> durable.head(PROBE_TOPIC))).mapEmpty();
  }

  /** The topic the readiness probe asks the head of; never published to. */
  static final String PROBE_TOPIC = "herald.readiness-probe";

  @Override
  public Future<AppendResult> appendReporting(List<EventDraft> drafts) {
    return writes.<AppendResult>execute(() -> durableAppend(drafts)).transform(ar -> {
      if (ar.succeeded()) {
        if (outage != null) {
          LOG.info("replay store {} is back: appends are durable again ({} event(s) were accepted during the outage)",
            durable.name(), outageAppends);
          leftEpoch = outage.instanceEpoch();
          leftHeads = outageHeads;
          outageHeads = boundedMap();
          outage = null;
        }
        return Future.succeededFuture(durableAppended(ar.result()));
      }
      if (ar.cause() instanceof HeraldException h && h.code().status() < 500) {
        return Future.failedFuture(h); // bad input is not an outage
      }
      if (!certainlyNotStored(ar.cause())) {
        // The append may have reached the server and run there (a timeout, a connection lost
        // after sending): taking it into the outage store as well could give one event two
        // histories. The publisher retries; with its event id the retry is stored once.
        LOG.warn("append to replay store {} failed and may or may not have been stored: {}", durable.name(), ar.cause().toString());
        return Future.failedFuture(new HeraldException(ErrorCode.STORE_UNAVAILABLE, "replay store " + durable.name()
          + " did not confirm the append in time; it may or may not be stored: retry with the same event id"));
      }
      if (outage == null) {
        outage = new MemoryReplayStore(options);
        outageAppends = 0;
        leftHeads = null;
        LOG.warn("replay store {} unavailable ({}): live delivery goes on from an in-memory outage store (epoch {}); resumes across the outage get reset",
          durable.name(), ar.cause().getMessage(), outage.instanceEpoch());
      }
      outageAppends += drafts.size();
      return outage.appendReporting(drafts).map(this::outageAppended);
    });
  }

  /**
   * True when the failed append certainly stored nothing: the breaker did not let it through,
   * no connection to the server could be made, or the server refused it (its deadline had
   * passed, see {@link RedisReplayStore#fenceMillis} and {@link PgReplayStore#fenceMillis}).
   */
  static boolean certainlyNotStored(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof OpenCircuitException || t instanceof NotStoredException || t instanceof ConnectException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Remembers where each topic stands in the durable store, and gives the first durable event
   * of a topic after an outage the topic's last outage position as {@link Event#prev()}, when
   * it follows right after the last durable event this process knew of before the outage
   * (nothing was stored between, by another process or by an append whose reply was lost).
   */
  private AppendResult durableAppended(AppendResult result) {
    List<Event> stored = new ArrayList<>(result.stored().size());
    for (Event e : result.stored()) {
      Position before = lastDurable.get(e.topic());
      Event out = e;
      if (leftHeads != null) {
        Long outageSeq = leftHeads.remove(e.topic());
        boolean next = before == null
          ? e.seq() == 1
          : before.epoch().equals(e.epoch()) && before.seq() + 1 == e.seq();
        if (outageSeq != null && next) {
          out = e.withPrev(new Position(leftEpoch, outageSeq));
        }
        if (leftHeads.isEmpty()) {
          leftHeads = null;
        }
      }
      if (before == null || !before.epoch().equals(e.epoch()) || before.seq() < e.seq()) {
        lastDurable.put(e.topic(), e.position());
      }
      stored.add(out);
    }
    return new AppendResult(result.events(), stored);
  }

  /**
   * Gives the first outage event of a topic the topic's last durable position this process
   * knows as {@link Event#prev()}, and remembers where each topic stands in the outage store.
   */
  private AppendResult outageAppended(AppendResult result) {
    List<Event> stored = new ArrayList<>(result.stored().size());
    for (Event e : result.stored()) {
      Position before = e.seq() == 1 ? lastDurable.get(e.topic()) : null;
      stored.add(before == null ? e : e.withPrev(before));
      outageHeads.put(e.topic(), e.seq());
    }
    return new AppendResult(result.events(), stored);
  }

  /** A map of at most {@code maxTopics} topics that forgets the least recently used. */
  private <V> Map<String, V> boundedMap() {
    int max = options.maxTopics();
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > max;
      }
    };
  }

  private Future<AppendResult> durableAppend(List<EventDraft> drafts) {
    if (outage != null && !outageHeads.isEmpty() && durable instanceof SeqSkipping skipping) {
      // Back from an outage: first leave a hole in each topic that had outage events, so that
      // a resume from before the outage meets it and gets a reset instead of passing silently
      // over the events the outage store had (quiet topics included).
      List<String> topics = List.copyOf(outageHeads.keySet());
      return call(() -> skipping.skip(topics)).compose(holes -> {
        lastDurable.putAll(holes);
        return plainAppend(drafts);
      });
    }
    return plainAppend(drafts);
  }

  private Future<AppendResult> plainAppend(List<EventDraft> drafts) {
    if (durable instanceof ReportingReplayStore reporting) {
      return call(() -> reporting.appendReporting(drafts));
    }
    return call(() -> durable.append(drafts)).map(events -> new AppendResult(events, events));
  }

  @Override
  public Future<ReadResult> read(String topic, Position after, int limit) {
    MemoryReplayStore current = outage;
    if (current != null) {
      // The outage store answers at once (memory); a position of its epoch is its to serve.
      Position outageHead = current.head(topic).result();
      if (outageHead != null && after.epoch().equals(outageHead.epoch())) {
        return current.read(topic, after, limit);
      }
    }
    return reads.execute(() -> call(() -> durable.read(topic, after, limit)));
  }

  /**
   * Like {@link #read}: a position of the current outage store's log epoch is served by it, any
   * other goes to the durable store through the read breaker, and fails (the gateway answers
   * {@code store_unavailable} / a reset) when it does not answer.
   */
  @Override
  public Future<LogReadResult> readLog(Position after, Predicate<String> topicFilter, int limit) {
    MemoryReplayStore current = outage;
    if (current != null && after.epoch().equals(current.instanceEpoch())) {
      return current.readLog(after, topicFilter, limit);
    }
    return reads.execute(() -> call(() -> durable.readLog(after, topicFilter, limit)));
  }

  /**
   * The outage store's events during an outage (the durable store is not asked: its breaker is
   * open), else the durable store's through the read breaker.
   */
  @Override
  public Future<List<Event>> findKey(String key) {
    MemoryReplayStore current = outage;
    if (current != null) {
      return current.findKey(key);
    }
    return reads.execute(() -> call(() -> durable.findKey(key)));
  }

  /** Like {@link #head}: the outage store's log head during an outage, else the durable one's, else a new outage store's. */
  @Override
  public Future<Position> logHead() {
    MemoryReplayStore current = outage;
    if (current != null) {
      return current.logHead();
    }
    return reads.<Position>execute(() -> call(durable::logHead)).recover(t -> {
      MemoryReplayStore now = outage;
      if (now != null) {
        return now.logHead();
      }
      outage = new MemoryReplayStore(options);
      outageAppends = 0;
      leftHeads = null;
      LOG.warn("replay store {} unavailable ({}): heads and appends come from an in-memory outage store (epoch {})",
        durable.name(), t.getMessage(), outage.instanceEpoch());
      return outage.logHead();
    });
  }

  @Override
  public Future<Position> head(String topic) {
    MemoryReplayStore current = outage;
    if (current != null) {
      return current.head(topic);
    }
    return reads.<Position>execute(() -> call(() -> durable.head(topic))).recover(t -> outageFor(t).head(topic));
  }

  /**
   * The outage store heads come from when the durable store failed them: the one in place, or,
   * when no append has failed yet, a new one, so that the subscriptions go live in the epoch the
   * next outage append will use.
   */
  private MemoryReplayStore outageFor(Throwable t) {
    MemoryReplayStore now = outage;
    if (now != null) {
      return now;
    }
    outage = new MemoryReplayStore(options);
    outageAppends = 0;
    leftHeads = null;
    LOG.warn("replay store {} unavailable ({}): heads and appends come from an in-memory outage store (epoch {})",
      durable.name(), t.getMessage(), outage.instanceEpoch());
    return outage;
  }

  @Override
  public Future<Map<String, Position>> heads(List<String> topics) {
    MemoryReplayStore current = outage;
    if (current != null) {
      return current.heads(topics);
    }
    return reads.<Map<String, Position>>execute(() -> call(() -> durable.heads(topics))).recover(t -> outageFor(t).heads(topics));
  }

  @Override
  public void sweep() {
    if (outage != null) {
      outage.sweep();
    }
    if (durable instanceof Sweepable s) {
      s.sweep();
    }
  }

  @Override
  public Future<Void> close() {
    Breakers.remove(vertx, writes);
    Breakers.remove(vertx, reads);
    return durable.close();
  }

  private static <T> Future<T> call(Supplier<Future<T>> op) {
    try {
      return op.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
