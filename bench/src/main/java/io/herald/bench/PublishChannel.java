package io.herald.bench;

import io.vertx.core.Future;

/**
 * Where the load tool's publish bodies go when not over HTTP ({@code --publish-via}): the same
 * JSON as {@code POST /publish} (one event, or {@code {"events": [...]}}), sent as a request to
 * {@code herald.publish} over the clustered event bus ({@link EventBusChannel}) or the TCP
 * event-bus bridge ({@link BridgeChannel}). Implementations are thread-safe.
 */
interface PublishChannel {

  /**
   * Sends one publish body on {@code lane} (requests of one lane reach the server in the order
   * sent, so a topic's events, always on the same lane, keep their order). Completes when Herald
   * answers: succeeded when it stored the events, failed on an error answer or a lost connection.
   */
  Future<Void> send(int lane, String body);

  /** Closes the connections (or leaves the cluster). */
  Future<Void> close();
}
