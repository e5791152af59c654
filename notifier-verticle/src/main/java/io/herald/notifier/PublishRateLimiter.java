package io.herald.notifier;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Token buckets per publisher credential ({@code notifier.publishRatePerKey} events per second,
 * up to {@code notifier.publishBurst} at once): a bucket starts full, one event takes one token,
 * tokens come back at the rate up to the burst. A request that does not find enough tokens takes
 * none (all or nothing) and is told how long to wait.
 *
 * <p>The bucket map is bounded: a bucket that has refilled completely is the same as no bucket,
 * so the least recently used buckets are dropped once full, a couple per call; and at most
 * {@link #MAX_BUCKETS} are kept, the least recently used going first when a new credential
 * arrives at the limit (that credential then starts again with a full bucket).
 *
 * <p>Not thread-safe: confined to the event loop of the notifier instance that owns it, so the
 * rate is per notifier instance (per process with the default single instance).
 */
public final class PublishRateLimiter {

  /** Most buckets kept (credentials seen recently). */
  public static final int MAX_BUCKETS = 100_000;
  /** Idle buckets looked at, and dropped when full, per call. */
  private static final int SWEEP_PER_CALL = 2;
  private static final double NANOS_PER_SECOND = 1_000_000_000.0;

  private final double ratePerSecond;
  private final double burst;
  private final int maxBuckets;
  private final LongSupplier nanoClock;
  /** Access order: the eldest entry is the bucket used least recently. */
  private final LinkedHashMap<String, Bucket> buckets;

  private static final class Bucket {
    double tokens;
    long updatedNanos;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.updatedNanos = now;
    }
  }

  /** {@code ratePerSecond} > 0 tokens per second, {@code burst} >= 1 tokens at most. */
  public PublishRateLimiter(int ratePerSecond, int burst) {
    this(ratePerSecond, burst, MAX_BUCKETS, System::nanoTime);
  }

  PublishRateLimiter(double ratePerSecond, int burst, int maxBuckets, LongSupplier nanoClock) {
    if (ratePerSecond <= 0 || burst <= 0 || maxBuckets <= 0) {
      throw new IllegalArgumentException("ratePerSecond, burst and maxBuckets must be > 0");
    }
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.maxBuckets = maxBuckets;
    this.nanoClock = nanoClock;
    this.buckets = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
        return size() > PublishRateLimiter.this.maxBuckets;
      }
    };
  }

  /**
   * Takes {@code cost} tokens from {@code publisher}'s bucket: 0 when they were taken, else the
   * whole seconds (at least 1) after which they will be there, and nothing is taken.
   * A cost above the burst never fits; it is refused with the time a full bucket takes.
   */
  public int acquire(String publisher, int cost) {
    long now = nanoClock.getAsLong();
    sweep(now);
    Bucket b = buckets.get(publisher);
    if (b == null) {
      b = new Bucket(burst, now);
      buckets.put(publisher, b);
    } else {
      refill(b, now);
    }
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return 0;
    }
    double missing = Math.min(cost, burst) - b.tokens;
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.ceil(missing / ratePerSecond)));
  }

  /** Gives back {@code cost} tokens taken by {@link #acquire} for a request refused by another limit. */
  public void refund(String publisher, int cost) {
    Bucket b = buckets.get(publisher);
    if (b != null) {
      b.tokens = Math.min(burst, b.tokens + cost);
    }
  }

  /** Buckets currently kept (tests, metrics). */
  public int size() {
    return buckets.size();
  }

  private void refill(Bucket b, long now) {
    long elapsed = now - b.updatedNanos;
    if (elapsed > 0) {
      b.tokens = Math.min(burst, b.tokens + elapsed / NANOS_PER_SECOND * ratePerSecond);
      b.updatedNanos = now;
    }
  }

  /** Drops the least recently used buckets that are full again: they hold nothing a new one would not. */
  private void sweep(long now) {
    Iterator<Bucket> it = buckets.values().iterator();
    for (int i = 0; i < SWEEP_PER_CALL && it.hasNext(); i++) {
      Bucket b = it.next();
      if (b.tokens + (now - b.updatedNanos) / NANOS_PER_SECOND * ratePerSecond >= burst) {
        it.remove();
      } else {
        return; // stop at the first bucket still in use: the sweep stays O(1) per call
      }
    }
  }
}
