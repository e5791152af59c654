package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * For tests that drive a store from the test thread the way the replay verticle does, on one
 * Vert.x context: {@link #context} is set by the subclass before the first call.
 */
abstract class OnContextCalls {

  /** The context every store call runs on. */
  protected Context context;

  protected static EventDraft draft(String topic, String data) {
    return new EventDraft(topic, Event.DEFAULT_TYPE, data, false, null);
  }

  /** Runs {@code op} on {@link #context}; its future completes there. */
  protected <T> Future<T> onContext(Supplier<Future<T>> op) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> op.get().onComplete(p));
    return p.future();
  }

  /** {@code op} on the context, waited for: its result, or an AssertionError. */
  protected <T> T on(Supplier<Future<T>> op) {
    return await(onContext(op));
  }

  /** {@code op} on the context, waited for: its failure, or null when it succeeded. */
  protected Throwable onFailure(Supplier<Future<?>> op) {
    return await(onContext(() -> op.get().<Throwable>map(r -> null).recover(Future::succeededFuture)));
  }

  protected static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
