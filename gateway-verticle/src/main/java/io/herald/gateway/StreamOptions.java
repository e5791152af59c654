package io.herald.gateway;

import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The per-stream keys of the {@code gateway} section: topics per connection, the write queue
 * that bounds a slow consumer, and how a resume reads the replay store. Part of {@link GatewayOptions}.
 */
public final class StreamOptions {

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
  /**
   * {@code fanout}: each gateway instance registers an event-bus consumer per topic it holds,
   * and each event reaches only the gateway nodes that hold its topic.
   */
  public static final String FANOUT_TOPIC = "topic";
  /**
   * {@code fanout}: each gateway process registers one consumer for every event
   * ({@link io.herald.common.Addresses#EVENTS}) when it starts and keeps the events of the topics
   * its instances hold; opening and closing a stream writes nothing to the cluster.
   */
  public static final String FANOUT_NODE = "node";
  public static final String DEFAULT_FANOUT = FANOUT_TOPIC;

  private final int retryMillis;
  private final int maxTopicsPerConnection;
  private final int maxWriteQueueBytes;
  private final int maxReplayEvents;
  private final int maxLastEventIdLength;
  private final int replayTimeoutMillis;
  private final int gapWaitMillis;
  private final String fanout;

  StreamOptions(ConfigReader r) {
    retryMillis = r.getInt("retryMillis", DEFAULT_RETRY_MILLIS, 0, 600_000);
    maxTopicsPerConnection = r.getInt("maxTopicsPerConnection", DEFAULT_MAX_TOPICS_PER_CONNECTION, 1, 1024);
    maxWriteQueueBytes = r.getInt("maxWriteQueueBytes", DEFAULT_MAX_WRITE_QUEUE_BYTES, 1024, 64 * 1024 * 1024);
    maxReplayEvents = r.getInt("maxReplayEvents", DEFAULT_MAX_REPLAY_EVENTS, 0, 1_000_000);
    maxLastEventIdLength = r.getInt("maxLastEventIdLength", DEFAULT_MAX_LAST_EVENT_ID_LENGTH, 64, 65_536);
    replayTimeoutMillis = r.getInt("replayTimeoutMillis", DEFAULT_REPLAY_TIMEOUT_MILLIS, 100, 120_000);
    gapWaitMillis = r.getInt("gapWaitMillis", DEFAULT_GAP_WAIT_MILLIS, 10, 120_000);
    fanout = r.getString("fanout", DEFAULT_FANOUT);
    if (!List.of(FANOUT_TOPIC, FANOUT_NODE).contains(fanout)) {
      throw new ConfigException(r.key("fanout"), "must be \"topic\" or \"node\", got \"" + fanout + "\"");
    }
  }

  public int retryMillis() { return retryMillis; }
  public int maxTopicsPerConnection() { return maxTopicsPerConnection; }
  public int maxWriteQueueBytes() { return maxWriteQueueBytes; }
  public int maxReplayEvents() { return maxReplayEvents; }
  public int maxLastEventIdLength() { return maxLastEventIdLength; }
  public int replayTimeoutMillis() { return replayTimeoutMillis; }
  public int gapWaitMillis() { return gapWaitMillis; }
  /** {@code fanout}: {@link #FANOUT_TOPIC} or {@link #FANOUT_NODE}. */
  public String fanout() { return fanout; }

  /** True when events reach this gateway on one address per process rather than one per topic. */
  public boolean fanoutPerNode() {
    return FANOUT_NODE.equals(fanout);
  }

  JsonObject toJson() {
    return new JsonObject()
      .put("retryMillis", retryMillis)
      .put("maxTopicsPerConnection", maxTopicsPerConnection)
      .put("maxWriteQueueBytes", maxWriteQueueBytes)
      .put("maxReplayEvents", maxReplayEvents)
      .put("maxLastEventIdLength", maxLastEventIdLength)
      .put("replayTimeoutMillis", replayTimeoutMillis)
      .put("gapWaitMillis", gapWaitMillis)
      .put("fanout", fanout);
  }
}
