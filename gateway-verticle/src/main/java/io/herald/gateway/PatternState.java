package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.pattern.TopicFilter;
import io.herald.common.pattern.TopicFilters;
import io.herald.common.replay.LogReadResult;
import io.herald.gateway.fanout.EncodedEvent;
import io.herald.gateway.fanout.TopicAt;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where one connection stands in each of its pattern subscriptions, and what it owes them.
 *
 * <p>Per pattern: {@code logAt}, a position in the store's log up to which the client was given
 * every matching event, and {@code above}, for the topics it was given an event of above
 * {@code logAt}, where they stand. Both go in the cursor: an entry named {@code ~<key>} holding
 * {@code logAt}, and one ordinary topic entry per topic above it. The pattern's channel moves
 * {@code logAt} on ({@link #covered}) and so keeps {@code above}, and the cursor, short whatever the
 * number of matching topics.
 *
 * <p>A resume reads the log after the cursor's {@code logAt}, filtered by the pattern, and skips
 * what the cursor's topic entries say was given: every missed event, on every matching topic
 * (also topics that first appeared meanwhile), in per-topic order, each once; a {@code reset}
 * naming the pattern when the log no longer holds that history.
 *
 * <p>An event of a topic the connection also holds exactly is delivered by that topic only, and one
 * matched by several patterns by the first of them only. Confined to the connection's event loop.
 */
public final class PatternState {

  static final TopicFilter[] NONE = new TopicFilter[0];
  /** Topics above {@code logAt} one pattern keeps in the cursor; the channel keeps it near 8. */
  static final int MAX_ABOVE = 32;

  private static final Logger LOG = LoggerFactory.getLogger(PatternState.class);

  private final Connection conn;
  private final TopicFilter[] filters;
  private final String[] keys;
  private final Position[] logAt;
  private final Position[] liveLogAt;
  private final Map<String, TopicAt>[] liveAbove;
  private final LinkedHashMap<String, TopicAt>[] above;
  /** The resume cursor while the connection catches up: what it says the client has. */
  private Cursor resumed;
  /** Entries of the resume cursor naming none of our topics and patterns: kept while catching up. */
  private Map<String, String> leftover;

  @SuppressWarnings("unchecked")
  PatternState(Connection conn, TopicFilter[] filters) {
    this.conn = conn;
    this.filters = filters;
    int n = filters.length;
    keys = new String[n];
    for (int p = 0; p < n; p++) {
      keys[p] = TopicFilters.key(filters[p]);
    }
    logAt = new Position[n];
    liveLogAt = new Position[n];
    liveAbove = new Map[n];
    above = new LinkedHashMap[n];
    for (int p = 0; p < n; p++) {
      above[p] = new LinkedHashMap<>();
    }
  }

  TopicFilter[] filters() {
    return filters;
  }

  JsonArray sources() {
    JsonArray out = new JsonArray();
    for (TopicFilter f : filters) {
      out.add(f.source());
    }
    return out;
  }

  /** The name in a cursor of the entry of the pattern whose {@code TopicFilters#key} is {@code key}. */
  public static String entryName(String key) {
    return "~" + key;
  }

  /**
   * The name of a cursor entry that positions every pattern the cursor does not name itself: a
   * position in the store's log handed out before the subscription existed (the Mercure
   * subscription API's {@code lastEventID}, {@link #anyPatternCursor}).
   */
  static final String ANY_PATTERN_ENTRY = "~*";

  /** A cursor that resumes any pattern subscription after log position {@code (epoch, seq)}. */
  static String anyPatternCursor(String epoch, long seq) {
    return Cursor.entry(ANY_PATTERN_ENTRY, epoch, seq);
  }

  /** Where {@code cursor} positions the pattern of {@code key}: its own entry, else {@link #ANY_PATTERN_ENTRY}. */
  static Position positionOf(Cursor cursor, String key) {
    Position at = cursor.position(entryName(key));
    return at != null ? at : cursor.position(ANY_PATTERN_ENTRY);
  }

  /** The channel's position of pattern {@code p}: where a new subscription starts. */
  void live(int p, Position at, Map<String, TopicAt> aboveAt) {
    liveLogAt[p] = at;
    liveAbove[p] = aboveAt;
  }

  /** Positions every pattern: from the cursor when it names the pattern, else live from now. */
  void position(Cursor cursor, boolean unknown) {
    Cursor from = unknown ? null : cursor;
    resumed = from;
    Set<String> ours = new HashSet<>();
    for (String t : conn.topics()) {
      ours.add(Cursor.tag(t));
    }
    for (int p = 0; p < filters.length; p++) {
      Position at = from == null ? null : positionOf(from, keys[p]);
      ours.add(Cursor.tag(entryName(keys[p])));
      ours.add(Cursor.tag(ANY_PATTERN_ENTRY));
      if (at != null) {
        logAt[p] = at;
      } else {
        logAt[p] = liveLogAt[p];
        above[p].putAll(liveAbove[p]);
      }
    }
    if (from != null) {
      leftover = new LinkedHashMap<>();
      from.forEachEntry((tag, pos) -> {
        if (!ours.contains(tag)) {
          leftover.put(tag, Cursor.tagEntry(tag, pos.epoch(), pos.seq()));
        }
      });
    }
  }

  /** Replays what each pattern the cursor names missed, one pattern after the other. */
  Future<Void> catchUp(Cursor cursor, boolean unknown) {
    Future<Void> chain = Future.succeededFuture();
    for (int p = 0; p < filters.length; p++) {
      int index = p;
      boolean named = !unknown && cursor != null && positionOf(cursor, keys[p]) != null;
      if (unknown) {
        chain = chain.compose(v -> {
          reset(index, liveLogAt[index], "unknown_last_event_id");
          return Future.succeededFuture();
        });
      } else if (named) {
        chain = chain.compose(v -> conn.closed() ? Future.succeededFuture()
          : replay(index, conn.gateway.options().maxReplayEvents()));
      }
    }
    return chain;
  }

  private Future<Void> replay(int p, int budget) {
    int max = conn.gateway.options().maxReplayEvents();
    int limit = conn.pages() ? Math.max(1, Math.min(conn.pageRoom(), max)) : Math.min(budget + 1, max + 1);
    if (!conn.pages()) {
      conn.gateway.stats().resumes++;
    }
    return conn.gateway.replay().readLogKeys(logAt[p], List.of(keys[p]), limit).transform(ar -> {
      if (conn.closed()) {
        return Future.succeededFuture();
      }
      if (ar.failed()) {
        LOG.info("connection {}: pattern {} cannot be replayed: {}", conn.id(), filters[p].source(), ar.cause().getMessage());
        reset(p, liveLogAt[p], "store_unavailable");
        return Future.succeededFuture();
      }
      LogReadResult r = ar.result();
      HeraldMetrics.get().replayRead(r.events().size());
      if (r.reset()) {
        reset(p, r.head(), r.resetReason());
        return Future.succeededFuture();
      }
      if (!conn.pages() && r.events().size() > budget) {
        reset(p, r.head(), "too_many_missed");
        return Future.succeededFuture();
      }
      for (Event e : r.events()) {
        write(p, new EncodedEvent(e));
        if (conn.closed()) {
          return Future.succeededFuture(); // a full page: its frames carry where it stopped
        }
      }
      advance(p, r.scannedTo());
      if (r.complete()) {
        return Future.succeededFuture();
      }
      return replay(p, budget - r.events().size());
    });
  }

  /** The connection caught up: what the resume cursor said is behind every pattern's {@code logAt} now. */
  void synced() {
    resumed = null;
    leftover = null;
  }

  /** Whether any of the patterns matches {@code topic}. */
  boolean matches(String topic) {
    for (TopicFilter f : filters) {
      if (f.matches(topic)) {
        return true;
      }
    }
    return false;
  }

  /** Whether pattern {@code p} delivers {@code topic} to this connection (see the class comment). */
  private boolean owns(int p, String topic) {
    if (conn.holdsTopic(topic)) {
      return false;
    }
    for (int q = 0; q < p; q++) {
      if (filters[q].matches(topic)) {
        return false;
      }
    }
    return true;
  }

  /** An event matching pattern {@code p}, live or replayed: sent unless the client has it. */
  void write(int p, EncodedEvent ev) {
    Event e = ev.event();
    String topic = e.topic();
    Position log = e.log();
    if (log == null || !owns(p, topic)) {
      return;
    }
    if (log.epoch().equals(logAt[p].epoch()) && log.seq() <= logAt[p].seq()) {
      return; // behind logAt: given already, or predates the subscription
    }
    TopicAt at = above[p].get(topic);
    if (at != null && at.epoch().equals(e.epoch()) && e.seq() <= at.seq()) {
      return;
    }
    Position had = resumed == null ? null : resumed.position(topic);
    if (had != null && had.epoch().equals(e.epoch()) && e.seq() <= had.seq()) {
      return;
    }
    if (at != null && !at.epoch().equals(e.epoch())
      && !(e.prev() != null && e.prev().epoch().equals(at.epoch()) && e.prev().seq() == at.seq())) {
      // The topic's history changed under us (a store outage or restart): say so before going on.
      above[p].remove(topic);
      conn.gateway.stats().resets++;
      HeraldMetrics.get().reset("history_lost");
      conn.sendControl("reset", new JsonObject().put("topic", topic).put("pattern", filters[p].source())
        .put("reason", "history_lost"));
    }
    if (leftover != null) {
      leftover.remove(Cursor.tag(topic)); // its entry is the one below from now on
    }
    above[p].remove(topic);
    above[p].put(topic, new TopicAt(e.epoch(), e.seq(), log.seq()));
    if (above[p].size() > MAX_ABOVE) {
      // The channel cannot bring topics under logAt (its store is not answering): the oldest
      // entry leaves the cursor, and a resume may give that topic's events again.
      Iterator<String> it = above[p].keySet().iterator();
      LOG.debug("connection {}: pattern {}: cursor full, {} leaves it", conn.id(), filters[p].source(), it.next());
      it.remove();
    }
    conn.transmitPatternEvent(ev);
  }

  /** The channel gave every matching event up to {@code at}: entries under it leave the cursor. */
  void covered(int p, Position at) {
    if (at.epoch().equals(logAt[p].epoch()) && at.seq() > logAt[p].seq()) {
      advance(p, at);
    }
  }

  private void advance(int p, Position to) {
    if (!to.epoch().equals(logAt[p].epoch()) || to.seq() <= logAt[p].seq()) {
      return;
    }
    logAt[p] = to;
    long w = to.seq();
    above[p].values().removeIf(at -> at.log() <= w);
  }

  /** History of pattern {@code p} before {@code at} is not served: a {@code reset} naming the pattern. */
  void reset(int p, Position at, String reason) {
    if (conn.closed()) {
      return;
    }
    logAt[p] = at;
    above[p].clear();
    conn.gateway.stats().resets++;
    HeraldMetrics.get().reset(reason);
    conn.sendControl("reset", new JsonObject().put("pattern", filters[p].source()).put("reason", reason));
  }

  /**
   * Adds the entries of a subscription starting now ({@code fromStart}: at sequence 0 of the log)
   * to a cursor being built; false when a channel has not said where it stands.
   */
  boolean liveEntries(List<String> out, boolean fromStart) {
    for (int p = 0; p < filters.length; p++) {
      if (liveLogAt[p] == null) {
        return false;
      }
      out.add(Cursor.entry(entryName(keys[p]), liveLogAt[p].epoch(), fromStart ? 0 : liveLogAt[p].seq()));
      if (!fromStart && liveAbove[p] != null) {
        for (Map.Entry<String, TopicAt> e : liveAbove[p].entrySet()) {
          out.add(Cursor.entry(e.getKey(), e.getValue().epoch(), e.getValue().seq()));
        }
      }
    }
    return true;
  }

  /** True when the log was empty where every pattern's channel stood. */
  boolean liveEmpty() {
    for (Position at : liveLogAt) {
      if (at == null || at.seq() > 0) {
        return false;
      }
    }
    return true;
  }

  /** Adds this connection's pattern entries to a cursor being built. */
  void entries(List<String> out) {
    for (int p = 0; p < filters.length; p++) {
      if (logAt[p] == null) {
        continue;
      }
      out.add(Cursor.entry(entryName(keys[p]), logAt[p].epoch(), logAt[p].seq()));
      for (Map.Entry<String, TopicAt> e : above[p].entrySet()) {
        out.add(Cursor.entry(e.getKey(), e.getValue().epoch(), e.getValue().seq()));
      }
    }
    if (leftover != null) {
      out.addAll(leftover.values());
    }
  }
}
