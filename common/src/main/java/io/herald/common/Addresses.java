package io.herald.common;

/**
 * Every event-bus address Herald uses, in one place. Request/reply addresses carry JSON;
 * failures come back as reply failures whose code is an HTTP status and whose message is the
 * JSON error body of {@link HeraldException}.
 */
public final class Addresses {

  private Addresses() {
  }

  /**
   * Publish, for internal producers (request/reply, handled by notifier-verticle). Request: the
   * same JSON as {@code POST /publish}, {@code {"topic"|"topics", "type", "data", "id"}}, or the
   * batch form {@code {"events": [...]}}. Reply: {@code {"events": [{"topic", "seq", "epoch",
   * "id"}]}} for a single publish, {@code {"results": [{"events": [...]}]}} for a batch.
   * Validation applies exactly as over HTTP; no publisher key is asked on the bus, which is
   * internal (the TCP bridge permits only this address inbound).
   */
  public static final String PUBLISH = "herald.publish";

  /**
   * Append to the replay store (request/reply, handled by replay-verticle). Request:
   * {@code {"events": [EventDraft JSON]}}; reply {@code {"events": [Event JSON]}} in the same
   * order. Each stored event is then published on {@link #topic(String)}.
   */
  public static final String REPLAY_APPEND = "herald.replay.append";

  /**
   * Read a topic's history after a position (request/reply). Request:
   * {@code {"topic", "epoch", "after", "limit"}}; reply {@code {"head": {"epoch","seq"},
   * "reset": bool, "events": [...]}}. See {@code ReplayStore#read}.
   */
  public static final String REPLAY_READ = "herald.replay.read";

  /**
   * The current head of topics (request/reply). Request {@code {"topics": [...]}}; reply
   * {@code {"heads": {"<topic>": {"epoch","seq"}}}}.
   */
  public static final String REPLAY_HEAD = "herald.replay.head";

  /**
   * The head of the replay store's log, the sequence that spans all topics (request/reply).
   * Request {@code {}}; reply {@code {"head": {"epoch","seq"}}}. See {@code ReplayStore#logHead}.
   */
  public static final String REPLAY_LOG_HEAD = "herald.replay.log.head";

  /**
   * Read the replay store's log after a position, filtered by topic (request/reply). Request:
   * {@code {"epoch", "after", "filters": [topic or pattern, ...], "limit"?}} (filters compiled by
   * {@code io.herald.common.replay.LogFilters#compile}); reply {@code {"head": {"epoch","seq"},
   * "reset": bool, "reason"?, "scannedTo": seq, "events": [Event JSON with "log"]}}. See
   * {@code ReplayStore#readLog}.
   */
  public static final String REPLAY_LOG_READ = "herald.replay.log.read";

  /**
   * The retained events a publisher gave an id (request/reply): request {@code {"key"}}; reply
   * {@code {"events": [Event JSON with "log"]}} in log order. See {@code ReplayStore#findKey}.
   */
  public static final String REPLAY_KEY = "herald.replay.key";

  /** Prefix of the per-topic delivery addresses. */
  public static final String TOPIC_PREFIX = "herald.topic.";

  /**
   * Where stored events of {@code topic} are published (body: {@link Event}). Only gateways
   * holding a connection to the topic register a consumer here.
   */
  public static String topic(String topic) {
    return TOPIC_PREFIX + topic;
  }

  /**
   * Where every stored event is published (body: {@link Event}) for the gateways that fan
   * out per node ({@code gateway.fanout = "node"}): such a gateway process registers one consumer
   * here when it starts and picks the events of the topics it holds, instead of registering a
   * consumer per topic.
   */
  public static final String EVENTS = "herald.events";

  /**
   * In a cluster, each gateway instance that fans out per topic registers a consumer here when it
   * starts; nothing is ever sent to it. It tells the replay role that per-topic gateways exist, so
   * that it publishes on {@link #topic(String)} only then.
   */
  public static final String FANOUT_TOPIC_GATEWAYS = "herald.fanout.topic";

  /**
   * Not an address: the process-local map where a per-node gateway enters {@link #EVENTS} before
   * it listens, so that the replay role of the same process, without a cluster to look at,
   * publishes there.
   */
  public static final String FANOUT_LOCAL_MAP = "herald.fanout";

  /** Prefix of the per-pattern delivery addresses. */
  public static final String PATTERN_PREFIX = "herald.pattern.";

  /**
   * Where stored events matching the pattern subscription {@code key} ({@link
   * io.herald.common.pattern.TopicFilters#key}) are published, beside their topic's address
   * (body: {@link Event}). Only gateways holding a connection with that pattern register a
   * consumer here, and the replay role publishes here only for keys some gateway announced on
   * {@link #PATTERNS}.
   */
  public static String pattern(String key) {
    return PATTERN_PREFIX + key;
  }

  /**
   * Gateways announce the pattern subscriptions they hold here (publish, body: JSON
   * {@code {"node", "op": "add"|"remove"|"full", "keys": [...]}}, see
   * {@link io.herald.common.pattern.PatternRoutes}); every replay instance keeps the union.
   */
  public static final String PATTERNS = "herald.patterns";

  /** A replay instance that starts asks here (publish) for every gateway's full set of keys. */
  public static final String PATTERNS_SYNC = "herald.patterns.sync";

  /** Prefix of the per-topic presence addresses. */
  public static final String PRESENCE_PREFIX = "herald.presence.";

  /**
   * Where a gateway process publishes the presence changes of {@code topic}: {@code {"type":
   * "join"|"leave", "member", "node", "frame": {"topic", "subject", "anonymous", "info"?}}}. Only
   * gateway instances holding a connection that asked for presence on the topic consume it.
   */
  public static String presence(String topic) {
    return PRESENCE_PREFIX + topic;
  }
}
