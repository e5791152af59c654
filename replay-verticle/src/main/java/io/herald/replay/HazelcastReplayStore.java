package io.herald.replay;

import com.hazelcast.config.InvalidConfigurationException;
import com.hazelcast.config.RingbufferConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.ringbuffer.OverflowPolicy;
import com.hazelcast.ringbuffer.ReadResultSet;
import com.hazelcast.ringbuffer.Ringbuffer;
import com.hazelcast.ringbuffer.StaleSequenceException;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.config.ConfigException;
import io.herald.common.replay.ReadResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The clustered {@link io.herald.common.replay.ReplayStore} ({@code replay.store = hazelcast}):
 * history lives in the Hazelcast cluster the clustered Vert.x already runs on, so every replay
 * node of the cluster serves the same history and it survives the loss of one member.
 *
 * <h2>Layout</h2>
 * <ul>
 *   <li>Per topic a {@link Ringbuffer} {@code herald.history.<topic>} of JSON strings (the event
 *   without its seq), capacity {@code maxEventsPerTopic}, time-to-live {@code maxAgeSeconds},
 *   one synchronous backup. Ringbuffer sequence {@code s} (from 0) is event seq {@code s + 1}:
 *   the ringbuffer orders appends from every node, so concurrent publishers on different
 *   notifier nodes never get the same seq, and seqs have no holes.</li>
 *   <li>An {@link IMap} {@code herald.epochs}: topic to epoch, written once, on a topic's first
 *   append (it also marks the topic as existing, so heads and reads of unknown topics touch no
 *   ringbuffer). Topics get the cluster's default epoch, kept in the same map under a reserved
 *   key and drawn once (8 random ASCII letters and digits). The head of an unknown topic is
 *   {@code (default epoch, 0)}; asking for it creates nothing per topic.</li>
 *   <li>An {@link IMap} {@code herald.keys}: {@code topic NUL key} to seq, time-to-live
 *   {@code maxAgeSeconds}, for idempotency. While the claiming append is in flight the value is
 *   that append's own negative token. A claim that stays pending for more than
 *   {@code CLAIM_ATTEMPTS * CLAIM_RETRY_MILLIS} ms is taken as lost with its member: the next
 *   append with the key looks for it among the topic's recent events (the lost append may have
 *   stored it before its member died) and either answers with that event or takes the claim
 *   over with a compare-and-set on the token, so a publisher's retry never stores an event
 *   twice.</li>
 * </ul>
 *
 * <h2>Limits</h2>
 * Retention is Hazelcast's: by count (ringbuffer capacity) and by wall-clock age (ringbuffer
 * TTL); the store ignores any other clock. {@code maxTopics} is not enforced: ringbuffers and
 * epoch entries stay until the cluster stops (topics are created by publishers only). If a
 * ringbuffer is lost while its epoch entry survives (two members lost at once with one
 * backup), its seqs restart in the same epoch; that is not detected.
 *
 * <h2>Threading</h2>
 * Never blocks the calling thread: asynchronous Hazelcast calls are bridged to Vert.x futures on
 * the caller's context; the Hazelcast calls that only exist as blocking ones
 * ({@code tailSequence}, {@code headSequence}, {@code putIfAbsent}, {@code replace}, proxy
 * creation, the dynamic ringbuffer configuration of {@link #init()}) run on the Vert.x worker
 * pool. Construction does no I/O.
 */
public final class HazelcastReplayStore implements ReportingReplayStore, Initializable {

  /** Prefix of every name this store uses in Hazelcast. */
  public static final String DEFAULT_NAMESPACE = "herald";
  /** Length of the epochs this store draws. */
  public static final int EPOCH_LENGTH = 8;
  /** Most items one Hazelcast ringbuffer read may return. */
  static final int MAX_BATCH = 1000;

  /** Key of the cluster-wide default epoch in the epochs map; topics never contain NUL. */
  private static final String DEFAULT_EPOCH_KEY = "\u0000default";
  /** Waits for a claim held by another append: {@value} tries, {@link #CLAIM_RETRY_MILLIS} ms apart. */
  private static final int CLAIM_ATTEMPTS = 100;
  private static final long CLAIM_RETRY_MILLIS = 20;
  /** Most recent events a stale claim's key is looked for in (the lost append was recent). */
  static final int STALE_SCAN_EVENTS = 10_000;
  private static final int EPOCH_CACHE_SIZE = 10_000;
  private static final char[] EPOCH_ALPHABET =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final String namespace;
  private final String historyPrefix;
  private final int maxEventsPerTopic;
  private final int maxReadLimit;
  private final long maxAgeSeconds;
  private Future<Void> ready;
  private volatile IMap<String, String> epochs;
  private volatile IMap<String, Long> keys;
  private final SecureRandom random = new SecureRandom();
  /** Epochs of topics known to exist; they never change, so a bounded cache is always right. */
  private final Map<String, String> epochCache = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > EPOCH_CACHE_SIZE;
    }
  };
  private Future<String> defaultEpoch;

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
    this.vertx = vertx;
    this.hz = hz;
    this.namespace = namespace;
    this.historyPrefix = namespace + ".history.";
    this.maxEventsPerTopic = options.maxEventsPerTopic();
    this.maxReadLimit = options.maxReadLimit();
    this.maxAgeSeconds = options.maxAgeSeconds();
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
        epochs = hz.getMap(namespace + ".epochs");
        keys = hz.getMap(namespace + ".keys");
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
    return init().compose(v -> doAppend(drafts));
  }

  private Future<AppendResult> doAppend(List<EventDraft> drafts) {
    long now = System.currentTimeMillis();
    Event[] out = new Event[drafts.size()];
    // Index of the draft that stores (or resolved) each topic+key of this call.
    Map<String, Integer> firstOfKey = new HashMap<>();
    int[] sameAs = new int[drafts.size()];
    List<Future<Void>> claims = new ArrayList<>();
    boolean[] claimed = new boolean[drafts.size()];
    long[] tokens = new long[drafts.size()];
    for (int i = 0; i < drafts.size(); i++) {
      EventDraft d = drafts.get(i);
      sameAs[i] = -1;
      if (d.key() != null) {
        Integer first = firstOfKey.putIfAbsent(keyOf(d), i);
        if (first != null) {
          sameAs[i] = first;
          continue;
        }
        int index = i;
        tokens[i] = -1 - random.nextLong(Long.MAX_VALUE - 1);
        claims.add(claim(d, tokens[i], CLAIM_ATTEMPTS).map(existing -> {
          if (existing != null) {
            out[index] = existing;
          } else {
            claimed[index] = true;
          }
          return null;
        }));
      }
    }
    return Future.all(claims).transform(ar -> {
      if (ar.failed()) {
        return releaseClaims(drafts, claimed, tokens).transform(v -> Future.failedFuture(ar.cause()));
      }
      // Drafts to store, grouped by topic in draft order.
      Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
      for (int i = 0; i < drafts.size(); i++) {
        if (sameAs[i] < 0 && out[i] == null) {
          byTopic.computeIfAbsent(drafts.get(i).topic(), t -> new ArrayList<>()).add(i);
        }
      }
      List<Future<Void>> adds = new ArrayList<>();
      for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
        adds.add(addAll(e.getKey(), e.getValue(), drafts, now, out));
      }
      return Future.all(adds).transform(added -> {
        if (added.failed()) {
          return releaseClaims(drafts, claimed, tokens).transform(v -> Future.failedFuture(added.cause()));
        }
        List<Future<Void>> records = new ArrayList<>();
        List<Event> stored = new ArrayList<>();
        for (int i = 0; i < drafts.size(); i++) {
          if (sameAs[i] >= 0) {
            out[i] = out[sameAs[i]];
          } else if (claimed[i] || (drafts.get(i).key() == null && out[i] != null)) {
            stored.add(out[i]);
          }
          if (claimed[i]) {
            records.add(fromStage(keys.setAsync(keyOf(drafts.get(i)), out[i].seq(), maxAgeSeconds, TimeUnit.SECONDS)));
          }
        }
        return Future.all(records).map(v -> new AppendResult(List.of(out), stored));
      });
    });
  }

  /** Appends the drafts at {@code indexes} (all of {@code topic}) in one atomic batch. */
  private Future<Void> addAll(String topic, List<Integer> indexes, List<EventDraft> drafts, long now, Event[] out) {
    return epochForAppend(topic).compose(epoch -> {
      List<String> items = new ArrayList<>(indexes.size());
      for (int i : indexes) {
        JsonObject o = drafts.get(i).toEvent(epoch, 0, now).toJson();
        o.remove("seq");
        items.add(o.encode());
      }
      return blocking(() -> ring(topic))
        .compose(rb -> fromStage(rb.addAllAsync(items, OverflowPolicy.OVERWRITE)))
        .map(last -> {
          long seq = last + 1 - indexes.size() + 1;
          for (int i : indexes) {
            out[i] = drafts.get(i).toEvent(epoch, seq++, now);
          }
          return null;
        });
    });
  }

  /**
   * Claims the draft's key with {@code token} (negative, this append's own): null when this
   * append stores it, or the retained event that has it. Waits while another append holds a
   * pending claim; a claim pending too long is resolved by {@link #resolveStale}; takes over a
   * claim whose event is gone.
   */
  private Future<Event> claim(EventDraft d, long token, int attempts) {
    String k = keyOf(d);
    return blocking(() -> keys.putIfAbsent(k, token, maxAgeSeconds, TimeUnit.SECONDS)).compose(prev -> {
      if (prev == null) {
        return Future.succeededFuture(null);
      }
      if (prev < 0) {
        if (attempts <= 0) {
          return resolveStale(d, prev, token);
        }
        Promise<Event> retry = Promise.promise();
        vertx.setTimer(CLAIM_RETRY_MILLIS, id -> claim(d, token, attempts - 1).onComplete(retry));
        return retry.future();
      }
      return retained(d.topic(), prev).compose(existing -> {
        if (existing != null) {
          return Future.succeededFuture(existing);
        }
        return blocking(() -> keys.replace(k, prev, token) && keys.setTtl(k, maxAgeSeconds, TimeUnit.SECONDS))
          .compose(replaced -> replaced ? Future.succeededFuture(null) : claim(d, token, attempts - 1));
      });
    });
  }

  /**
   * A claim still pending after the whole wait: its append is taken as lost (its member died
   * mid-append). If that append stored the event, it is among the topic's recent events: record
   * its seq and answer with it. Otherwise take the claim over, atomically against the token
   * seen, so that of several appends waiting on it exactly one stores.
   */
  private Future<Event> resolveStale(EventDraft d, long staleToken, long token) {
    String k = keyOf(d);
    return findRecent(d.topic(), d.key()).compose(found -> {
      if (found != null) {
        return blocking(() -> keys.replace(k, staleToken, found.seq())).map(v -> found);
      }
      return blocking(() -> keys.replace(k, staleToken, token)).compose(replaced -> replaced
        ? Future.succeededFuture((Event) null)
        : claim(d, token, CLAIM_ATTEMPTS));
    });
  }

  /** The newest of the topic's last {@value #STALE_SCAN_EVENTS} events with this key, or null. */
  private Future<Event> findRecent(String topic, String key) {
    return knownEpoch(topic).compose(epoch -> {
      if (epoch == null) {
        return Future.succeededFuture(null);
      }
      return blocking(() -> {
        Ringbuffer<String> rb = ring(topic);
        return new long[] {rb.headSequence(), rb.tailSequence()};
      }).compose(range -> scan(topic, epoch, key, Math.max(range[0], range[1] - STALE_SCAN_EVENTS + 1), range[1], null));
    });
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

  /** Gives back pending claims of a failed append, so a retry is not made to wait. */
  private Future<Void> releaseClaims(List<EventDraft> drafts, boolean[] claimed, long[] tokens) {
    List<Future<Boolean>> removes = new ArrayList<>();
    for (int i = 0; i < drafts.size(); i++) {
      if (claimed[i]) {
        String k = keyOf(drafts.get(i));
        long token = tokens[i];
        removes.add(blocking(() -> keys.remove(k, token)));
      }
    }
    return Future.join(removes).otherwiseEmpty().mapEmpty();
  }

  /** The event of {@code topic} at {@code seq} if it is still retained, else null. */
  private Future<Event> retained(String topic, long seq) {
    return knownEpoch(topic).compose(epoch -> {
      if (epoch == null) {
        return Future.succeededFuture(null);
      }
      return readRange(topic, epoch, seq - 1, 1).map(events ->
        !events.isEmpty() && events.get(0).seq() == seq ? events.get(0) : null);
    });
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
    return knownEpoch(topic).compose(epoch -> {
      if (epoch == null) {
        return defaultEpoch().map(def -> {
          Position head = new Position(def, 0);
          return after.equals(head) ? new ReadResult(head, false, List.of()) : ReadResult.reset(head);
        });
      }
      return blocking(() -> {
        Ringbuffer<String> rb = ring(topic);
        return new long[] {rb.tailSequence(), rb.headSequence()};
      }).compose(seqs -> {
        Position head = new Position(epoch, seqs[0] + 1);
        if (!after.epoch().equals(epoch) || after.seq() > head.seq()) {
          return Future.succeededFuture(ReadResult.reset(head));
        }
        if (after.seq() == head.seq()) {
          return Future.succeededFuture(new ReadResult(head, false, List.of()));
        }
        // The next event, seq after.seq() + 1, is ringbuffer item after.seq().
        if (after.seq() < seqs[1]) {
          return Future.succeededFuture(ReadResult.reset(head));
        }
        int n = (int) Math.min(Math.min(Math.min(limit, maxReadLimit), MAX_BATCH), head.seq() - after.seq());
        return readRange(topic, epoch, after.seq(), n).map(events ->
          // Dropped (overwritten, expired) between the check and the read: no silent gap.
          events.isEmpty() || events.get(0).seq() != after.seq() + 1
            ? ReadResult.reset(head)
            : new ReadResult(head, false, events));
      });
    });
  }

  @Override
  public Future<Position> head(String topic) {
    return init().compose(v -> knownEpoch(topic).compose(epoch -> {
      if (epoch == null) {
        return defaultEpoch().map(def -> new Position(def, 0));
      }
      return blocking(() -> ring(topic).tailSequence()).map(tail -> new Position(epoch, tail + 1));
    }));
  }

  /** Up to {@code max} retained events from ringbuffer sequence {@code from}; fewer or later ones if dropped. */
  private Future<List<Event>> readRange(String topic, String epoch, long from, int max) {
    return blocking(() -> ring(topic))
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

  /** The epoch of a topic that has had an append, or null for a topic never seen. */
  private Future<String> knownEpoch(String topic) {
    String cached = epochCache.get(topic);
    if (cached != null) {
      return Future.succeededFuture(cached);
    }
    return fromStage(epochs.getAsync(topic)).map(epoch -> {
      if (epoch != null) {
        epochCache.put(topic, epoch);
      }
      return epoch;
    });
  }

  /** The topic's epoch, recorded (as the default epoch) if this is its first append. */
  private Future<String> epochForAppend(String topic) {
    return knownEpoch(topic).compose(epoch -> epoch != null ? Future.succeededFuture(epoch)
      : defaultEpoch().compose(def -> blocking(() -> {
        String prev = epochs.putIfAbsent(topic, def);
        return prev != null ? prev : def;
      })).map(e -> {
        epochCache.put(topic, e);
        return e;
      }));
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

  // ---------------------------------------------------------------- plumbing

  private Ringbuffer<String> ring(String topic) {
    return hz.getRingbuffer(historyPrefix + topic);
  }

  private static String keyOf(EventDraft d) {
    return d.topic() + '\u0000' + d.key();
  }

  private <T> Future<T> fromStage(CompletionStage<T> stage) {
    return Future.fromCompletionStage(stage, vertx.getOrCreateContext());
  }

  private <T> Future<T> blocking(Callable<T> call) {
    Context ctx = vertx.getOrCreateContext();
    return ctx.executeBlocking(call, false);
  }
}
