package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The SockJS bridge path with the official client in Chromium against the real jar: the
 * page (served by {@code src/test/node/sockjs-bridge.mjs} from loopback, with the npm packages'
 * browser files, on an origin listed in {@code gateway.allowedOrigins}) registers
 * {@code herald.browser.orders}, receives events published through the notifier's HTTP API, and
 * replays since a cursor; a send to any other address is refused. Run once per SockJS transport
 * family: WebSocket, and XHR streaming (what a browser behind a WebSocket-hostile proxy gets).
 */
class SockJSBridgeBrowserIT {

  private static final Path NODE_DIR = Path.of("src", "test", "node");
  private HeraldProcess herald;

  @AfterEach
  void stop() {
    if (herald != null) {
      herald.destroy();
    }
  }

  @ParameterizedTest(name = "sockjs-client transport {0}")
  @ValueSource(strings = {"websocket", "xhr-streaming"})
  @DisplayName("The official client receives the topic's events in order and replays exactly what followed a cursor")
  void officialClient(String transport) throws Exception {
    if (!Files.isDirectory(NODE_DIR.resolve("node_modules").resolve("sockjs-client"))
      || !Files.isDirectory(NODE_DIR.resolve("node_modules").resolve("@vertx"))) {
      fail("npm packages missing: run npm ci in " + NODE_DIR.toAbsolutePath());
    }
    int pagePort = Ports.freePort();
    herald = HeraldProcess.start("SockJSBridgeBrowserIT-" + transport,
      Map.of("HERALD_GATEWAY_ALLOWED_ORIGINS", "http://127.0.0.1:" + pagePort));
    Path stderr = HeraldProcess.LOGS.resolve("SockJSBridgeBrowserIT-" + transport + "-node.stderr.log").toAbsolutePath();
    Files.createDirectories(HeraldProcess.LOGS);
    Process node = new ProcessBuilder("node", "sockjs-bridge.mjs", "http://127.0.0.1:" + herald.gatewayPort,
      "http://127.0.0.1:" + herald.notifierPort, "dev-publisher-key", String.valueOf(pagePort), transport)
      .directory(NODE_DIR.toFile()).redirectError(stderr.toFile()).start();
    if (!node.waitFor(300, TimeUnit.SECONDS)) {
      node.destroyForcibly();
      throw new AssertionError("sockjs-bridge.mjs still running after 300 s; stderr: " + Files.readString(stderr));
    }
    String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    String last = out.isEmpty() ? "" : out.substring(out.lastIndexOf('\n') + 1);
    assertThat(last).as("node output; stderr: %s", Files.readString(stderr)).startsWith("{");
    JsonObject r = new JsonObject(last);
    assertThat(r.getBoolean("ok")).as("result %s", r.encodePrettily()).isTrue();
    assertThat(r.getString("transport")).isEqualTo(transport);
    assertThat(r.getJsonArray("problems")).isEmpty();
    assertThat(r.getJsonArray("external")).as("requests off loopback").isEmpty();

    // Live: consecutive events, each once, with the bridge frames' fields.
    List<JsonObject> events = r.getJsonArray("events").stream().map(o -> (JsonObject) o).collect(Collectors.toList());
    int before = r.getInteger("eventsBeforeDisconnect");
    assertThat(before).isGreaterThanOrEqualTo(4);
    assertThat(events).as("the events before the disconnection, the live one after the replay, the marker").hasSize(before + 2);
    List<Integer> ns = events.stream().map(e -> e.getJsonObject("data").getInteger("n")).collect(Collectors.toList());
    for (int i = 1; i < before; i++) {
      assertThat(ns.get(i)).as("events in order, each once: %s", ns).isEqualTo(ns.get(i - 1) + 1);
    }
    assertThat(events).allSatisfy(e -> {
      assertThat(e.fieldNames()).containsExactly("id", "topic", "type", "data");
      assertThat(e.getString("topic")).isEqualTo("orders");
      assertThat(e.getString("type")).isEqualTo("order.created");
    });
    // The replay after the reconnection: exactly the three missed, in order; then live resumes after them.
    JsonObject replay = r.getJsonObject("replay");
    assertThat(replay).as("replay answer; error %s", r.getValue("replayError")).isNotNull();
    int lastLive = ns.get(before - 1);
    List<Integer> replayed = replay.getJsonArray("events").stream().map(o -> ((JsonObject) o).getJsonObject("data").getInteger("n"))
      .collect(Collectors.toList());
    assertThat(replayed).containsExactly(lastLive + 1, lastLive + 2, lastLive + 3);
    assertThat(replay.getBoolean("more")).isFalse();
    assertThat(ns.get(before)).as("the live event after the replay, once").isEqualTo(lastLive + 4);
    assertThat(ns.get(before + 1)).as("the marker, next").isEqualTo(lastLive + 5);
    JsonArray replayedFrames = replay.getJsonArray("events");
    assertThat(replay.getString("id")).isEqualTo(replayedFrames.getJsonObject(2).getString("id"));

    Object sendError = r.getValue("sendError");
    JsonArray errors = r.getJsonArray("errors");
    assertThat(sendError != null || !errors.isEmpty()).as("a send to herald.publish is refused: %s", r.encodePrettily()).isTrue();
    assertThat(errors.encode()).contains("rejected");
  }
}
