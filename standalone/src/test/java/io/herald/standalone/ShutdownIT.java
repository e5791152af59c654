package io.herald.standalone;

import io.herald.testsupport.SseClient;
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
  @DisplayName("On SIGTERM every SSE stream ends cleanly and the process exits by its clean shutdown, not the 10 s watchdog")
  void sigtermEndsStreamsAndExits() throws Exception {
    herald = HeraldProcess.start("ShutdownIT", Map.of());
    HttpClient http = vertx.createHttpClient();
    SseClient a = SseClient.open(http, herald.gatewayPort, "/events?topic=s1");
    SseClient b = SseClient.open(http, herald.gatewayPort, "/events?topic=s1&topic=s2");
    a.await(ev -> ev.stream().anyMatch(e -> e.type().equals("herald.ready")), Duration.ofSeconds(10));
    b.await(ev -> ev.stream().anyMatch(e -> e.type().equals("herald.ready")), Duration.ofSeconds(10));

    long t0 = System.nanoTime();
    herald.process.destroy(); // SIGTERM on Linux
    // Eventually (the watchdog ends it after 10 s at most anyway); that it was the clean shutdown
    // and not the watchdog is in the log, checked below.
    boolean exited = herald.process.waitFor(60, TimeUnit.SECONDS);
    long exitMs = (System.nanoTime() - t0) / 1_000_000;
    a.awaitEnd(Duration.ofSeconds(10));
    b.awaitEnd(Duration.ofSeconds(10));
    System.out.println("ShutdownIT: SIGTERM to exit took " + exitMs + " ms");

    assertThat(a.failure()).as("stream a ended by its response end, not by an error").isNull();
    assertThat(b.failure()).as("stream b ended by its response end, not by an error").isNull();
    assertThat(exited).as("herald exited after SIGTERM (still running after %d ms):%n%s", exitMs, herald.logTail()).isTrue();
    assertThat(herald.process.exitValue()).as("exit status after %d ms", exitMs).isIn(0, 143);
    assertThat(herald.stdout()).as("the launcher's shutdown finished (log)").contains("stopped")
      .doesNotContain("shutdown did not finish");
  }

  @Test
  @DisplayName("With a shutdown grace period, SIGTERM makes /ready 503 at once while streams keep flowing, then they end cleanly")
  void readinessTurnsFalseBeforeDraining() throws Exception {
    // A grace period far longer than the steps below take: each is checked to happen inside it
    // (the stream still open), not timed.
    herald = HeraldProcess.start("ShutdownIT-grace", Map.of("HERALD_ADMIN_SHUTDOWN_GRACE_MILLIS", "15000"));
    HttpClient http = vertx.createHttpClient();
    SseClient a = SseClient.open(http, herald.gatewayPort, "/events?topic=grace");
    a.await(ev -> ev.stream().anyMatch(e -> e.type().equals("herald.ready")), Duration.ofSeconds(10));
    assertThat(herald.admin("/ready").statusCode()).isEqualTo(200);

    herald.process.destroy(); // SIGTERM
    // /ready turns 503 while the stream still flows: before draining, whatever the timing.
    int status = herald.admin("/ready").statusCode();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (status == 200 && !a.ended() && System.nanoTime() < deadline) {
      Thread.sleep(50);
      status = herald.admin("/ready").statusCode();
    }
    assertThat(status).as("/ready after SIGTERM").isEqualTo(503);
    assertThat(herald.admin("/ready").body()).contains("shutting down");
    assertThat(a.ended()).as("the stream, when /ready answered 503").isFalse();
    // Still serving during the grace period: the stream is open and a publish gets through.
    herald.publish("{\"topic\":\"grace\",\"data\":\"late\"}");
    assertThat(a.awaitAppEvents(1, Duration.ofSeconds(10)).get(0).data()).isEqualTo("late");
    assertThat(a.ended()).isFalse();

    assertThat(herald.process.waitFor(60, TimeUnit.SECONDS)).as("exited after the grace period").isTrue();
    a.awaitEnd(Duration.ofSeconds(10));
    assertThat(a.failure()).as("the stream ended cleanly").isNull();
  }
}
