package io.herald.gateway.presence;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The presence one gateway process holds: an entry per connection per topic, grouped by
 * <em>member</em> (the token's user key, or {@code anonymous@<client address>}), with the
 * debounce that keeps reconnects quiet. Pure logic with an explicit clock ({@code now}, epoch
 * ms, passed in): tests drive it with ticks, no sleeps.
 *
 * <ul>
 *   <li>{@link #add}: a connection joined a topic. A {@code join} change when its member had no
 *       entry there (live or lingering); a member's lingering entries are replaced by the new one,
 *       silently: that is the debounce.</li>
 *   <li>{@link #remove}: a connection left. Its entry lingers {@code debounceMillis} (still listed
 *       and counted), then {@link #sweep} drops it and, when it was its member's last entry on the
 *       topic, reports a {@code leave}. With a debounce of 0 it goes at once.</li>
 * </ul>
 * Topics whose entries changed are reported once by {@link #drainDirty}, for the store.
 * Bounded by the process's connections plus those closed within the debounce window. Every
 * method is synchronized: the process's gateway instances (one per event loop) share one registry,
 * and each call is a few map operations.
 */
public final class PresenceRegistry {

  /** A member appeared on ({@code join}) or left ({@code leave}) a topic; {@code entry} says who. */
  public record Change(String type, String member, PresenceEntry entry) {
    public static final String JOIN = "join";
    public static final String LEAVE = "leave";
  }

  private static final class Slot {
    final PresenceEntry entry;
    final String member;
    long lingerUntil;
    boolean gone;

    Slot(PresenceEntry entry, String member) {
      this.entry = entry;
      this.member = member;
    }
  }

  private static final class TopicState {
    final Map<Long, Slot> byConnection = new HashMap<>();
    final Map<String, List<Slot>> byMember = new HashMap<>();
  }

  private final long debounceMillis;
  private final int maxListed;
  private final Map<String, TopicState> topics = new HashMap<>();
  /** Lingering entries in the order they expire (the debounce is one constant). */
  private final ArrayDeque<Slot> lingering = new ArrayDeque<>();
  private final Set<String> dirty = new LinkedHashSet<>();

  /**
   * @param debounceMillis how long a closed connection's entry lingers ({@code gateway.presenceDebounceSeconds})
   * @param maxListed      above this many entries on a topic, a snapshot carries the count only ({@code gateway.presenceMaxListed})
   */
  public PresenceRegistry(long debounceMillis, int maxListed) {
    this.debounceMillis = debounceMillis;
    this.maxListed = maxListed;
  }

  /** A connection joined {@code entry.topic()} as {@code member}; the {@code join} to announce, if any. */
  public synchronized List<Change> add(PresenceEntry entry, String member) {
    TopicState t = topics.computeIfAbsent(entry.topic(), k -> new TopicState());
    List<Slot> same = t.byMember.computeIfAbsent(member, k -> new ArrayList<>(1));
    boolean present = !same.isEmpty();
    for (java.util.Iterator<Slot> it = same.iterator(); it.hasNext(); ) {
      Slot s = it.next();
      if (s.lingerUntil > 0) {
        // The member came back within the debounce: the new entry takes the old one's place.
        s.gone = true;
        t.byConnection.remove(s.entry.connection());
        it.remove();
      }
    }
    // The member's other connections hold an equal string already: one copy for all of them.
    Slot slot = new Slot(entry, same.isEmpty() ? member : same.get(0).member);
    Slot old = t.byConnection.put(entry.connection(), slot);
    if (old != null) {
      old.gone = true;
      t.byMember.getOrDefault(old.member, new ArrayList<>()).remove(old);
    }
    same.add(slot);
    dirty.add(entry.topic());
    return present ? List.of() : List.of(new Change(Change.JOIN, member, entry));
  }

  /** Connection {@code connection} left {@code topic} at {@code now}; a {@code leave} only when there is no debounce. */
  public synchronized List<Change> remove(String topic, long connection, long now) {
    TopicState t = topics.get(topic);
    Slot s = t == null ? null : t.byConnection.get(connection);
    if (s == null || s.lingerUntil > 0) {
      return List.of();
    }
    if (debounceMillis <= 0) {
      return drop(topic, t, s);
    }
    s.lingerUntil = now + debounceMillis;
    lingering.add(s);
    return List.of();
  }

  /** Drops the entries whose debounce ended by {@code now}; the {@code leave}s to announce. */
  public synchronized List<Change> sweep(long now) {
    List<Change> out = new ArrayList<>();
    while (!lingering.isEmpty() && lingering.peek().lingerUntil <= now) {
      Slot s = lingering.poll();
      if (s.gone) {
        continue;
      }
      TopicState t = topics.get(s.entry.topic());
      if (t != null) {
        out.addAll(drop(s.entry.topic(), t, s));
      }
    }
    return out;
  }

  private List<Change> drop(String topic, TopicState t, Slot s) {
    s.gone = true;
    t.byConnection.remove(s.entry.connection());
    dirty.add(topic);
    List<Slot> same = t.byMember.get(s.member);
    if (same != null) {
      same.remove(s);
      if (same.isEmpty()) {
        t.byMember.remove(s.member);
      }
    }
    if (t.byConnection.isEmpty()) {
      topics.remove(topic);
    }
    return same == null || same.isEmpty() ? List.of(new Change(Change.LEAVE, s.member, s.entry)) : List.of();
  }

  /**
   * This process's snapshot of {@code topic} for the store ({@link PresenceStore}), or null when
   * it holds nobody there: {@code {"node", "count", "entries"}}, entries only up to {@code maxListed}.
   */
  public synchronized JsonObject snapshot(String node, String topic) {
    TopicState t = topics.get(topic);
    if (t == null) {
      return null;
    }
    JsonObject out = new JsonObject().put("node", node).put("count", t.byConnection.size());
    if (t.byConnection.size() <= maxListed) {
      JsonArray entries = new JsonArray();
      t.byConnection.values().forEach(s -> entries.add(s.entry.toJson()));
      out.put("entries", entries);
    }
    return out;
  }

  /** The topics changed since the last call, and forgets them. */
  public synchronized List<String> drainDirty() {
    List<String> out = new ArrayList<>(dirty);
    dirty.clear();
    return out;
  }

  /** Every topic this process holds entries on. */
  public synchronized List<String> topics() {
    return new ArrayList<>(topics.keySet());
  }

  /** Entries per topic in this process (a copy). */
  public synchronized Map<String, Integer> counts() {
    Map<String, Integer> out = new HashMap<>();
    topics.forEach((k, v) -> out.put(k, v.byConnection.size()));
    return out;
  }

  /** Members present on {@code topic} in this process (lingering ones included). */
  public synchronized int members(String topic) {
    TopicState t = topics.get(topic);
    return t == null ? 0 : t.byMember.size();
  }
}
