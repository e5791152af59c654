package io.herald.bench;

import org.HdrHistogram.Recorder;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** Counters shared by every subscriber of a run; written from the event loops, read by the driver. */
final class Stats {

  /** Publish-to-receive latency in microseconds, up to one hour, 3 significant digits. */
  final Recorder latency = new Recorder(3_600_000_000L, 3);
  final LongAdder received = new LongAdder();
  final LongAdder duplicates = new LongAdder();
  final LongAdder gaps = new LongAdder();
  final LongAdder resets = new LongAdder();
  final AtomicInteger ready = new AtomicInteger();
  final AtomicInteger opened = new AtomicInteger();
  final AtomicInteger failed = new AtomicInteger();
  final AtomicInteger closedByServer = new AtomicInteger();
  /** Storm: subscribers that have every event they missed. */
  final AtomicInteger caughtUp = new AtomicInteger();
  /** Storm: request to ready ({@code herald.ready}, or the 200 answer for targets without it) per stream, in microseconds. */
  final Recorder readyLatency = new Recorder(3_600_000_000L, 3);
  /** nanoTime of the latest stream whose 200 answer came in. */
  final java.util.concurrent.atomic.AtomicLong lastOpenNanos = new java.util.concurrent.atomic.AtomicLong();
}
