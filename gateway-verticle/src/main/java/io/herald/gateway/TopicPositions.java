package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Position;

/**
 * Where a {@link Connection}'s client stands in each of its exact topics: per topic, the position
 * of the last event it was sent ({@code epoch}, {@code seq}) and where the topic's channel stood
 * when the connection joined ({@code live}); and the {@link Cursor} that names them all, with the
 * entries of the connection's patterns ({@link PatternState}) if it has any: the id of every
 * frame. Confined to the gateway instance's event loop.
 */
final class TopicPositions {

  private final String[] topics;
  private final String[] epochs;
  private final long[] seqs;
  private final Position[] live;
  /** Cursor entry per topic; null for single-topic connections, whose cursor is the event's own. */
  private final String[] entries;

  TopicPositions(String[] topics) {
    this.topics = topics;
    this.epochs = new String[topics.length];
    this.seqs = new long[topics.length];
    this.live = new Position[topics.length];
    this.entries = topics.length == 1 ? null : new String[topics.length];
  }

  /** Where topic {@code i}'s channel stood when the connection joined, or null before it answered. */
  Position live(int i) {
    return live[i];
  }

  void live(int i, Position p) {
    live[i] = p;
  }

  /** The epoch of the last position the client was given in topic {@code i}. */
  String epoch(int i) {
    return epochs[i];
  }

  /** The sequence of the last position the client was given in topic {@code i}. */
  long seq(int i) {
    return seqs[i];
  }

  /** Topic {@code i} to {@code p}. */
  void set(int i, Position p) {
    epochs[i] = p.epoch();
    seqs[i] = p.seq();
    if (entries != null) {
      entries[i] = Cursor.entry(topics[i], p.epoch(), p.seq());
    }
  }

  /**
   * Topic {@code i} to {@code seq} of its epoch (an event of it is sent); the cursor of the
   * event's frame, or null when that is the event's own (one topic, no pattern).
   */
  String advance(int i, long seq, PatternState patternState) {
    seqs[i] = seq;
    String cursor = null;
    if (entries != null) {
      entries[i] = Cursor.entry(topics[i], epochs[i], seqs[i]);
      cursor = patternState == null ? Cursor.join(entries) : cursor(patternState);
    } else if (patternState != null) {
      cursor = cursor(patternState);
    }
    return cursor;
  }

  /** Where the client stands in every topic: the id of the last frame it was sent. */
  String cursor(PatternState patternState) {
    if (patternState == null) {
      return entries == null ? Cursor.single(topics[0], epochs[0], seqs[0]) : Cursor.join(entries);
    }
    java.util.List<String> all = new java.util.ArrayList<>();
    if (entries == null && topics.length == 1) {
      all.add(Cursor.single(topics[0], epochs[0], seqs[0]));
    } else if (entries != null) {
      for (String e : entries) {
        if (e != null) {
          all.add(e);
        }
      }
    }
    patternState.entries(all);
    return Cursor.join(all.toArray(new String[0]));
  }

  /**
   * The cursor of a subscription that starts now, once every channel has answered (after the
   * join): every topic and pattern where its channel stands; with {@code fromStart}, at the
   * start of each topic's and of the log's history instead (sequence 0 of the current epochs).
   * Null when a channel has not answered.
   */
  String liveCursor(boolean fromStart, PatternState patternState) {
    java.util.List<String> all = new java.util.ArrayList<>();
    for (int i = 0; i < topics.length; i++) {
      if (live[i] == null) {
        return null;
      }
      long seq = fromStart ? 0 : live[i].seq();
      if (topics.length == 1 && patternState == null) {
        return Cursor.single(topics[0], live[0].epoch(), seq);
      }
      all.add(Cursor.entry(topics[i], live[i].epoch(), seq));
    }
    if (patternState != null && !patternState.liveEntries(all, fromStart)) {
      return null;
    }
    return Cursor.join(all.toArray(new String[0]));
  }

  /** True when no topic nor the log ({@code patternState}) had an event when the connection joined. */
  boolean liveEmpty(PatternState patternState) {
    for (Position p : live) {
      if (p == null || p.seq() > 0) {
        return false;
      }
    }
    return patternState == null || patternState.liveEmpty();
  }

  /** True when {@code topic} is one of this connection's exact topics. */
  boolean holds(String topic) {
    for (String t : topics) {
      if (t.equals(topic)) {
        return true;
      }
    }
    return false;
  }
}
