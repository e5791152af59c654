package io.herald.standalone;

import io.herald.testsupport.SseClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.function.DoublePredicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each Herald metric moves when its event happens, scraped from the real jar's {@code /metrics}
 * the way Prometheus does.
 */
class MetricsIT extends JarTestBase {

  private static final Duration WAIT = Duration.ofSeconds(15);

  @Test
  @DisplayName("Connections, publishes by source, deliveries, latency, resumes, replay reads, resets and rejections are counted")
  void metricsMove() throws Exception {
    herald = HeraldProcess.start("metrics", Map.of());
    vertx = Vertx.vertx();
    HttpClient http = vertx.createHttpClient();

    // The start-up probe (GET /events) has come and gone.
    awaitMetric("herald_connections_active{transport=\"sse\"}", v -> v == 0);
    double opened = metric("herald_connections_opened_total{transport=\"sse\"}");
    double closed = metric("herald_connections_closed_total{transport=\"sse\"}");
    SseClient a = SseClient.open(http, herald.gatewayPort, "/events?topic=m");
    a.await(l -> !l.isEmpty(), WAIT);
    awaitMetric("herald_connections_active{transport=\"sse\"}", v -> v == 1);
    assertThat(metric("herald_connections_opened_total{transport=\"sse\"}")).isEqualTo(opened + 1);

    String id1 = herald.publishId("{\"topic\":\"m\",\"data\":\"one\"}");
    herald.publish("{\"topic\":\"m\",\"data\":\"two\"}");
    a.awaitAppEvents(2, WAIT);
    assertThat(metric("herald_events_published_total{source=\"http\"}")).isEqualTo(2);
    awaitMetric("herald_deliveries_total", v -> v == 2);
    assertThat(metric("herald_delivery_latency_seconds_count")).isEqualTo(2);
    assertThat(metric("herald_delivery_latency_seconds_bucket{le=\"+Inf\"}")).isEqualTo(2);

    try (SseClient resumed = SseClient.open(http, herald.gatewayPort, "/events?topic=m", "Last-Event-ID", id1)) {
      resumed.awaitAppEvents(1, WAIT);
    }
    assertThat(metric("herald_resumes_total")).isEqualTo(1);
    assertThat(metric("herald_replay_reads_total")).isEqualTo(1);
    assertThat(metric("herald_replay_read_events_sum")).isEqualTo(1);

    try (SseClient garbage = SseClient.open(http, herald.gatewayPort, "/events?topic=m", "Last-Event-ID", "not-a-cursor")) {
      garbage.await(l -> l.stream().anyMatch(e -> e.type().equals("reset")), WAIT);
    }
    assertThat(metric("herald_resets_total{reason=\"unknown_last_event_id\"}")).isEqualTo(1);

    assertThat(herald.post("/publish", "{\"topic\":\"bad topic\",\"data\":1}").statusCode()).isEqualTo(400);
    assertThat(metric("herald_rejections_total{reason=\"invalid_topic\"}")).isEqualTo(1);

    a.close();
    awaitMetric("herald_connections_active{transport=\"sse\"}", v -> v == 0);
    assertThat(metric("herald_connections_closed_total{transport=\"sse\"}")).isEqualTo(closed + 3);
    // Vert.x's own metrics are there too: the event bus and the HTTP servers.
    assertThat(scrape()).contains("vertx_eventbus_", "vertx_http_server_requests_total");
  }

  private String scrape() throws Exception {
    HttpResponse<String> resp = herald.admin("/metrics");
    assertThat(resp.statusCode()).isEqualTo(200);
    return resp.body();
  }

  /** The value of one sample, {@code name{labels}} exactly as exported; NaN when absent. */
  private double metric(String sample) throws Exception {
    for (String line : scrape().split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim());
      }
    }
    return Double.NaN;
  }

  private void awaitMetric(String sample, DoublePredicate ok) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    double v = Double.NaN;
    while (System.nanoTime() < deadline) {
      v = metric(sample);
      if (ok.test(v)) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(sample + " stayed at " + v);
  }
}
