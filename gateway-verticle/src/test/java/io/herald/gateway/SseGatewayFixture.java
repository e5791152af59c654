package io.herald.gateway;

import io.herald.testsupport.Await;

import java.time.Duration;

/** What the SSE gateway tests share: the wait bound and a condition poll, also used by other transports' tests. */
abstract class SseGatewayFixture {

  static final Duration WAIT = Duration.ofSeconds(10);

  static void awaitCondition(java.util.function.BooleanSupplier cond) throws InterruptedException {
    Await.until("condition", cond, WAIT);
  }
}
