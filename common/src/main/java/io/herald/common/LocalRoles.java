package io.herald.common;

import io.vertx.core.Vertx;

/**
 * What one role tells the others in the same process, through a local map of its Vert.x: today
 * the port the notifier's publish API listens on, which the gateway's demo page shows in its
 * publish hint. Nothing here crosses the cluster; a role running in another process is unknown.
 */
public final class LocalRoles {

  private static final String MAP = "herald.local.roles";
  private static final String PUBLISH_PORT = "notifier.publishPort";

  private LocalRoles() {
  }

  /** Records the port the notifier's {@code POST /publish} listens on. */
  public static void publishPort(Vertx vertx, int port) {
    vertx.sharedData().<String, Integer>getLocalMap(MAP).put(PUBLISH_PORT, port);
  }

  /** The port of {@code POST /publish} in this process, or {@code null} without a notifier here. */
  public static Integer publishPort(Vertx vertx) {
    return vertx.sharedData().<String, Integer>getLocalMap(MAP).get(PUBLISH_PORT);
  }
}
