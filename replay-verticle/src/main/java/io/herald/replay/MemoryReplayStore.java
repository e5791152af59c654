package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Future;

import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The embedded {@link ReplayStore} ({@code replay.store = memory}): every topic's retained
 * events in this JVM's heap. History does not survive a restart; a restarted store has a new
 * epoch, so clients that resume against it get a {@code reset} rather than a silent gap.
 *
 * <h2>Epochs</h2>
 * The store draws a random epoch of 8 ASCII letters and digits when it is built. Topics
 * created here get it and count from seq 1; the head of a topic that does not exist is that
 * epoch with seq 0, and asking for it creates nothing. When a topic is removed (see below) its
 * last position is kept as a <em>tombstone</em>, so a recreated topic continues its sequence
 * in its old epoch and positions handed out earlier stay meaningful. Tombstones are bounded
 * too ({@code maxTopics}, oldest dropped first); a topic recreated after its tombstone is gone
 * must not reuse an epoch its old positions carry, so dropping a tombstone of the epoch that
 * new topics get makes the store draw a fresh epoch for topics created from then on. Positions
 * of a forgotten topic therefore always get a {@code reset}, never a silent gap.
 *
 * <h2>Bounds</h2>
 * Per topic at most {@code maxEventsPerTopic} events, none older than {@code maxAgeSeconds}
 * (age is enforced lazily on every append, read and head of the topic, and whole expired
 * topics are removed by {@link #sweep()}); at most {@code maxTopics} topics, the least
 * recently appended one removed first; at most {@code maxTopics} tombstones. Reads and heads
 * never add state, whatever topic a client names.
 *
 * <h2>Byte budget</h2>
 * All retained events together stay within {@link ReplayOptions#effectiveMaxBytes()}, each
 * counted by {@link #estimatedBytes(Event)}. An append that goes beyond it evicts the oldest
 * events of the whole store (the topic whose first retained event is oldest, found in a tree
 * ordered by that event, not by a scan) until the total fits again. A read that needs an event
 * evicted so gets a reset with reason {@link ReadResult#HISTORY_EVICTED}, so clients and
 * operators can tell memory pressure from ordinary retention. Evictions are counted in
 * {@code herald_replay_evicted_events_total}.
 *
 * <h2>Log</h2>
 * The log ({@link ReplayStore#readLog}) is an in-heap ring of references in append order: a
 * slot holds the retained event itself, or, once the event left its topic, a small marker with
 * its topic (and whether the byte budget evicted it). Its epoch is the instance epoch, so a
 * restarted store has a new log epoch. Slots leave from the front once their event is gone;
 * each slot counts {@link #LOG_SLOT_BYTES} against the byte budget, so a front slot pinned by an
 * old retained event is eventually freed by the budget's eviction of that oldest event. Cost per
 * append: one array store, and on removal of an event one marker.
 *
 * <h2>Threading</h2>
 * Not thread-safe, by design: it is used from the replay verticle's single context (the role
 * deploys one instance), so every method runs on one thread at a time and needs no locks.
 * Every future it returns is already complete.
 */
public final class MemoryReplayStore implements ReportingReplayStore, Sweepable {

  /**
   * Bytes counted per event on top of its strings' lengths: the event object, its position
   * strings, the deque slot and the idempotency entry, rounded up.
   */
  public static final int EVENT_OVERHEAD_BYTES = 160;

  /** Bytes counted per log slot: the reference, and the marker that replaces a gone event. */
  public static final int LOG_SLOT_BYTES = 40;

  /** Length of the epochs this store draws. */
  public static final int EPOCH_LENGTH = 8;

  private static final char[] EPOCH_ALPHABET =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private final int maxEventsPerTopic;
  private final long maxAgeMillis;
  private final int maxTopics;
  private final int maxReadLimit;
  private final long maxBytes;
  private final LongSupplier clock;
  private final SecureRandom random = new SecureRandom();
  private final String instanceEpoch;
  /** Epoch given to topics created without a tombstone; the instance epoch until a rotation. */
  private String newTopicEpoch;
  /** Live topics, least recently appended first. */
  private final LinkedHashMap<String, TopicLog> topics = new LinkedHashMap<>();
  /** Last positions of removed topics, oldest removal first. */
  private final LinkedHashMap<String, Position> tombstones = new LinkedHashMap<>();
  /** Topics with retained events, the one whose first event is oldest first. */
  private final TreeSet<TopicLog> byOldest = new TreeSet<>((a, b) -> {
    int c = Long.compare(a.events.peekFirst().timestamp(), b.events.peekFirst().timestamp());
    return c != 0 ? c : Long.compare(a.id, b.id);
  });
  private long retainedBytes;
  /**
   * Retained keyed events by key, across topics ({@link #findKey}): an entry leaves with its event,
   * so the index is bounded by retention. Lists, oldest first; one key is rarely on many topics.
   */
  private final HashMap<String, List<Event>> byKeyAllTopics = new HashMap<>();
  private long evictedEvents;
  private long nextLogId;
  /** The log: slot {@code i} holds log seq {@code logFirst + i}; an Event, or a {@link Gone}. */
  private Object[] logSlots = new Object[16];
  private int logStart;
  private int logSize;
  /** Log seq of the first slot held; {@code logFirst + logSize - 1} is the log head. */
  private long logFirst = 1;

  /** A store on the wall clock. */
  public MemoryReplayStore(ReplayOptions options) {
    this(options, System::currentTimeMillis);
  }

  /**
   * A store on the given clock.
   *
   * @param clock current time in epoch milliseconds: event timestamps and the age limit use it
   */
  public MemoryReplayStore(ReplayOptions options, LongSupplier clock) {
    this.maxEventsPerTopic = options.maxEventsPerTopic();
    this.maxAgeMillis = options.maxAgeMillis();
    this.maxTopics = options.maxTopics();
    this.maxReadLimit = options.maxReadLimit();
    this.maxBytes = options.effectiveMaxBytes();
    this.clock = clock;
    this.instanceEpoch = randomEpoch();
    this.newTopicEpoch = instanceEpoch;
  }

  @Override
  public String name() {
    return "memory";
  }

  @Override
  public boolean shared() {
    return false;
  }

  @Override
  public Future<AppendResult> appendReporting(List<EventDraft> drafts) {
    long now = clock.getAsLong();
    List<Event> events = new ArrayList<>(drafts.size());
    List<Event> stored = new ArrayList<>(drafts.size());
    // Same topic and key twice in one call: the second gets the first's event even if the
    // first was already pushed out of the topic by a small maxEventsPerTopic.
    Map<String, Event> keyedInCall = null;
    for (EventDraft d : drafts) {
      TopicLog log = topicForAppend(d.topic(), now);
      Event e = null;
      String callKey = null;
      if (d.key() != null) {
        callKey = d.topic() + ' ' + d.key();
        e = keyedInCall == null ? null : keyedInCall.get(callKey);
        if (e == null) {
          e = log.byKey.get(d.key());
        }
      }
      if (e == null) {
        e = d.toEvent(log.epoch, log.lastSeq + 1, now).withLog(new Position(instanceEpoch, logFirst + logSize));
        logAdd(e);
        log.add(e, now);
        stored.add(e);
        if (callKey != null) {
          if (keyedInCall == null) {
            keyedInCall = new HashMap<>();
          }
          keyedInCall.put(callKey, e);
        }
      }
      events.add(e);
    }
    evictOverBudget();
    return Future.succeededFuture(new AppendResult(events, stored));
  }

  @Override
  public Future<ReadResult> read(String topic, Position after, int limit) {
    if (limit < 1) {
      return Future.failedFuture(new IllegalArgumentException("limit must be >= 1, got " + limit));
    }
    TopicLog log = topics.get(topic);
    if (log != null) {
      trim(log, clock.getAsLong());
    }
    Position head = log != null ? log.head() : absentHead(topic);
    if (!after.epoch().equals(head.epoch()) || after.seq() > head.seq()) {
      return Future.succeededFuture(ReadResult.reset(head));
    }
    if (after.seq() == head.seq()) {
      return Future.succeededFuture(new ReadResult(head, false, List.of()));
    }
    if (log == null || log.events.isEmpty() || log.events.peekFirst().seq() > after.seq() + 1) {
      return Future.succeededFuture(log != null && log.evictedThrough > after.seq()
        ? ReadResult.reset(head, ReadResult.HISTORY_EVICTED)
        : ReadResult.reset(head));
    }
    int n = (int) Math.min(Math.min(limit, maxReadLimit), head.seq() - after.seq());
    return Future.succeededFuture(new ReadResult(head, false, log.slice(after.seq() + 1, n)));
  }

  @Override
  public Future<List<Event>> findKey(String key) {
    List<Event> found = byKeyAllTopics.get(key);
    if (found == null) {
      return Future.succeededFuture(List.of());
    }
    long cutoff = clock.getAsLong() - maxAgeMillis;
    List<Event> out = new ArrayList<>(found.size());
    for (Event e : found) {
      if (e.timestamp() >= cutoff) { // older ones are gone, whether or not a read trimmed them yet
        out.add(e);
      }
    }
    out.sort(java.util.Comparator.comparingLong(e -> e.log().seq()));
    return Future.succeededFuture(out.size() > MAX_KEY_EVENTS ? List.copyOf(out.subList(out.size() - MAX_KEY_EVENTS, out.size())) : out);
  }

  private void unindexKey(Event e) {
    List<Event> list = byKeyAllTopics.get(e.key());
    if (list != null && list.remove(e) && list.isEmpty()) {
      byKeyAllTopics.remove(e.key());
    }
  }

  @Override
  public Future<Position> logHead() {
    return Future.succeededFuture(new Position(instanceEpoch, logFirst + logSize - 1));
  }

  @Override
  public Future<LogReadResult> readLog(Position after, Predicate<String> topicFilter, int limit) {
    if (limit < 1) {
      return Future.failedFuture(new IllegalArgumentException("limit must be >= 1, got " + limit));
    }
    long headSeq = logFirst + logSize - 1;
    Position head = new Position(instanceEpoch, headSeq);
    if (!after.epoch().equals(instanceEpoch) || after.seq() > headSeq) {
      return Future.succeededFuture(LogReadResult.reset(head, null));
    }
    if (after.seq() + 1 < logFirst) {
      // Entries right after it left the log: their topics are unknown.
      return Future.succeededFuture(LogReadResult.reset(head, null));
    }
    int max = Math.min(limit, maxReadLimit);
    long last = Math.min(headSeq, after.seq() + (long) LOG_SCAN_FACTOR * max);
    long cutoff = clock.getAsLong() - maxAgeMillis;
    List<Event> out = new ArrayList<>();
    long scanned = after.seq();
    for (long seq = after.seq() + 1; seq <= last && out.size() < max; seq++) {
      Object slot = logSlots[(logStart + (int) (seq - logFirst)) % logSlots.length];
      if (slot instanceof Event e) {
        if (topicFilter.test(e.topic())) {
          if (e.timestamp() < cutoff) {
            return Future.succeededFuture(LogReadResult.reset(head, null));
          }
          out.add(e);
        }
      } else {
        Gone g = (Gone) slot;
        if (topicFilter.test(g.topic)) {
          return Future.succeededFuture(LogReadResult.reset(head, g.evicted ? ReadResult.HISTORY_EVICTED : null));
        }
      }
      scanned = seq;
    }
    return Future.succeededFuture(LogReadResult.of(head, out, new Position(instanceEpoch, scanned)));
  }

  /** Log slots held now (tests: the ring is bounded). */
  int logSlotCount() {
    return logSize;
  }

  private void logAdd(Event e) {
    if (logSize == logSlots.length) {
      Object[] bigger = new Object[logSlots.length * 2];
      for (int i = 0; i < logSize; i++) {
        bigger[i] = logSlots[(logStart + i) % logSlots.length];
      }
      logSlots = bigger;
      logStart = 0;
    }
    logSlots[(logStart + logSize) % logSlots.length] = e;
    logSize++;
    retainedBytes += LOG_SLOT_BYTES;
  }

  /** Marks the slot of an event that left its topic, and frees the gone slots at the front. */
  private void logGone(Event e, boolean evicted) {
    long seq = e.log().seq();
    if (seq >= logFirst && seq < logFirst + logSize) {
      int i = (logStart + (int) (seq - logFirst)) % logSlots.length;
      if (logSlots[i] == e) {
        logSlots[i] = new Gone(e.topic(), evicted);
      }
    }
    while (logSize > 0 && logSlots[logStart] instanceof Gone) {
      logSlots[logStart] = null;
      logStart = (logStart + 1) % logSlots.length;
      logSize--;
      logFirst++;
      retainedBytes -= LOG_SLOT_BYTES;
    }
    if (logSlots.length > 16 && logSize < logSlots.length / 4) {
      Object[] smaller = new Object[logSlots.length / 2];
      for (int i = 0; i < logSize; i++) {
        smaller[i] = logSlots[(logStart + i) % logSlots.length];
      }
      logSlots = smaller;
      logStart = 0;
    }
  }

  /** What a log slot keeps of an event that left its topic. */
  private record Gone(String topic, boolean evicted) {
  }

  @Override
  public Future<Position> head(String topic) {
    TopicLog log = topics.get(topic);
    if (log == null) {
      return Future.succeededFuture(absentHead(topic));
    }
    trim(log, clock.getAsLong());
    return Future.succeededFuture(log.head());
  }

  /**
   * Removes every topic whose events have all expired, keeping its tombstone. Topics are kept
   * in the order they were last appended to, so this stops at the first topic still in age
   * and costs only the topics it removes. Events that expired in topics still alive go on the
   * topic's next append, read or head (the count bound holds meanwhile).
   */
  @Override
  public void sweep() {
    long cutoff = clock.getAsLong() - maxAgeMillis;
    Iterator<Map.Entry<String, TopicLog>> it = topics.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, TopicLog> entry = it.next();
      if (entry.getValue().lastAppend >= cutoff) {
        break;
      }
      it.remove();
      bury(entry.getKey(), entry.getValue());
    }
  }

  @Override
  public Future<Void> close() {
    topics.clear();
    tombstones.clear();
    byOldest.clear();
    logSlots = new Object[16];
    logStart = 0;
    logFirst += logSize;
    logSize = 0;
    retainedBytes = 0;
    return Future.succeededFuture();
  }

  /** Whether the topic holds events or a tombstone now. */
  boolean holds(String topic) {
    return topics.containsKey(topic) || tombstones.containsKey(topic);
  }

  /**
   * What one retained event counts against the byte budget: the lengths of its data, key, topic
   * and type plus {@link #EVENT_OVERHEAD_BYTES}. Strings of Latin-1 text take one byte per
   * character in the heap, others two: the budget is an estimate, not a measurement.
   */
  public static long estimatedBytes(Event e) {
    return EVENT_OVERHEAD_BYTES + e.data().length() + e.topic().length() + e.type().length()
      + (e.key() == null ? 0 : e.key().length());
  }

  /** Estimated bytes of the events retained now; at most the budget after every append. */
  public long retainedBytes() {
    return retainedBytes;
  }

  /** Events evicted by the byte budget since the store was built. */
  public long evictedEvents() {
    return evictedEvents;
  }

  /** The byte budget in force. */
  public long maxBytes() {
    return maxBytes;
  }

  /** Topics holding state now; never more than {@code maxTopics}. */
  int topicCount() {
    return topics.size();
  }

  /** Tombstones held now; never more than {@code maxTopics}. */
  int tombstoneCount() {
    return tombstones.size();
  }

  /** The epoch this instance drew when it was built. */
  String instanceEpoch() {
    return instanceEpoch;
  }

  private Position absentHead(String topic) {
    Position tomb = tombstones.get(topic);
    return tomb != null ? tomb : new Position(newTopicEpoch, 0);
  }

  /** The topic's log, created if needed, marked as the most recently appended. */
  private TopicLog topicForAppend(String topic, long now) {
    TopicLog log = topics.remove(topic);
    if (log != null) {
      trim(log, now);
    } else {
      // Position first, eviction second: the eviction can neither push this topic's own
      // tombstone out nor, by rotating the new-topic epoch, make a brand-new topic miss the
      // epoch its head announced (this topic is not the one forgotten, so it may keep it).
      Position tomb = tombstones.remove(topic);
      log = tomb != null ? new TopicLog(tomb.epoch(), tomb.seq()) : new TopicLog(newTopicEpoch, 0);
      if (topics.size() >= maxTopics) {
        Iterator<Map.Entry<String, TopicLog>> it = topics.entrySet().iterator();
        Map.Entry<String, TopicLog> eldest = it.next();
        it.remove();
        bury(eldest.getKey(), eldest.getValue());
      }
    }
    topics.put(topic, log);
    return log;
  }

  /** Evicts the oldest events of the store until its events fit the byte budget. */
  private void evictOverBudget() {
    if (retainedBytes <= maxBytes) {
      return;
    }
    long events = 0;
    long bytes = retainedBytes;
    while (retainedBytes > maxBytes && !byOldest.isEmpty()) {
      TopicLog oldest = byOldest.first();
      oldest.evictedThrough = oldest.events.peekFirst().seq();
      oldest.dropFirst(true);
      events++;
    }
    evictedEvents += events;
    HeraldMetrics.get().replayEvicted(events, bytes - retainedBytes);
  }

  private void bury(String topic, TopicLog log) {
    log.release();
    tombstones.put(topic, log.head());
    if (tombstones.size() > maxTopics) {
      Iterator<Map.Entry<String, Position>> it = tombstones.entrySet().iterator();
      Position forgotten = it.next().getValue();
      it.remove();
      if (forgotten.epoch().equals(newTopicEpoch)) {
        // That topic's positions carry newTopicEpoch: recreated under it, it would seem to
        // continue a history it does not have. Topics created from now on get a new epoch.
        // Invariant: no forgotten topic ever had newTopicEpoch. The price: a client holding
        // (old epoch, 0) of a topic still without events gets a reset, never a gap.
        String next;
        do {
          next = randomEpoch();
        } while (next.equals(newTopicEpoch));
        newTopicEpoch = next;
      }
    }
  }

  private void trim(TopicLog log, long now) {
    long cutoff = now - maxAgeMillis;
    Event first;
    while ((first = log.events.peekFirst()) != null && first.timestamp() < cutoff) {
      log.dropFirst(false);
    }
  }

  private String randomEpoch() {
    char[] c = new char[EPOCH_LENGTH];
    for (int i = 0; i < c.length; i++) {
      c[i] = EPOCH_ALPHABET[random.nextInt(EPOCH_ALPHABET.length)];
    }
    return new String(c);
  }

  /** One topic: its position counter and retained events (consecutive seqs, oldest first). */
  private final class TopicLog {
    final long id = nextLogId++;
    final String epoch;
    long lastSeq;
    long lastAppend;
    /** Highest seq evicted by the byte budget (0: none); a read needing it gets history_evicted. */
    long evictedThrough;
    final ArrayDeque<Event> events = new ArrayDeque<>();
    /** Keyed retained events, for idempotency; an entry leaves with its event. */
    final HashMap<String, Event> byKey = new HashMap<>();

    TopicLog(String epoch, long lastSeq) {
      this.epoch = epoch;
      this.lastSeq = lastSeq;
    }

    Position head() {
      return new Position(epoch, lastSeq);
    }

    void add(Event e, long now) {
      events.addLast(e);
      retainedBytes += estimatedBytes(e);
      if (events.size() == 1) {
        byOldest.add(this);
      }
      lastSeq = e.seq();
      lastAppend = now;
      if (e.key() != null) {
        byKey.put(e.key(), e);
        byKeyAllTopics.computeIfAbsent(e.key(), k -> new ArrayList<>(1)).add(e);
      }
      if (events.size() > maxEventsPerTopic) {
        dropFirst(false);
      }
    }

    void dropFirst(boolean evicted) {
      // Out of the tree while its key (the first event) changes.
      byOldest.remove(this);
      Event e = events.removeFirst();
      retainedBytes -= estimatedBytes(e);
      if (e.key() != null) {
        byKey.remove(e.key(), e);
        unindexKey(e);
      }
      logGone(e, evicted);
      if (!events.isEmpty()) {
        byOldest.add(this);
      }
    }

    /** Gives back the budget of a topic that is removed with its events. */
    void release() {
      if (!events.isEmpty()) {
        byOldest.remove(this);
        for (Event e : events) {
          retainedBytes -= estimatedBytes(e);
          if (e.key() != null) {
            unindexKey(e);
          }
          logGone(e, false);
        }
      }
    }

    /** {@code n} retained events from seq {@code from}; the caller checked they are all there. */
    List<Event> slice(long from, int n) {
      int size = events.size();
      int skip = (int) (from - events.peekFirst().seq());
      Event[] out = new Event[n];
      // Resumes usually want the newest events: walk from whichever end is closer.
      if (size - skip < skip + n) {
        Iterator<Event> it = events.descendingIterator();
        for (int i = size - skip - n; i > 0; i--) {
          it.next();
        }
        for (int i = n - 1; i >= 0; i--) {
          out[i] = it.next();
        }
      } else {
        Iterator<Event> it = events.iterator();
        for (int i = 0; i < skip; i++) {
          it.next();
        }
        for (int i = 0; i < n; i++) {
          out[i] = it.next();
        }
      }
      return List.of(out);
    }
  }
}
