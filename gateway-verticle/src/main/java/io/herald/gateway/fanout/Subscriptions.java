package io.herald.gateway.fanout;

import io.herald.common.Addresses;
import io.herald.common.Position;
import io.herald.common.pattern.PatternRoutes;
import io.herald.common.pattern.TopicFilter;
import io.herald.common.pattern.TopicFilters;
import io.herald.common.replay.ReplayClient;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.GatewayStats;
import io.herald.gateway.poll.PollConnection;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The topics one gateway instance holds: a {@link TopicChannel} per topic that at least one of
 * its connections wants, created on the first subscriber and discarded with the last. The map is
 * bounded by connections times topics per connection. Confined to the instance's event loop.
 *
 * <p>Events reach the channels one of two ways ({@code gateway.fanout}). Per topic: each channel
 * registers its own consumer on the topic's address, and the event bus brings an event only to
 * the instances holding its topic; in a cluster each registration is a write to the cluster's
 * subscription map that every member hears of. Per node: the deployment registers one consumer on
 * {@link Addresses#EVENTS} when its first instance starts ({@link NodeFanout}), every event
 * reaches every gateway node, and goes on to the instances holding its topic: opening and
 * closing streams then costs the cluster nothing, which is what a wave of reconnecting clients
 * needs.
 */
public final class Subscriptions {

  private final Vertx vertx;
  private final GatewayOptions options;
  private final ReplayClient replay;
  private final ReplayClient gapReplay;
  private final GatewayStats stats;
  private final Map<String, TopicChannel> channels = new HashMap<>();
  private final Map<String, PatternChannel> patterns = new HashMap<>();
  /** This instance's name in pattern announcements ({@link PatternRoutes}). */
  private final String node = java.util.UUID.randomUUID().toString();
  private long refreshTimer = -1;
  /** Head reads asked for in this event-loop turn, sent together at its end. */
  private Map<String, List<Promise<Position>>> headBatch;

  /** Events arrive on {@link Addresses#EVENTS}, not on per-topic consumers. */
  private final boolean perNode;
  /** In a cluster, per topic: the marker that tells the replay role a per-topic gateway is there. */
  private io.vertx.core.eventbus.MessageConsumer<Object> marker;
  private long registeredAt = System.nanoTime();
  /** Per node: the deployment's consumer and table of held topics. */
  private NodeFanout nodeFanout;
  /** The key of {@link #nodeFanout} in the process's map: the deployment id. */
  private String fanoutKey;
  private final io.vertx.core.Context context;
  /** How long after its registration the per-node consumer counts as spreading (the settle checks' span and some). */
  static final long SPREAD_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

  /** Most topics in one head request. */
  static final int MAX_HEAD_BATCH = 256;

  /** How long a topic is kept after its last long-poll request ended, in ms. */
  static final long POLL_LINGER_MILLIS = 3000;

  public Subscriptions(Vertx vertx, GatewayOptions options, GatewayStats stats) {
    this.vertx = vertx;
    this.options = options;
    this.stats = stats;
    this.replay = new ReplayClient(vertx, options.replayTimeoutMillis());
    this.gapReplay = new ReplayClient(vertx, options.gapWaitMillis());
    this.perNode = options.streams().fanoutPerNode();
    this.context = vertx.getOrCreateContext();
  }

  /**
   * Per node, joins the deployment's consumer of every event ({@link NodeFanout}); completes when
   * its registration is in (the gateway listens only then, so that no stream opens before its
   * events can arrive). Per topic in a cluster, registers the marker the replay role looks for.
   */
  public Future<Void> start() {
    if (!perNode) {
      if (!vertx.isClustered()) {
        return Future.succeededFuture();
      }
      // Tells the replay role that a per-topic gateway is there (nothing is sent to it).
      marker = vertx.eventBus().consumer(Addresses.FANOUT_TOPIC_GATEWAYS, msg -> { });
      return marker.completion();
    }
    if (!vertx.isClustered()) {
      vertx.sharedData().<String, Boolean>getLocalMap(Addresses.FANOUT_LOCAL_MAP).put(Addresses.EVENTS, true);
    }
    fanoutKey = context.deploymentID() == null ? "instance-" + node : context.deploymentID();
    nodeFanout = NodeFanout.of(vertx, fanoutKey);
    return nodeFanout.join(vertx).onSuccess(v -> registeredAt = System.nanoTime());
  }

  /** The instance stops: per node, it leaves the deployment's table (the last one removes it). */
  public void stop() {
    if (nodeFanout != null) {
      nodeFanout.leave(vertx, fanoutKey);
      nodeFanout = null;
    }
  }

  /** This instance's context. */
  io.vertx.core.Context context() {
    return context;
  }

  /** Per node: an event of a topic this instance held when it was dispatched. */
  void deliver(io.herald.common.Event e) {
    TopicChannel ch = channels.get(e.topic());
    if (ch != null) {
      ch.onEvent(e);
    }
  }

  /**
   * Per node, in the first seconds after the deployment's consumer registered: other nodes may not
   * route to it yet (see {@link TopicChannel}'s settle checks), so channels opened now check the
   * store's head while it spreads, as per-topic channels always do.
   */
  boolean spreading() {
    return perNode && System.nanoTime() - registeredAt < SPREAD_NANOS;
  }

  /** True when events arrive on the deployment's one consumer of every event ({@code gateway.fanout}). */
  boolean perNode() {
    return perNode;
  }

  /** Adds {@code s} to the pattern {@code filter} as its pattern number {@code index}; completes when positioned. */
  public Future<Void> joinPattern(TopicFilter filter, PatternSubscriber s, int index) {
    String key = TopicFilters.key(filter);
    PatternChannel ch = patterns.get(key);
    if (ch == null) {
      ch = new PatternChannel(key, filter, this);
      patterns.put(key, ch);
      if (refreshTimer < 0) {
        refreshTimer = vertx.setPeriodic(PatternRoutes.REFRESH_MILLIS, id -> announceAll());
        vertx.eventBus().consumer(Addresses.PATTERNS_SYNC, msg -> announceAll());
      }
      Future<Void> added = ch.add(s, index);
      ch.open();
      return added;
    }
    return ch.add(s, index);
  }

  public void leavePattern(TopicFilter filter, PatternSubscriber s) {
    PatternChannel ch = patterns.get(TopicFilters.key(filter));
    if (ch != null) {
      ch.remove(s);
    }
  }

  /** Called by a pattern channel that has no subscriber left, or could not open. */
  void discard(PatternChannel ch) {
    if (patterns.get(ch.key()) == ch) {
      patterns.remove(ch.key());
      announce(ch.key(), false);
    }
    ch.close();
  }

  /** Tells the replay role that this instance now holds (or no longer holds) a pattern. */
  void announce(String key, boolean held) {
    List<String> keys = List.of(key);
    vertx.eventBus().publish(Addresses.PATTERNS, held ? PatternRoutes.add(node, keys) : PatternRoutes.remove(node, keys));
  }

  private void announceAll() {
    if (!patterns.isEmpty()) {
      vertx.eventBus().publish(Addresses.PATTERNS, PatternRoutes.full(node, patterns.keySet()));
    }
  }

  /** The pattern keys this instance holds. */
  public Set<String> patternKeys() {
    return Set.copyOf(patterns.keySet());
  }

  /**
   * The name of {@code topic} as its channel holds it, if it has one: a connection keeps that copy
   * instead of its own (one string per topic, not one per subscriber).
   */
  public String canonical(String topic) {
    TopicChannel ch = channels.get(topic);
    return ch == null ? topic : ch.topic();
  }

  /** Adds {@code s} to {@code topic} as its topic number {@code index}; completes when positioned. */
  public Future<Void> join(String topic, Subscriber s, int index) {
    TopicChannel ch = channels.get(topic);
    if (ch == null) {
      ch = new TopicChannel(topic, this);
      channels.put(topic, ch);
      if (nodeFanout != null) {
        nodeFanout.hold(topic, this);
      }
      Future<Void> added = ch.add(s, index);
      ch.open();
      return added;
    }
    return ch.add(s, index);
  }

  /**
   * The store's head of {@code topic}. Reads asked for in the same event-loop turn (the topics
   * of one connection, the connections of a reconnection wave) go to the replay role in one
   * request of up to {@link #MAX_HEAD_BATCH} topics.
   */
  Future<Position> head(String topic) {
    if (headBatch == null) {
      headBatch = new LinkedHashMap<>();
      vertx.runOnContext(v -> flushHeads());
    }
    Promise<Position> p = Promise.promise();
    headBatch.computeIfAbsent(topic, t -> new ArrayList<>(1)).add(p);
    if (headBatch.size() >= MAX_HEAD_BATCH) {
      flushHeads();
    }
    return p.future();
  }

  private void flushHeads() {
    Map<String, List<Promise<Position>>> batch = headBatch;
    if (batch == null) {
      return;
    }
    headBatch = null;
    replay.heads(new ArrayList<>(batch.keySet())).onComplete(ar -> batch.forEach((topic, waiting) -> {
      Position head = ar.succeeded() ? ar.result().get(topic) : null;
      for (Promise<Position> p : waiting) {
        if (head != null) {
          p.complete(head);
        } else {
          p.fail(ar.failed() ? ar.cause() : new IllegalStateException("no head for " + topic));
        }
      }
    }));
  }

  public void leave(String topic, Subscriber s) {
    TopicChannel ch = channels.get(topic);
    if (ch != null) {
      ch.remove(s);
    }
  }

  /**
   * Called by a channel whose last subscriber left. A long-poll client is back within a moment
   * with its next request: its topics are kept for {@link #POLL_LINGER_MILLIS}, so that polling
   * does not register and unregister the topic's consumer (and fetch its head) on every request.
   */
  public void emptied(TopicChannel ch, Subscriber last) {
    if (!(last instanceof PollConnection) || !ch.ready()) {
      discard(ch);
      return;
    }
    vertx.setTimer(POLL_LINGER_MILLIS, id -> {
      if (ch.size() == 0 && channels.get(ch.topic()) == ch) {
        discard(ch);
      }
    });
  }

  /** Called by a channel that has no subscriber left, or could not open. */
  public void discard(TopicChannel ch) {
    if (channels.get(ch.topic()) == ch) {
      channels.remove(ch.topic());
      if (nodeFanout != null) {
        nodeFanout.release(ch.topic(), this);
      }
    }
    ch.close();
  }

  public Set<String> topics() {
    return channels.keySet();
  }

  /** Connections per held topic (a copy). */
  public Map<String, Integer> subscribersByTopic() {
    Map<String, Integer> out = new HashMap<>(channels.size() * 2);
    channels.forEach((topic, ch) -> out.put(topic, ch.size()));
    return out;
  }

  public Vertx vertx() {
    return vertx;
  }

  public GatewayOptions options() {
    return options;
  }

  public ReplayClient replay() {
    return replay;
  }

  public ReplayClient gapReplay() {
    return gapReplay;
  }

  public GatewayStats stats() {
    return stats;
  }
}
