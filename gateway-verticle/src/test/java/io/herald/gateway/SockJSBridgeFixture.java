package io.herald.gateway;

import java.time.Duration;

import static io.herald.gateway.SseGatewayTest.awaitCondition;

/** What the SockJS bridge tests share: the wait bound and waiting for a registration to be live. */
abstract class SockJSBridgeFixture {

  static final Duration WAIT = Duration.ofSeconds(10);

  /**
   * Waits until a socket's registration of the topic receives live events (it is positioned):
   * an event published after this reaches it live, not as part of a replay.
   */
  static void awaitLive(GatewayHarness h, String topic) throws Exception {
    awaitCondition(() -> h.gateway.sse().bridge().liveRegistrations(topic) > 0);
  }
}
