package io.herald.gateway.fanout;

import io.herald.common.Position;

/**
 * A client connection as the per-topic channels see it, whatever its transport. A subscriber
 * joins one channel per topic and is known there by the index of that topic in its own list.
 * All calls happen on the gateway instance's event loop.
 */
public interface Subscriber {

  /**
   * The channel of topic {@code index} knows where the topic stands: from now on the subscriber
   * receives every event after {@code position}. Called once per topic, before any event of it.
   */
  void onPosition(int index, Position position);

  /** The next event of topic {@code index}, in sequence order. */
  void onEvent(int index, EncodedEvent event);

  /**
   * Events of topic {@code index} up to {@code position} could not be delivered (the history
   * was lost or a gap could not be filled): tell the client, then go on from {@code position}.
   */
  void onReset(int index, Position position, String reason);
}
