package io.herald.notifier;

import io.herald.common.Breakers;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The lifecycle every {@link Ingest} shares: confinement to one context, start and stop, the
 * circuit breaker (named after the ingest, created on start, removed on stop), one connection
 * that is opened again with backoff ({@link Breakers#retryDelay}) while it is down, and the
 * common status fields ({@link IngestCounters}).
 *
 * <p>A subclass connects in {@link #connect()} and reports the outcome with
 * {@link #markConnected()}, {@link #markConnectFailed} and {@link #markLost()}; it starts its own
 * timers in {@link #onStart()} and releases what it holds in {@link #onStop()}. Calls to the
 * server go through {@link #guard}.
 *
 * <h2>Threading</h2>
 * Everything but {@link #status()} runs on the context {@link #start()} was called on (or a new
 * one), and so do the hooks.
 */
abstract class AbstractIngest implements Ingest {

  /** Reconnect and retry delays: see {@link Breakers#retryDelay}. */
  static final long BACKOFF_INITIAL_MILLIS = Breakers.RECONNECT_INITIAL_MILLIS;
  static final long BACKOFF_MAX_MILLIS = Breakers.RECONNECT_MAX_MILLIS;
  static final long OPEN_RETRY_MILLIS = Breakers.OPEN_RETRY_MILLIS;

  protected final Vertx vertx;
  protected final Function<JsonObject, Future<JsonObject>> publish;
  protected final IngestCounters counters = new IngestCounters();
  protected volatile boolean connected;
  protected volatile String lastError;

  private final String name;
  private final long callTimeoutMillis;

  // Confined to the context.
  protected Context context;
  protected CircuitBreaker breaker;
  protected boolean stopped = true;
  protected long reconnectTimer = -1;
  protected int connectFailures;

  /**
   * @param publish           {@link Publisher#publish}: fails with a {@link io.herald.common.HeraldException}
   * @param name              the name of the ingest and of its circuit breaker
   * @param callTimeoutMillis a call through the breaker still running after this fails, ms
   */
  protected AbstractIngest(Vertx vertx, Function<JsonObject, Future<JsonObject>> publish, String name,
                           long callTimeoutMillis) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.publish = Objects.requireNonNull(publish, "publish");
    this.name = name;
    this.callTimeoutMillis = callTimeoutMillis;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final Future<Void> start() {
    Context ctx = vertx.getOrCreateContext();
    Promise<Void> started = Promise.promise();
    ctx.runOnContext(v -> {
      if (!stopped) {
        started.complete();
        return;
      }
      context = ctx;
      stopped = false;
      breaker = Breakers.create(vertx, name, callTimeoutMillis, 0);
      onStart();
      started.complete();
    });
    return started.future();
  }

  @Override
  public final Future<Void> stop() {
    if (context == null) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      if (stopped) {
        done.complete();
        return;
      }
      stopped = true;
      connected = false;
      cancelTimers(reconnectTimer);
      reconnectTimer = -1;
      onStop().onComplete(x -> {
        Breakers.remove(vertx, breaker);
        onStopped();
        done.complete();
      });
    });
    return done.future();
  }

  /** The common fields; a subclass adds its own to this object. */
  @Override
  public JsonObject status() {
    return counters.status(name, connected, breaker, lastError);
  }

  // ---- hooks ----------------------------------------------------------------------------

  /** Started, with the breaker made: start the ingest's timers, log, and {@link #connect()}. */
  protected abstract void onStart();

  /**
   * Stopping ({@code stopped} set, {@code connected} false, the reconnect timer cancelled):
   * cancel the ingest's timers and close its connections; completes (never fails) when they are closed.
   */
  protected abstract Future<Void> onStop();

  /** Stopped and the breaker removed: log it. */
  protected abstract void onStopped();

  /** Opens the connection; called by {@link #onStart()} and, after a backoff, by {@link #scheduleReconnect}. */
  protected abstract void connect();

  // ---- connection state -----------------------------------------------------------------

  /**
   * The connection is up: clears the failures and the last error.
   *
   * @return true when it is up again after failed attempts or a lost connection (worth a log line)
   */
  protected final boolean markConnected() {
    boolean again = connectFailures > 0 || counters.reconnects.get() > 0;
    connectFailures = 0;
    connected = true;
    lastError = null;
    return again;
  }

  /**
   * An attempt to connect failed: {@code lastError} becomes {@code "<what>: <message>"} (an open
   * breaker keeps the cause that opened it). The caller then {@link #scheduleReconnect}s.
   *
   * @return true on the first failure in a row (worth a WARN; the next ones are not)
   */
  protected final boolean markConnectFailed(String what, Throwable t) {
    connected = false;
    if (!(t instanceof OpenCircuitException)) {
      lastError = what + ": " + t.getMessage();
    }
    return connectFailures++ == 0;
  }

  /**
   * The connection went down: {@code connected} becomes false.
   *
   * @return true when it was up and the ingest is not stopping: counted in {@code reconnects} (worth a WARN)
   */
  protected final boolean markLost() {
    boolean was = connected;
    connected = false;
    if (stopped || !was) {
      return false;
    }
    counters.reconnects.incrementAndGet();
    return true;
  }

  /** Connects again after the backoff of the failures so far, unless stopped or already planned. */
  protected final void scheduleReconnect(Throwable cause) {
    if (stopped || reconnectTimer >= 0) {
      return;
    }
    reconnectTimer = vertx.setTimer(retryDelay(cause, connectFailures), id -> {
      reconnectTimer = -1;
      if (!stopped) {
        connect();
      }
    });
  }

  /** Connects now when a reconnect is waiting for its backoff (the server is known to answer again). */
  protected final void reconnectNow() {
    if (reconnectTimer >= 0) {
      vertx.cancelTimer(reconnectTimer);
      reconnectTimer = -1;
      connect();
    }
  }

  // ---- helpers --------------------------------------------------------------------------

  /** The call through the breaker. */
  protected final <T> Future<T> guard(Supplier<Future<T>> call) {
    return breaker.execute(call);
  }

  protected static long retryDelay(Throwable cause, int failures) {
    return Breakers.retryDelay(cause, failures);
  }

  /** Cancels the timers that are set (>= 0). */
  protected final void cancelTimers(long... timers) {
    for (long t : timers) {
      if (t >= 0) {
        vertx.cancelTimer(t);
      }
    }
  }

  /**
   * 24 hex digits of the SHA-256 of {@code s}: a short, stable stand-in for a name that would
   * make an idempotency key too long or invalid.
   */
  protected static String shortHash(String s) {
    return io.herald.common.Sha256.hex(s).substring(0, 24);
  }

  /** {@code closing} with its failure ignored: a connection that fails to close is closed enough. */
  protected static Future<Void> quietly(Future<Void> closing) {
    return closing.recover(t -> Future.succeededFuture());
  }
}
