package io.herald.replay;

import io.herald.common.Breakers;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Supplier;

/**
 * A durable store on an external server (Redis, PostgreSQL) behind circuit breakers, with the
 * documented fallback for when that server is down: <b>live delivery goes on, resumes that
 * cannot be served get {@code reset}, recovery is automatic</b>.
 *
 * <ul>
 *   <li>Appends go through the {@code replay-store-write} breaker (a timeout, no retries: an
 *       append that timed out may have been stored, and repeating it could store it twice).
 *       When it fails or the breaker is open, the events go to an in-memory <em>outage
 *       store</em> with an epoch of its own and are published from there, so subscribers keep
 *       receiving them. Gateways see the epoch change and tell their clients with a
 *       {@code reset}.</li>
 *   <li>Reads and heads go through the {@code replay-store-read} breaker (a timeout, one retry
 *       with backoff). A read of a position in the current outage epoch is served from the
 *       outage store; any other read that fails fails, and the gateway answers the resume with
 *       a {@code reset} to the live position. A head that fails comes from the outage store,
 *       so new subscriptions still go live.</li>
 *   <li>When the breaker lets a trial call through and the server answers, appends go back to
 *       the durable store (gateways see its epoch again and reset once more). Each outage gets
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

  GuardedReplayStore(Vertx vertx, ReplayOptions options, ReplayStore durable) {
    this.vertx = vertx;
    this.options = options;
    this.durable = durable;
    this.writes = Breakers.create(vertx, WRITE_BREAKER, options.storeTimeoutMillis(), 0);
    this.reads = Breakers.create(vertx, READ_BREAKER, options.storeTimeoutMillis(), 1);
  }

  @Override
  public String name() {
    return durable.name();
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
          outage = null;
        }
        return Future.succeededFuture(ar.result());
      }
      if (ar.cause() instanceof HeraldException h && h.code().status() < 500) {
        return Future.failedFuture(h); // bad input is not an outage
      }
      if (outage == null) {
        outage = new MemoryReplayStore(options);
        outageAppends = 0;
        LOG.warn("replay store {} unavailable ({}): live delivery goes on from an in-memory outage store (epoch {}); resumes across the outage get reset",
          durable.name(), ar.cause().getMessage(), outage.instanceEpoch());
      }
      outageAppends += drafts.size();
      return outage.appendReporting(drafts);
    });
  }

  private Future<AppendResult> durableAppend(List<EventDraft> drafts) {
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

  @Override
  public Future<Position> head(String topic) {
    MemoryReplayStore current = outage;
    if (current != null) {
      return current.head(topic);
    }
    return reads.<Position>execute(() -> call(() -> durable.head(topic))).recover(t -> {
      MemoryReplayStore now = outage;
      if (now != null) {
        return now.head(topic);
      }
      // No outage store yet (no append failed): start one, so the subscription goes live in
      // the epoch the next outage append will use.
      outage = new MemoryReplayStore(options);
      outageAppends = 0;
      LOG.warn("replay store {} unavailable ({}): heads and appends come from an in-memory outage store (epoch {})",
        durable.name(), t.getMessage(), outage.instanceEpoch());
      return outage.head(topic);
    });
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
