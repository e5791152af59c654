package io.herald.common.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The per-topic ordered history that lets a reconnecting client receive exactly what it
 * missed. One implementation per backend ({@code MemoryReplayStore}, {@code HazelcastReplayStore},
 * ...), chosen by {@code replay.store}; {@code ReplayStoreContractTest} checks every one against
 * this contract.
 *
 * <h2>Positions</h2>
 * Every topic has an <em>epoch</em> (1 to 16 ASCII letters and digits) and a sequence counter.
 * {@link #append} gives each event of a topic the next sequence number, from 1, strictly
 * increasing and without holes within an epoch. The epoch changes whenever the store can no
 * longer vouch for the history it handed out positions in (the store was emptied, restarted
 * without persistence, lost data): a position of another epoch is never served, it gets
 * {@code reset}. The head of a topic that has never had an event is {@code (epoch, 0)}, and a
 * later first event of that topic in the same epoch gets sequence 1, so a client that
 * subscribed before the first event loses nothing.
 *
 * <h2>Retention</h2>
 * Each topic keeps at most a configured number of events and none older than a configured
 * age; older ones are dropped first. Which events are retained never changes their positions.
 *
 * <h2>Reads</h2>
 * {@link #read} answers "what came after this position": the retained events with a greater
 * sequence, ascending, at most {@code limit} of them — or {@code reset} when gap-free replay
 * from that position is impossible (another epoch, a position beyond the head, or the event
 * just after it is no longer retained). A reset result carries no events; the caller signals
 * the reset to its client and resumes from {@link ReadResult#head()}.
 *
 * <h2>The log</h2>
 * Besides its per-topic histories, every store keeps one <em>log</em> that spans all its topics,
 * so that a subscriber of many topics (a pattern, including topics that do not exist yet) can
 * resume with one bounded cursor. The log has its own epoch and sequence, carried in a
 * {@link Position}: {@link #append} gives each event it stores (not an idempotent duplicate) the
 * next log sequence, from 1, strictly increasing and <b>without holes</b> within a log epoch,
 * and returns it as {@link Event#log()}: the events one call stores get the next positions,
 * per topic in seq order (across the topics of one call, in an order of the store's choosing).
 * An idempotent duplicate takes no position (the retained event it returns may lack
 * {@code log()} where the store does not keep it with the event). The log epoch
 * changes whenever the store can no longer vouch for the log (a restarted memory store, a
 * Redis or PostgreSQL store that lost its data); a position of another log epoch gets a reset.
 * Guarantees:
 * <ul>
 *   <li><b>Per-topic order</b>: within one topic, log order is seq order, whatever number of
 *   stores (processes, cluster members) append to the topic concurrently.</li>
 *   <li><b>Visibility</b>: a reader that has read the log up to position P (by
 *   {@link #readLog} or {@link #logHead}) never later finds a new entry at a position
 *   {@code <= P}: positions become visible in order.</li>
 *   <li><b>Retention</b>: the log keeps an entry at least as long as its event is retained in
 *   its topic, except where a store documents a hard cap on its log; an entry whose event is
 *   gone may stay or go.</li>
 * </ul>
 * {@link #readLog} answers "what came after this log position, among the topics that pass a
 * filter": the retained events with a greater log sequence, in log order, at most
 * {@code limit} (capped by the store's {@code maxReadLimit}), looking at no more than
 * {@link #LOG_SCAN_FACTOR} times that many log entries per call; {@link LogReadResult#scannedTo()}
 * says how far it looked (continue from there), {@link LogReadResult#head()} where the log ends.
 * It answers a <b>reset</b> instead when gap-free replay is impossible: another log epoch, a
 * position beyond the log head, or, among the entries it looks at (from the one right after
 * {@code after}), one whose event is gone and that might pass the filter (its topic does, or
 * the store no longer knows its topic): that event was missed for good. The reason is
 * {@link ReadResult#HISTORY_EVICTED} when the store knows it was evicted for its byte budget,
 * {@code history_unavailable} otherwise.
 *
 * <h2>Idempotency</h2>
 * A draft with a {@code key} equal to the key of an event of the same topic that is still
 * retained is not stored again: the retained event is returned in its place. This is what
 * makes at-least-once producers (Redis streams, the PostgreSQL outbox) exactly-once for
 * clients.
 *
 * <h2>Finding an event by its key</h2>
 * {@link #findKey} answers "where is the event a publisher gave this id": the retained events whose
 * key it is, on any topic (the copies of a Mercure update with alternate topics share it; so may
 * unrelated events of different topics), each with its {@link Event#log()}, in log order, the
 * latest {@link #MAX_KEY_EVENTS} at most. An event leaves this index when it leaves its topic
 * (count, age, byte budget, a lost history): the index never outlives retention, and never answers
 * an event that {@link #read} would not serve. Unknown keys answer an empty list.
 *
 * <h2>Threading</h2>
 * Called from the replay verticle's context only; futures complete on that context or any
 * other. Implementations never block the calling thread.
 */
public interface ReplayStore {

  /** Short backend name for logs and health ({@code memory}, {@code hazelcast}, ...). */
  String name();

  /**
   * Whether every replay process of the cluster shares this store's history, so that any of them
   * answers a read or an append as well as another (the external and the Hazelcast stores); false
   * for a history held by one process ({@code memory}).
   */
  default boolean shared() {
    return true;
  }

  /**
   * Stores the drafts in order and returns the stored events, one per draft, in the same order.
   * Events of the same topic in one call get consecutive sequence numbers in draft order.
   */
  Future<List<Event>> append(List<EventDraft> drafts);

  /** The retained events of {@code topic} after {@code after}, or a reset; see the class doc. */
  Future<ReadResult> read(String topic, Position after, int limit);

  /** Where {@code topic} stands now: its epoch and the sequence of its last event (0 if none). */
  Future<Position> head(String topic);

  /**
   * The {@link #head} of each of {@code topics} (a name given twice is answered once), in one
   * call: a store on a server answers them in one round trip where it can. The default asks
   * {@link #head} per topic.
   */
  default Future<Map<String, Position>> heads(List<String> topics) {
    List<String> distinct = List.copyOf(new LinkedHashSet<>(topics));
    List<Future<Position>> each = new ArrayList<>(distinct.size());
    for (String t : distinct) {
      each.add(head(t));
    }
    return Future.all(each).map(v -> {
      Map<String, Position> out = new LinkedHashMap<>();
      for (int i = 0; i < distinct.size(); i++) {
        out.put(distinct.get(i), each.get(i).result());
      }
      return out;
    });
  }

  /**
   * Log entries one {@link #readLog} call looks at, at most, per event it may return: a read of
   * {@code limit} events examines at most {@code LOG_SCAN_FACTOR * min(limit, maxReadLimit)}
   * entries, so a filter that matches little costs a bounded scan per call.
   */
  int LOG_SCAN_FACTOR = 10;

  /** Where the log stands now: its epoch and the log sequence of its last entry (0 if none). */
  Future<Position> logHead();

  /**
   * The retained events whose log position follows {@code after} and whose topic passes
   * {@code topicFilter}, in log order, at most {@code limit}; or a reset. See the class doc.
   * {@code topicFilter} is called on the calling context and must be cheap and side-effect free.
   */
  Future<LogReadResult> readLog(Position after, Predicate<String> topicFilter, int limit);

  /** Most events one {@link #findKey} answers. */
  int MAX_KEY_EVENTS = 64;

  /**
   * The retained events whose key is {@code key}, on any topic, with their log positions, in log
   * order (the latest {@link #MAX_KEY_EVENTS}); empty when none. See the class doc. The default is
   * a store without the index: every key is unknown.
   */
  default Future<List<Event>> findKey(String key) {
    return Future.succeededFuture(List.of());
  }

  /** Releases what the store holds (connections, timers). */
  default Future<Void> close() {
    return Future.succeededFuture();
  }
}
