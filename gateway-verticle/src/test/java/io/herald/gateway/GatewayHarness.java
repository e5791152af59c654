package io.herald.gateway;

import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.EventDraft;
import io.herald.common.replay.ReplayClient;
import io.herald.testsupport.SseClient;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real replay verticle and a real gateway on one Vert.x, driven from the test thread: events
 * are published through the replay verticle's append address (exactly what the notifier does),
 * clients connect over loopback HTTP.
 */
final class GatewayHarness implements AutoCloseable {

  final Vertx vertx;
  final GatewayVerticle gateway;
  final ReplayClient replay;
  final HttpClient http;
  private final String gatewayDeployment;

  GatewayHarness(Vertx vertx, JsonObject gatewayConfig, JsonObject replayConfig) throws Exception {
    this.vertx = vertx;
    EventCodec.register(vertx);
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions(replayConfig))));
    gateway = new GatewayVerticle(new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1).mergeIn(gatewayConfig)));
    gatewayDeployment = await(vertx.deployVerticle(gateway));
    replay = new ReplayClient(vertx, 5000);
    http = vertx.createHttpClient(new HttpClientOptions(), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(200));
  }

  GatewayHarness(Vertx vertx) throws Exception {
    this(vertx, new JsonObject(), new JsonObject());
  }

  int port() {
    return gateway.actualPort();
  }

  SseClient sse(String path, String... headers) throws Exception {
    return SseClient.open(http, port(), path, headers);
  }

  /** Publishes one text or JSON event per topic and returns what the store assigned. */
  List<Event> publish(String type, String data, boolean json, String... topics) throws Exception {
    List<EventDraft> drafts = new ArrayList<>();
    for (String t : topics) {
      drafts.add(new EventDraft(t, type, data, json, null));
    }
    return await(replay.append(drafts));
  }

  Event publish(String topic, String data) throws Exception {
    return publish("message", data, false, topic).get(0);
  }

  void undeployGateway() throws Exception {
    await(vertx.undeploy(gatewayDeployment));
  }

  static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  /** Closes the HTTP client; the Vert.x instance belongs to the test (VertxExtension closes it). */
  @Override
  public void close() throws Exception {
    await(http.close());
  }
}
