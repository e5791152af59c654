package io.herald.gateway.fanout;

import io.herald.common.Position;

import java.util.Map;

/**
 * A client connection as a {@link PatternChannel} sees it. A subscriber joins one channel per
 * pattern and is known there by the index of that pattern in its own list. Positions are in the
 * store's log ({@link io.herald.common.Event#log()}). All calls happen on the gateway instance's
 * event loop.
 */
public interface PatternSubscriber {

  /**
   * Where pattern {@code index} stands: every matching event with a log position up to
   * {@code logAt} was delivered (or predates the subscription), and so were the events named in
   * {@code above} (topic to where it stood, above {@code logAt}). Called once, before any event.
   */
  void onPatternPosition(int index, Position logAt, Map<String, TopicAt> above);

  /** The next event matching pattern {@code index}: in sequence order within its topic, each once. */
  void onPatternEvent(int index, EncodedEvent event);

  /** Every matching event up to log position {@code logAt} has now been given. */
  void onPatternCovered(int index, Position logAt);

  /** The log's history before {@code logAt} is gone (a store restart): tell the client, go on. */
  void onPatternReset(int index, Position logAt, String reason);
}
