package io.herald.standalone;

import io.herald.gateway.GatewayOptions;
import io.herald.gateway.GatewayVerticle;
import io.herald.common.EventCodec;
import io.herald.common.HeraldLauncher;
import io.herald.common.config.ClusterOptions;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.herald.notifier.NotifierOptions;
import io.herald.notifier.NotifierVerticle;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three clustered Vert.x nodes in one JVM, joined over Hazelcast on loopback: replay and notifier
 * on one, a gateway on each of the two others. The roles meet only on the clustered event bus.
 * Gateway 1 fans out per topic ({@code gateway.fanout = "topic"}, the default), gateway 2 per
 * node: every test runs on both, and on a cluster that mixes them.
 */
class ClusterTest {

  private static Vertx core;
  private static Vertx edge1;
  private static Vertx edge2;
  private static GatewayVerticle gateway1;
  private static GatewayVerticle gateway2;

  @BeforeAll
  static void formCluster() throws Exception {
    ClusterOptions cluster = new ClusterOptions(new JsonObject().put("enabled", true).put("name", "herald-test-" + ProcessHandle.current().pid()));
    core = await(HeraldLauncher.clusteredVertx(cluster));
    edge1 = await(HeraldLauncher.clusteredVertx(cluster));
    edge2 = await(HeraldLauncher.clusteredVertx(cluster));
    for (Vertx v : List.of(core, edge1, edge2)) {
      EventCodec.register(v);
    }
    await(core.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    await(core.deployVerticle(new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)))));
    gateway1 = new GatewayVerticle(new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1).put("fanout", "topic")));
    gateway2 = new GatewayVerticle(new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1).put("fanout", "node")));
    await(edge1.deployVerticle(gateway1));
    await(edge2.deployVerticle(gateway2));
  }

  @AfterAll
  static void leave() throws Exception {
    for (Vertx v : new Vertx[] {edge2, edge1, core}) {
      if (v != null) {
        await(v.close());
      }
    }
  }

  private static Future<JsonObject> publish(Vertx from, String topic, String data) {
    return from.eventBus().<JsonObject>request(io.herald.common.Addresses.PUBLISH,
      new JsonObject().put("topic", topic).put("data", data)).map(m -> m.body());
  }

  @Test
  @DisplayName("An event accepted on one node reaches subscribers on every gateway, and a gateway's channels get only the topics it holds")
  void fanOutAcrossNodes() throws Exception {
    var http1 = edge1.createHttpClient();
    var http2 = edge2.createHttpClient();
    try (SseClient onlyShared = SseClient.open(http1, gateway1.actualPort(), "/events?topic=shared");
         SseClient both = SseClient.open(http2, gateway2.actualPort(), "/events?topic=shared&topic=private")) {
      onlyShared.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
      both.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
      long received1 = gateway1.stats().eventsReceived;
      long received2 = gateway2.stats().eventsReceived;
      // Producers on two different nodes.
      await(publish(core, "shared", "s1"));
      await(publish(edge1, "private", "p1"));
      await(publish(edge2, "shared", "s2"));
      assertThat(onlyShared.awaitAppEvents(2, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("s1", "s2");
      // Order is per topic (s1 before s2); events of different topics may interleave either way.
      assertThat(both.awaitAppEvents(3, Duration.ofSeconds(10))).extracting(SseEvent::data)
        .containsExactlyInAnyOrder("s1", "p1", "s2").containsSubsequence("s1", "s2");
      // A marker on 'shared' after them: once both streams have it, nothing else came before.
      await(publish(core, "shared", "marker"));
      assertThat(onlyShared.awaitAppEvents(3, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("s1", "s2", "marker");
      both.awaitAppEvents(4, Duration.ofSeconds(10));
      assertThat(gateway1.stats().eventsReceived - received1).as("gateway 1 (per topic) holds only 'shared'").isEqualTo(3);
      assertThat(gateway2.stats().eventsReceived - received2).as("gateway 2 (per node) holds both topics").isEqualTo(4);
    } finally {
      await(http1.close());
      await(http2.close());
    }
  }

  @Test
  @DisplayName("A client that moves to another gateway resumes there with its Last-Event-ID, missing nothing")
  void resumeOnAnotherGateway() throws Exception {
    var http1 = edge1.createHttpClient();
    var http2 = edge2.createHttpClient();
    try {
      String lastId;
      try (SseClient first = SseClient.open(http1, gateway1.actualPort(), "/events?topic=move&topic=move2")) {
        first.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
        await(publish(core, "move", "m1"));
        lastId = first.awaitAppEvents(1, Duration.ofSeconds(10)).get(0).id();
      }
      await(publish(core, "move", "m2"));
      await(publish(core, "move2", "n1"));
      try (SseClient second = SseClient.open(http2, gateway2.actualPort(), "/events?topic=move&topic=move2", "Last-Event-ID", lastId)) {
        assertThat(second.awaitAppEvents(2, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("m2", "n1");
        await(publish(edge1, "move", "m3"));
        assertThat(second.awaitAppEvents(3, Duration.ofSeconds(10)).get(2).data()).isEqualTo("m3");
      }
    } finally {
      await(http1.close());
      await(http2.close());
    }
  }

  @Test
  @DisplayName("Streams on a per-node gateway write nothing to the cluster's subscription map; on a per-topic gateway each held topic is registered while held")
  void perNodeStreamsRegisterNothing() throws Exception {
    var http1 = edge1.createHttpClient();
    var http2 = edge2.createHttpClient();
    var cm = ((io.vertx.core.internal.VertxInternal) core).clusterManager();
    try (SseClient onTopic = SseClient.open(http1, gateway1.actualPort(), "/events?topic=reg-topic");
         SseClient onNode = SseClient.open(http2, gateway2.actualPort(), "/events?topic=reg-node")) {
      onTopic.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
      onNode.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
      assertThat(registrations(cm, io.herald.common.Addresses.topic("reg-topic"))).as("per topic: the held topic").hasSize(1);
      assertThat(registrations(cm, io.herald.common.Addresses.topic("reg-node"))).as("per node: no topic address").isEmpty();
      assertThat(registrations(cm, io.herald.common.Addresses.EVENTS)).as("per node: one consumer of every event, from the start")
        .extracting(io.vertx.core.spi.cluster.RegistrationInfo::nodeId).containsExactly(io.herald.common.ClusterView.nodeId(edge2));
      await(publish(core, "reg-node", "r1"));
      assertThat(onNode.awaitAppEvents(1, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("r1");
    } finally {
      await(http1.close());
      await(http2.close());
    }
    // The per-topic gateway's registration goes with its last stream.
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!registrations(cm, io.herald.common.Addresses.topic("reg-topic")).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(registrations(cm, io.herald.common.Addresses.topic("reg-topic"))).isEmpty();
  }

  private static List<io.vertx.core.spi.cluster.RegistrationInfo> registrations(io.vertx.core.spi.cluster.ClusterManager cm, String address)
      throws Exception {
    io.vertx.core.Promise<List<io.vertx.core.spi.cluster.RegistrationInfo>> p = io.vertx.core.Promise.promise();
    cm.getRegistrations(address, p);
    return await(p.future());
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "gateway {0}")
  @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
  @DisplayName("A wave of clients opening streams on one gateway together (per topic: each stream opens on the store's head while its cluster registration is still queued; per node: on the head alone), and an event published the moment it opens, from another node, still arrives, once")
  void waveOfStreamsMissesNothing(int gateway) throws Exception {
    int n = 150;
    Vertx edge = gateway == 1 ? edge1 : edge2;
    int port = (gateway == 1 ? gateway1 : gateway2).actualPort();
    String prefix = "wave" + gateway + "-";
    var http2 = edge.createHttpClient(new io.vertx.core.http.HttpClientOptions(), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(n));
    List<SseClient> clients = new java.util.ArrayList<>();
    try {
      List<Future<SseClient>> opening = new java.util.ArrayList<>();
      for (int i = 0; i < n; i++) {
        opening.add(SseClient.connect(http2, port, "/events?topic=" + prefix + i));
      }
      for (Future<SseClient> f : opening) {
        clients.add(await(f));
      }
      // As each stream says it is ready, publish to its topic from the core node at once:
      // while the wave's registrations are still spreading, some of these fall in the window
      // between the head read and the registration, and must be filled from the store.
      List<Future<JsonObject>> published = new java.util.ArrayList<>();
      for (int i = 0; i < n; i++) {
        clients.get(i).await(l -> !l.isEmpty(), Duration.ofSeconds(20));
        published.add(publish(core, prefix + i, "w" + i));
      }
      for (Future<JsonObject> f : published) {
        await(f);
      }
      for (int i = 0; i < n; i++) {
        String expected = "w" + i;
        assertThat(clients.get(i).awaitAppEvents(1, Duration.ofSeconds(20))).as("client " + i).extracting(SseEvent::data)
          .containsExactly(expected);
      }
      // A second event per topic after the first: still once each, in order, nothing doubled.
      for (int i = 0; i < n; i++) {
        await(publish(edge1, prefix + i, "x" + i));
      }
      for (int i = 0; i < n; i++) {
        assertThat(clients.get(i).awaitAppEvents(2, Duration.ofSeconds(20))).as("client " + i).extracting(SseEvent::data)
          .containsExactly("w" + i, "x" + i);
      }
    } finally {
      for (SseClient c : clients) {
        c.close();
      }
      await(http2.close());
    }
  }

  @Test
  @DisplayName("The cluster-wide view shows connections per node, the total and the held topics, from any node")
  void clusterWideView() throws Exception {
    var http1 = edge1.createHttpClient();
    var http2 = edge2.createHttpClient(new io.vertx.core.http.HttpClientOptions(), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(10));
    try (SseClient a = SseClient.open(http1, gateway1.actualPort(), "/events?topic=view-a");
         SseClient b = SseClient.open(http2, gateway2.actualPort(), "/events?topic=view-b");
         SseClient c = SseClient.open(http2, gateway2.actualPort(), "/events?topic=view-b&topic=view-c")) {
      String node1 = io.herald.common.ClusterView.nodeId(edge1);
      String node2 = io.herald.common.ClusterView.nodeId(edge2);
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      JsonObject view;
      do {
        Thread.sleep(200);
        view = await(io.herald.common.ClusterView.read(core));
      } while (view.getInteger("connections") != 3 && System.nanoTime() < deadline);
      assertThat(view.getInteger("connections")).isEqualTo(3);
      assertThat(view.getJsonObject("nodes").getJsonObject(node1).getInteger("connections")).isEqualTo(1);
      assertThat(view.getJsonObject("nodes").getJsonObject(node2).getInteger("connections")).isEqualTo(2);
      assertThat(view.getJsonObject("nodes").getJsonObject(node2).getJsonArray("topics").getList())
        .containsExactly("view-b", "view-c");
      assertThat(view.getJsonArray("topics").getList()).containsExactly("view-a", "view-b", "view-c");
    } finally {
      await(http1.close());
      await(http2.close());
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
