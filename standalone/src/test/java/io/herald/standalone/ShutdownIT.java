package io.herald.standalone;

import io.herald.common.testing.SseClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ShutdownIT {

  @Test
  @DisplayName("On SIGTERM the hub ends every stream cleanly and exits within a few seconds")
  void sigtermEndsStreamsAndExits() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (HeraldProcess herald = HeraldProcess.start("shutdown", Map.of())) {
      HttpClient http = vertx.createHttpClient();
      SseClient a = SseClient.open(http, herald.gatewayPort, "/events?topic=s1");
      SseClient b = SseClient.open(http, herald.gatewayPort, "/events?topic=s1&topic=s2");
      a.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
      b.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
      long t0 = System.nanoTime();
      herald.process.destroy(); // SIGTERM
      a.awaitEnd(Duration.ofSeconds(5));
      b.awaitEnd(Duration.ofSeconds(5));
      assertThat(a.failure()).as("stream a ended cleanly").isNull();
      assertThat(b.failure()).as("stream b ended cleanly").isNull();
      boolean exited = herald.process.waitFor(5, TimeUnit.SECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(exited).as("exited within 5 s (took %d ms)", ms).isTrue();
      assertThat(herald.process.exitValue()).isIn(0, 143);
      String log = herald.logTail();
      assertThat(log).contains("stopped");
      int ended = java.util.regex.Pattern.compile("ended (\\d+) stream\\(s\\) for shutdown").matcher(log).results()
        .mapToInt(m -> Integer.parseInt(m.group(1))).sum();
      assertThat(ended).as("streams ended by the gateway instances").isEqualTo(2);
      System.out.println("shutdown took " + ms + " ms");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
