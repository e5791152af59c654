package io.herald.common.admin;

import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The heap guard of one process, per {@link Vertx}: whether the heap is so full of live data
 * that the process should take no more (publishes get 503 {@code over_capacity} with
 * {@code Retry-After}, {@code /ready} fails) before the JVM runs out of memory.
 *
 * <p>It reads the heap each pool still held after its last garbage collection
 * ({@link MemoryPoolMXBean#getCollectionUsage()}): live data, not garbage that the next
 * collection would free; after every collection (the JVM's GC notifications: a flood on a
 * small heap goes from comfortable to full in less than a second, faster than any sampling),
 * and once a second besides. Pressure begins when that reaches {@code admin.heapHighPercent} of the
 * max heap on two samples in a row, and ends, by itself, when it falls below
 * {@code admin.heapLowPercent}: the gap between the marks keeps the node from flapping.
 * Reading the pools is a few field reads, not blocking, so the sampler runs on a Vert.x timer.
 * A node that stops allocating once it refuses publishes may run no collection that would show
 * its memory was freed, so while under pressure the guard asks for one (on a worker thread)
 * every {@value #GC_NUDGE_SAMPLES} samples.
 *
 * <p>Thread-safe: {@link #over()} is read from any event loop.
 */
public final class HeapPressure {

  private static final Logger LOG = LoggerFactory.getLogger(HeapPressure.class);
  private static final Map<Vertx, HeapPressure> ALL = new WeakHashMap<>();
  /** Seconds a refused publisher is told to wait. */
  public static final int RETRY_AFTER_SECONDS = 5;
  /** Sampling period, ms. */
  static final long PERIOD_MILLIS = 1000;
  /** Samples under pressure between two requested collections. */
  static final int GC_NUDGE_SAMPLES = 5;

  private volatile boolean over;
  private volatile int percent;
  private int highPercent;
  private int lowPercent = 1;
  private int samplesAbove;
  private int samplesOver;
  private long timer = -1;
  /** The GC notification listener, and the collectors it listens to. */
  private javax.management.NotificationListener gcListener;

  private HeapPressure() {
  }

  /** The guard of {@code vertx}, made on first use (never under pressure until started or fed). */
  public static HeapPressure of(Vertx vertx) {
    synchronized (ALL) {
      return ALL.computeIfAbsent(vertx, v -> new HeapPressure());
    }
  }

  /**
   * Samples the heap every second with these marks (percent of the max heap), reports in
   * {@code /ready} as {@code heap} and in {@code herald_heap_live_ratio}. {@code highPercent} 0
   * leaves the guard off.
   */
  public synchronized void start(Vertx vertx, int highPercent, int lowPercent) {
    if (highPercent <= 0 || timer != -1) {
      return;
    }
    this.highPercent = highPercent;
    this.lowPercent = lowPercent;
    Gauge.builder("herald_heap_live_ratio", this, g -> g.percent / 100.0)
      .description("Heap in use after the last garbage collection, as a fraction of the max heap")
      .register(HeraldMetrics.get().registry());
    Gauge.builder("herald_heap_pressure", this, g -> g.over ? 1 : 0)
      .description("1 while the heap guard refuses publishes and readiness, 0 otherwise")
      .register(HeraldMetrics.get().registry());
    Health.of(vertx).readiness().register("heap", p -> p.complete(over ? Status.KO(status()) : Status.OK(status())));
    timer = vertx.setPeriodic(PERIOD_MILLIS, id -> {
      update(liveAfterGc(), Runtime.getRuntime().maxMemory());
      if (over && ++samplesOver % GC_NUDGE_SAMPLES == 0) {
        vertx.executeBlocking(() -> {
          System.gc();
          return null;
        }, false);
      }
    });
    listenToCollections();
    LOG.info("heap guard on: publishes refused and not ready from {}% of the max heap live after GC, back below {}%",
      highPercent, lowPercent);
  }

  /** Stops sampling (the process is closing). */
  public synchronized void stop(Vertx vertx) {
    if (timer != -1) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    if (gcListener != null) {
      for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        if (gc instanceof javax.management.NotificationEmitter emitter) {
          try {
            emitter.removeNotificationListener(gcListener);
          } catch (javax.management.ListenerNotFoundException e) {
            // not registered on this one
          }
        }
      }
      gcListener = null;
    }
  }

  /** A reading after every garbage collection, on the JVM's notification thread. */
  private void listenToCollections() {
    gcListener = (notification, handback) -> {
      if (com.sun.management.GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
        update(liveAfterGc(), Runtime.getRuntime().maxMemory());
      }
    };
    for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof javax.management.NotificationEmitter emitter) {
        emitter.addNotificationListener(gcListener, null, null);
      }
    }
  }

  /** True while the process refuses publishes for heap pressure. */
  public boolean over() {
    return over;
  }

  /** What {@code /ready} shows under {@code heap}. */
  public JsonObject status() {
    return new JsonObject().put("liveAfterGcPercent", percent).put("highPercent", highPercent)
      .put("lowPercent", lowPercent).put("pressure", over);
  }

  /**
   * Takes one reading: {@code live} bytes in use after GC of {@code max}. The sampler calls it;
   * tests call it with readings of their own.
   */
  public synchronized void update(long live, long max) {
    if (highPercent <= 0 || max <= 0) {
      return;
    }
    int p = (int) Math.min(100, live * 100 / max);
    percent = p;
    if (!over) {
      samplesAbove = p >= highPercent ? samplesAbove + 1 : 0;
      if (samplesAbove >= 2) {
        over = true;
        LOG.warn("heap pressure: {}% of the max heap is live after GC (high-water mark {}%): refusing publishes, not ready",
          p, highPercent);
      }
    } else if (p < lowPercent) {
      over = false;
      samplesAbove = 0;
      LOG.warn("heap pressure over: {}% live after GC (low-water mark {}%): publishes accepted, ready", p, lowPercent);
    }
  }

  /** Marks for tests that feed {@link #update} without starting the sampler. */
  public synchronized void marks(int highPercent, int lowPercent) {
    this.highPercent = highPercent;
    this.lowPercent = lowPercent;
  }

  /** Heap bytes the pools held after their last collection: live data plus what that collection kept. */
  static long liveAfterGc() {
    long used = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        MemoryUsage u = pool.getCollectionUsage();
        if (u != null) {
          used += u.getUsed();
        }
      }
    }
    return used;
  }
}
