package io.herald.replay;

import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonObject;

/**
 * The {@code replay} section: which backend keeps the per-topic history and how much of it is
 * kept. Every key is optional; the defaults are those of {@code config/herald.json}. Values may
 * come as JSON numbers or, from environment variables ({@code HERALD_REPLAY_MAX_AGE_SECONDS}),
 * as strings. An invalid value fails with a {@link io.herald.common.config.ConfigException}
 * that names the key, e.g. {@code replay.maxTopics}.
 *
 * <p>The stores that keep history in the JVM heap ({@code memory}, and the outage store of
 * {@code redis} and {@code postgres}) also keep their events within {@link #effectiveMaxBytes()}
 * bytes, evicting the oldest events of the whole store first, whatever the count and age limits
 * would allow; {@code hazelcast} keeps each member's share within it (see
 * {@link HazelcastReplayStore}), evicting the least recently appended topics first.
 */
public final class ReplayOptions {

  /** The configuration section these options are read from. */
  public static final String SECTION = "replay";

  /** The embedded, in-process store: history lives in this JVM and is lost on restart. */
  public static final String DEFAULT_STORE = "memory";
  /** Events kept per topic; older ones are dropped first. */
  public static final int DEFAULT_MAX_EVENTS_PER_TOPIC = 1000;
  /** Age in seconds after which an event is no longer replayed (one hour). */
  public static final int DEFAULT_MAX_AGE_SECONDS = 3600;
  /** Topics with retained history; beyond it the least recently appended topic is dropped. */
  public static final int DEFAULT_MAX_TOPICS = 100_000;
  /** Most events one read returns, whatever limit the caller asks for. */
  public static final int DEFAULT_MAX_READ_LIMIT = 1000;
  /** Byte budget of the in-heap stores; 0 means {@link #DEFAULT_MAX_HEAP_PERCENT} of the max heap. */
  public static final long DEFAULT_MAX_BYTES = 0;
  /** Percent of the JVM's max heap ({@code -Xmx}) the in-heap stores may fill when {@code maxBytes} is 0. */
  public static final int DEFAULT_MAX_HEAP_PERCENT = 25;

  /** Redis server of the {@code redis} store. */
  public static final String DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
  /** Prefix of every Redis key the {@code redis} store writes. */
  public static final String DEFAULT_REDIS_KEY_PREFIX = "herald:";
  /** PostgreSQL database of the {@code postgres} store. */
  public static final String DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
  /** Prefix of the tables the {@code postgres} store creates. */
  public static final String DEFAULT_POSTGRES_TABLE_PREFIX = "herald_";

  /** How long one call to the Redis or PostgreSQL store may take before it fails (and counts against its circuit breaker), ms. */
  public static final int DEFAULT_STORE_TIMEOUT_MILLIS = 2000;

  static final int MAX_EVENTS_PER_TOPIC_LIMIT = 1_000_000;
  static final int MAX_AGE_SECONDS_LIMIT = 2_592_000;
  static final int MAX_TOPICS_LIMIT = 10_000_000;
  static final int MAX_READ_LIMIT_LIMIT = 100_000;
  static final int MAX_HEAP_PERCENT_LIMIT = 80;

  private final String store;
  private final int maxEventsPerTopic;
  private final int maxAgeSeconds;
  private final int maxTopics;
  private final int maxReadLimit;
  private final long maxBytes;
  private final int maxHeapPercent;
  private final String redisUrl;
  private final String redisKeyPrefix;
  private final String postgresUrl;
  private final String postgresTablePrefix;
  private final int storeTimeoutMillis;

  /** All defaults. */
  public ReplayOptions() {
    this(new JsonObject());
  }

