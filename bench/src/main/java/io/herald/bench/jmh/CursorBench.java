package io.herald.bench.jmh;

import io.herald.common.Cursor;
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

/** Cursor encode (an entry per topic, joined) and decode ({@code Last-Event-ID} on a resume). */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CursorBench {

  /** Topics of the stream, so entries in the cursor. */
  @Param({"1", "8", "32"})
  public int topics;

  private String[] names;
  private String[] entries;
  private String cursor;
  private long seq = 1_000_000;

  @Setup
  public void setup() {
    names = new String[topics];
    entries = new String[topics];
    for (int i = 0; i < topics; i++) {
      names[i] = "user:" + i + ".notifications";
      entries[i] = Cursor.entry(names[i], "Ab3dEf9h", 1000 + i);
    }
    cursor = Cursor.join(entries);
  }

  /** The cursor after an event: this topic's entry re-encoded, all entries joined. */
  @Benchmark
  public String encode() {
    entries[0] = Cursor.entry(names[0], "Ab3dEf9h", ++seq);
    return Cursor.join(entries);
  }

  @Benchmark
  public Cursor decode() {
    return Cursor.parse(cursor, 32);
  }

  /** The FNV-1a tag of a topic name, computed per entry. */
  @Benchmark
  public String tag() {
    return Cursor.tag(names[0]);
  }
}
