package io.herald.common.admin;

import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.HealthChecks;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * The health checks of one process, per {@link Vertx}: roles register their procedures here and
 * the {@link AdminServer} serves them. {@link #liveness} answers "is the process working"
 * ({@code /health}); {@link #readiness} answers "should traffic come here" ({@code /ready}:
 * cluster joined, store reachable, consumers registered, not draining).
 */
public final class Health {

  private static final Map<Vertx, Health> ALL = new WeakHashMap<>();

  private final HealthChecks liveness;
  private final HealthChecks readiness;

  private Health(Vertx vertx) {
    liveness = HealthChecks.create(vertx);
    readiness = HealthChecks.create(vertx);
  }

  /** The health checks of {@code vertx}, made on first use. */
  public static Health of(Vertx vertx) {
    synchronized (ALL) {
      return ALL.computeIfAbsent(vertx, Health::new);
    }
  }

  /** Procedures of {@code /health}: a DOWN one means the process should be restarted. */
  public HealthChecks liveness() {
    return liveness;
  }

  /** Procedures of {@code /ready}: a DOWN one means no new traffic should come here for now. */
  public HealthChecks readiness() {
    return readiness;
  }
}
