package io.herald.gateway;

import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonObject;

/**
 * The {@code gateway} section: the HTTP server that holds client connections.
 */
public final class GatewayOptions {

  /** Interface the HTTP server binds to. */
  public static final String DEFAULT_HOST = "0.0.0.0";
  /** HTTP port for clients; 0 picks a free port (tests). */
  public static final int DEFAULT_PORT = 8080;
  /** Gateway verticle instances, each on its own event loop; 0 means one per CPU core. */
  public static final int DEFAULT_INSTANCES = 0;
  /** Seconds between heartbeat comments on every stream (keeps proxies and NATs from closing it). */
  public static final int DEFAULT_HEARTBEAT_SECONDS = 15;
  /** The SSE {@code retry:} sent first: how long a browser waits before reconnecting, in ms. */
  public static final int DEFAULT_RETRY_MILLIS = 2000;
  /** Most topics one connection may subscribe to ({@code topic} parameters). */
  public static final int DEFAULT_MAX_TOPICS_PER_CONNECTION = 32;
  /**
   * Bytes that may wait unsent for one connection before it is cut off as a slow consumer
   * (it then resumes by replay). Bounds per-connection memory.
   */
  public static final int DEFAULT_MAX_WRITE_QUEUE_BYTES = 128 * 1024;
  /**
   * Most events replayed per topic on one resume; a client that missed more gets {@code reset}
   * (a guard against one {@code Last-Event-ID} scanning a whole history).
   */
  public static final int DEFAULT_MAX_REPLAY_EVENTS = 1000;
  /** Longest {@code Last-Event-ID} read; a longer one is treated as unknown (every topic gets reset). */
  public static final int DEFAULT_MAX_LAST_EVENT_ID_LENGTH = 4096;
  /** How long a replay-store request (head, read) may take, in ms. */
  public static final int DEFAULT_REPLAY_TIMEOUT_MILLIS = 5000;
  /**
   * How long filling a gap in a topic's sequence from the store may take, in ms, before the
   * topic's connections get {@code reset} instead of a silent skip.
   */
  public static final int DEFAULT_GAP_WAIT_MILLIS = 2000;

  private final String host;
  private final int port;
  private final int instances;
  private final int heartbeatSeconds;
  private final int retryMillis;
  private final int maxTopicsPerConnection;
  private final int maxWriteQueueBytes;
  private final int maxReplayEvents;
  private final int maxLastEventIdLength;
  private final int replayTimeoutMillis;
  private final int gapWaitMillis;

  public GatewayOptions() {
    this(new JsonObject());
  }

  public GatewayOptions(JsonObject json) {
    ConfigReader r = new ConfigReader("gateway", json);
    host = r.getString("host", DEFAULT_HOST);
    port = r.getInt("port", DEFAULT_PORT, 0, 65535);
    instances = r.getInt("instances", DEFAULT_INSTANCES, 0, 256);
    heartbeatSeconds = r.getInt("heartbeatSeconds", DEFAULT_HEARTBEAT_SECONDS, 1, 3600);
    retryMillis = r.getInt("retryMillis", DEFAULT_RETRY_MILLIS, 0, 600_000);
    maxTopicsPerConnection = r.getInt("maxTopicsPerConnection", DEFAULT_MAX_TOPICS_PER_CONNECTION, 1, 1024);
    maxWriteQueueBytes = r.getInt("maxWriteQueueBytes", DEFAULT_MAX_WRITE_QUEUE_BYTES, 1024, 64 * 1024 * 1024);
    maxReplayEvents = r.getInt("maxReplayEvents", DEFAULT_MAX_REPLAY_EVENTS, 0, 1_000_000);
    maxLastEventIdLength = r.getInt("maxLastEventIdLength", DEFAULT_MAX_LAST_EVENT_ID_LENGTH, 64, 65_536);
    replayTimeoutMillis = r.getInt("replayTimeoutMillis", DEFAULT_REPLAY_TIMEOUT_MILLIS, 100, 120_000);
    gapWaitMillis = r.getInt("gapWaitMillis", DEFAULT_GAP_WAIT_MILLIS, 10, 120_000);
    r.rejectUnknown();
  }

  public String host() { return host; }
  public int port() { return port; }
  public int instances() { return instances; }
  /** {@link #instances()} with 0 resolved to the number of cores. */
  public int effectiveInstances() {
    return instances > 0 ? instances : Math.max(1, Runtime.getRuntime().availableProcessors());
  }
  public int heartbeatSeconds() { return heartbeatSeconds; }
  public int retryMillis() { return retryMillis; }
  public int maxTopicsPerConnection() { return maxTopicsPerConnection; }
  public int maxWriteQueueBytes() { return maxWriteQueueBytes; }
  public int maxReplayEvents() { return maxReplayEvents; }
  public int maxLastEventIdLength() { return maxLastEventIdLength; }
  public int replayTimeoutMillis() { return replayTimeoutMillis; }
  public int gapWaitMillis() { return gapWaitMillis; }

  public JsonObject toJson() {
    return new JsonObject()
      .put("host", host)
      .put("port", port)
      .put("instances", instances)
      .put("heartbeatSeconds", heartbeatSeconds)
      .put("retryMillis", retryMillis)
      .put("maxTopicsPerConnection", maxTopicsPerConnection)
      .put("maxWriteQueueBytes", maxWriteQueueBytes)
      .put("maxReplayEvents", maxReplayEvents)
      .put("maxLastEventIdLength", maxLastEventIdLength)
      .put("replayTimeoutMillis", replayTimeoutMillis)
      .put("gapWaitMillis", gapWaitMillis);
  }

  /** A copy with some keys changed, e.g. {@code with(new JsonObject().put("port", 0))}. */
  public GatewayOptions with(JsonObject changes) {
    return new GatewayOptions(toJson().mergeIn(changes));
  }
}
