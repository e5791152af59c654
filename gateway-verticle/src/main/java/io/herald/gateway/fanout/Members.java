package io.herald.gateway.fanout;

import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The members of one channel ({@link TopicChannel}, {@link PatternChannel}): each subscriber with
 * its index, in the order they joined. A member may leave while the channel is delivering to the
 * members (a slow consumer cut by its write): its removal then waits until the pass is over, so
 * every pass sees the members it began with. One member that throws does not stop delivery to
 * the others. Confined to the channel's event loop.
 *
 * @param <S> the subscriber type
 */
final class Members<S> {

  /** What a pass does for one member. */
  interface Action<S> {
    void apply(S s, int index);
  }

  private final Map<S, Integer> members = new LinkedHashMap<>();
  private final Logger log;
  private final String label;
  private final Consumer<S> emptied;
  private int iterating;
  private List<S> deferredRemovals;

  /**
   * @param log     the channel's logger, for a member that throws
   * @param label   the channel as logs name it ({@code topic t}, {@code pattern p})
   * @param emptied called with the member whose removal left none
   */
  Members(Logger log, String label, Consumer<S> emptied) {
    this.log = log;
    this.label = label;
    this.emptied = emptied;
  }

  void add(S s, int index) {
    members.put(s, index);
  }

  int size() {
    return members.size();
  }

  boolean isEmpty() {
    return members.isEmpty();
  }

  /** Removes {@code s} now, or once the current pass is over. */
  void remove(S s) {
    if (iterating > 0) {
      if (deferredRemovals == null) {
        deferredRemovals = new ArrayList<>();
      }
      deferredRemovals.add(s);
      return;
    }
    members.remove(s);
    if (members.isEmpty()) {
      emptied.accept(s);
    }
  }

  /** One pass over the members. */
  void forEach(Action<S> action) {
    iterating++;
    try {
      for (Map.Entry<S, Integer> m : members.entrySet()) {
        try {
          action.apply(m.getKey(), m.getValue());
        } catch (RuntimeException e) {
          // One broken connection must not stop delivery to the others.
          log.warn("{}: delivery to a subscriber failed: {}", label, e.toString());
        }
      }
    } finally {
      iterating--;
    }
    if (iterating == 0 && deferredRemovals != null) {
      List<S> removals = deferredRemovals;
      deferredRemovals = null;
      for (S s : removals) {
        remove(s);
      }
    }
  }
}
