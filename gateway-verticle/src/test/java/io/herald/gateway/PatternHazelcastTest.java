package io.herald.gateway;

import io.herald.common.HeraldLauncher;
import io.herald.common.config.ClusterOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static io.herald.gateway.GatewayHarness.await;

/**
 * The pattern resume of {@link PatternSubscriptionTest#resumeOnEachStore} on the fourth store,
 * Hazelcast, which lives in the cluster of a clustered Vert.x: a one-member cluster of its own
 * here (a fresh cluster name), real Hazelcast, real HTTP.
 */
class PatternHazelcastTest {

  @Test
  @DisplayName("Resume of a pattern across new topics is exact on the Hazelcast store")
  void resumeOnHazelcast() throws Exception {
    Vertx vertx = await(HeraldLauncher.clusteredVertx(new ClusterOptions(new JsonObject().put("enabled", true)
      .put("name", "herald-pattern-" + ProcessHandle.current().pid() + "-" + Long.toString(System.nanoTime(), 36)))));
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject(), new JsonObject().put("store", "hazelcast"))) {
      PatternSubscriptionTest.assertExactResumeAcrossNewTopics(h);
    } finally {
      await(vertx.close());
    }
  }
}
