package io.herald.replay;

import io.herald.common.config.ConfigException;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Vertx;

import java.util.List;

/**
 * The one place that turns {@code replay.store} into a {@link ReplayStore}. A new backend is a
 * new name in {@link #STORES} and a new case in {@link #create}.
 */
public final class ReplayStoreFactory {

  /** Accepted values of {@code replay.store}. */
  public static final List<String> STORES = List.of("memory", "hazelcast", "redis", "postgres");

  private ReplayStoreFactory() {
  }

  /**
   * A new store of the configured backend. Call it on the context that will use the store.
   *
   * @throws ConfigException naming {@code replay.store} when the backend is unknown, or is
   *                         {@code hazelcast} and {@code vertx} is not clustered
   */
  public static ReplayStore create(Vertx vertx, ReplayOptions options) {
    return switch (options.store()) {
      case "memory" -> new MemoryReplayStore(options);
      case "hazelcast" -> new HazelcastReplayStore(vertx, options);
      case "redis" -> new GuardedReplayStore(vertx, options,
        new RedisReplayStore(vertx, options, options.redisUrl(), options.redisKeyPrefix()));
      case "postgres" -> new GuardedReplayStore(vertx, options,
        new PgReplayStore(vertx, options, options.postgresUrl(), options.postgresTablePrefix()));
      default -> throw new ConfigException(ReplayOptions.SECTION + ".store",
        "unknown store \"" + options.store() + "\" (known: " + String.join(", ", STORES) + ")");
    };
  }
}
