package io.herald.standalone;

import io.herald.common.EventCodec;
import io.herald.common.HeraldLauncher;
import io.herald.common.config.ClusterOptions;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.GatewayVerticle;
import io.herald.notifier.NotifierOptions;
import io.herald.notifier.NotifierVerticle;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.SseClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;

import static io.herald.standalone.MercurePublishTest.HTTP;
import static io.herald.standalone.MercurePublishTest.SUBSCRIBER_SECRET;
import static io.herald.standalone.MercurePublishTest.WAIT;
import static io.herald.standalone.MercurePublishTest.await;
import static io.herald.standalone.MercurePublishTest.enc;
import static io.herald.standalone.MercurePublishTest.sign;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Active subscriptions across a cluster: two clustered nodes in one JVM, each with a gateway
 * (the replay and notifier roles on the first). A subscriber on the first gateway is listed by
 * the API of the second, and a watcher on the second receives its subscription events.
 */
class MercureSubscriptionsClusterTest {

  private static Vertx one;
  private static Vertx two;
  private static int port1;
  private static int port2;

  @BeforeAll
  static void formCluster() throws Exception {
    ClusterOptions cluster = new ClusterOptions(new JsonObject().put("enabled", true)
      .put("name", "herald-mercure-subs-" + ProcessHandle.current().pid()));
    one = await(HeraldLauncher.clusteredVertx(cluster));
    two = await(HeraldLauncher.clusteredVertx(cluster));
    EventCodec.register(one);
    EventCodec.register(two);
    await(one.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    await(one.deployVerticle(new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)))));
    port1 = gateway(one);
    port2 = gateway(two);
  }

  private static int gateway(Vertx vertx) throws Exception {
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1)
      .put("mercureEnabled", true).put("mercurePublisherJwtKey", MercurePublishTest.PUBLISHER_SECRET)
      .put("mercureSubscriberJwtKey", SUBSCRIBER_SECRET).put("mercureSubscriptions", true)));
    await(vertx.deployVerticle(gateway));
    return gateway.actualPort();
  }

  @AfterAll
  static void leave() throws Exception {
    for (Vertx v : new Vertx[] {two, one}) {
      if (v != null) {
        await(v.close());
      }
    }
  }

  /** Opens a stream, waiting until the other roles' addresses are known on the gateway's node. */
  private static SseClient openOnceReady(Vertx vertx, int port, String path, String token) throws Exception {
    HttpClient http = vertx.createHttpClient();
    for (int attempt = 0; ; attempt++) {
      try {
        return SseClient.open(http, port, path, "Authorization", "Bearer " + token);
      } catch (Exception e) {
        if (attempt >= 600 || !String.valueOf(e.getMessage()).contains("503")) {
          throw e;
        }
        await(SseClient.delay(vertx, 100)); // the cluster's handler map has not reached this node yet
      }
    }
  }

  private static JsonArray listed(int port, String token) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure/subscriptions"))
      .timeout(WAIT).header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body()).getJsonArray("subscriptions");
  }

  private static boolean lists(int port, String token, String match, boolean expected) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      boolean found = listed(port, token).stream().anyMatch(o -> match.equals(((JsonObject) o).getString("match")));
      if (found == expected) {
        return true;
      }
      Thread.sleep(50);
    }
    return false;
  }

  @Test
  @DisplayName("the API of one gateway lists a subscriber of another, and a watcher there receives its events, active then not")
  void acrossGateways() throws Exception {
    String token = sign(new JsonObject().put("mercure", new JsonObject().put("subscribe", new JsonArray().add("*"))), SUBSCRIBER_SECRET, "JWT");
    String topic = "https://example.com/" + UUID.randomUUID();
    SseClient watcher = openOnceReady(two, port2,
      "/.well-known/mercure?match_urlpattern=" + enc(MercureSubscriptionsTest.EVENTS), token);
    SseClient subscriber = openOnceReady(one, port1, "/.well-known/mercure?match=" + enc(topic), token);

    assertThat(lists(port2, token, topic, true)).as("gateway 2 lists the subscriber of gateway 1").isTrue();
    watcher.await(ev -> ev.stream().anyMatch(e -> e.data().contains("\"match\":\"" + topic + "\"") && e.data().contains("\"active\":true")), WAIT);

    subscriber.close();
    watcher.await(ev -> ev.stream().anyMatch(e -> e.data().contains("\"match\":\"" + topic + "\"") && e.data().contains("\"active\":false")), WAIT);
    assertThat(lists(port2, token, topic, false)).as("gone from gateway 2's list once it left gateway 1").isTrue();
    watcher.close();
  }
}
