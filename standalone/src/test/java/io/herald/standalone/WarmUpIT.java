package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JIT warm-up before readiness ({@code admin.warmUpMillis}, {@code admin.warmUpPublishes}) of
 * the real jars: {@code /ready} fails with the {@code warmup} check until the warm-up has ended
 * (and logged what it did), it leaves nothing behind on the node (no topic, no connection, no
 * count in {@code /metrics}), the reserved name is refused, and 0 turns it off.
 */
class WarmUpIT {

  private static final Pattern ENDED = Pattern.compile(
    "warm-up ended after (\\d+) ms: (\\d+) HTTP publishes, (\\d+) event-bus publishes, (\\d+) replay reads, (\\d+) bytes delivered to (\\d+) subscriber\\(s\\) \\((SSE|event bus)\\), (\\d+) short SSE connections \\((\\d+) resuming with Last-Event-ID, (\\d+) events replayed to them\\), (\\d+) failed request");

  private final List<HeraldProcess> hubs = new ArrayList<>();
  private Process role;

  @AfterEach
  void stop() {
    hubs.forEach(HeraldProcess::destroy);
    if (role != null) {
      role.destroyForcibly();
    }
  }

  @Test
  @DisplayName("A hub is not ready while it warms up, and is ready once the warm-up has ended, with nothing of it left on the hub")
  void readyOnlyAfterWarmUp() throws Exception {
    // A time bound only (the work bound out of reach): the warm-up lasts 4 s by construction.
    HeraldProcess hub = HeraldProcess.start("warmup-on", Map.of(
      "HERALD_ADMIN_WARM_UP_MILLIS", "4000", "HERALD_ADMIN_WARM_UP_PUBLISHES", "10000000"));
    hubs.add(hub);
    List<Integer> statuses = new ArrayList<>();
    HttpResponse<String> ready = hub.admin("/ready");
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (ready.statusCode() != 200 && System.nanoTime() < deadline) {
      statuses.add(ready.statusCode());
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.body()).contains("\"warmup\"", "warming up");
      Thread.sleep(50);
      ready = hub.admin("/ready");
    }
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(ready.body()).doesNotContain("warmup");
    assertThat(statuses).as("/ready answers before 200").isNotEmpty();
    Matcher m = ended(hub);
    assertThat(m).as("the warm-up's end is logged:\n" + hub.logTail()).isNotNull();
    assertThat(Long.parseLong(m.group(1))).as("ms").isGreaterThanOrEqualTo(4000);
    assertThat(Long.parseLong(m.group(2))).as("HTTP publishes").isPositive();
    assertThat(Long.parseLong(m.group(3))).as("event-bus publishes").isPositive();
    assertThat(Long.parseLong(m.group(4))).as("replay reads").isPositive();
    assertThat(Long.parseLong(m.group(5))).as("bytes delivered").isPositive();
    assertThat(m.group(7)).isEqualTo("SSE");
    assertThat(Long.parseLong(m.group(8))).as("short SSE connections").isPositive();
    // Clients coming back with Last-Event-ID, as after a gateway died: missed events replayed from the store.
    assertThat(Long.parseLong(m.group(9))).as("resuming connections").isPositive();
    assertThat(Long.parseLong(m.group(10))).as("events replayed to them").isPositive();
    assertThat(Long.parseLong(m.group(11))).as("failed warm-up requests").isZero();
    assertThat(hub.stdout()).contains("warm-up started");
    // The copy's notifier takes its key in the production form: no warning about plain-text keys
    // the hub's operators never configured (the hub itself runs on the development key).
    assertThat(hub.stdout()).doesNotContain("configured in plain text");
    // The private copy's streams are not in the node's log (their opened/closed lines name their topics).
    assertThat(hub.stdout()).as("the private copy's connection lines stay out of the log")
      .doesNotContain("topics=\"warmup-");

