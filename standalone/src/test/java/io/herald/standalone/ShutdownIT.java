package io.herald.standalone;

import io.herald.common.testing.SseClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** SIGTERM on the real all-in-one jar: streams end cleanly (clients reconnect elsewhere) and the JVM exits. */
class ShutdownIT {

  private Vertx vertx;
  private HeraldProcess herald;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (herald != null) {
      herald.destroy();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("On SIGTERM every SSE stream ends cleanly and the process exits within 5 s")
  void sigtermEndsStreamsAndExits() throws Exception {
    herald = HeraldProcess.start("ShutdownIT", Map.of());
    HttpClient http = vertx.createHttpClient();
    SseClient a = SseClient.open(http, herald.gatewayPort, "/events?topic=s1");
    SseClient b = SseClient.open(http, herald.gatewayPort, "/events?topic=s1&topic=s2");
    a.await(ev -> ev.stream().anyMatch(e -> e.type().equals("herald.ready")), Duration.ofSeconds(10));
    b.await(ev -> ev.stream().anyMatch(e -> e.type().equals("herald.ready")), Duration.ofSeconds(10));

    long t0 = System.nanoTime();
    herald.process.destroy(); // SIGTERM on Linux
    boolean exited = herald.process.waitFor(5, TimeUnit.SECONDS);
    long exitMs = (System.nanoTime() - t0) / 1_000_000;
    a.awaitEnd(Duration.ofSeconds(1));
    b.awaitEnd(Duration.ofSeconds(1));
    System.out.println("ShutdownIT: SIGTERM to exit took " + exitMs + " ms");

    assertThat(a.failure()).as("stream a ended by its response end, not by an error").isNull();
    assertThat(b.failure()).as("stream b ended by its response end, not by an error").isNull();
    assertThat(exited).as("herald exited within 5 s of SIGTERM (still running after %d ms):%n%s", exitMs, herald.logTail()).isTrue();
    assertThat(herald.process.exitValue()).as("exit status after %d ms", exitMs).isIn(0, 143);
    assertThat(herald.stdout()).as("the launcher's shutdown finished (log)").contains("stopped")
      .doesNotContain("shutdown did not finish");
  }
}
