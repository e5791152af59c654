package io.herald.standalone;

import io.herald.common.testing.SseClient;
import io.herald.common.testing.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's quick start, done by a program against the real all-in-one jar. */
class QuickStartIT {

  private static Vertx vertx;
  private static HttpClient http;

  @BeforeAll
  static void client() {
    vertx = Vertx.vertx();
    http = vertx.createHttpClient();
  }

  @AfterAll
  static void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("Subscribe, publish, and the event arrives with the id the publish answered")
  void subscribePublishReceive() throws Exception {
    try (HeraldProcess herald = HeraldProcess.start("quick-start", Map.of());
         SseClient sub = SseClient.open(http, herald.gatewayPort, "/events?topic=demo")) {
      assertThat(sub.response().getHeader("Content-Type")).isEqualTo("text/event-stream; charset=utf-8");
      assertThat(sub.response().getHeader("Cache-Control")).isEqualTo("no-cache");
      assertThat(sub.response().getHeader("X-Accel-Buffering")).isEqualTo("no");
      sub.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
      assertThat(sub.parser().rawLines().get(0)).startsWith("retry: ");
      JsonObject answer = herald.publish("{\"topic\":\"demo\",\"type\":\"greeting\",\"data\":{\"hello\":\"world\"}}");
      String id = answer.getJsonArray("events").getJsonObject(0).getString("id");
      List<SseEvent> got = sub.awaitAppEvents(1, Duration.ofSeconds(10));
      assertThat(got.get(0)).isEqualTo(new SseEvent(id, "greeting", "{\"hello\":\"world\"}"));
    }
  }
}
