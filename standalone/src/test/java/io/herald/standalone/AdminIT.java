package io.herald.standalone;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operators' server of the real all-in-one jar: {@code /health}, {@code /ready} and
 * {@code /metrics} on the admin port, the token on {@code /metrics}, the breaker states of a
 * Redis-backed store in both.
 */
class AdminIT {

  private static final String TOKEN = "admin-token-for-tests-0123";
  private HeraldProcess herald;

  @AfterEach
  void stop() {
    if (herald != null) {
      herald.destroy();
    }
  }

  @Test
  @DisplayName("/health and /ready are UP with every role; /metrics serves Prometheus text with Vert.x and breaker metrics, behind the token")
  void healthReadyMetrics() throws Exception {
    Map<String, String> env = HeraldProcess.redisStore("admin");
    env.put("HERALD_ADMIN_TOKEN", TOKEN);
    herald = HeraldProcess.start("admin", env);

    HttpResponse<String> health = get("/health", null);
    assertThat(health.statusCode()).isEqualTo(200);
    JsonObject h = new JsonObject(health.body());
    assertThat(h.getString("status")).isEqualTo("UP");
    assertThat(health.body()).contains("replay-store-write", "replay-store-read", "CLOSED", "\"degraded\":false");

    HttpResponse<String> ready = get("/ready", null);
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("\"replay\"", "gateway-", "notifier-");

    assertThat(get("/metrics", null).statusCode()).isEqualTo(401);
    assertThat(get("/metrics", "wrong-token-wrong-token").statusCode()).isEqualTo(401);
    HttpResponse<String> metrics = get("/metrics", TOKEN);
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
      .contains("herald_breaker_state{breaker=\"replay-store-write\"} 0.0")
      .contains("herald_breaker_state{breaker=\"replay-store-read\"} 0.0")
      .contains("vertx_http_server_");

    HttpResponse<String> unknown = get("/nope", null);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(unknown.body()).getString("error")).isEqualTo("not_found");
  }

  @Test
  @DisplayName("Every metric the shipped Grafana dashboard queries exists in /metrics, and Prometheus scrapes every role")
  void grafanaDashboardMatchesMetrics() throws Exception {
    herald = HeraldProcess.start("admin-grafana", HeraldProcess.redisStore("g"));
    // Make the labelled series exist: a publish over HTTP, a delivery, a reset, a rejection.
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      var http = vertx.createHttpClient();
      try (var sub = io.herald.testsupport.SseClient.open(http, herald.gatewayPort, "/events?topic=g", "Last-Event-ID", "garbage")) {
        sub.await(l -> l.stream().anyMatch(e -> e.type().equals("herald.ready")), Duration.ofSeconds(10));
        herald.publish("{\"topic\":\"g\",\"data\":1}");
        sub.awaitAppEvents(2, Duration.ofSeconds(10));
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
    assertThat(herald.post("/publish", "{\"topic\":\"bad topic\"}").statusCode()).isEqualTo(400);

    String scraped = get("/metrics", null).body();
    java.util.Set<String> families = new java.util.TreeSet<>();
    for (String line : scraped.split("\n")) {
      if (!line.startsWith("#") && !line.isBlank()) {
        families.add(line.split("[{ ]", 2)[0]);
      }
    }
    String dashboard = java.nio.file.Files.readString(java.nio.file.Path.of("..", "docker", "grafana", "herald-dashboard.json"));
    JsonObject json = new JsonObject(dashboard);
    java.util.Set<String> used = new java.util.TreeSet<>();
    java.util.regex.Pattern metricName = java.util.regex.Pattern.compile("\\b((?:herald|vertx)_[a-z_]+)");
    for (Object panel : json.getJsonArray("panels")) {
      for (Object target : ((JsonObject) panel).getJsonArray("targets")) {
        var m = metricName.matcher(((JsonObject) target).getString("expr"));
        while (m.find()) {
          used.add(m.group(1));
        }
      }
    }
    assertThat(used).hasSizeGreaterThan(10);
    assertThat(families).as("metric families in /metrics").containsAll(used);

    String prometheus = java.nio.file.Files.readString(java.nio.file.Path.of("..", "docker", "prometheus.yml"));
    assertThat(prometheus).contains("metrics_path: /metrics", "replay:9090", "notifier:9090", "gateway1:9090", "gateway2:9090");
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    return herald.admin(path, token);
  }

}
