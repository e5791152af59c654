package io.herald.testsupport;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The one way tests wait: for a condition, with a deadline, never for a fixed time. The
 * condition is checked every few milliseconds; past the deadline the test fails with what it
 * waited for (computed then, so it can show the state that was reached).
 */
public final class Await {

  private static final long POLL_MILLIS = 5;

  private Await() {
  }

  /** Waits until {@code condition} holds; fails after {@code within} with "not within ...: what". */
  public static void until(String what, BooleanSupplier condition, Duration within) throws InterruptedException {
    until(() -> what, condition, within);
  }

  /** As {@link #until(String, BooleanSupplier, Duration)}, the message computed on failure only. */
  public static void until(Supplier<String> what, BooleanSupplier condition, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not within " + within.toMillis() + " ms: " + what.get());
      }
      Thread.sleep(POLL_MILLIS);
    }
  }
}
