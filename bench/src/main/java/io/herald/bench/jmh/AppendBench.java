package io.herald.bench.jmh;

import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.EventDraft;
import io.herald.common.replay.ReplayClient;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One append from the notifier to the replay role of its process (memory store), as
 * {@link ReplayClient} makes it on the notifier's event loop, both ways it can: {@code carried},
 * the request carrying its answer, sent from the client's own context (what the notifier's
 * publish path does); {@code request}, an event-bus request with a reply consumer per append
 * (what the client does from any other context, and did everywhere before). Both run on one
 * event loop, a batch of {@value #BATCH} appends per invocation, so the figure is the event
 * loop's time per append, replay role included.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AppendBench {

  static final int BATCH = 64;

  @Param({"carried", "request"})
  public String path;

  private Vertx vertx;
  private Context loop;
  private ReplayClient client;
  private final List<EventDraft> drafts = List.of(new EventDraft("bench", "order.paid", "{\"id\":42,\"status\":\"paid\"}", true, null));

  @Setup
  public void setup() throws Exception {
    vertx = Vertx.vertx();
    EventCodec.register(vertx);
    vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    loop = vertx.getOrCreateContext();
    // A client made on the loop's context takes the carried way from it; one made on another
    // context of the same Vert.x sends requests from it.
    Context maker = path.equals("carried") ? loop : vertx.getOrCreateContext();
    CompletableFuture<ReplayClient> made = new CompletableFuture<>();
    maker.runOnContext(v -> made.complete(new ReplayClient(vertx, 5000)));
    client = made.get(10, TimeUnit.SECONDS);
  }

  @TearDown
  public void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object append() throws Exception {
    CompletableFuture<Long> done = new CompletableFuture<>();
    loop.runOnContext(v -> {
      long[] left = {BATCH, 0};
      for (int i = 0; i < BATCH; i++) {
        Future<List<Event>> f = client.append(drafts);
        f.onComplete(ar -> {
          if (ar.failed()) {
            done.completeExceptionally(ar.cause());
            return;
          }
          left[1] += ar.result().get(0).seq();
          if (--left[0] == 0) {
            done.complete(left[1]);
          }
        });
      }
    });
    return done.get(10, TimeUnit.SECONDS);
  }
}
