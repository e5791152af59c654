package io.herald.common.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Herald's own metrics, in the registry {@code /metrics} serves (the Vert.x Micrometer backend;
 * a private one when metrics are off, as in unit tests). One instance per registry, shared by
 * every verticle instance of the process, so counters add up per node. Names follow Prometheus
 * conventions once exported: {@code herald_} prefix, base units, counters end in {@code _total}.
 *
 * <p>Thread-safe; cheap enough for the delivery path (a counter increment per fan-out, not per
 * connection).
 */
public final class HeraldMetrics {

  private static final Map<MeterRegistry, HeraldMetrics> ALL = new ConcurrentHashMap<>();
  private static final MeterRegistry PRIVATE = new SimpleMeterRegistry();

  private final MeterRegistry registry;
  private final Map<String, AtomicLong> active = new ConcurrentHashMap<>();
  private final Map<CounterKey, Counter> counters = new ConcurrentHashMap<>();
  private final Timer deliveryLatency;
  private final DistributionSummary replayReadEvents;
  /** {@code herald_presence_entries{topic}}: the node's largest topics only, so the label's cardinality stays bounded. */
  private io.micrometer.core.instrument.MultiGauge presence;

  private HeraldMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.deliveryLatency = Timer.builder("herald_delivery_latency")
      .description("Time from an event's acceptance by the replay store to its write to subscribers on this gateway")
      .publishPercentileHistogram()
      .minimumExpectedValue(Duration.ofMillis(1))
      .maximumExpectedValue(Duration.ofSeconds(30))
      .register(registry);
    this.replayReadEvents = DistributionSummary.builder("herald_replay_read_events")
      .description("Events one resume read from the replay store")
      .baseUnit("events")
      .register(registry);
    // Counters without labels exist from the start at 0, so rates and alerts work before the first event.
    counter("herald_deliveries", DELIVERIES);
    activeGauge("sse");
    counter("herald_resumes", RESUMES);
    counter("herald_replay_reads", REPLAY_READS);
    counter("herald_slow_consumers_closed", SLOW_CONSUMERS);
    counter("herald_replay_evicted_events", REPLAY_EVICTED_EVENTS);
    counter("herald_replay_evicted_bytes", REPLAY_EVICTED_BYTES);
  }

  private static final String DELIVERIES = "Event writes to client connections";
  private static final String RESUMES = "Topic resumes with a Last-Event-ID";
  private static final String REPLAY_READS = "Resume reads of the replay store";
  private static final String REPLAY_EVICTED_EVENTS = "Events the replay store evicted to stay within its byte budget";
  private static final String REPLAY_EVICTED_BYTES = "Estimated bytes of the events evicted by the replay store's byte budget";
  private static final String SLOW_CONSUMERS = "Connections cut off for not reading fast enough";

  /**
   * Vert.x instances bound to metrics of their own: the warm-up's private roles (muted, counting
   * in a registry nobody serves) and, while a warm-up has run, the node itself (its process
   * metrics). Binding the node too keeps {@link #get} on one path whatever runs: with the node
   * unbound, the warm-up's traffic found its Vert.x here and the node's traffic after it did
   * not, a branch the JIT had compiled as never taken, so the first real publishes deoptimized
   * every compiled method that had inlined {@code get()} (the publish and delivery paths:
   * {@code TopicChannel.dispatch}, {@code Publisher.publish}; JFR's {@code jdk.Deoptimization}
   * events after {@code /ready}, BENCHMARKS.md run 34).
   */
  private static final Map<io.vertx.core.Vertx, HeraldMetrics> BOUND = new ConcurrentHashMap<>();

  /**
   * The metrics of the process's registry; on a thread of a {@linkplain #mute muted} Vert.x,
   * those of the registry it was muted to, so that the warm-up counts in no user-facing metric.
   */
  public static HeraldMetrics get() {
    io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
    if (context != null) {
      HeraldMetrics bound = BOUND.get(context.owner());
      if (bound != null) {
        return bound;
      }
    }
    return processMetrics();
  }

  private static HeraldMetrics processMetrics() {
    MeterRegistry r = BackendRegistries.getDefaultNow();
    return ALL.computeIfAbsent(r == null ? PRIVATE : r, HeraldMetrics::new);
  }

  /**
   * From now on what {@code vertx}'s threads count goes to {@code registry}, not to the
   * process's (see {@link WarmUp}: a registry of the same kind as the process's, so that the
   * warm-up compiles the same meter classes the real traffic uses).
   */
  static void mute(io.vertx.core.Vertx vertx, MeterRegistry registry) {
    BOUND.put(vertx, new HeraldMetrics(registry));
  }

  /**
   * Binds {@code node} to the process's metrics, until it closes: what its threads count goes
   * where it went before, looked up the way a muted Vert.x's is (see {@link #BOUND}).
   */
  static void bindNode(io.vertx.core.Vertx node) {
    if (BOUND.putIfAbsent(node, processMetrics()) == null && node instanceof io.vertx.core.internal.VertxInternal internal) {
      internal.addCloseHook(done -> {
        BOUND.remove(node);
        done.succeed();
      });
    }
  }

  /** Whether {@code vertx} is bound (muted or a node bound by {@link #bindNode}); tests. */
  static boolean bound(io.vertx.core.Vertx vertx) {
    return BOUND.containsKey(vertx);
  }

  /** Undoes {@link #mute}. */
  static void unmute(io.vertx.core.Vertx vertx) {
    BOUND.remove(vertx);
  }

  /** The registry the meters live in (tests read it). */
  public MeterRegistry registry() {
    return registry;
  }

  /** A counter without tags; looked up by its name alone (no key built per call: deliveries count here). */
  private Counter counter(String name, String description) {
    return counter(name, description, null, null);
  }

  /** A counter with one tag ({@code tagKey=null}: none), looked up without building a string per call. */
  private Counter counter(String name, String description, String tagKey, String tagValue) {
    return counters.computeIfAbsent(new CounterKey(name, tagValue), k -> {
      Counter.Builder b = Counter.builder(name).description(description);
      return (tagKey == null ? b : b.tag(tagKey, tagValue)).register(registry);
    });
  }

  /** A counter's name and its one tag's value (every Herald counter has at most one tag, fixed by its name). */
  private record CounterKey(String name, String tagValue) {
  }

  private AtomicLong activeGauge(String transport) {
    return active.computeIfAbsent(transport, t -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder("herald_connections_active", value, AtomicLong::get)
        .description("Client connections open on this node").tag("transport", t).register(registry);
      return value;
    });
  }

  /**
   * The presence entries (connections per topic) this node holds on its largest topics, as
   * {@code herald_presence_entries{topic}}: only the topics given (the gateway passes its top ten),
   * replacing the last set, so a topic that left the top is no longer exported.
   */
  public synchronized void presence(Map<String, Integer> top) {
    if (presence == null) {
      presence = io.micrometer.core.instrument.MultiGauge.builder("herald_presence_entries")
        .description("Presence entries (connections) per topic on this node, its largest topics only").register(registry);
    }
    java.util.List<io.micrometer.core.instrument.MultiGauge.Row<?>> rows = new java.util.ArrayList<>();
    top.forEach((topic, n) -> rows.add(io.micrometer.core.instrument.MultiGauge.Row.of(
      io.micrometer.core.instrument.Tags.of("topic", topic), n)));
    presence.register(rows, true);
  }

  /** A client connection opened ({@code sse}, {@code websocket}, ...). */
  public void connectionOpened(String transport) {
    activeGauge(transport).incrementAndGet();
    counter("herald_connections_opened", "Client connections opened", "transport", transport).increment();
  }

  /** A client connection closed, for whatever reason. */
  public void connectionClosed(String transport) {
    activeGauge(transport).decrementAndGet();
    counter("herald_connections_closed", "Client connections closed", "transport", transport).increment();
  }

  /** A connection resumed with a Last-Event-ID (per topic). */
  public void resumed() {
    counter("herald_resumes", RESUMES).increment();
  }

  /** A reset sent to a client for one topic. */
  public void reset(String reason) {
    counter("herald_resets", "Resets sent to clients (per connection and topic)", "reason", reason).increment();
  }

  /** An event accepted from a source: {@code http}, {@code eventbus}, {@code redis-pubsub}, {@code redis-streams}, {@code postgres}. */
  public void published(String source, int events) {
    counter("herald_events_published", "Events accepted from publishers, by source", "source", source).increment(events);
  }

  /** One event written to {@code connections} subscribers; {@code acceptedAtMillis} its store timestamp. */
  public void delivered(int connections, long acceptedAtMillis) {
    counter("herald_deliveries", DELIVERIES).increment(connections);
    long latency = System.currentTimeMillis() - acceptedAtMillis;
    if (latency >= 0 && acceptedAtMillis > 0) {
      deliveryLatency.record(latency, TimeUnit.MILLISECONDS);
    }
  }

  /** An event a gateway received on a pattern subscription's address (one per pattern and gateway instance). */
  public void patternEventReceived() {
    counter("herald_pattern_events_received", "Events received by gateways for their pattern subscriptions").increment();
  }

  /** A pattern subscription read the store's log to give what live delivery left in doubt. */
  public void patternCatchUp() {
    counter("herald_pattern_catchups", "Log reads of pattern subscriptions (spreading, gaps, cursor compaction)").increment();
  }

  /** A resume read of the replay store that returned {@code events} events. */
  public void replayRead(int events) {
    counter("herald_replay_reads", REPLAY_READS).increment();
    replayReadEvents.record(events);
  }

  /** A connection cut off because it did not read fast enough. */
  public void slowConsumerClosed() {
    counter("herald_slow_consumers_closed", SLOW_CONSUMERS).increment();
  }

  /** Events the replay store evicted to stay within its byte budget, and their estimated bytes. */
  public void replayEvicted(long events, long bytes) {
    counter("herald_replay_evicted_events", REPLAY_EVICTED_EVENTS).increment(events);
    counter("herald_replay_evicted_bytes", REPLAY_EVICTED_BYTES).increment(bytes);
  }

  /** Events the replay store of this process evicted for its byte budget so far. */
  public double replayEvictedEvents() {
    return counter("herald_replay_evicted_events", REPLAY_EVICTED_EVENTS).count();
  }

  /** A request refused: {@code reason} is the error code ({@code unauthorized}, {@code invalid_topic}, ...). */
  public void rejected(String reason) {
    counter("herald_rejections", "Requests refused, by reason", "reason", reason).increment();
  }
}
