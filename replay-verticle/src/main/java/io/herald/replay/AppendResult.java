package io.herald.replay;

import io.herald.common.Event;

import java.util.List;

/**
 * What one append did.
 *
 * @param events one event per draft, in draft order, exactly what {@code ReplayStore#append} returns
 * @param stored the events this append stored, in draft order (so ascending seq per topic); an
 *               idempotent duplicate (a draft whose key matched a retained event, or an earlier
 *               draft of the same call) is in {@code events} but not here. These are the events
 *               to publish: publishing only them keeps duplicates away from clients.
 */
public record AppendResult(List<Event> events, List<Event> stored) {

  public AppendResult {
    events = List.copyOf(events);
    stored = List.copyOf(stored);
  }
}