  /**
   * Reads and validates the {@code replay} section; unknown keys are rejected.
   *
   * @throws io.herald.common.config.ConfigException naming the first bad key
   */
  public ReplayOptions(JsonObject json) {
    ConfigReader r = new ConfigReader(SECTION, json);
    store = r.getOneOf("store", DEFAULT_STORE, ReplayStoreFactory.STORES.toArray(new String[0]));
    maxEventsPerTopic = r.getInt("maxEventsPerTopic", DEFAULT_MAX_EVENTS_PER_TOPIC, 1, MAX_EVENTS_PER_TOPIC_LIMIT);
    maxAgeSeconds = r.getInt("maxAgeSeconds", DEFAULT_MAX_AGE_SECONDS, 1, MAX_AGE_SECONDS_LIMIT);
    maxTopics = r.getInt("maxTopics", DEFAULT_MAX_TOPICS, 1, MAX_TOPICS_LIMIT);
    maxReadLimit = r.getInt("maxReadLimit", DEFAULT_MAX_READ_LIMIT, 1, MAX_READ_LIMIT_LIMIT);
    maxBytes = r.getLong("maxBytes", DEFAULT_MAX_BYTES, 0, Long.MAX_VALUE);
    maxHeapPercent = r.getInt("maxHeapPercent", DEFAULT_MAX_HEAP_PERCENT, 1, MAX_HEAP_PERCENT_LIMIT);
    redisUrl = r.getString("redisUrl", DEFAULT_REDIS_URL);
    if (!redisUrl.startsWith("redis://") && !redisUrl.startsWith("rediss://")) {
      throw new io.herald.common.config.ConfigException(r.key("redisUrl"), "must start with redis:// or rediss://");
    }
    redisKeyPrefix = r.getString("redisKeyPrefix", DEFAULT_REDIS_KEY_PREFIX);
    postgresUrl = r.getString("postgresUrl", DEFAULT_POSTGRES_URL);
    if (!postgresUrl.startsWith("postgresql://") && !postgresUrl.startsWith("postgres://")) {
      throw new io.herald.common.config.ConfigException(r.key("postgresUrl"), "must start with postgresql://");
    }
    postgresTablePrefix = r.getString("postgresTablePrefix", DEFAULT_POSTGRES_TABLE_PREFIX);
    if (!postgresTablePrefix.matches("[a-z_][a-z0-9_]{0,30}")) {
      throw new io.herald.common.config.ConfigException(r.key("postgresTablePrefix"),
        "must be 1 to 31 characters from a-z 0-9 _, not starting with a digit");
    }
    storeTimeoutMillis = r.getInt("storeTimeoutMillis", DEFAULT_STORE_TIMEOUT_MILLIS, 50, 60_000);
    r.rejectUnknown();
  }

  /**
   * {@code storeTimeoutMillis}: how long one call to the {@code redis} or {@code postgres}
   * store may take, 50 to 60,000 ms, before it fails and counts against the store's circuit
   * breaker. Default {@value #DEFAULT_STORE_TIMEOUT_MILLIS}. Keep it below the gateway's and
   * notifier's {@code replayTimeoutMillis}, so that an outage falls back before requests time out.
   */
  public int storeTimeoutMillis() {
    return storeTimeoutMillis;
  }

  /**
   * {@code store}: the backend that keeps the history. Default {@value #DEFAULT_STORE} (this
   * JVM only, lost on restart); {@code hazelcast} keeps it in the cluster's Hazelcast (needs
   * {@code --cluster}; survives the loss of one member). {@link ReplayStoreFactory#STORES}
   * lists the accepted names.
   */
  public String store() {
    return store;
  }

  /**
   * {@code maxEventsPerTopic}: how many events each topic keeps, 1 to 1,000,000; the oldest
   * is dropped first. Default {@value #DEFAULT_MAX_EVENTS_PER_TOPIC}. A client that missed
   * more than this gets a {@code reset}.
   */
  public int maxEventsPerTopic() {
    return maxEventsPerTopic;
  }

