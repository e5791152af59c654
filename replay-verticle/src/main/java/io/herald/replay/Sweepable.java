package io.herald.replay;

/**
 * Optional capability of a store that enforces retention itself, in this JVM: the replay
 * verticle calls {@link #sweep()} on a periodic timer, on the store's context. Backends whose
 * server expires data (TTL, trimming) do not implement it.
 */
public interface Sweepable {

  /** Drops what retention no longer allows; short and non-blocking. */
  void sweep();
}
