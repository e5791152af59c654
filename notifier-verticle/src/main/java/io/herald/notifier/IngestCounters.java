package io.herald.notifier;

import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What every {@link Ingest} counts, and the common part of its {@link Ingest#status()}:
 * {@code name, connected, breaker, received, published, rejected, failed, reconnects, lastError}.
 * Each ingest adds its own fields (table, streams, lag, ...).
 */
final class IngestCounters {

  /** Messages, entries or rows read (again, when retried). */
  final AtomicLong received = new AtomicLong();
  /** Events handed to the publisher and stored. */
  final AtomicLong published = new AtomicLong();
  /** Refused as bad input (dead-lettered, marked or dropped). */
  final AtomicLong rejected = new AtomicLong();
  /** Failed because the store was unavailable. */
  final AtomicLong failed = new AtomicLong();
  /** Connections lost. */
  final AtomicLong reconnects = new AtomicLong();

  /** The common status fields; {@code breaker} may be null before the first start. */
  JsonObject status(String name, boolean connected, CircuitBreaker breaker, String lastError) {
    return new JsonObject()
      .put("name", name)
      .put("connected", connected)
      .put("breaker", breaker == null ? "CLOSED" : breaker.state().name())
      .put("received", received.get())
      .put("published", published.get())
      .put("rejected", rejected.get())
      .put("failed", failed.get())
      .put("reconnects", reconnects.get())
      .put("lastError", lastError);
  }
}
