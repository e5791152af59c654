package io.herald.notifier;

import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** The {@code notifier} section: the publish API and its limits. */
public final class NotifierOptions {

  /** Interface the publish API binds to. */
  public static final String DEFAULT_HOST = "0.0.0.0";
  /** Port of the publish API; 0 picks a free port (tests). */
  public static final int DEFAULT_PORT = 8081;
  /** The development key: replace it in production (a warning is logged while it is in use). */
  public static final String DEVELOPMENT_KEY = "dev-publisher-key";
  /** Keys publishers present as {@code Authorization: Bearer <key>} or {@code X-Herald-Key}. */
  public static final List<String> DEFAULT_PUBLISHER_KEYS = List.of(DEVELOPMENT_KEY);
  /** Largest request body, bytes (413 above). */
  public static final int DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
  /** Largest event data, UTF-8 bytes once encoded (413 above). */
  public static final int DEFAULT_MAX_EVENT_BYTES = 64 * 1024;
  /** Most topics one publish may name. */
  public static final int DEFAULT_MAX_TOPICS_PER_EVENT = 32;
  /** Most events in one batch. */
  public static final int DEFAULT_MAX_BATCH_SIZE = 100;
  /** How long storing may take before the publisher gets 504, ms. */
  public static final int DEFAULT_REPLAY_TIMEOUT_MILLIS = 5000;

  private final String host;
  private final int port;
  private final List<String> publisherKeys;
  private final int maxBodyBytes;
  private final int maxEventBytes;
  private final int maxTopicsPerEvent;
  private final int maxBatchSize;
  private final int replayTimeoutMillis;

  public NotifierOptions() {
    this(new JsonObject());
  }

  public NotifierOptions(JsonObject json) {
    ConfigReader r = new ConfigReader("notifier", json);
    host = r.getString("host", DEFAULT_HOST);
    port = r.getInt("port", DEFAULT_PORT, 0, 65535);
    publisherKeys = r.getStringList("publisherKeys", DEFAULT_PUBLISHER_KEYS);
    if (publisherKeys.isEmpty()) {
      throw new ConfigException(r.key("publisherKeys"), "must list at least one key");
    }
    for (String k : publisherKeys) {
      if (k.length() < 8) {
        throw new ConfigException(r.key("publisherKeys"), "every key must have at least 8 characters");
      }
    }
    maxBodyBytes = r.getInt("maxBodyBytes", DEFAULT_MAX_BODY_BYTES, 1024, 64 * 1024 * 1024);
    maxEventBytes = r.getInt("maxEventBytes", DEFAULT_MAX_EVENT_BYTES, 1, 16 * 1024 * 1024);
    maxTopicsPerEvent = r.getInt("maxTopicsPerEvent", DEFAULT_MAX_TOPICS_PER_EVENT, 1, 1024);
    maxBatchSize = r.getInt("maxBatchSize", DEFAULT_MAX_BATCH_SIZE, 1, 10_000);
    replayTimeoutMillis = r.getInt("replayTimeoutMillis", DEFAULT_REPLAY_TIMEOUT_MILLIS, 100, 120_000);
    r.rejectUnknown();
  }

  public String host() { return host; }
  public int port() { return port; }
  public List<String> publisherKeys() { return publisherKeys; }
  public int maxBodyBytes() { return maxBodyBytes; }
  public int maxEventBytes() { return maxEventBytes; }
  public int maxTopicsPerEvent() { return maxTopicsPerEvent; }
  public int maxBatchSize() { return maxBatchSize; }
  public int replayTimeoutMillis() { return replayTimeoutMillis; }

  /** True while the shipped development key is accepted. */
  public boolean isDevelopmentKey() {
    return publisherKeys.contains(DEVELOPMENT_KEY);
  }

  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("publisherKeys", new JsonArray(publisherKeys))
      .put("maxBodyBytes", maxBodyBytes).put("maxEventBytes", maxEventBytes)
      .put("maxTopicsPerEvent", maxTopicsPerEvent).put("maxBatchSize", maxBatchSize)
      .put("replayTimeoutMillis", replayTimeoutMillis);
  }

  /** A copy with some keys changed. */
  public NotifierOptions with(JsonObject changes) {
    return new NotifierOptions(toJson().mergeIn(changes));
  }
}
