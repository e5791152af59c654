package io.herald.gateway;

import io.herald.common.Event;

/**
 * Which of its topics' updates reach a {@link Connection}'s client: a private (Mercure) update
 * only when the subscriber may read it ({@link Connection#readsPrivateOf}), and an update stored
 * once per topic (its {@link Event#alternates}) only once, as the copy of the first of its topics
 * the connection both holds and may read. Asked after the cursor moved past the update and before
 * any frame is written, so shared frames stay shared. Confined to the gateway instance's event loop.
 */
final class UpdateFilter {

  private final Connection conn;
  /** Whether private (Mercure) updates of the connection's topics reach it: its token was checked for them. */
  private boolean readsPrivate;

  UpdateFilter(Connection conn) {
    this.conn = conn;
  }

  void readsPrivate(boolean readsPrivate) {
    this.readsPrivate = readsPrivate;
  }

  boolean readsPrivate() {
    return readsPrivate;
  }

  /** Whether {@code e}'s frame goes to the client. */
  boolean delivers(Event e) {
    if (e.privateUpdate() && !conn.readsPrivateOf(e.topic())) {
      return false;
    }
    java.util.List<String> alternates = e.alternates();
    if (alternates != null) {
      // One Mercure update stored once per topic: only the copy of the first of its topics this
      // connection both subscribes to and may read is sent, so it arrives once, live or replayed.
      PatternState patternState = conn.patternState();
      for (String t : alternates) {
        if (t.equals(e.topic())) {
          break;
        }
        if ((conn.holdsTopic(t) || patternState != null && patternState.matches(t)) && (!e.privateUpdate() || conn.readsPrivateOf(t))) {
          return false;
        }
      }
    }
    return true;
  }
}
