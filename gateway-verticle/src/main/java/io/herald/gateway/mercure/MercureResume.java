package io.herald.gateway.mercure;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.pattern.TopicFilter;
import io.herald.common.pattern.TopicFilters;
import io.herald.common.replay.LogFilters;
import io.herald.common.replay.ReplayClient;
import io.herald.gateway.PatternState;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code Last-Event-ID} that is a publisher's id, turned into the Herald cursor of a stream that
 * has just received that update: the store finds the update by its key ({@code ReplayStore#findKey})
 * and so its position in the store's log, {@code L}; every matcher of the stream is then positioned
 * at {@code L}:
 * <ul>
 *   <li>a pattern (URL pattern, URI template, {@code *}): its log cursor is {@code L};</li>
 *   <li>an exact topic the update was stored in (its canonical topic, an alternate): right after
 *   its copy;</li>
 *   <li>any other exact topic: right before its first event after {@code L} in the log (a scan of
 *   the log after {@code L}, filtered by those topics, at most {@code gateway.maxReplayEvents}
 *   events), or, when the log has none, the topic's head read before the scan.</li>
 * </ul>
 * The connection's resume then replays, per matcher, what follows: every update after {@code L} on
 * every matching topic, once, in per-topic order. A topic the scan could not position (the log
 * lost that history, too many events) starts live, as a stream without a resume point. Null when
 * the store knows no retained update with that id.
 */
final class MercureResume {

  /** Log reads one scan makes at most (each looks at a bounded number of log entries). */
  static final int MAX_SCAN_CALLS = 64;

  private MercureResume() {
  }

  /** The cursor of a stream standing at the update {@code key}, or null (see the class doc). */
  static Future<Cursor> fromKey(ReplayClient replay, String key, String[] topics, TopicFilter[] patterns, int maxReplayEvents,
                                int maxEntries) {
    return replay.findKey(key).compose(found -> {
      Event last = null;
      for (Event e : found) {
        if (e.log() != null && (last == null || e.log().seq() > last.log().seq())) {
          last = e;
        }
      }
      if (last == null) {
        return Future.succeededFuture(null);
      }
      Position at = last.log();
      Map<String, Position> positions = new LinkedHashMap<>();
      for (Event e : found) {
        if (e.log() != null && e.log().epoch().equals(at.epoch())) {
          positions.put(e.topic(), e.position());
        }
      }
      List<String> rest = new ArrayList<>();
      for (String t : topics) {
        if (!positions.containsKey(t)) {
          rest.add(t);
        }
      }
      Future<Map<String, Position>> others = rest.isEmpty() ? Future.succeededFuture(Map.of())
        : replay.heads(rest).compose(heads -> scan(replay, at, rest, heads, maxReplayEvents));
      return others.map(more -> {
        List<String> entries = new ArrayList<>();
        for (String t : topics) {
          Position p = positions.containsKey(t) ? positions.get(t) : more.get(t);
          if (p != null) {
            entries.add(Cursor.entry(t, p.epoch(), p.seq()));
          }
        }
        for (TopicFilter f : patterns) {
          entries.add(Cursor.entry(PatternState.entryName(TopicFilters.key(f)), at.epoch(), at.seq()));
        }
        return entries.isEmpty() ? null : Cursor.parse(Cursor.join(entries.toArray(new String[0])), maxEntries);
      });
    });
  }

  /** Where each of {@code rest} stood at log position {@code at}; topics it cannot tell are left out. */
  private static Future<Map<String, Position>> scan(ReplayClient replay, Position at, List<String> rest,
                                                    Map<String, Position> heads, int budget) {
    List<Future<Map<String, Position>>> chunks = new ArrayList<>();
    for (int from = 0; from < rest.size(); from += LogFilters.MAX_FILTERS) {
      List<String> chunk = rest.subList(from, Math.min(rest.size(), from + LogFilters.MAX_FILTERS));
      List<String> keys = new ArrayList<>(chunk.size());
      for (String t : chunk) {
        keys.add(TopicFilters.key(TopicFilters.parse(t, TopicFilter.Kind.EXACT)));
      }
      chunks.add(scanChunk(replay, at, chunk, keys, heads, new HashMap<>(), budget, MAX_SCAN_CALLS));
    }
    return Future.all(chunks).map(all -> {
      Map<String, Position> out = new HashMap<>();
      for (Future<Map<String, Position>> f : chunks) {
        out.putAll(f.result());
      }
      return out;
    });
  }

  private static Future<Map<String, Position>> scanChunk(ReplayClient replay, Position after, List<String> topics,
                                                         List<String> keys, Map<String, Position> heads,
                                                         Map<String, Position> found, int budget, int calls) {
    return replay.readLogKeys(after, keys, Math.max(1, Math.min(budget, 1000))).compose(r -> {
      if (r.reset()) {
        return Future.succeededFuture(found); // that history is gone: the topics not found start live
      }
      for (Event e : r.events()) {
        found.putIfAbsent(e.topic(), new Position(e.epoch(), e.seq() - 1));
      }
      int left = budget - r.events().size();
      if (found.size() == topics.size() || r.complete()) {
        if (r.complete()) {
          for (String t : topics) {
            Position head = heads.get(t);
            if (!found.containsKey(t) && head != null) {
              found.put(t, head);
            }
          }
        }
        return Future.succeededFuture(found);
      }
      if (left <= 0 || calls <= 1) {
        return Future.succeededFuture(found); // more missed than one resume may replay: live for the others
      }
      return scanChunk(replay, r.scannedTo(), topics, keys, heads, found, left, calls - 1);
    });
  }
}
