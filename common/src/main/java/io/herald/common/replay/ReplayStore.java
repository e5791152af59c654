package io.herald.common.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.vertx.core.Future;

import java.util.List;

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
 * <h2>Idempotency</h2>
 * A draft with a {@code key} equal to the key of an event of the same topic that is still
 * retained is not stored again: the retained event is returned in its place. This is what
 * makes at-least-once producers (Redis streams, the PostgreSQL outbox) exactly-once for
 * clients.
 *
 * <h2>Threading</h2>
 * Called from the replay verticle's context only; futures complete on that context or any
 * other. Implementations never block the calling thread.
 */
public interface ReplayStore {

  /** Short backend name for logs and health ({@code memory}, {@code hazelcast}, ...). */
  String name();

  /**
   * Stores the drafts in order and returns the stored events, one per draft, in the same order.
   * Events of the same topic in one call get consecutive sequence numbers in draft order.
   */
  Future<List<Event>> append(List<EventDraft> drafts);

  /** The retained events of {@code topic} after {@code after}, or a reset; see the class doc. */
  Future<ReadResult> read(String topic, Position after, int limit);

  /** Where {@code topic} stands now: its epoch and the sequence of its last event (0 if none). */
  Future<Position> head(String topic);

  /** Releases what the store holds (connections, timers). */
  default Future<Void> close() {
    return Future.succeededFuture();
  }
}
