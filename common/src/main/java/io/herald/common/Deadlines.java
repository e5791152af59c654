package io.herald.common;

import io.vertx.core.Vertx;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Deadlines of one fixed length for the keys of one event loop, kept with a single Vert.x timer.
 *
 * <p>A per-request timeout set with {@code vertx.setTimer} and cancelled when the request is done
 * costs a timer handler, a task in Netty's scheduled-task queue and an entry in Vert.x's timer
 * map, each way, for a timer that almost never fires. Here a deadline is an entry of a
 * {@link LinkedHashMap}: all deadlines have the same length, so the order in which keys are armed
 * is the order in which they fall due, and the first entry is always the next one. One timer
 * waits for that entry; when it fires it expires every key that is due and waits for the next.
 * Disarming a key only removes it; the timer then fires into nothing and moves on.
 *
 * <p>Confined to one event loop, like the verticle that owns it: call every method from it.
 * A key's expiry handler runs on that loop, after the key has been removed.
 */
public final class Deadlines<K> {

  private final Vertx vertx;
  private final long timeoutNanos;
  private final Consumer<K> expired;
  private final LinkedHashMap<K, Long> due = new LinkedHashMap<>();
  private long timer = -1;

  /**
   * @param timeoutMillis > 0: how long after {@link #arm} a key expires
   * @param expired what to do with a key that expired (it is no longer armed then)
   */
  public Deadlines(Vertx vertx, long timeoutMillis, Consumer<K> expired) {
    if (timeoutMillis <= 0) {
      throw new IllegalArgumentException("timeoutMillis must be > 0");
    }
    this.vertx = vertx;
    this.timeoutNanos = timeoutMillis * 1_000_000L;
    this.expired = expired;
  }

  /** Arms {@code key}'s deadline, {@code timeoutMillis} from now; an armed key starts again. */
  public void arm(K key) {
    due.remove(key);
    due.put(key, System.nanoTime() + timeoutNanos);
    if (timer == -1) {
      schedule();
    }
  }

  /** Disarms {@code key}; true if it was armed. */
  public boolean disarm(K key) {
    return due.remove(key) != null;
  }

  /** How many keys are armed. */
  public int size() {
    return due.size();
  }

  private void schedule() {
    Iterator<Long> first = due.values().iterator();
    if (!first.hasNext()) {
      timer = -1;
      return;
    }
    long millis = Math.max(1, (first.next() - System.nanoTime() + 999_999) / 1_000_000);
    timer = vertx.setTimer(millis, id -> fire());
  }

  private void fire() {
    long now = System.nanoTime();
    while (true) {
      Iterator<Map.Entry<K, Long>> it = due.entrySet().iterator();
      if (!it.hasNext()) {
        break;
      }
      Map.Entry<K, Long> head = it.next();
      if (head.getValue() - now > 0) {
        break;
      }
      K key = head.getKey();
      it.remove();
      // The handler may arm or disarm keys: the iterator is taken again for the next one.
      expired.accept(key);
    }
    schedule();
  }
}
