package io.herald.bench.jmh;

import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import io.herald.replay.AppendResult;
import io.herald.replay.MemoryReplayStore;
import io.herald.replay.ReplayOptions;
import io.vertx.core.Future;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The in-memory replay store: append one event (a full ring of 1000 per topic, so every append
 * also evicts) and read what a resuming stream missed. The store completes its futures at once,
 * so these measure the store's own work, not the event bus.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MemoryStoreBench {

  /** Events a resume reads. */
  @Param({"5", "100"})
  public int missed;

  private MemoryReplayStore store;
  private List<EventDraft> one;
  private Position from;

  @Setup
  public void setup() {
    store = new MemoryReplayStore(new ReplayOptions());
    one = List.of(new EventDraft("orders.eu", "message", "{\"n\":1,\"p\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", true, null));
    for (int i = 0; i < 1000; i++) {
      store.appendReporting(one);
    }
    Position head = store.head("orders.eu").result();
    from = new Position(head.epoch(), head.seq() - missed);
  }

  @Benchmark
  public Future<AppendResult> append() {
    return store.appendReporting(one);
  }

  @Benchmark
  public Future<ReadResult> read() {
    // Reads the last `missed` events whatever appends ran before in this thread's iteration.
    Position head = store.head("orders.eu").result();
    return store.read("orders.eu", new Position(head.epoch(), head.seq() - missed), missed);
  }
}
