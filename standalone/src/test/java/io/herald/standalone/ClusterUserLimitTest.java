package io.herald.standalone;

import io.herald.gateway.GatewayOptions;
import io.herald.gateway.GatewayVerticle;
import io.herald.common.EventCodec;
import io.herald.common.HeraldLauncher;
import io.herald.common.config.ClusterOptions;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.Jwt;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code gateway.maxConnectionsPerUser} holds across the cluster: two clustered nodes in one
 * JVM, each with a JWT gateway; a user's streams on one gateway count on the other.
 */
class ClusterUserLimitTest {

  private static final String SECRET = "a-cluster-test-secret-long-enough-for-hs256";
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();

  private static Vertx nodeA;
  private static Vertx nodeB;
  private static GatewayVerticle gatewayA;
  private static GatewayVerticle gatewayB;

  @BeforeAll
  static void formCluster() throws Exception {
    ClusterOptions cluster = new ClusterOptions(new JsonObject().put("enabled", true)
      .put("name", "herald-users-" + ProcessHandle.current().pid()));
    nodeA = await(HeraldLauncher.clusteredVertx(cluster));
    nodeB = await(HeraldLauncher.clusteredVertx(cluster));
    EventCodec.register(nodeA);
    EventCodec.register(nodeB);
    await(nodeA.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    JsonObject config = new JsonObject().put("port", 0).put("instances", 1).put("authMode", "jwt").put("jwtSecret", SECRET)
      .put("maxConnectionsPerUser", 2);
    gatewayA = new GatewayVerticle(new GatewayOptions(config));
    gatewayB = new GatewayVerticle(new GatewayOptions(config));
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
  }

  @Test
  @DisplayName("A user's streams on one gateway count on the other: the one over the limit gets 429 anywhere; others are served; a closed stream frees its place cluster-wide")
  void perUserAcrossTheCluster() throws Exception {
    String alice = token("alice");
    List<HttpResponse<InputStream>> open = new ArrayList<>();
    try {
      HttpResponse<InputStream> onA = stream(gatewayA, alice);
      HttpResponse<InputStream> onB = stream(gatewayB, alice);
      assertThat(onA.statusCode()).isEqualTo(200);
      assertThat(onB.statusCode()).isEqualTo(200);
      open.add(onA);
      open.add(onB);

      // The counts spread within a moment (the cluster map, the list of gateway processes): a
      // third stream that got through meanwhile is closed again and the check repeated.
      HttpResponse<InputStream> third = awaitStatus(gatewayA, alice, 429);
      assertThat(third.statusCode()).isEqualTo(429);
      assertThat(new String(third.body().readAllBytes(), StandardCharsets.UTF_8)).contains("rate_limited", "across the cluster");
      assertThat(third.headers().firstValue("Retry-After")).isPresent();

      HttpResponse<InputStream> bob = stream(gatewayA, token("bob"));
      assertThat(bob.statusCode()).as("another user").isEqualTo(200);
      open.add(bob);

      onB.body().close();
      open.remove(onB);
      HttpResponse<InputStream> again = awaitStatus(gatewayA, alice, 200);
      assertThat(again.statusCode()).as("alice after closing her stream on B").isEqualTo(200);
      open.add(again);
    } finally {
      for (HttpResponse<InputStream> r : open) {
        r.body().close();
      }
    }
  }

  private static HttpResponse<InputStream> awaitStatus(GatewayVerticle gateway, String token, int want) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (true) {
      HttpResponse<InputStream> r = stream(gateway, token);
      if (r.statusCode() == want || System.nanoTime() > deadline) {
        return r;
      }
      r.body().close();
      Thread.sleep(250);
    }
  }

  private static HttpResponse<InputStream> stream(GatewayVerticle gateway, String token) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.actualPort() + "/events?topic=t"))
      .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build();
    return HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
  }

  private static String token(String sub) throws Exception {
    long now = System.currentTimeMillis() / 1000;
    return Jwt.hs256(new JsonObject().put("sub", sub).put("topics", new JsonArray().add("t")).put("exp", now + 600), SECRET);
  }


  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
