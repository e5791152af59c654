package io.herald.standalone;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Tests of the real jar with a Vert.x of their own for clients: both are closed after each
 * test, then the {@link #cleanups} run (servers, schemas, keys), last added first.
 */
abstract class JarTestBase {

  /** The hub under test; set by the test, destroyed after it. */
  protected HeraldProcess herald;
  /** The clients' Vert.x; set by the test, closed after it. */
  protected Vertx vertx;
  /** What else to undo after the test. */
  protected final List<AutoCloseable> cleanups = new ArrayList<>();

  @AfterEach
  void stopJarAndClients() throws Exception {
    if (herald != null) {
      herald.destroy();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    for (int i = cleanups.size() - 1; i >= 0; i--) {
      cleanups.get(i).close();
    }
    cleanups.clear();
  }
}
