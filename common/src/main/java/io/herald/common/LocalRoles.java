package io.herald.common;

import io.vertx.core.Vertx;

/**
 * What one role tells the others in the same process, through a local map of its Vert.x: the
 * port the notifier's publish API listens on, which the gateway's demo page shows in its publish
 * hint, and whether a replay role of this process serves a store that every replay process
 * shares, so that this process's requests to the replay role need not leave it. Nothing here
 * crosses the cluster; a role running in another process is unknown.
 */
public final class LocalRoles {

  private static final String MAP = "herald.local.roles";
  private static final String PUBLISH_PORT = "notifier.publishPort";
  private static final String SHARED_REPLAY = "replay.sharedStore";

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

  /**
   * Records that a replay role of this process serves (true) or no longer serves (false) a store
   * every replay process of the cluster shares ({@code redis}, {@code postgres},
   * {@code hazelcast}): any replay process answers the same, so the nearest will do. Not for
   * {@code memory}, whose history is the process's own.
   */
  public static void sharedReplay(Vertx vertx, boolean serving) {
    if (serving) {
      vertx.sharedData().<String, Boolean>getLocalMap(MAP).put(SHARED_REPLAY, Boolean.TRUE);
    } else {
      vertx.sharedData().<String, Boolean>getLocalMap(MAP).remove(SHARED_REPLAY);
    }
  }

  /** Whether a replay role of this process serves a shared store ({@link #sharedReplay(Vertx, boolean)}). */
  public static boolean sharedReplay(Vertx vertx) {
    return vertx.sharedData().<String, Boolean>getLocalMap(MAP).get(SHARED_REPLAY) != null;
  }
}
