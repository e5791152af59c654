package io.herald.testsupport;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits for test futures and, when one times out, prints every thread's stack to stderr before
 * failing: a hang on a CI machine then leaves the evidence of where it hung in the build log.
 */
public final class Diagnostics {

  private Diagnostics() {
  }

  /** {@code future.get(seconds)}, with a thread dump on timeout. */
  public static <T> T get(CompletableFuture<T> future, long seconds, String what) throws Exception {
    try {
      return future.get(seconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      dumpThreads("timed out after " + seconds + " s: " + what);
      throw e;
    }
  }

  /** {@code thread.join(seconds)}, failing (with a thread dump) when the thread is still running then. */
  public static void join(Thread thread, long seconds, String what) throws InterruptedException {
    thread.join(TimeUnit.SECONDS.toMillis(seconds));
    if (thread.isAlive()) {
      dumpThreads("still running after " + seconds + " s: " + what);
      throw new AssertionError("still running after " + seconds + " s: " + what);
    }
  }

  /** Prints all thread stacks with a headline to stderr. */
  public static void dumpThreads(String headline) {
    StringBuilder out = new StringBuilder("==== thread dump: ").append(headline).append('\n');
    for (ThreadInfo t : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
      out.append('"').append(t.getThreadName()).append("\" ").append(t.getThreadState()).append('\n');
      for (StackTraceElement s : t.getStackTrace()) {
        out.append("    at ").append(s).append('\n');
      }
    }
    System.err.println(out.append("==== end of thread dump"));
  }
}
