package io.herald.replay;

import io.vertx.core.Future;

/**
 * Optional capability of a {@link io.herald.common.replay.ReplayStore} whose setup needs I/O
 * (cluster configuration, connections): the replay verticle waits for {@link #init()} before it
 * serves requests, so a misconfiguration fails the deployment instead of the first request.
 */
public interface Initializable {

  /**
   * Prepares the store; memoized, so calling it again returns the same future. Store calls made
   * before it completes wait for it.
   */
  Future<Void> init();
}
