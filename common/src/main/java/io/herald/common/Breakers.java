package io.herald.common;

import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.RetryPolicy;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The circuit breakers around calls to external servers (Redis, PostgreSQL), made one way and
 * listed per {@link Vertx} so that health and metrics can show every breaker of the process.
 *
 * <p>A breaker opens after {@value #MAX_FAILURES} consecutive failures (a call that takes more
 * than its timeout fails), fails calls at once while open, and lets one call through after
 * {@value #RESET_TIMEOUT_MILLIS} ms (half-open) to find out whether the server is back. A
 * breaker made with retries retries a failed call with exponential backoff and jitter
 * ({@value #RETRY_INITIAL_MILLIS} ms doubling up to {@value #RETRY_MAX_MILLIS} ms); give
 * retries only to calls that are safe to repeat.
 */
public final class Breakers {

  private static final Logger LOG = LoggerFactory.getLogger(Breakers.class);

  /** Consecutive failures that open a breaker. */
  public static final int MAX_FAILURES = 5;
  /** How long an open breaker waits before it lets a trial call through, ms. */
  public static final long RESET_TIMEOUT_MILLIS = 5000;
  /** First retry delay, ms. */
  public static final long RETRY_INITIAL_MILLIS = 50;
  /** Longest retry delay, ms. */
  public static final long RETRY_MAX_MILLIS = 1000;

  private static final Map<Vertx, ConcurrentMap<String, CircuitBreaker>> ALL = new WeakHashMap<>();
  /** The newest breaker of each name in the process, for the gauges. */
  private static final ConcurrentMap<String, CircuitBreaker> LATEST = new ConcurrentHashMap<>();

  private Breakers() {
  }

  /**
   * A new breaker, listed under {@code name} for {@code vertx} (a later breaker of the same
   * name replaces it in the list).
   *
   * @param timeoutMillis a call still running after this fails (and counts as a failure)
   * @param maxRetries    retries of a failed call before it fails; 0 for calls that must not be repeated
   */
  public static CircuitBreaker create(Vertx vertx, String name, long timeoutMillis, int maxRetries) {
    CircuitBreaker breaker = CircuitBreaker.create(name, vertx, new CircuitBreakerOptions()
        .setMaxFailures(MAX_FAILURES)
        .setTimeout(timeoutMillis)
        .setResetTimeout(RESET_TIMEOUT_MILLIS)
        .setMaxRetries(maxRetries)
        .setFallbackOnFailure(false))
      .retryPolicy(RetryPolicy.exponentialDelayWithJitter(RETRY_INITIAL_MILLIS, RETRY_MAX_MILLIS))
      .openHandler(v -> LOG.warn("circuit breaker {} opened: calls fail fast for {} ms", name, RESET_TIMEOUT_MILLIS))
      .halfOpenHandler(v -> LOG.info("circuit breaker {} half-open: trying one call", name))
      .closeHandler(v -> LOG.info("circuit breaker {} closed", name));
    synchronized (ALL) {
      ALL.computeIfAbsent(vertx, k -> new ConcurrentHashMap<>()).put(name, breaker);
    }
    LATEST.put(name, breaker);
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      // Looked up by name at each scrape, so a breaker made again under the same name is the one shown.
      Gauge.builder("herald_breaker_state", () -> {
          CircuitBreaker b = LATEST.get(name);
          return b == null ? Double.NaN : level(b.state());
        })
        .description("Circuit breaker state: 0 closed, 1 half-open (trying), 2 open (failing fast)")
        .tag("breaker", name).register(registry);
      Gauge.builder("herald_breaker_failures", () -> {
          CircuitBreaker b = LATEST.get(name);
          return b == null ? Double.NaN : b.failureCount();
        })
        .description("Failures the circuit breaker counts towards opening")
        .tag("breaker", name).register(registry);
    }
    return breaker;
  }

  /** Closes the breaker and takes it off the list. */
  public static void remove(Vertx vertx, CircuitBreaker breaker) {
    synchronized (ALL) {
      ConcurrentMap<String, CircuitBreaker> mine = ALL.get(vertx);
      if (mine != null) {
        mine.remove(breaker.name(), breaker);
      }
    }
    breaker.close();
  }

  /** The breakers of {@code vertx} by name (a snapshot). */
  public static Map<String, CircuitBreaker> of(Vertx vertx) {
    synchronized (ALL) {
      ConcurrentMap<String, CircuitBreaker> mine = ALL.get(vertx);
      return mine == null ? Map.of() : Map.copyOf(mine);
    }
  }

  /** {@code {"<name>": {"state": "CLOSED", "failures": 0}, ...}} for health. */
  public static JsonObject status(Vertx vertx) {
    JsonObject out = new JsonObject();
    of(vertx).forEach((name, b) -> out.put(name, new JsonObject().put("state", b.state().name()).put("failures", b.failureCount())));
    return out;
  }

  /** First delay of a reconnect or retry loop around a breaker, ms. */
  public static final long RECONNECT_INITIAL_MILLIS = 100;
  /** Longest delay of a reconnect or retry loop, ms. */
  public static final long RECONNECT_MAX_MILLIS = 5000;
  /** Delay of a retry loop while the breaker is open, ms. */
  public static final long OPEN_RETRY_MILLIS = 500;

  /**
   * How long a reconnect or retry loop waits after its {@code failures}-th failure in a row.
   * While the breaker is open a call fails at once without touching the server, so trying every
   * ~{@value #OPEN_RETRY_MILLIS} ms costs nothing and catches its half-open trial soon after it
   * starts; otherwise exponential backoff from {@value #RECONNECT_INITIAL_MILLIS} ms doubling to
   * {@value #RECONNECT_MAX_MILLIS} ms, with jitter on the upper half so that many notifiers do
   * not reconnect in step.
   */
  public static long retryDelay(Throwable cause, int failures) {
    long base = cause instanceof io.vertx.circuitbreaker.OpenCircuitException
      ? OPEN_RETRY_MILLIS
      : Math.min(RECONNECT_MAX_MILLIS, RECONNECT_INITIAL_MILLIS << Math.min(Math.max(failures, 0), 10));
    return base / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(base / 2 + 1);
  }

  /** 0 closed, 1 half-open, 2 open: the value of the {@code herald_breaker_state} gauge. */
  public static int level(CircuitBreakerState state) {
    return switch (state) {
      case CLOSED -> 0;
      case HALF_OPEN -> 1;
      case OPEN -> 2;
    };
  }
}