  /**
   * {@code maxAgeSeconds}: seconds an event stays replayable, 1 to 2,592,000 (30 days).
   * Default {@value #DEFAULT_MAX_AGE_SECONDS}. A client that missed older events gets a
   * {@code reset}.
   */
  public int maxAgeSeconds() {
    return maxAgeSeconds;
  }

  /**
   * {@code maxTopics}: how many topics keep history at once in the {@code memory} and
   * {@code hazelcast} stores, 1 to 10,000,000. Default {@value #DEFAULT_MAX_TOPICS}. Beyond it
   * the least recently appended topic loses its history (in {@code memory} its sequence
   * continues, in {@code hazelcast} it moves to a new epoch; its subscribers get a {@code reset}
   * on resume).
   */
  public int maxTopics() {
    return maxTopics;
  }

  /**
   * {@code maxReadLimit}: most events one read returns, 1 to 100,000, whatever the caller asks
   * (the denial-of-service guard of one {@code Last-Event-ID}); callers page for more.
   * Default {@value #DEFAULT_MAX_READ_LIMIT}.
   */
  public int maxReadLimit() {
    return maxReadLimit;
  }

  /**
   * {@code maxBytes}: how many bytes of events the stores that live in this JVM's heap
   * ({@code memory}, and the outage store of {@code redis} and {@code postgres}) may hold, an
   * estimate per event of its data, key, topic and type plus a fixed overhead; for
   * {@code hazelcast}, each member's share (the cluster holds at most members x maxBytes / 2,
   * every event having a backup copy, or maxBytes with one member). Beyond it the oldest events
   * are evicted first (whole topics, least recently appended first, in {@code hazelcast}), and a
   * client that resumes past one gets a {@code reset} with reason {@code history_evicted}.
   * Default {@value #DEFAULT_MAX_BYTES}: {@link #maxHeapPercent()} of the max heap.
   */
  public long maxBytes() {
    return maxBytes;
  }

  /**
   * {@code maxHeapPercent}: when {@code maxBytes} is 0, the budget of the in-heap stores as a
   * percent of the JVM's max heap, 1 to 80. Default {@value #DEFAULT_MAX_HEAP_PERCENT}.
   */
  public int maxHeapPercent() {
    return maxHeapPercent;
  }

  /** The byte budget in force: {@code maxBytes}, or {@code maxHeapPercent} of this JVM's max heap. */
  public long effectiveMaxBytes() {
    return maxBytes > 0 ? maxBytes : Runtime.getRuntime().maxMemory() / 100 * maxHeapPercent;
  }

  /** {@code redis://host:port[/db]} of the {@code redis} store. */
  public String redisUrl() {
    return redisUrl;
  }

  public String redisKeyPrefix() {
    return redisKeyPrefix;
  }

  /** {@code postgresql://user@host:port/db} of the {@code postgres} store. */
  public String postgresUrl() {
    return postgresUrl;
  }

  public String postgresTablePrefix() {
    return postgresTablePrefix;
  }

  /** {@link #maxAgeSeconds()} in milliseconds. */
  public long maxAgeMillis() {
    return maxAgeSeconds * 1000L;
  }

  /** The section as JSON, with every key; {@code new ReplayOptions(o.toJson())} equals {@code o}. */
  public JsonObject toJson() {
    return new JsonObject()
      .put("store", store)
      .put("maxEventsPerTopic", maxEventsPerTopic)
      .put("maxAgeSeconds", maxAgeSeconds)
      .put("maxTopics", maxTopics)
      .put("maxReadLimit", maxReadLimit)
      .put("maxBytes", maxBytes)
      .put("maxHeapPercent", maxHeapPercent)
      .put("redisUrl", redisUrl)
      .put("redisKeyPrefix", redisKeyPrefix)
      .put("postgresUrl", postgresUrl)
      .put("postgresTablePrefix", postgresTablePrefix)
      .put("storeTimeoutMillis", storeTimeoutMillis);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ReplayOptions other && toJson().equals(other.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "ReplayOptions" + toJson().encode();
  }
}
