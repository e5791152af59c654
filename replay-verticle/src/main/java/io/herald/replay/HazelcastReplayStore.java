package io.herald.replay;

import com.hazelcast.aggregation.Aggregators;
import com.hazelcast.cluster.Member;
import com.hazelcast.config.InvalidConfigurationException;
import com.hazelcast.config.MapConfig;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.config.RingbufferConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.projection.Projections;
import com.hazelcast.ringbuffer.OverflowPolicy;
import com.hazelcast.ringbuffer.ReadResultSet;
import com.hazelcast.ringbuffer.Ringbuffer;
import com.hazelcast.ringbuffer.StaleSequenceException;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.config.ConfigException;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The clustered {@link io.herald.common.replay.ReplayStore} ({@code replay.store = hazelcast}):
 * history lives in the Hazelcast cluster the clustered Vert.x already runs on, so every replay
 * node of the cluster serves the same history and it survives the loss of one member.
 *
 * <h2>Layout</h2>
 * <ul>
 *   <li>Per topic and epoch a {@link Ringbuffer} {@code herald.history.<topic>#<epoch>} of JSON
 *   strings (the event without its seq), capacity {@code maxEventsPerTopic}, time-to-live
 *   {@code maxAgeSeconds}, one synchronous backup. Ringbuffer sequence {@code s} (from 0) is
 *   event seq {@code s + 1}: the ringbuffer orders appends from every node, so concurrent
 *   publishers on different notifier nodes never get the same seq, and seqs have no holes.</li>
 *   <li>An {@link IMap} {@code herald.epochs}: topic to {@code [!]<epoch>[ <old epoch>:<b|t>]*},
 *   written on a topic's first append and when the topic is evicted (see below). {@code !} marks
 *   an epoch whose ringbuffer does not exist yet (no append since the eviction); the old epochs
 *   (at most {@value #MAX_OLD_EPOCHS}) say why each was left: {@code b} the byte budget,
 *   {@code t} {@code maxTopics}. The entry also marks the topic as existing, so heads and reads of
 *   unknown topics touch no ringbuffer. Topics get the cluster's default epoch, kept in the same
 *   map under a reserved key and drawn once (8 random ASCII letters and digits). The head of an
 *   unknown topic is {@code (default epoch, 0)}; asking for it creates nothing.</li>
 *   <li>An {@link IMap} {@code herald.usage}: one row per topic and member that appended to it,
 *   key {@code <topic> NUL <member uuid>}, a JSON value {@code {topic, member, epoch, bytes,
 *   events, lastAppend}} (lastAppend in wall-clock microseconds, bytes estimated as {@link MemoryReplayStore#estimatedBytes}),
 *   time-to-live {@code maxAgeSeconds}, one asynchronous backup. Each member writes only its own rows, so appends from
 *   several members never contend for one entry.</li>
 *   <li>An {@link IMap} {@code herald.keys}: {@code topic NUL epoch NUL key} to seq, time-to-live
 *   {@code maxAgeSeconds}, for idempotency. While the claiming append is in flight the value is
 *   that append's own negative token. A claim that stays pending for more than
 *   {@code CLAIM_ATTEMPTS * CLAIM_RETRY_MILLIS} ms is taken as lost with its member: the next
 *   append with the key looks for it among the topic's recent events (the lost append may have
 *   stored it before its member died) and either answers with that event or takes the claim
 *   over with a compare-and-set on the token, so a publisher's retry never stores an event
 *   twice.</li>
 *   <li>An {@link IMap} {@code herald.keylog}: key to where the appends that stored it put
 *   it ({@code topic NUL epoch NUL seq NUL log epoch NUL log seq}, one line per topic, the newest
 *   {@code MAX_KEY_EVENTS}), merged by a compare-and-set (no entry processor: gateway and notifier
 *   processes are members without this class), time-to-live
 *   {@code maxAgeSeconds} after the key's last append, for {@link #findKey}. A line whose event left
 *   its ringbuffer (count, eviction) is skipped by the lookup, which reads each event back.</li>
 * </ul>
 *
 * <h2>Log</h2>
 * The log ({@link io.herald.common.replay.ReplayStore#readLog}) is one more ringbuffer,
 * {@code <namespace>.log}, of references {@code topic NUL epoch NUL seq} (ringbuffer sequence
 * {@code s} is log seq {@code s + 1}), capacity {@value #LOG_CAPACITY}, time-to-live
 * {@code maxAgeSeconds}, one synchronous backup; its epoch is the cluster's default epoch.
 * Appends to a topic from several members are ordered by the topic's ringbuffer alone, so to
 * keep the log in seq order per topic an append takes a per-topic lock
 * ({@code IMap.lock} on {@code <namespace>.loglocks}, leased {@value #LOG_LOCK_LEASE_SECONDS} s)
 * and, holding it on one worker thread, adds to the topic's ringbuffer and then the
 * references to the log. Ringbuffer adds are visible in order, so readers never see a log
 * position appear below one they read. Cost per append call and topic: a lock and an unlock
 * round trip and one log add, on a worker thread. The log's references are not counted in the
 * byte budget (at most {@value #LOG_CAPACITY} of them, tens of bytes each); a reader further
 * behind than the log's capacity gets a reset even if the events are retained. Per-topic reads
 * of this store do not carry {@link Event#log()}; log reads and appended events do.
 *
 * <h2>Limits</h2>
 * Per topic, retention is Hazelcast's: by count (ringbuffer capacity) and by wall-clock age
 * (ringbuffer TTL); a read also treats an event older than {@code maxAgeSeconds} by the store's
 * clock as gone, so a resume never gets one in the moments before the TTL removes it. Across topics, a <em>round</em> sums the
 * usage rows of the whole cluster; when the estimated bytes exceed the cluster budget
 * ({@link #clusterBudget()}: {@link ReplayOptions#effectiveMaxBytes()} per data member, divided
 * by the two copies, primary and backup, that each event has) it evicts whole topics, least
 * recently appended first, down to {@value #LOW_WATER_PERCENT}% of the budget; when more than
 * {@code maxTopics} topics hold history it evicts the least recently appended ones too. Evicting
 * a topic moves it to a fresh epoch (compare-and-set on its epochs entry) and destroys the old
 * ringbuffer, so a resume from before gets a {@code reset}, with reason
 * {@link ReadResult#HISTORY_EVICTED} when the byte budget evicted it; byte-budget evictions are
 * counted in {@code herald_replay_evicted_events_total} and {@code _bytes_total} of the member
 * that evicted. A round runs inline in an append when this member's estimate (the last round's
 * total plus what it appended since) goes over the budget or {@code maxTopics}, and from
 * {@link #sweep()} (one aggregation over the rows, every sweep period) when the cluster total does: appends of
 * other members are seen within one sweep period. An append writes, then re-reads its topics'
 * epochs: when one moved meanwhile, it destroys what it wrote there and stores those events
 * again in the new epoch, before anyone saw them. Epochs entries stay until the cluster stops
 * (one short string per topic ever published to). If a ringbuffer is lost while its epoch entry
 * survives (two members lost at once with one backup), its seqs restart in the same epoch; that
 * is not detected.
 *
 * <h2>Threading</h2>
 * Used from the replay verticle's single context. Never blocks the calling thread: asynchronous
 * Hazelcast calls are bridged to Vert.x futures on the caller's context; the Hazelcast calls that
 * only exist as blocking ones ({@code tailSequence}, {@code headSequence}, {@code putIfAbsent},
 * {@code replace}, {@code getAll}, aggregations, proxy creation, the dynamic ringbuffer
 * configuration of {@link #init()}, a whole round) run on the Vert.x worker pool. Construction
 * does no I/O.
 */
public final class HazelcastReplayStore implements ReportingReplayStore, Initializable, Sweepable {

  private static final Logger LOG = LoggerFactory.getLogger(HazelcastReplayStore.class);

  /** Prefix of every name this store uses in Hazelcast. */
  public static final String DEFAULT_NAMESPACE = "herald";
  /** Length of the epochs this store draws. */
  public static final int EPOCH_LENGTH = 8;
  /** Most items one Hazelcast ringbuffer read may return. */
  static final int MAX_BATCH = 1000;
  /** Percent of the cluster budget a byte-budget round evicts down to, so rounds stay rare at the budget. */
  static final int LOW_WATER_PERCENT = 90;
  /** Old epochs a topic's entry remembers, to tell a resume from one of them why it is gone. */
  static final int MAX_OLD_EPOCHS = 8;

  /** Key of the cluster-wide default epoch in the epochs map; topics never contain NUL. */
  private static final String DEFAULT_EPOCH_KEY = "\u0000default";
  /** Waits for a claim held by another append: {@value} tries, {@link #CLAIM_RETRY_MILLIS} ms apart. */
  private static final int CLAIM_ATTEMPTS = 100;
  private static final long CLAIM_RETRY_MILLIS = 20;
  /** Writes of one append redone after its topic moved to a new epoch under it. */
  private static final int APPEND_ATTEMPTS = 3;
  /** Most recent events a stale claim's key is looked for in (the lost append was recent). */
  static final int STALE_SCAN_EVENTS = 10_000;
  private static final int EPOCH_CACHE_SIZE = 10_000;
  /** Entries the log ringbuffer holds. */
  static final int LOG_CAPACITY = 1 << 20;
  /** Lease of a topic's log lock: a member that dies holding it frees it after this. */
  static final int LOG_LOCK_LEASE_SECONDS = 10;
  private static final char[] EPOCH_ALPHABET =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final String namespace;
  private final String historyPrefix;
  private final int maxEventsPerTopic;
  private final int maxReadLimit;
  private final long maxAgeSeconds;
  /** Epoch milliseconds: event timestamps and the age a read checks them against. */
  private final LongSupplier clock;
  private final long maxBytes;
  private final int maxTopics;
  private Future<Void> ready;
  private volatile IMap<String, String> epochs;
  private volatile IMap<String, Long> keys;
  private volatile IMap<String, String> keyLog;
  private volatile IMap<String, HazelcastJsonValue> usage;
  private volatile IMap<String, Boolean> logLocks;
  private volatile Ringbuffer<String> log;
  private volatile String memberId;
  private final SecureRandom random = new SecureRandom();
  /**
   * Epochs this store last appended to, per topic: a hint for appends only, which re-read the
   * epochs after writing; reads and heads always ask the map.
   */
  private final Map<String, String> epochCache = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > EPOCH_CACHE_SIZE;
    }
  };
  private Future<String> defaultEpoch;
  /** This member's usage rows as last written, per topic. */
  private final Map<String, Usage> localUsage = new HashMap<>();
  /** The cluster's estimated bytes and topics at the last round or sweep. */
  private long knownBytes;
  private long knownTopics;
  /** Bytes and topics this member added since. */
  private long sinceBytes;
  private long sinceTopics;
  private Future<Void> enforcing;
  private Future<Void> sweeping;
  private long evictedEvents;
  private long lastMicros;

  /**
   * A store in the Hazelcast cluster of a clustered Vert.x.
   *
   * @throws ConfigException naming {@code replay.store} when {@code vertx} is not clustered on Hazelcast
   */
  public HazelcastReplayStore(Vertx vertx, ReplayOptions options) {
    this(vertx, instanceOf(vertx), options, DEFAULT_NAMESPACE);
  }

  /** A store in the cluster of {@code hz} (tests: an embedded member). */
  public HazelcastReplayStore(Vertx vertx, HazelcastInstance hz, ReplayOptions options) {
    this(vertx, hz, options, DEFAULT_NAMESPACE);
  }

  /**
   * A store whose Hazelcast names start with {@code namespace} instead of {@value #DEFAULT_NAMESPACE}
   * (tests: stores of different capacities in one cluster). Builds nothing in the cluster yet:
   * see {@link #init()}.
   */
  HazelcastReplayStore(Vertx vertx, HazelcastInstance hz, ReplayOptions options, String namespace) {
    this(vertx, hz, options, namespace, System::currentTimeMillis);
  }

  /** As above, with the clock (epoch milliseconds) that stamps events and decides their age (tests: a fake one). */
  HazelcastReplayStore(Vertx vertx, HazelcastInstance hz, ReplayOptions options, String namespace, LongSupplier clock) {
    this.clock = clock;
    this.vertx = vertx;
    this.hz = hz;
    this.namespace = namespace;
    this.historyPrefix = namespace + ".history.";
    this.maxEventsPerTopic = options.maxEventsPerTopic();
    this.maxReadLimit = options.maxReadLimit();
    this.maxAgeSeconds = options.maxAgeSeconds();
    this.maxBytes = options.effectiveMaxBytes();
    this.maxTopics = options.maxTopics();
  }

  /**
   * Registers the history ringbuffer configuration ({@code <namespace>.history.*}) with the
   * cluster and gets the maps, on a worker thread (both are blocking cluster calls). Fails with
   * a {@link ConfigException} naming {@code replay.maxEventsPerTopic} when another member
   * registered other limits.
   */
  @Override
  public Future<Void> init() {
    if (ready == null) {
      RingbufferConfig rb = new RingbufferConfig(historyPrefix + "*")
        .setCapacity(maxEventsPerTopic)
        .setBackupCount(1)
        .setAsyncBackupCount(0)
        .setTimeToLiveSeconds((int) maxAgeSeconds);
      ready = blocking(() -> {
        try {
          hz.getConfig().addRingBufferConfig(rb);
        } catch (InvalidConfigurationException e) {
          throw new ConfigException(ReplayOptions.SECTION + ".maxEventsPerTopic",
            "another cluster member keeps history with other limits than maxEventsPerTopic=" + maxEventsPerTopic
              + ", maxAgeSeconds=" + maxAgeSeconds + " (they must match on every replay node)");
        }
        // A member's rows are rewritten whole by its next append of the topic: no need to wait for their backups.
        hz.getConfig().addMapConfig(new MapConfig(namespace + ".usage").setBackupCount(0).setAsyncBackupCount(1));
        hz.getConfig().addRingBufferConfig(new RingbufferConfig(namespace + ".log")
          .setCapacity(LOG_CAPACITY)
          .setBackupCount(1)
          .setAsyncBackupCount(0)
          .setTimeToLiveSeconds((int) maxAgeSeconds));
        logLocks = hz.getMap(namespace + ".loglocks");
        log = hz.getRingbuffer(namespace + ".log");
        epochs = hz.getMap(namespace + ".epochs");
        keys = hz.getMap(namespace + ".keys");
        keyLog = hz.getMap(namespace + ".keylog");
        usage = hz.getMap(namespace + ".usage");
        memberId = hz.getCluster().getLocalMember().getUuid().toString();
        return null;
      });
    }
    return ready;
  }

  private static HazelcastInstance instanceOf(Vertx vertx) {
    ClusterManager cm = vertx instanceof VertxInternal vi ? vi.clusterManager() : null;
    if (cm instanceof HazelcastClusterManager hcm) {
      return hcm.getHazelcastInstance();
    }
    throw new ConfigException(ReplayOptions.SECTION + ".store", "hazelcast needs --cluster (this Vert.x is not clustered on Hazelcast)");
  }

  @Override
  public String name() {
    return "hazelcast";
  }

  // ---------------------------------------------------------------- append

  @Override
  public Future<AppendResult> appendReporting(List<EventDraft> drafts) {
    return init().compose(v -> attempt(drafts, 1)).compose(o -> {
      List<Event> stored = new ArrayList<>();
      for (int i = 0; i < drafts.size(); i++) {
        if (o.stored[i]) {
          stored.add(o.out[i]);
        }
      }
      AppendResult result = new AppendResult(List.of(o.out), stored);
      if (knownBytes + sinceBytes <= clusterBudget() && knownTopics + sinceTopics <= maxTopics) {
        return Future.succeededFuture(result);
      }
      // The events are stored: a failed round must not fail the append (a retry would store them twice).
      return enforce().transform(ar -> {
        if (ar.failed()) {
          LOG.warn("replay store {}: eviction round failed: {}", namespace, ar.cause().toString());
        }
        return Future.succeededFuture(result);
      });
    });
  }

  /** What one attempt did, per draft. */
  private static final class Outcome {
    final Event[] out;
    final boolean[] stored;
    final boolean[] claimed;
    final long[] tokens;

    Outcome(int n) {
      out = new Event[n];
      stored = new boolean[n];
      claimed = new boolean[n];
      tokens = new long[n];
    }
  }

  private Future<Outcome> attempt(List<EventDraft> drafts, int attempt) {
    long now = clock.getAsLong();
    Map<String, String> used = new HashMap<>();
    List<Future<Void>> lookups = new ArrayList<>();
    for (EventDraft d : drafts) {
      if (!used.containsKey(d.topic())) {
        used.put(d.topic(), null);
        lookups.add(epochForAppend(d.topic()).map(e -> {
          used.put(d.topic(), e);
          return null;
        }));
      }
    }
    return Future.all(lookups).compose(v -> write(drafts, used, now)).compose(o -> settle(drafts, used, o, now, attempt));
  }

  /** Claims the keys and appends the drafts to the rings of the epochs in {@code used}. */
  private Future<Outcome> write(List<EventDraft> drafts, Map<String, String> used, long now) {
    Outcome o = new Outcome(drafts.size());
    // Index of the draft that stores (or resolved) each topic+key of this call.
    Map<String, Integer> firstOfKey = new HashMap<>();
    int[] sameAs = new int[drafts.size()];
    List<Future<Void>> claims = new ArrayList<>();
    for (int i = 0; i < drafts.size(); i++) {
      EventDraft d = drafts.get(i);
      sameAs[i] = -1;
      if (d.key() != null) {
        String epoch = used.get(d.topic());
        String k = keyOf(d, epoch);
        Integer first = firstOfKey.putIfAbsent(k, i);
        if (first != null) {
          sameAs[i] = first;
          continue;
        }
        int index = i;
        o.tokens[i] = -1 - random.nextLong(Long.MAX_VALUE - 1);
        claims.add(claim(d, epoch, k, o.tokens[i], CLAIM_ATTEMPTS).map(existing -> {
          if (existing != null) {
            o.out[index] = existing;
          } else {
            o.claimed[index] = true;
          }
          return null;
        }));
      }
    }
    return Future.all(claims).transform(ar -> {
      if (ar.failed()) {
        return releaseClaims(drafts, used, o, null).transform(v -> Future.failedFuture(ar.cause()));
      }
      // Drafts to store, grouped by topic in draft order.
      Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
      for (int i = 0; i < drafts.size(); i++) {
        if (sameAs[i] < 0 && o.out[i] == null) {
          byTopic.computeIfAbsent(drafts.get(i).topic(), t -> new ArrayList<>()).add(i);
        }
      }
      List<Future<Void>> adds = new ArrayList<>();
      for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
        adds.add(addAll(e.getKey(), used.get(e.getKey()), e.getValue(), drafts, now, o.out));
      }
      return Future.all(adds).transform(added -> {
        if (added.failed()) {
          return releaseClaims(drafts, used, o, null).transform(v -> Future.failedFuture(added.cause()));
        }
        for (int i = 0; i < drafts.size(); i++) {
          if (sameAs[i] >= 0) {
            o.out[i] = o.out[sameAs[i]];
          } else if (o.claimed[i] || (drafts.get(i).key() == null && o.out[i] != null)) {
            o.stored[i] = true;
          }
        }
        return Future.succeededFuture(o);
      });
    });
  }

  /**
   * After the write: accounts the stored events in this member's usage rows and, at the same
   * time, re-reads the topics' epochs. A topic evicted while this append wrote to it moved to a
   * new epoch: what was written there is destroyed with the old ringbuffer (or was already), so
   * those drafts are written again in the new epoch, before anyone saw them.
   */
  private Future<Outcome> settle(List<EventDraft> drafts, Map<String, String> used, Outcome o, long now, int attempt) {
    Map<String, long[]> added = new LinkedHashMap<>();
    for (int i = 0; i < drafts.size(); i++) {
      if (o.stored[i]) {
        long[] a = added.computeIfAbsent(drafts.get(i).topic(), t -> new long[2]);
        a[0] += MemoryReplayStore.estimatedBytes(o.out[i]);
        a[1]++;
      }
    }
    List<Future<Void>> rows = new ArrayList<>();
    for (Map.Entry<String, long[]> e : added.entrySet()) {
      String t = e.getKey();
      Usage u = account(t, used.get(t), e.getValue()[0], e.getValue()[1], appendMicros());
      rows.add(fromStage(usage.setAsync(rowKey(t), u.toJson(t, memberId), maxAgeSeconds, TimeUnit.SECONDS))
        .otherwise(err -> {
          LOG.warn("replay store {}: usage row of {} not written: {}", namespace, t, err.toString());
          return null;
        }));
    }
    Set<String> moved = new HashSet<>();
    List<Future<Void>> recheck = new ArrayList<>();
    for (String t : used.keySet()) {
      recheck.add(fromStage(epochs.getAsync(t)).map(v -> {
        if (v != null && !TopicEpoch.parse(v).current().equals(used.get(t))) {
          moved.add(t);
          epochCache.remove(t);
        }
        return null;
      }));
    }
    return Future.all(Future.all(recheck), Future.all(rows)).compose(v -> {
      if (moved.isEmpty()) {
        return record(drafts, used, o, null).map(o);
      }
      List<Future<Void>> cleanup = new ArrayList<>();
      for (String t : moved) {
        String gone = used.get(t);
        cleanup.add(blocking(() -> {
          ring(t, gone).destroy();
          return null;
        }));
      }
      cleanup.add(releaseClaims(drafts, used, o, moved));
      cleanup.add(record(drafts, used, o, moved));
      return Future.all(cleanup).compose(c -> {
        List<Integer> again = new ArrayList<>();
        for (int i = 0; i < drafts.size(); i++) {
          if (moved.contains(drafts.get(i).topic())) {
            again.add(i);
          }
        }
        if (attempt >= APPEND_ATTEMPTS) {
          // Evicted again and again while writing: the events stay stored and evicted in the
          // epoch they got, and resumes from them get history_evicted.
          return Future.succeededFuture(o);
        }
        return attempt(again.stream().map(drafts::get).toList(), attempt + 1).map(sub -> {
          for (int j = 0; j < again.size(); j++) {
            o.out[again.get(j)] = sub.out[j];
            o.stored[again.get(j)] = sub.stored[j];
          }
          return o;
        });
      });
    });
  }

  /** Records the seqs of the keys this append claimed, except those of topics in {@code skip}. */
  private Future<Void> record(List<EventDraft> drafts, Map<String, String> used, Outcome o, Set<String> skip) {
    List<Future<Void>> records = new ArrayList<>();
    for (int i = 0; i < drafts.size(); i++) {
      EventDraft d = drafts.get(i);
      if (o.claimed[i] && (skip == null || !skip.contains(d.topic()))) {
        records.add(fromStage(keys.setAsync(keyOf(d, used.get(d.topic())), o.out[i].seq(), maxAgeSeconds, TimeUnit.SECONDS)));
      }
    }
    Map<String, StringBuilder> located = new LinkedHashMap<>();
    for (int i = 0; i < drafts.size(); i++) {
      EventDraft d = drafts.get(i);
      Event e = o.out[i];
      if (o.claimed[i] && e != null && e.log() != null && (skip == null || !skip.contains(d.topic()))) {
        StringBuilder sb = located.computeIfAbsent(d.key(), k -> new StringBuilder());
        if (!sb.isEmpty()) {
          sb.append('\n');
        }
        sb.append(e.topic()).append('\u0000').append(e.epoch()).append('\u0000').append(e.seq())
          .append('\u0000').append(e.log().epoch()).append('\u0000').append(e.log().seq());
      }
    }
    located.forEach((key, where) -> records.add(mergeKeyLog(key, where.toString())));
    return Future.all(records).mapEmpty();
  }

  /**
   * Appends the drafts at {@code indexes} (all of {@code topic}) in one atomic batch, and their
   * references to the log, under the topic's log lock (see the class doc).
   */
  private Future<Void> addAll(String topic, String epoch, List<Integer> indexes, List<EventDraft> drafts, long now, Event[] out) {
    List<String> items = new ArrayList<>(indexes.size());
    for (int i : indexes) {
      JsonObject o = drafts.get(i).toEvent(epoch, 0, now).toJson();
      o.remove("seq");
      items.add(o.encode());
    }
    int n = indexes.size();
    return defaultEpoch().compose(logEpoch -> blocking(() -> {
      Ringbuffer<String> rb = ring(topic, epoch);
      logLocks.lock(topic, LOG_LOCK_LEASE_SECONDS, TimeUnit.SECONDS);
      try {
        long last = rb.addAllAsync(items, OverflowPolicy.OVERWRITE).toCompletableFuture().get();
        List<String> refs = new ArrayList<>(n);
        for (long seq = last + 2 - n; seq <= last + 1; seq++) {
          refs.add(topic + '\u0000' + epoch + '\u0000' + seq);
        }
        long lastLog = log.addAllAsync(refs, OverflowPolicy.OVERWRITE).toCompletableFuture().get();
        return new long[] {last, lastLog};
      } finally {
        try {
          logLocks.unlock(topic);
        } catch (IllegalMonitorStateException leaseOver) {
          LOG.warn("replay store {}: log lock of {} outlived its lease of {} s", namespace, topic, LOG_LOCK_LEASE_SECONDS);
        }
      }
    }).map(r -> {
      long seq = r[0] + 2 - n;
      long logSeq = r[1] + 2 - n;
      for (int i : indexes) {
        out[i] = drafts.get(i).toEvent(epoch, seq++, now).withLog(new Position(logEpoch, logSeq++));
      }
      return null;
    }));
  }

  /**
   * The events of the latest append that stored {@code key} ({@code herald.keylog}), each read back
   * from its ringbuffer: those no longer retained (or of a left epoch) are left out.
   */
  @Override
  public Future<List<Event>> findKey(String key) {
    return init().compose(v -> fromStage(keyLog.getAsync(key))).compose(where -> {
      if (where == null) {
        return Future.succeededFuture(List.<Event>of());
      }
      List<Future<Event>> reads = new ArrayList<>();
      for (String line : where.split("\n")) {
        String[] f = line.split("\u0000");
        if (f.length != 5 || reads.size() >= MAX_KEY_EVENTS) {
          continue;
        }
        String topic = f[0];
        long seq = Long.parseLong(f[2]);
        Position log = new Position(f[3], Long.parseLong(f[4]));
        reads.add(doRead(topic, new Position(f[1], seq - 1), 1).map(r -> {
          if (r.reset() || r.events().isEmpty()) {
            return null;
          }
          Event e = r.events().get(0);
          return e.seq() == seq && key.equals(e.key()) ? e.withLog(log) : null;
        }));
      }
      return Future.all(reads).map(all -> {
        List<Event> out = new ArrayList<>();
        for (Future<Event> f : reads) {
          if (f.result() != null) {
            out.add(f.result());
          }
        }
        out.sort(java.util.Comparator.comparingLong(e -> e.log().seq()));
        return out;
      });
    });
  }

  /**
   * Merges the lines of one append into a key's {@code herald.keylog} entry with a compare-and-set
   * (Hazelcast's own map operations on a String value): not an entry processor, which would run on
   * the member owning the key, and a gateway or notifier process is a member without the replay
   * role's classes. Retried while another append changes the entry in between.
   */
  private Future<Void> mergeKeyLog(String key, String lines) {
    return blocking(() -> {
      for (int attempt = 0; attempt < KEY_LOG_CAS_ATTEMPTS; attempt++) {
        String old = keyLog.get(key);
        String merged = mergeKeyLines(old, lines);
        boolean done = old == null
          ? keyLog.putIfAbsent(key, merged, maxAgeSeconds, TimeUnit.SECONDS) == null
          : keyLog.replace(key, old, merged);
        if (done) {
          keyLog.setTtl(key, maxAgeSeconds, TimeUnit.SECONDS);
          return null;
        }
      }
      throw new IllegalStateException("the key log entry of " + key + " changed " + KEY_LOG_CAS_ATTEMPTS + " times in a row");
    });
  }

  /** How many times {@link #mergeKeyLog} tries its compare-and-set. */
  private static final int KEY_LOG_CAS_ATTEMPTS = 32;

  /**
   * A key's {@code herald.keylog} entry with the lines of one more append: a topic's line replaces
   * the one it had, the newest {@code MAX_KEY_EVENTS} lines are kept.
   */
  static String mergeKeyLines(String existing, String lines) {
    LinkedHashMap<String, String> byTopic = new LinkedHashMap<>();
    for (String text : new String[] {existing, lines}) {
      if (text == null) {
        continue;
      }
      for (String line : text.split("\n")) {
        String topic = line.substring(0, Math.max(0, line.indexOf('\u0000')));
        byTopic.remove(topic);
        byTopic.put(topic, line);
      }
    }
    List<String> kept = new ArrayList<>(byTopic.values());
    return String.join("\n", kept.subList(Math.max(0, kept.size() - MAX_KEY_EVENTS), kept.size()));
  }

  @Override
  public Future<Position> logHead() {
    return init().compose(v -> defaultEpoch())
      .compose(epoch -> blocking(() -> log.tailSequence()).map(tail -> new Position(epoch, tail + 1)));
  }

  /**
   * Reads up to {@code LOG_SCAN_FACTOR * limit} references (at most {@value #MAX_BATCH}) from
   * the log, then the matching events from their topics' ringbuffers, one range read per topic.
   */
  @Override
  public Future<LogReadResult> readLog(Position after, Predicate<String> topicFilter, int limit) {
    if (limit < 1) {
      return Future.failedFuture(new IllegalArgumentException("limit must be >= 1, got " + limit));
    }
    int max = Math.min(Math.min(limit, maxReadLimit), MAX_BATCH);
    return init().compose(v -> defaultEpoch()).compose(epoch -> blocking(() -> new long[] {log.headSequence(), log.tailSequence()})
      .compose(seqs -> {
        Position head = new Position(epoch, seqs[1] + 1);
        if (!after.epoch().equals(epoch) || after.seq() > head.seq()) {
          return Future.succeededFuture(LogReadResult.reset(head, null));
        }
        if (after.seq() == head.seq()) {
          return Future.succeededFuture(LogReadResult.of(head, List.of(), head));
        }
        // Log seq after.seq() + 1 is ringbuffer item after.seq().
        if (after.seq() < seqs[0]) {
          return Future.succeededFuture(LogReadResult.reset(head, null));
        }
        int cap = (int) Math.min(Math.min((long) LOG_SCAN_FACTOR * max, MAX_BATCH), head.seq() - after.seq());
        return fromStage(log.readManyAsync(after.seq(), 0, cap, null))
          .map(rs -> (ReadResultSet<String>) rs)
          .recover(t -> t instanceof StaleSequenceException || t.getCause() instanceof StaleSequenceException
            ? Future.succeededFuture(null)
            : Future.failedFuture(t))
          .compose(rs -> {
            if (rs == null || rs.size() == 0 || rs.getSequence(0) != after.seq()) {
              return Future.succeededFuture(LogReadResult.reset(head, null));
            }
            List<String[]> refs = new ArrayList<>();
            List<Long> logSeqs = new ArrayList<>();
            long scanned = after.seq();
            for (int i = 0; i < rs.size(); i++) {
              String[] ref = rs.get(i).split("\u0000");
              scanned = rs.getSequence(i) + 1;
              if (topicFilter.test(ref[0])) {
                refs.add(ref);
                logSeqs.add(scanned);
                if (refs.size() == max) {
                  break;
                }
              }
            }
            Position scannedTo = new Position(epoch, scanned);
            Set<String> evicted = new HashSet<>();
            return fetchLogged(refs, evicted).map(events -> {
              List<Event> out = new ArrayList<>(refs.size());
              long oldest = clock.getAsLong() - maxAgeSeconds * 1000;
              for (int i = 0; i < refs.size(); i++) {
                String topicEpoch = refs.get(i)[0] + '\u0000' + refs.get(i)[1];
                Event e = events.get(topicEpoch + '\u0000' + refs.get(i)[2]);
                if (e == null || e.timestamp() < oldest) {
                  // A matching event left its topic (count, age, eviction): missed for good.
                  return LogReadResult.reset(head, evicted.contains(topicEpoch) ? ReadResult.HISTORY_EVICTED : null);
                }
                out.add(e.withLog(new Position(epoch, logSeqs.get(i))));
              }
              return LogReadResult.of(head, out, scannedTo);
            });
          });
      }));
  }

  /**
   * The retained events of the references, by {@code topic NUL epoch NUL seq}: one range read per
   * topic and epoch, after a look at the topic's epochs entry (a topic that left that epoch has
   * nothing there, and its ringbuffer is not created again by reading it); {@code evicted} gets
   * the {@code topic NUL epoch} that the byte budget evicted.
   */
  private Future<Map<String, Event>> fetchLogged(List<String[]> refs, Set<String> evicted) {
    Map<String, long[]> ranges = new LinkedHashMap<>();
    for (String[] ref : refs) {
      long seq = Long.parseLong(ref[2]);
      long[] r = ranges.computeIfAbsent(ref[0] + '\u0000' + ref[1], k -> new long[] {seq, seq});
      r[0] = Math.min(r[0], seq);
      r[1] = Math.max(r[1], seq);
    }
    Map<String, Event> found = new HashMap<>();
    List<Future<Void>> reads = new ArrayList<>();
    for (Map.Entry<String, long[]> e : ranges.entrySet()) {
      String[] te = e.getKey().split("\u0000");
      long[] r = e.getValue();
      // At most the ringbuffer's capacity: a span longer than that cannot be all retained anyway.
      int count = (int) Math.min(Math.min(MAX_BATCH, maxEventsPerTopic), r[1] - r[0] + 1);
      reads.add(topicEpoch(te[0]).compose(entry -> {
        if (entry == null || entry.empty() || !entry.current().equals(te[1])) {
          if (entry != null && entry.old().contains(te[1] + ":b")) {
            evicted.add(e.getKey());
          }
          return Future.succeededFuture();
        }
        return readRange(te[0], te[1], r[0] - 1, count).map(events -> {
          for (Event ev : events) {
            found.put(e.getKey() + '\u0000' + ev.seq(), ev);
          }
          return null;
        });
      }));
    }
    return Future.all(reads).map(v -> found);
  }

  /**
   * Claims the draft's key (in its topic's epoch {@code epoch}) with {@code token} (negative,
   * this append's own): null when this append stores it, or the retained event that has it.
   * Waits while another append holds a pending claim; a claim pending too long is resolved by
   * {@link #resolveStale}; takes over a claim whose event is gone.
   */
  private Future<Event> claim(EventDraft d, String epoch, String k, long token, int attempts) {
    return blocking(() -> keys.putIfAbsent(k, token, maxAgeSeconds, TimeUnit.SECONDS)).compose(prev -> {
      if (prev == null) {
        return Future.succeededFuture(null);
      }
      if (prev < 0) {
        if (attempts <= 0) {
          return resolveStale(d, epoch, k, prev, token);
        }
        Promise<Event> retry = Promise.promise();
        vertx.setTimer(CLAIM_RETRY_MILLIS, id -> claim(d, epoch, k, token, attempts - 1).onComplete(retry));
        return retry.future();
      }
      return retained(d.topic(), epoch, prev).compose(existing -> {
        if (existing != null) {
          return Future.succeededFuture(existing);
        }
        return blocking(() -> keys.replace(k, prev, token) && keys.setTtl(k, maxAgeSeconds, TimeUnit.SECONDS))
          .compose(replaced -> replaced ? Future.succeededFuture(null) : claim(d, epoch, k, token, attempts - 1));
      });
    });
  }

  /**
   * A claim still pending after the whole wait: its append is taken as lost (its member died
   * mid-append). If that append stored the event, it is among the topic's recent events: record
   * its seq and answer with it. Otherwise take the claim over, atomically against the token
   * seen, so that of several appends waiting on it exactly one stores.
   */
  private Future<Event> resolveStale(EventDraft d, String epoch, String k, long staleToken, long token) {
    return findRecent(d.topic(), epoch, d.key()).compose(found -> {
      if (found != null) {
        return blocking(() -> keys.replace(k, staleToken, found.seq())).map(v -> found);
      }
      return blocking(() -> keys.replace(k, staleToken, token)).compose(replaced -> replaced
        ? Future.succeededFuture((Event) null)
        : claim(d, epoch, k, token, CLAIM_ATTEMPTS));
    });
  }

  /** The newest of the topic's last {@value #STALE_SCAN_EVENTS} events (in {@code epoch}) with this key, or null. */
  private Future<Event> findRecent(String topic, String epoch, String key) {
    return blocking(() -> {
      Ringbuffer<String> rb = ring(topic, epoch);
      return new long[] {rb.headSequence(), rb.tailSequence()};
    }).compose(range -> scan(topic, epoch, key, Math.max(range[0], range[1] - STALE_SCAN_EVENTS + 1), range[1], null));
  }

  private Future<Event> scan(String topic, String epoch, String key, long from, long to, Event found) {
    if (from > to) {
      return Future.succeededFuture(found);
    }
    int max = (int) Math.min(MAX_BATCH, to - from + 1);
    return readRange(topic, epoch, from, max).compose(events -> {
      Event last = found;
      for (Event e : events) {
        if (key.equals(e.key())) {
          last = e;
        }
      }
      return events.isEmpty() ? Future.succeededFuture(last) : scan(topic, epoch, key, from + events.size(), to, last);
    });
  }

  /**
   * Gives back pending claims of a failed (or moved) append, so a retry is not made to wait;
   * with {@code only}, just those of its topics.
   */
  private Future<Void> releaseClaims(List<EventDraft> drafts, Map<String, String> used, Outcome o, Set<String> only) {
    List<Future<Boolean>> removes = new ArrayList<>();
    for (int i = 0; i < drafts.size(); i++) {
      EventDraft d = drafts.get(i);
      if (o.claimed[i] && (only == null || only.contains(d.topic()))) {
        String k = keyOf(d, used.get(d.topic()));
        long token = o.tokens[i];
        removes.add(blocking(() -> keys.remove(k, token)));
      }
    }
    return Future.join(removes).otherwiseEmpty().mapEmpty();
  }

  /** The event of {@code topic} at {@code seq} of {@code epoch} if it is still retained, else null. */
  private Future<Event> retained(String topic, String epoch, long seq) {
    return readRange(topic, epoch, seq - 1, 1).map(events ->
      !events.isEmpty() && events.get(0).seq() == seq ? events.get(0) : null);
  }

  // ---------------------------------------------------------------- read and head

  @Override
  public Future<ReadResult> read(String topic, Position after, int limit) {
    if (limit < 1) {
      return Future.failedFuture(new IllegalArgumentException("limit must be >= 1, got " + limit));
    }
    return init().compose(v -> doRead(topic, after, limit));
  }

  private Future<ReadResult> doRead(String topic, Position after, int limit) {
    return topicEpoch(topic).compose(te -> {
      if (te == null) {
        return defaultEpoch().map(def -> {
          Position head = new Position(def, 0);
          return after.equals(head) ? new ReadResult(head, false, List.of()) : ReadResult.reset(head);
        });
      }
      String epoch = te.current();
      if (te.empty()) {
        Position head = new Position(epoch, 0);
        return Future.succeededFuture(after.equals(head) ? new ReadResult(head, false, List.of()) : te.reset(after, head));
      }
      return blocking(() -> {
        Ringbuffer<String> rb = ring(topic, epoch);
        return new long[] {rb.tailSequence(), rb.headSequence()};
      }).compose(seqs -> {
        Position head = new Position(epoch, seqs[0] + 1);
        if (!after.epoch().equals(epoch) || after.seq() > head.seq()) {
          return Future.succeededFuture(te.reset(after, head));
        }
        if (after.seq() == head.seq()) {
          return Future.succeededFuture(new ReadResult(head, false, List.of()));
        }
        // The next event, seq after.seq() + 1, is ringbuffer item after.seq().
        if (after.seq() < seqs[1]) {
          return Future.succeededFuture(ReadResult.reset(head));
        }
        int n = (int) Math.min(Math.min(Math.min(limit, maxReadLimit), MAX_BATCH), head.seq() - after.seq());
        long oldest = clock.getAsLong() - maxAgeSeconds * 1000;
        return readRange(topic, epoch, after.seq(), n).map(events ->
          // Dropped (overwritten, expired) between the check and the read: no silent gap. An
          // event past maxAgeSeconds that the ringbuffer's time-to-live has not removed yet is
          // gone too (events of a topic are in time order: the first one decides).
          events.isEmpty() || events.get(0).seq() != after.seq() + 1 || events.get(0).timestamp() < oldest
            ? ReadResult.reset(head)
            : new ReadResult(head, false, events));
      });
    });
  }

  @Override
  public Future<Position> head(String topic) {
    return init().compose(v -> topicEpoch(topic).compose(te -> {
      if (te == null) {
        return defaultEpoch().map(def -> new Position(def, 0));
      }
      if (te.empty()) {
        return Future.succeededFuture(new Position(te.current(), 0));
      }
      return blocking(() -> ring(topic, te.current()).tailSequence()).map(tail -> new Position(te.current(), tail + 1));
    }));
  }

  /** Up to {@code max} retained events from ringbuffer sequence {@code from}; fewer or later ones if dropped. */
  private Future<List<Event>> readRange(String topic, String epoch, long from, int max) {
    return blocking(() -> ring(topic, epoch))
      .compose(rb -> fromStage(rb.readManyAsync(from, 0, max, null)))
      .map(rs -> toEvents(rs, epoch))
      .recover(t -> t instanceof StaleSequenceException || t.getCause() instanceof StaleSequenceException
        ? Future.succeededFuture(List.of())
        : Future.failedFuture(t));
  }

  private static List<Event> toEvents(ReadResultSet<String> rs, String epoch) {
    List<Event> events = new ArrayList<>(rs.size());
    for (int i = 0; i < rs.size(); i++) {
      JsonObject o = new JsonObject(rs.get(i)).put("seq", rs.getSequence(i) + 1).put("epoch", epoch);
      events.add(Event.fromJson(o));
    }
    return events;
  }

  // ---------------------------------------------------------------- epochs

  /**
   * A topic's entry in the epochs map, {@code [!]<current>[ <old>:<b|t>]*}.
   *
   * @param empty whether the current epoch has no ringbuffer yet (no append since the topic moved to it)
   * @param old   epochs the topic left, newest first, each with {@code :b} (byte budget) or {@code :t} (maxTopics)
   */
  record TopicEpoch(String current, boolean empty, List<String> old) {

    static TopicEpoch parse(String value) {
      String[] parts = value.split(" ");
      boolean empty = parts[0].startsWith("!");
      return new TopicEpoch(empty ? parts[0].substring(1) : parts[0], empty, List.of(parts).subList(1, parts.length));
    }

    String encode() {
      return (empty ? "!" : "") + current + (old.isEmpty() ? "" : " " + String.join(" ", old));
    }

    TopicEpoch live() {
      return new TopicEpoch(current, false, old);
    }

    /** The topic moved to {@code fresh}, leaving the current epoch for the byte budget or maxTopics. */
    TopicEpoch moveTo(String fresh, boolean budget) {
      List<String> left = new ArrayList<>();
      left.add(current + (budget ? ":b" : ":t"));
      for (String o : old) {
        if (left.size() < MAX_OLD_EPOCHS) {
          left.add(o);
        }
      }
      return new TopicEpoch(fresh, true, left);
    }

    /** The reset for a position {@code after} no longer served: history_evicted if the byte budget took its epoch. */
    ReadResult reset(Position after, Position head) {
      return old.contains(after.epoch() + ":b") ? ReadResult.reset(head, ReadResult.HISTORY_EVICTED) : ReadResult.reset(head);
    }
  }

  /** The topic's entry, or null for a topic never appended to. */
  private Future<TopicEpoch> topicEpoch(String topic) {
    return fromStage(epochs.getAsync(topic)).map(v -> v == null ? null : TopicEpoch.parse(v));
  }

  /**
   * The epoch an append writes in: the cached one, else the map's, made live (the default epoch
   * on the topic's first append). The append re-reads it after writing.
   */
  private Future<String> epochForAppend(String topic) {
    String cached = epochCache.get(topic);
    if (cached != null) {
      return Future.succeededFuture(cached);
    }
    return fromStage(epochs.getAsync(topic)).compose(v -> v != null && !v.startsWith("!")
        ? Future.succeededFuture(TopicEpoch.parse(v).current())
        : defaultEpoch().compose(def -> blocking(() -> liveEpoch(topic, def))))
      .map(e -> {
        epochCache.put(topic, e);
        return e;
      });
  }

  /** Worker thread: the topic's current epoch, its entry created (with {@code def}) or marked live. */
  private String liveEpoch(String topic, String def) {
    while (true) {
      String v = epochs.get(topic);
      if (v == null) {
        v = epochs.putIfAbsent(topic, def);
        if (v == null) {
          return def;
        }
      }
      TopicEpoch te = TopicEpoch.parse(v);
      if (!te.empty() || epochs.replace(topic, v, te.live().encode())) {
        return te.current();
      }
    }
  }

  /** The cluster's epoch for topics without one, drawn once by whichever node asks first. */
  private Future<String> defaultEpoch() {
    if (defaultEpoch == null || defaultEpoch.failed()) {
      String fresh = randomEpoch();
      defaultEpoch = blocking(() -> {
        String prev = epochs.putIfAbsent(DEFAULT_EPOCH_KEY, fresh);
        return prev != null ? prev : fresh;
      });
    }
    return defaultEpoch;
  }

  private String randomEpoch() {
    char[] c = new char[EPOCH_LENGTH];
    for (int i = 0; i < c.length; i++) {
      c[i] = EPOCH_ALPHABET[random.nextInt(EPOCH_ALPHABET.length)];
    }
    return new String(c);
  }

  // ---------------------------------------------------------------- byte budget and maxTopics

  /** This member's row of one topic. */
  private static final class Usage {
    final String epoch;
    long bytes;
    long events;
    long lastAppend;

    Usage(String epoch) {
      this.epoch = epoch;
    }

    HazelcastJsonValue toJson(String topic, String member) {
      return new HazelcastJsonValue(new JsonObject().put("topic", topic).put("member", member).put("epoch", epoch)
        .put("bytes", bytes).put("events", events).put("lastAppend", lastAppend).encode());
    }
  }

  /**
   * Wall-clock microseconds, strictly increasing on this member: the order of {@code lastAppend}
   * is the order of appends (a millisecond holds many), which the rounds evict by.
   */
  private long appendMicros() {
    Instant now = Instant.now();
    lastMicros = Math.max(lastMicros + 1, now.getEpochSecond() * 1_000_000 + now.getNano() / 1000);
    return lastMicros;
  }

  /** Adds an append to this member's row of the topic (a new row in a new epoch). */
  private Usage account(String topic, String epoch, long bytes, long events, long now) {
    Usage u = localUsage.get(topic);
    if (u == null || !u.epoch.equals(epoch)) {
      u = new Usage(epoch);
      localUsage.put(topic, u);
      sinceTopics++;
    }
    u.bytes += bytes;
    u.events += events;
    if (u.events > maxEventsPerTopic) {
      // The ringbuffer overwrote the oldest: keep the average event.
      u.bytes = u.bytes / u.events * maxEventsPerTopic;
      u.events = maxEventsPerTopic;
    }
    u.lastAppend = now;
    sinceBytes += bytes;
    return u;
  }

  /**
   * The cluster's budget: {@code maxBytes} per data member, every event counted twice (its
   * primary and its backup copy; once in a cluster of one member, which holds no backups).
   */
  long clusterBudget() {
    int members = 0;
    for (Member m : hz.getCluster().getMembers()) {
      if (!m.isLiteMember()) {
        members++;
      }
    }
    members = Math.max(1, members);
    long perCopy = maxBytes / Math.min(members, 2);
    return perCopy > Long.MAX_VALUE / members ? Long.MAX_VALUE : perCopy * members;
  }

  /** Events this member evicted for the byte budget since the store was built. */
  long evictedEvents() {
    return evictedEvents;
  }

  /**
   * Checks the cluster's totals (the sum of the usage rows' bytes, one scan of the rows; their
   * count; their members, only when there are more rows than {@code maxTopics}) and runs a round when they are over the budget or {@code maxTopics}; at most
   * one at a time.
   */
  @Override
  public void sweep() {
    if (ready != null && ready.succeeded() && sweeping == null && enforcing == null) {
      check();
    }
  }

  /** What {@link #sweep()} starts; completes when the check (and the round it ran, if any) is done. */
  Future<Void> check() {
    if (sweeping != null) {
      return sweeping;
    }
    long since = sinceBytes;
    long sinceT = sinceTopics;
    long budget = clusterBudget();
    long cutoff = appendMicros() - maxAgeSeconds * 1_000_000;
    localUsage.values().removeIf(u -> u.lastAppend < cutoff);
    Future<Void> f = init().compose(v -> blocking(() -> {
      Long bytes = usage.aggregate(Aggregators.fixedPointSum("bytes"));
      long rows = usage.size();
      // Rows per topic are at most one per member that appends: rows / members is a lower bound
      // of the topics, and rows an upper one (the members are counted only when it matters).
      long members = rows <= maxTopics ? 1
        : Math.max(1, usage.aggregate(Aggregators.<Map.Entry<String, HazelcastJsonValue>, String>distinct("member")).size());
      return new long[] {bytes == null ? 0 : bytes, rows / members};
    })).compose(totals -> {
      knownBytes = totals[0];
      knownTopics = totals[1];
      sinceBytes -= since;
      sinceTopics -= sinceT;
      return totals[0] > budget || totals[1] > maxTopics ? enforce() : Future.<Void>succeededFuture();
    });
    sweeping = f;
    f.onComplete(ar -> {
      if (sweeping == f) {
        sweeping = null;
      }
      if (ar.failed()) {
        LOG.warn("replay store {}: sweep failed: {}", namespace, ar.cause().toString());
      }
    });
    return f;
  }

  /**
   * One round: sums the cluster's usage rows and evicts the least recently appended topics
   * while over the budget or {@code maxTopics}. Joins the round already running, if any.
   */
  Future<Void> enforce() {
    if (enforcing != null) {
      return enforcing;
    }
    long since = sinceBytes;
    long sinceT = sinceTopics;
    long budget = clusterBudget();
    long nowMicros = appendMicros();
    Future<Void> f = init().compose(v -> blocking(() -> round(budget, nowMicros))).map(r -> {
      knownBytes = r.bytes;
      knownTopics = r.topics;
      sinceBytes -= since;
      sinceTopics -= sinceT;
      evictedEvents += r.evictedEvents;
      for (Map.Entry<String, String> e : r.moved.entrySet()) {
        epochCache.remove(e.getKey());
        Usage u = localUsage.get(e.getKey());
        if (u != null && u.epoch.equals(e.getValue())) {
          localUsage.remove(e.getKey());
        }
      }
      return null;
    });
    enforcing = f;
    f.onComplete(ar -> {
      if (enforcing == f) {
        enforcing = null;
      }
    });
    return f;
  }

  /** What a round found and did. */
  private record Round(long bytes, long topics, long evictedEvents, Map<String, String> moved) {
  }

  /** One topic's rows of its current epoch. */
  private static final class TopicUse {
    final String topic;
    final String epoch;
    final List<String> rows = new ArrayList<>();
    long bytes;
    long events;
    long lastAppend;

    TopicUse(String topic, String epoch) {
      this.topic = topic;
      this.epoch = epoch;
    }
  }

  /** Worker thread: the round itself (blocking cluster calls). */
  private Round round(long budget, long nowMicros) {
    long cutoff = nowMicros - maxAgeSeconds * 1_000_000;
    Collection<Object[]> rows = usage.project(Projections.multiAttribute("topic", "member", "epoch", "bytes", "events", "lastAppend"));
    Map<String, List<Object[]>> byTopic = new HashMap<>();
    for (Object[] r : rows) {
      byTopic.computeIfAbsent((String) r[0], t -> new ArrayList<>()).add(r);
    }
    Map<String, String> current = byTopic.isEmpty() ? Map.of() : epochs.getAll(byTopic.keySet());
    List<TopicUse> live = new ArrayList<>();
    long total = 0;
    for (Map.Entry<String, List<Object[]>> e : byTopic.entrySet()) {
      String v = current.get(e.getKey());
      TopicEpoch te = v == null ? null : TopicEpoch.parse(v);
      TopicUse use = te == null ? null : new TopicUse(e.getKey(), te.current());
      for (Object[] r : e.getValue()) {
        String key = e.getKey() + '\u0000' + r[1];
        if (use == null || !use.epoch.equals(r[2]) || ((Number) r[5]).longValue() < cutoff) {
          // Left behind by an eviction (or all expired): counts for nothing.
          usage.delete(key);
          continue;
        }
        use.rows.add(key);
        use.bytes += ((Number) r[3]).longValue();
        use.events += ((Number) r[4]).longValue();
        use.lastAppend = Math.max(use.lastAppend, ((Number) r[5]).longValue());
      }
      if (use != null && !use.rows.isEmpty()) {
        if (use.events > maxEventsPerTopic) {
          use.bytes = use.bytes / use.events * maxEventsPerTopic;
          use.events = maxEventsPerTopic;
        }
        total += use.bytes;
        live.add(use);
      }
    }
    live.sort(Comparator.comparingLong((TopicUse u) -> u.lastAppend));
    boolean overBudget = total > budget;
    long target = budget - budget / 100 * (100 - LOW_WATER_PERCENT);
    long topics = live.size();
    long events = 0;
    long bytes = 0;
    Map<String, String> moved = new HashMap<>();
    for (Iterator<TopicUse> it = live.iterator(); it.hasNext(); ) {
      TopicUse use = it.next();
      boolean forBudget = overBudget && total > target;
      if (!forBudget && topics <= maxTopics) {
        break;
      }
      if (evict(use, forBudget)) {
        moved.put(use.topic, use.epoch);
        if (forBudget) {
          events += use.events;
          bytes += use.bytes;
        }
      }
      // Evicted here or by another member meanwhile: it holds nothing of this epoch any more.
      total -= use.bytes;
      topics--;
    }
    if (events > 0) {
      HeraldMetrics.get().replayEvicted(events, bytes);
      LOG.info("replay store {}: evicted {} topics ({} events, {} bytes) for the byte budget of {} bytes",
        namespace, moved.size(), events, bytes, budget);
    }
    return new Round(total, topics, events, moved);
  }

  /** Worker thread: moves the topic to a fresh epoch and drops its history, unless another member already did. */
  private boolean evict(TopicUse use, boolean forBudget) {
    String v = epochs.get(use.topic);
    if (v == null) {
      return false;
    }
    TopicEpoch te = TopicEpoch.parse(v);
    if (!te.current().equals(use.epoch)) {
      return false;
    }
    String fresh;
    do {
      fresh = randomEpoch();
    } while (fresh.equals(te.current()));
    if (!epochs.replace(use.topic, v, te.moveTo(fresh, forBudget).encode())) {
      return false;
    }
    ring(use.topic, use.epoch).destroy();
    for (String row : use.rows) {
      usage.delete(row);
    }
    return true;
  }

  // ---------------------------------------------------------------- plumbing

  /** The namespace (tests: a store of another member on the same structures). */
  String namespace() {
    return namespace;
  }

  private Ringbuffer<String> ring(String topic, String epoch) {
    return hz.getRingbuffer(historyPrefix + topic + '#' + epoch);
  }

  private String rowKey(String topic) {
    return topic + '\u0000' + memberId;
  }

  private static String keyOf(EventDraft d, String epoch) {
    return d.topic() + '\u0000' + epoch + '\u0000' + d.key();
  }

  private <T> Future<T> fromStage(CompletionStage<T> stage) {
    return Future.fromCompletionStage(stage, vertx.getOrCreateContext());
  }

  private <T> Future<T> blocking(Callable<T> call) {
    Context ctx = vertx.getOrCreateContext();
    return ctx.executeBlocking(call, false);
  }
}
