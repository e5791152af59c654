package io.herald.standalone;

import io.herald.testsupport.SseClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Production logs of the real jar ({@code HERALD_LOG_FORMAT=json}): one JSON object a line,
 * each carrying the node id; connection events with their ids as key-values; and no line per
 * delivered event at INFO.
 */
class LogsIT extends JarTestBase {

  private static final Duration WAIT = Duration.ofSeconds(15);

  @Test
  @DisplayName("JSON logs: every line parses and names the node; connections are logged with ids; deliveries are not")
  void jsonLogs() throws Exception {
    herald = HeraldProcess.start("logs-json", Map.of("HERALD_LOG_FORMAT", "json", "HERALD_LOG_LEVEL", "INFO"));
    vertx = Vertx.vertx();
    var http = vertx.createHttpClient();
    SseClient a = SseClient.open(http, herald.gatewayPort, "/events?topic=logs.a&topic=logs.b");
    SseClient b = SseClient.open(http, herald.gatewayPort, "/events?topic=logs.a");
    a.await(l -> !l.isEmpty(), WAIT);
    b.await(l -> !l.isEmpty(), WAIT);
    awaitLine(o -> "connection opened".equals(o.getString("formattedMessage")) && kv(o).getString("topics", "").equals("logs.a,logs.b"));
    int before = lines().size();

    for (int i = 0; i < 100; i++) {
      herald.publish("{\"topic\":\"logs.a\",\"data\":" + i + "}");
    }
    a.awaitAppEvents(100, WAIT);
    b.awaitAppEvents(100, WAIT);

    a.close();
    // The close is the marker: a line logged for a delivery would stand before it.
    int at = awaitLine(before, o -> "connection closed".equals(o.getString("formattedMessage")));
    List<JsonObject> logged = lines();
    assertThat(logged.subList(before, at)).as("lines logged while 100 events were delivered twice").isEmpty();
    JsonObject closed = logged.get(at);
    assertThat(kv(closed).getString("reason")).isEqualTo("client_closed");
    assertThat(kv(closed).getString("connection")).isNotBlank();

    List<JsonObject> all = lines();
    assertThat(all).hasSizeGreaterThan(3);
    for (JsonObject o : all) {
      assertThat(o.getString("level")).isIn("TRACE", "DEBUG", "INFO", "WARN", "ERROR");
      assertThat(o.getJsonObject("context").getJsonObject("properties").getString("node")).as(o.encode()).isNotBlank();
    }
  }

  @Test
  @DisplayName("A clean start (own hashed publisher key, defaults otherwise) logs no WARN or ERROR, up to a subscriber's stream being ready")
  void cleanStartHasNoWarnings() throws Exception {
    herald = HeraldProcess.start("logs-clean-start", Map.of("HERALD_LOG_FORMAT", "json", "HERALD_LOG_LEVEL", "INFO",
      "HERALD_NOTIFIER_PUBLISHER_KEYS", "sha256:0c29b026719bc287af272b51bc3ef782f33e309206894972dfc88203f0f99952"));
    vertx = Vertx.vertx();
    SseClient client = SseClient.open(vertx.createHttpClient(), herald.gatewayPort, "/events?topic=logs.clean");
    client.await(l -> !l.isEmpty(), WAIT);
    // The stream's own log line is the marker: every line of the start was written before it.
    awaitLine(o -> "connection opened".equals(o.getString("formattedMessage")));
    client.close();
    assertThat(lines()).as("log lines at WARN or above").filteredOn(o -> o.getString("level").matches("WARN|ERROR")).isEmpty();
  }

  /** Every stdout line, each parsed as JSON (a line that is not JSON fails the test). */
  private List<JsonObject> lines() throws Exception {
    List<JsonObject> out = new ArrayList<>();
    for (String line : herald.stdout().split("\n")) {
      if (!line.isBlank()) {
        try {
          out.add(new JsonObject(line));
        } catch (RuntimeException e) {
          throw new AssertionError("not a JSON log line: " + line, e);
        }
      }
    }
    return out;
  }

  private static JsonObject kv(JsonObject line) {
    JsonObject out = new JsonObject();
    JsonArray list = line.getJsonArray("kvpList", new JsonArray());
    for (Object o : list) {
      out.mergeIn((JsonObject) o);
    }
    return out;
  }

  private JsonObject awaitLine(java.util.function.Predicate<JsonObject> p) throws Exception {
    return lines().get(awaitLine(0, p));
  }

  /** The index of the first line from {@code from} on that matches, once there is one. */
  private int awaitLine(int from, java.util.function.Predicate<JsonObject> p) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      List<JsonObject> all = lines();
      for (int i = from; i < all.size(); i++) {
        if (p.test(all.get(i))) {
          return i;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no such log line in:\n" + herald.stdout());
  }
}
