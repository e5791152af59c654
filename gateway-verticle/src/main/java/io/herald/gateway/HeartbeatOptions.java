package io.herald.gateway;

import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonObject;

/**
 * The heartbeat keys of the {@code gateway} section: how often an idle stream gets a heartbeat,
 * what a client may ask for, and how soon a vanished peer is dropped. Part of {@link GatewayOptions}.
 */
public final class HeartbeatOptions {

  /**
   * Seconds a stream may stay silent before it gets a heartbeat (an SSE comment, a WebSocket
   * ping, a SockJS {@code h} frame): keeps proxies and NATs from closing it. A stream that
   * carried data within its interval gets none. A client may ask for its own interval with
   * {@code heartbeat=<seconds>}, within {@code heartbeatMinSeconds} and {@code heartbeatMaxSeconds}.
   */
  public static final int DEFAULT_HEARTBEAT_SECONDS = 15;
  /**
   * Shortest heartbeat interval a client may ask for ({@code heartbeat=<seconds>}). 5: below the
   * idle timeouts of every common proxy, load balancer and mobile NAT (30 s and more) with room to
   * spare, and it caps what one client can make the gateway write for it at 3 times the default.
   * A {@code heartbeatSeconds} below it lowers it to that.
   */
  public static final int DEFAULT_HEARTBEAT_MIN_SECONDS = 5;
  /** Longest heartbeat interval a client may ask for; 0: {@code heartbeatSeconds}. */
  public static final int DEFAULT_HEARTBEAT_MAX_SECONDS = 0;
  /**
   * Seconds written data may stay unacknowledged before the kernel drops the connection
   * ({@code TCP_USER_TIMEOUT} on accepted sockets; native epoll transport only): a client that
   * vanished without a word is closed within its heartbeat interval plus this. WebSocket clients
   * must also answer a ping within it (on any transport). 0: the kernel's default (about 15 min).
   */
  public static final int DEFAULT_DEAD_PEER_TIMEOUT_SECONDS = 30;

  private final int heartbeatSeconds;
  private final int heartbeatMinSeconds;
  private final int heartbeatMaxSeconds;
  private final int deadPeerTimeoutSeconds;

  HeartbeatOptions(ConfigReader r) {
    heartbeatSeconds = r.getInt("heartbeatSeconds", DEFAULT_HEARTBEAT_SECONDS, 1, 3600);
    heartbeatMinSeconds = r.getInt("heartbeatMinSeconds", DEFAULT_HEARTBEAT_MIN_SECONDS, 1, 3600);
    heartbeatMaxSeconds = r.getInt("heartbeatMaxSeconds", DEFAULT_HEARTBEAT_MAX_SECONDS, 0, 3600);
    deadPeerTimeoutSeconds = r.getInt("deadPeerTimeoutSeconds", DEFAULT_DEAD_PEER_TIMEOUT_SECONDS, 0, 3600);
  }

  /** Checks that need every key read (after the unknown ones were refused). */
  void check(ConfigReader r) {
    if (heartbeatMaxSeconds != 0 && heartbeatMaxSeconds < heartbeatSeconds) {
      throw new ConfigException(r.key("heartbeatMaxSeconds"), "must be 0 (gateway.heartbeatSeconds) or at least gateway.heartbeatSeconds ("
        + heartbeatSeconds + "), got " + heartbeatMaxSeconds);
    }
  }

  public int heartbeatSeconds() { return heartbeatSeconds; }
  /** The shortest heartbeat interval a client may ask for, seconds: {@code heartbeatMinSeconds}, at most {@code heartbeatSeconds}. */
  public int heartbeatMinSeconds() { return Math.min(heartbeatMinSeconds, heartbeatSeconds); }
  /** The longest heartbeat interval a client may ask for, seconds ({@code heartbeatMaxSeconds}, 0 resolved). */
  public int heartbeatMaxSeconds() { return heartbeatMaxSeconds == 0 ? heartbeatSeconds : heartbeatMaxSeconds; }
  /** {@code heartbeatMaxSeconds} as configured (0: {@code heartbeatSeconds}). */
  int heartbeatMaxSecondsAsSet() { return heartbeatMaxSeconds; }
  /** {@code TCP_USER_TIMEOUT} and the WebSocket pong deadline, seconds; 0: off. */
  public int deadPeerTimeoutSeconds() { return deadPeerTimeoutSeconds; }

  JsonObject toJson() {
    return new JsonObject()
      .put("heartbeatSeconds", heartbeatSeconds)
      .put("heartbeatMinSeconds", heartbeatMinSeconds)
      .put("heartbeatMaxSeconds", heartbeatMaxSeconds)
      .put("deadPeerTimeoutSeconds", deadPeerTimeoutSeconds);
  }
}
