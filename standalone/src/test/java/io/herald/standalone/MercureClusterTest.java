package io.herald.standalone;

import io.herald.common.EventCodec;
import io.herald.common.HeraldLauncher;
import io.herald.common.config.ClusterOptions;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.GatewayVerticle;
import io.herald.notifier.NotifierOptions;
import io.herald.notifier.NotifierVerticle;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;

import static io.herald.standalone.MercurePublishTest.await;
import static io.herald.standalone.MercurePublishTest.enc;
import static io.herald.standalone.MercurePublishTest.form;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Mercure publish endpoint in a cluster: two clustered nodes in one JVM, the replay and
 * notifier roles on one, a gateway alone on the other. A form POST to the gateway's
 * {@code /.well-known/mercure} crosses the event bus to the notifier, is stored, and comes back
 * to the gateway's subscribers.
 */
class MercureClusterTest {

  private static Vertx store;
  private static Vertx front;
  private static int port;

  @BeforeAll
  static void formCluster() throws Exception {
    ClusterOptions cluster = new ClusterOptions(new JsonObject().put("enabled", true)
      .put("name", "herald-mercure-" + ProcessHandle.current().pid()));
    store = await(HeraldLauncher.clusteredVertx(cluster));
    front = await(HeraldLauncher.clusteredVertx(cluster));
    EventCodec.register(store);
    EventCodec.register(front);
    await(store.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    await(store.deployVerticle(new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)))));
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1)
      .put("mercureEnabled", true).put("mercurePublisherJwtKey", MercurePublishTest.PUBLISHER_SECRET)
      .put("mercureAnonymous", true)));
    await(front.deployVerticle(gateway));
    port = gateway.actualPort();
  }

  @AfterAll
  static void leave() throws Exception {
    for (Vertx v : new Vertx[] {front, store}) {
      if (v != null) {
        await(v.close());
      }
    }
  }

  /** Opens the stream, waiting until the replay role's addresses are known on the gateway's node. */
  private static SseClient openOnceReady(String path) throws Exception {
    io.vertx.core.http.HttpClient http = front.createHttpClient();
    for (int attempt = 0; ; attempt++) {
      try {
        return SseClient.open(http, port, path);
      } catch (Exception e) {
        if (attempt >= 600 || !String.valueOf(e.getMessage()).contains("503")) {
          throw e;
        }
        await(SseClient.delay(front, 100)); // the cluster's handler map has not reached this node yet
      }
    }
  }

  @Test
  @DisplayName("a publish to a gateway without a notifier on its node is stored by the other node and delivered to the gateway's subscribers")
  void publishAcrossTheCluster() throws Exception {
    String topic = "https://example.com/" + UUID.randomUUID() + "?lang=fr";
    MercurePublishTest client = new MercurePublishTest();
    client.port = port;
    String token = MercurePublishTest.publisherToken(new JsonArray().add("*"));
    SseClient live = openOnceReady("/events?topic=" + enc(topic));
    HttpResponse<String> published = client.post(form("topic", topic, "data", "across"), "Authorization", "Bearer " + token);
    assertThat(published.statusCode()).as(published.body()).isEqualTo(200);
    List<SseEvent> events = live.awaitAppEvents(1, MercurePublishTest.WAIT);
    live.close();
    assertThat(events).extracting(e -> "#" + e.id()).as("the answer is the id as an IRI: #cursor").containsExactly(published.body());
    assertThat(events).extracting(SseEvent::data).containsExactly("across");
  }
}
