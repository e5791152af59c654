package io.herald.testsupport;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * {@code @ExtendWith(IsolatedMetricsExtension.class)} on a test (or a class): an
 * {@link IsolatedMetrics} runs around each test, so what Herald counts during it
 * ({@code HeraldMetrics.get()}, from any Vert.x) goes to a registry of that test's own and
 * starts from zero. Put it on tests that assert how a metric moves.
 */
public final class IsolatedMetricsExtension implements BeforeEachCallback, AfterEachCallback {

  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(IsolatedMetricsExtension.class);

  @Override
  public void beforeEach(ExtensionContext context) {
    context.getStore(NS).put("metrics", IsolatedMetrics.start());
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    IsolatedMetrics metrics = context.getStore(NS).remove("metrics", IsolatedMetrics.class);
    if (metrics != null) {
      metrics.close();
    }
  }
}
