package io.herald.standalone;

import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's quick start, done by a program: the real all-in-one jar, a subscriber on
 * {@code GET /events?topic=demo}, a publish to {@code POST /publish} with the development key.
 */
class QuickStartIT {

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
  @DisplayName("The README's curl flow works: the subscriber gets the greeting with the id the publish answered")
  void quickStart() throws Exception {
    herald = HeraldProcess.start("QuickStartIT", Map.of());
    HttpClient http = vertx.createHttpClient();
    SseClient sub = SseClient.open(http, herald.gatewayPort, "/events?topic=demo");

    assertThat(sub.response().getHeader("Content-Type")).isEqualTo("text/event-stream; charset=utf-8");
    assertThat(sub.response().getHeader("Cache-Control")).isEqualTo("no-cache");
    assertThat(sub.response().getHeader("X-Accel-Buffering")).isEqualTo("no");

    // the control event herald.ready says the subscription is live: publishing after it cannot be missed
    List<SseEvent> ready = sub.await(ev -> ev.stream().anyMatch(e -> e.type().equals("herald.ready")), Duration.ofSeconds(10));
    assertThat(sub.parser().rawLines().get(0)).as("first line of the stream").startsWith("retry: ");
    SseEvent readyEvent = ready.stream().filter(e -> e.type().equals("herald.ready")).findFirst().orElseThrow();
    assertThat(new JsonObject(readyEvent.data()).getJsonArray("topics").getList()).containsExactly("demo");
    assertThat(readyEvent.id()).isNotEmpty();

    JsonObject answer = herald.publish("{\"topic\":\"demo\",\"type\":\"greeting\",\"data\":{\"hello\":\"world\"}}");
    JsonObject stored = answer.getJsonArray("events").getJsonObject(0);
    assertThat(stored.getString("topic")).isEqualTo("demo");
    assertThat(stored.getLong("seq")).isEqualTo(1L);
    String id = stored.getString("id");

    List<SseEvent> got = sub.awaitAppEvents(1, Duration.ofSeconds(10));
    assertThat(got).hasSize(1);
    SseEvent greeting = got.get(0);
    assertThat(greeting.type()).isEqualTo("greeting");
    assertThat(new JsonObject(greeting.data())).isEqualTo(new JsonObject().put("hello", "world"));
    assertThat(greeting.id()).isEqualTo(id);

    // The jar bundles Netty's epoll transport for Linux x86_64, and the hub uses it there.
    if (System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").matches("amd64|x86_64")) {
      assertThat(java.nio.file.Files.readString(herald.log)).contains("network transport: epoll");
    }
  }

  @Test
  @DisplayName("An idle stream gets a heartbeat comment every gateway.heartbeatSeconds (1 s here)")
  void heartbeats() throws Exception {
    herald = HeraldProcess.start("QuickStartIT-heartbeats", Map.of());
    SseClient sub = SseClient.open(vertx.createHttpClient(), herald.gatewayPort, "/events?topic=demo");
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (sub.parser().heartbeats() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    // Heartbeats only: the opening ":ok" comment is not counted.
    assertThat(sub.parser().heartbeats()).as("heartbeat comments on an idle stream").isGreaterThanOrEqualTo(2);
    assertThat(sub.ended()).isFalse();
  }
}
