package io.herald.notifier;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * One ingestion path of the notifier besides HTTP and the event bus: Redis pub/sub, Redis
 * streams, the PostgreSQL outbox. An ingest turns what it receives into publish bodies (the
 * single form of {@link PublishParser}) and hands them to the {@link Publisher}; it owns its
 * connections, reconnects on its own and says how it is doing in {@link #status()}.
 */
public interface Ingest {

  /** Short name for logs and health ({@code redis-pubsub}, {@code redis-streams}, {@code postgres-outbox}). */
  String name();

  /**
   * Connects and starts receiving. Fails only on a misconfiguration that retrying cannot fix;
   * an unreachable server is retried in the background (the status says so).
   */
  Future<Void> start();

  /** Stops receiving and closes connections; what is not yet acknowledged is delivered again later. */
  Future<Void> stop();

  /**
   * For health: at least {@code {"name", "connected": bool, "breaker": "CLOSED|OPEN|HALF_OPEN"}}
   * plus counters of the ingest ({@code received}, {@code published}, {@code failed}, ...).
   */
  JsonObject status();
}
