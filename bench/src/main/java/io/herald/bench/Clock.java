package io.herald.bench;

import java.time.Instant;

/** Wall-clock microseconds without an allocation per reading (nanoTime anchored on the wall clock once). */
final class Clock {

  private static final long OFFSET_MICROS;

  static {
    Instant now = Instant.now();
    long nano = System.nanoTime();
    OFFSET_MICROS = now.getEpochSecond() * 1_000_000L + now.getNano() / 1000 - nano / 1000;
  }

  private Clock() {
  }

  static long micros() {
    return OFFSET_MICROS + System.nanoTime() / 1000;
  }
}
