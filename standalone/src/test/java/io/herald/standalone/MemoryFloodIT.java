package io.herald.standalone;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17: one publisher key floods an all-in-one hub with a 256 MB heap with 60 KB events,
 * moving to a new topic every 1,000 events (the pattern that used to end in
 * {@code OutOfMemoryError} within 20 s), until twice the heap was acknowledged (at most a minute). The notifier's byte cap is off here, so the flood meets
 * the replay store's byte budget and the heap guard. The hub must come out of it without
 * running out of memory, with every acknowledged event either readable or answered by a
 * {@code reset} {@code history_evicted}, and ready again.
 */
class MemoryFloodIT {

  private static final Duration FLOOD = Duration.ofSeconds(60);
  private static final long HEAP = 256L * 1024 * 1024;
  private static final String DATA = "f".repeat(60_000);
  private static final int EVENTS_PER_TOPIC = 1000;
  private static final int PUBLISHERS = 4;

  @Test
  @DisplayName("twice the heap in 60 KB events over a new topic every 1,000 events: no OutOfMemoryError, acknowledged events readable or reset history_evicted, the hub ready again")
  void floodKeepsTheHubAlive() throws Exception {
    HeraldProcess herald = HeraldProcess.start("memory-flood", Map.of(
      "HERALD_NOTIFIER_PUBLISH_BYTES_PER_SECOND_PER_KEY", "0"));
    try {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
      AtomicLong counter = new AtomicLong();
      AtomicLong ackedBytes = new AtomicLong();
      Map<String, ConcurrentSkipListMap<Long, String>> acked = new ConcurrentHashMap<>();
      Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
      long end = System.nanoTime() + FLOOD.toNanos();
      List<Thread> threads = new ArrayList<>();
      for (int p = 0; p < PUBLISHERS; p++) {
        Thread t = new Thread(() -> {
          while (ackedBytes.get() < 2 * HEAP && System.nanoTime() < end) {
            String topic = "flood/" + counter.getAndIncrement() / EVENTS_PER_TOPIC;
            String body = new JsonObject().put("topic", topic).put("data", DATA).encode();
            HttpResponse<String> r;
            try {
              r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + herald.notifierPort + "/publish"))
                  .timeout(Duration.ofSeconds(20))
                  .header("Authorization", "Bearer " + HeraldProcess.PUBLISHER_KEY)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (Exception e) {
              statuses.computeIfAbsent(-1, k -> new AtomicLong()).incrementAndGet();
              continue;
            }
            statuses.computeIfAbsent(r.statusCode(), k -> new AtomicLong()).incrementAndGet();
            if (r.statusCode() == 200) {
              JsonObject ev = new JsonObject(r.body()).getJsonArray("events").getJsonObject(0);
              acked.computeIfAbsent(topic, k -> new ConcurrentSkipListMap<>()).put(ev.getLong("seq"), ev.getString("id"));
              ackedBytes.addAndGet(DATA.length());
            } else if (r.statusCode() == 429 || r.statusCode() == 503) {
              assertThat(r.headers().firstValue("retry-after")).as("a refusal says when to retry").isPresent();
              pause(200);
            }
          }
        });
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        io.herald.testsupport.Diagnostics.join(t, 120, "a flooding client thread");
      }

      assertThat(herald.process.isAlive()).as("the hub survived the flood:\n" + herald.logTail()).isTrue();
      assertThat(herald.stdout() + herald.stderr()).doesNotContain("OutOfMemoryError");
      assertThat(statuses.keySet()).as("answers: " + statuses).containsAnyOf(200).doesNotContain(500, -1);
      long events = acked.values().stream().mapToLong(Map::size).sum();
      assertThat(events * DATA.length()).as("the flood published far more than the store may keep")
        .isGreaterThan(HEAP);

      TreeMap<String, ConcurrentSkipListMap<Long, String>> topics = new TreeMap<>(acked);
      int evicted = 0;
      for (Map.Entry<String, ConcurrentSkipListMap<Long, String>> t : topics.entrySet()) {
        ConcurrentSkipListMap<Long, String> acks = t.getValue();
        if (acks.size() < 2) {
          continue;
        }
        // From the first acknowledged event and from the one before the last: what follows is
        // either the next acknowledged event or a reset that says the history was evicted.
        for (Map.Entry<Long, String> from : List.of(acks.firstEntry(), acks.lowerEntry(acks.lastKey()))) {
          Map.Entry<Long, String> next = acks.higherEntry(from.getKey());
          JsonArray frames = poll(http, herald, t.getKey(), from.getValue());
          JsonObject first = frames.getJsonObject(0);
          if ("reset".equals(first.getString("type"))) {
            assertThat(first.getJsonObject("data").getString("reason")).as(t.getKey() + " after seq " + from.getKey())
              .isEqualTo("history_evicted");
            evicted++;
          } else {
            assertThat(first.getString("id")).as(t.getKey() + ": the event after seq " + from.getKey())
              .isEqualTo(next.getValue());
          }
        }
        if (t.getKey().equals(topics.lastKey())) {
          JsonArray last = poll(http, herald, t.getKey(), acks.lowerEntry(acks.lastKey()).getValue());
          assertThat(last.getJsonObject(0).getString("id")).as("the newest event is retained").isEqualTo(acks.lastEntry().getValue());
        }
      }
      assertThat(evicted).as("old history was evicted, and said so").isPositive();

      long readyBy = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      int ready = 0;
      while (System.nanoTime() < readyBy && (ready = herald.admin("/ready").statusCode()) != 200) {
        pause(500);
      }
      assertThat(ready).as("ready again after the flood: " + herald.admin("/ready").body()).isEqualTo(200);
      assertThat(herald.publish(new JsonObject().put("topic", "after-flood").put("data", "ok").encode())
        .getJsonArray("events")).hasSize(1);
    } finally {
      herald.destroy();
    }
  }

  @Test
  @DisplayName("with the store's byte budget lifted, the heap guard answers 503 over_capacity with Retry-After and fails /ready before the JVM runs out, and the hub recovers by itself once the history expires")
  void heapGuardRefusesAndRecovers() throws Exception {
    HeraldProcess herald = HeraldProcess.start("memory-guard", Map.of(
      "HERALD_NOTIFIER_PUBLISH_BYTES_PER_SECOND_PER_KEY", "0",
      "HERALD_REPLAY_MAX_BYTES", "100000000000",
      "HERALD_REPLAY_MAX_AGE_SECONDS", "30"));
    try {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
      long end = System.nanoTime() + FLOOD.toNanos();
      AtomicLong counter = new AtomicLong();
      java.util.concurrent.atomic.AtomicReference<HttpResponse<String>> refusal = new java.util.concurrent.atomic.AtomicReference<>();
      Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
      List<Thread> threads = new ArrayList<>();
      for (int p = 0; p < PUBLISHERS; p++) {
        Thread t = new Thread(() -> {
          while (refusal.get() == null && System.nanoTime() < end) {
            String body = new JsonObject().put("topic", "guard/" + counter.getAndIncrement() / EVENTS_PER_TOPIC).put("data", DATA).encode();
            try {
              HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + herald.notifierPort + "/publish"))
                  .timeout(Duration.ofSeconds(20))
                  .header("Authorization", "Bearer " + HeraldProcess.PUBLISHER_KEY)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
              statuses.computeIfAbsent(r.statusCode(), k -> new AtomicLong()).incrementAndGet();
              if (r.statusCode() == 503) {
                refusal.compareAndSet(null, r);
              }
            } catch (Exception e) {
              statuses.computeIfAbsent(-1, k -> new AtomicLong()).incrementAndGet();
            }
          }
        });
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        io.herald.testsupport.Diagnostics.join(t, 120, "a flooding client thread");
      }
      HttpResponse<String> refused = refusal.get();
      assertThat(statuses.keySet()).as("answers: " + statuses).doesNotContain(500, -1);
      assertThat(refused).as("the guard refused publishes within the minute: " + statuses + "\n" + herald.logTail()).isNotNull();
      assertThat(new JsonObject(refused.body()).getString("error")).isEqualTo("over_capacity");
      assertThat(refused.headers().firstValue("retry-after")).hasValue("5");
      HttpResponse<String> notReady = herald.admin("/ready");
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(notReady.body()).contains("heap");

      long readyBy = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (System.nanoTime() < readyBy && herald.admin("/ready").statusCode() != 200) {
        pause(500);
      }
      assertThat(herald.admin("/ready").statusCode()).as("ready again once the history expired:\n" + herald.logTail()).isEqualTo(200);
      assertThat(herald.post("/publish", new JsonObject().put("topic", "after").put("data", "ok").encode()).statusCode()).isEqualTo(200);
      assertThat(herald.process.isAlive()).isTrue();
      assertThat(herald.stdout() + herald.stderr()).doesNotContain("OutOfMemoryError");
    } finally {
      herald.destroy();
    }
  }

  private static JsonArray poll(HttpClient http, HeraldProcess herald, String topic, String lastEventId) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + herald.gatewayPort
        + "/poll?topic=" + URLEncoder.encode(topic, StandardCharsets.UTF_8)
        + "&lastEventId=" + URLEncoder.encode(lastEventId, StandardCharsets.UTF_8)))
      .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonArray frames = new JsonObject(r.body()).getJsonArray("events");
    assertThat(frames).as("a poll past a stored event answers at once").isNotEmpty();
    return frames;
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