    // Nothing counted in the hub's metrics: no publish, no open connection.
    String metrics = hub.admin("/metrics").body();
    assertThat(metrics).doesNotContainPattern("herald_events_published_total\\{[^}]*\\} [1-9]");
    assertThat(metrics).containsPattern("herald_connections_active\\{transport=\"sse\",?\\} 0\\.0");
    // The copy runs Vert.x's metrics too (so that they get compiled), in a registry of its own:
    // none of its thousands of HTTP requests is in the node's, which has seen no POST yet.
    assertThat(metrics).contains("vertx_http_server_");
    assertThat(metrics).doesNotContainPattern("vertx_http_server_requests_total\\{[^}]*method=\"POST\"[^}]*\\} [1-9]");
    // No topic of the warm-up in the hub's store: the first publish to the private copy's topic name is seq 1.
    assertThat(hub.publish("{\"topic\":\"warmup-0\",\"data\":\"x\"}").getJsonArray("events").getJsonObject(0).getLong("seq"))
      .isEqualTo(1L);
    // The reserved name is no topic: subscribing and publishing to it are refused.
    HttpResponse<String> sub = HeraldProcess.HTTP.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + hub.gatewayPort + "/events?topic=_herald.warmup")).timeout(Duration.ofSeconds(5)).build(),
      HttpResponse.BodyHandlers.ofString());
    assertThat(sub.statusCode()).isEqualTo(400);
    assertThat(sub.body()).contains("invalid_topic");
    assertThat(hub.post("/publish", "{\"topic\":\"_herald.warmup\",\"data\":\"x\"}").statusCode()).isEqualTo(400);
  }

  @Test
  @DisplayName("With admin.warmUpMillis 0 a hub is ready as soon as it serves, without a warm-up")
  void noWarmUp() throws Exception {
    HeraldProcess hub = HeraldProcess.start("warmup-off", Map.of("HERALD_ADMIN_WARM_UP_MILLIS", "0"));
    hubs.add(hub);
    HttpResponse<String> ready = hub.admin("/ready");
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(hub.stdout()).doesNotContain("warm-up");
  }

  @Test
  @DisplayName("A clustered gateway-only node warms its own role in a private cluster of two, its events coming from a stand-in replay member, and its own cluster never sees that one")
  void gatewayOnlyNode() throws Exception {
    int admin = Ports.freePort();
    ProcessBuilder pb = new RoleCluster(Path.of(".."), HeraldProcess.LOGS, "warmup", List.of("-Xmx256m", "-XX:+UseSerialGC"))
      .builder("gateway-verticle/target/herald-gateway.jar", "gateway");
    pb.environment().putAll(Map.of("HERALD_ADMIN_PORT", "" + admin, "HERALD_GATEWAY_PORT", "" + Ports.freePort(),
      "HERALD_ADMIN_WARM_UP_MILLIS", "15000", "HERALD_ADMIN_WARM_UP_PUBLISHES", "2000"));
    role = pb.start();
    Path log = HeraldProcess.LOGS.resolve("warmup-gateway.log");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Matcher m = null;
    while (m == null && System.nanoTime() < deadline && role.isAlive()) {
      Thread.sleep(200);
      m = ENDED.matcher(Files.exists(log) ? Files.readString(log) : "");
      m = m.find() ? m : null;
    }
    assertThat(m).as("warm-up ended in " + log).isNotNull();
    assertThat(Long.parseLong(m.group(2))).as("HTTP publishes (no notifier here)").isZero();
    assertThat(Long.parseLong(m.group(3))).as("publishes through the stand-in replay").isPositive();
    assertThat(Long.parseLong(m.group(5))).as("bytes delivered").isPositive();
    assertThat(m.group(7)).isEqualTo("SSE");
    // Resumes read the stand-in replay's recent events over the private cluster.
    assertThat(Long.parseLong(m.group(9))).as("resuming connections").isPositive();
    assertThat(Long.parseLong(m.group(10))).as("events replayed to them").isPositive();
    assertThat(Long.parseLong(m.group(11))).as("failed warm-up requests").isZero();
    String text = Files.readString(log);
    assertThat(text).as("the copy runs clustered, as the node does").contains("clustered with a stand-in replay member in a private cluster");
    // Hazelcast names the cluster in every line: none of the private cluster's reaches the node's log.
    assertThat(text).as("the private cluster's lines stay out of the log").doesNotContain("[herald-warmup-copy-");
    // Once it has ended, /ready no longer names the warm-up (the node may wait for a replay role).
    HttpResponse<InputStream> r = HeraldProcess.HTTP.send(HttpRequest.newBuilder(
      URI.create("http://127.0.0.1:" + admin + "/ready")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(new String(r.body().readAllBytes())).doesNotContain("warmup");
    // The node's own cluster holds the node alone: the private members never joined it.
    HttpResponse<String> health = HeraldProcess.HTTP.send(HttpRequest.newBuilder(
      URI.create("http://127.0.0.1:" + admin + "/health")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    Matcher members = Pattern.compile("\"members\"\\s*:\\s*(\\d+)").matcher(health.body());
    assertThat(members.find()).as(health.body()).isTrue();
    assertThat(members.group(1)).as(health.body()).isEqualTo("1");
  }

  private static Matcher ended(HeraldProcess hub) throws Exception {
    Matcher m = ENDED.matcher(hub.stdout());
    return m.find() ? m : null;
  }
}
