package io.herald.testsupport;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.backends.BackendRegistries;

import java.util.concurrent.TimeUnit;

/**
 * A Vert.x whose metrics go to a registry of this test's own, for tests that assert how a
 * Herald metric moves. Herald counts into the process's default Micrometer registry
 * ({@code HeraldMetrics.get()}); this Vert.x installs a fresh one as that default for as long as
 * it runs, so what another test did (or is still doing) cannot move the numbers, and the test
 * can assert exact values instead of deltas. Closing it removes the registry again.
 *
 * <p>When another Vert.x of the JVM already holds the default registry the isolation would be
 * a lie: {@link #start()} fails instead.
 */
public final class IsolatedMetrics implements AutoCloseable {

  private final Vertx vertx;
  private final MeterRegistry registry;

  private IsolatedMetrics(Vertx vertx, MeterRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
  }

  /** Starts the Vert.x with its own default registry. */
  public static IsolatedMetrics start() {
    MeterRegistry registry = new SimpleMeterRegistry();
    Vertx vertx = Vertx.builder()
      .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
      .withMetrics(new MicrometerMetricsFactory(registry))
      .build();
    if (BackendRegistries.getDefaultNow() != registry) {
      vertx.close();
      throw new AssertionError("another Vert.x of this JVM holds the default metrics registry: the metrics would be shared");
    }
    return new IsolatedMetrics(vertx, registry);
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The registry Herald counts into while this Vert.x runs. */
  public MeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }
}
