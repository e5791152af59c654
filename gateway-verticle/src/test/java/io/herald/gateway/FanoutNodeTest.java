package io.herald.gateway;

import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code gateway.fanout=node} in one process: the gateway gets its events from the process's one
 * consumer of {@code herald.events}, which the replay role publishes on once the gateway has
 * said so, and its streams get exactly their topics' events, in order, and resume.
 */
class FanoutNodeTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    GatewayHarness.await(vertx.close());
  }

  @Test
  @DisplayName("Per node, alone: a stream gets its topics' events in order and none of another topic's, and resumes with Last-Event-ID")
  void perNodeAlone() throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("fanout", "node"), new JsonObject())) {
      String last;
      try (SseClient s = h.sse("/events?topic=fa&topic=fb")) {
        s.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
        h.publish("fa", "a1");
        h.publish("other", "x1");
        h.publish("fb", "b1");
        h.publish("fa", "a2");
        assertThat(s.awaitAppEvents(3, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("a1", "b1", "a2");
        h.publish("fa", "a3");
        var got = s.awaitAppEvents(4, Duration.ofSeconds(10));
        assertThat(got).extracting(SseEvent::data).containsExactly("a1", "b1", "a2", "a3");
        last = got.get(1).id();
      }
      try (SseClient again = h.sse("/events?topic=fa&topic=fb", "Last-Event-ID", last)) {
        assertThat(again.awaitAppEvents(2, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("a2", "a3");
        h.publish("fb", "b2");
        assertThat(again.awaitAppEvents(3, Duration.ofSeconds(10)).get(2).data()).isEqualTo("b2");
      }
      // Live: a1, b1, a2, a3 on the first stream, b2 on the second (a2 and a3 came from the store);
      // "other" was held by no stream and reached no channel.
      assertThat(h.gateway.stats().eventsReceived).as("only the held topics' events reach the channels").isEqualTo(5);
    }
  }

  @Test
  @DisplayName("Per node: the deployment's fan-out table is in the process's map while the gateway runs, and gone once it is undeployed")
  void tableGoesWithTheDeployment() throws Exception {
    var tables = vertx.sharedData().getLocalMap("herald.gateway.fanout");
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("fanout", "node").put("instances", 2), new JsonObject())) {
      assertThat(tables.keySet()).as("one table for the deployment").hasSize(1);
      h.undeployGateway();
      assertThat(tables.keySet()).as("a redeploy does not leave the old table behind").isEmpty();
    }
  }
}
