package io.herald.standalone;

import io.herald.common.Addresses;
import io.herald.common.EventCodec;
import io.herald.common.HeraldLauncher;
import io.herald.common.LocalRoles;
import io.herald.common.config.ClusterOptions;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.GatewayVerticle;
import io.herald.notifier.NotifierOptions;
import io.herald.notifier.NotifierVerticle;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.RedisServerProcess;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.impl.clustered.ClusteredMessage;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two clustered nodes that each run every role, as {@code herald.jar --cluster} does, on one
 * shared Redis store: each node's gateway and notifier ask their own replay role (the cluster's
 * other replay role answers the same, from the same store, but a hop and two serializations
 * away), and a client that moves from one node to the other resumes exactly. With the in-memory
 * store, whose history is one process's own, requests go wherever the event bus sends them, as
 * before.
 */
class ClusteredAllInOneTest {

  private static RedisServerProcess redis;
  private static Vertx nodeA;
  private static Vertx nodeB;
  private static GatewayVerticle gatewayA;
  private static GatewayVerticle gatewayB;
  /** Replay requests that reached each node's replay role, by node. */
  private static final Map<Vertx, AtomicInteger> REPLAY_REQUESTS = new ConcurrentHashMap<>();
  /** Of those, the ones that came over the wire from another node (Vert.x's internal ClusteredMessage says so). */
  private static final Map<Vertx, AtomicInteger> FROM_ANOTHER_NODE = new ConcurrentHashMap<>();

  @BeforeAll
  static void formCluster() throws Exception {
    redis = new RedisServerProcess().start();
    ClusterOptions cluster = new ClusterOptions(new JsonObject().put("enabled", true)
      .put("name", "herald-allinone-test-" + ProcessHandle.current().pid()));
    nodeA = await(HeraldLauncher.clusteredVertx(cluster));
    nodeB = await(HeraldLauncher.clusteredVertx(cluster));
    JsonObject store = new JsonObject().put("store", "redis").put("redisUrl", redis.url())
      .put("redisKeyPrefix", "allinone-" + ProcessHandle.current().pid() + ":");
    for (Vertx v : List.of(nodeA, nodeB)) {
      EventCodec.register(v);
      AtomicInteger count = new AtomicInteger();
      AtomicInteger remote = new AtomicInteger();
      REPLAY_REQUESTS.put(v, count);
      FROM_ANOTHER_NODE.put(v, remote);
      v.eventBus().addInboundInterceptor(ctx -> {
        if (ctx.message().address().startsWith("herald.replay.")) {
          count.incrementAndGet();
          if (ctx.message() instanceof ClusteredMessage<?, ?> m && m.isFromWire()) {
            remote.incrementAndGet();
          }
        }
        ctx.next();
      });
      await(v.deployVerticle(new ReplayVerticle(new ReplayOptions(store))));
      await(v.deployVerticle(new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)))));
    }
    gatewayA = new GatewayVerticle(new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1)));
    gatewayB = new GatewayVerticle(new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1).put("fanout", "node")));
    await(nodeA.deployVerticle(gatewayA));
    await(nodeB.deployVerticle(gatewayB));
  }

  @AfterAll
  static void leave() throws Exception {
    for (Vertx v : new Vertx[] {nodeB, nodeA}) {
      if (v != null) {
        await(v.close());
      }
    }
    if (redis != null) {
      redis.close();
    }
  }

  @BeforeEach
  void countFromZero() {
    REPLAY_REQUESTS.values().forEach(c -> c.set(0));
    FROM_ANOTHER_NODE.values().forEach(c -> c.set(0));
  }

  /** A publish handled by {@code node}'s own notifier (the event bus would otherwise pick one of the two). */
  private static Future<JsonObject> publish(Vertx node, String topic, String data) {
    return node.eventBus().<JsonObject>request(Addresses.PUBLISH, new JsonObject().put("topic", topic).put("data", data),
      new DeliveryOptions().setLocalOnly(true)).map(m -> m.body());
  }

  @Test
  @DisplayName("On a shared store each node's roles ask their own replay role: streams, resumes and publishes on node A send nothing to node B's")
  void requestsStayOnTheirNode() throws Exception {
    assertThat(LocalRoles.sharedReplay(nodeA)).as("node A's replay role says it serves a shared store").isTrue();
    var http = nodeA.createHttpClient();
    try {
      String lastId;
      try (SseClient first = SseClient.open(http, gatewayA.actualPort(), "/events?topic=home1&topic=home2")) {
        first.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
        for (int i = 0; i < 10; i++) {
          await(publish(nodeA, "home1", "h" + i));
        }
        lastId = first.awaitAppEvents(10, Duration.ofSeconds(10)).get(4).id();
      }
      try (SseClient again = SseClient.open(http, gatewayA.actualPort(), "/events?topic=home1&topic=home2", "Last-Event-ID", lastId)) {
        assertThat(again.awaitAppEvents(5, Duration.ofSeconds(10))).extracting(SseEvent::data)
          .containsExactly("h5", "h6", "h7", "h8", "h9");
      }
    } finally {
      await(http.close());
    }
    // Heads, reads and appends: all of them at node A's replay role, none sent to node B's.
    assertThat(FROM_ANOTHER_NODE.get(nodeB).get()).as("requests node B's replay role got from node A").isZero();
    assertThat(FROM_ANOTHER_NODE.get(nodeA).get()).as("requests node A's replay role got from node B").isZero();
    assertThat(REPLAY_REQUESTS.get(nodeA).get()).as("requests at node A's replay role").isGreaterThanOrEqualTo(12);
  }

  @Test
  @DisplayName("A client that moves from node A to node B resumes there exactly, from the store both replay roles share")
  void resumeAcrossNodes() throws Exception {
    var httpA = nodeA.createHttpClient();
    var httpB = nodeB.createHttpClient();
    try {
      String lastId;
      try (SseClient first = SseClient.open(httpA, gatewayA.actualPort(), "/events?topic=away&topic=away2")) {
        first.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
        await(publish(nodeA, "away", "a1"));
        lastId = first.awaitAppEvents(1, Duration.ofSeconds(10)).get(0).id();
      }
      await(publish(nodeA, "away", "a2"));
      await(publish(nodeB, "away2", "b1"));
      await(publish(nodeB, "away", "a3"));
      try (SseClient second = SseClient.open(httpB, gatewayB.actualPort(), "/events?topic=away&topic=away2", "Last-Event-ID", lastId)) {
        List<SseEvent> got = second.awaitAppEvents(3, Duration.ofSeconds(10));
        assertThat(got).extracting(SseEvent::data).containsExactlyInAnyOrder("a2", "b1", "a3");
        assertThat(got.stream().filter(e -> !"b1".equals(e.data())).map(SseEvent::data)).containsExactly("a2", "a3");
        await(publish(nodeA, "away", "a4"));
        await(publish(nodeB, "away", "a5"));
        // Live after the replay, each event once: a5 is the fifth event, nothing came twice before it.
        List<SseEvent> all = second.awaitAppEvents(5, Duration.ofSeconds(10));
        assertThat(all).hasSize(5);
        assertThat(all.subList(3, 5)).extracting(SseEvent::data).containsExactly("a4", "a5");
      }
    } finally {
      await(httpA.close());
      await(httpB.close());
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
