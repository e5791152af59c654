package io.herald.bench.jmh;

import io.herald.gateway.fanout.EncodedEvent;
import io.herald.gateway.sse.SseFrames;
import io.herald.common.Event;
import io.vertx.core.buffer.Buffer;
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

import java.util.concurrent.TimeUnit;

/**
 * SSE frame encoding, through the gateway's public {@link SseFrames} and {@link EncodedEvent}:
 * the shared body of an event (once per event), the per-connection {@code id:} prefix for
 * multi-topic streams, and the whole single-topic frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SseFramesBench {

  /** Size of the event data in bytes. */
  @Param({"64", "1024"})
  public int size;

  /** JSON data (one data: line) or text with line breaks (one data: line per line). */
  @Param({"true", "false"})
  public boolean json;

  private Event event;
  private Buffer body;
  private long seq;

  @Setup
  public void setup() {
    String data;
    if (json) {
      data = "{\"p\":\"" + "x".repeat(Math.max(0, size - 8)) + "\"}";
    } else {
      StringBuilder sb = new StringBuilder();
      while (sb.length() < size) sb.append("line of text ").append(sb.length()).append('\n');
      data = sb.substring(0, size);
    }
    event = new Event("orders.eu", "Ab3dEf9h", 42, "ticket.updated", data, json, null, System.currentTimeMillis());
    body = SseFrames.body(event);
  }

  /** The event:/data: lines: encoded once per event and shared by every stream. */
  @Benchmark
  public Buffer body() {
    return SseFrames.body(event);
  }

  /** A stream's own frame: its cursor's id: line in front of the shared body (multi-topic streams). */
  @Benchmark
  public Buffer withId() {
    return SseFrames.withId("1cjx0s6-Ab3dEf9h-" + Long.toString(++seq, 36), body);
  }

  /** A fresh EncodedEvent's single-topic frame: body plus id, as on the first delivery of an event. */
  @Benchmark
  public Buffer encodedSingle() {
    return new EncodedEvent(event).single();
  }
}
