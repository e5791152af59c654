package io.herald.standalone;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The SockJS bridge with the official clients in Node.js ({@code sockjs-client} and
 * {@code @vertx/eventbus-bridge-client.js}, run by {@code src/test/node/sockjs-node.mjs}) against
 * the real jar, once per SockJS transport the gateway serves. In Node.js the XHR transports send
 * their messages chunked, without a Content-Length. The client registers a topic and an invalid
 * one, receives live events, asks for a replay, registers a pattern and receives a topic first
 * published after it, then goes away without closing: the refusal is
 * one error, and the gateway logs the client's end as a closed connection, nothing at ERROR.
 */
class SockJSNodeClientIT {

  private static final Path NODE_DIR = Path.of("src", "test", "node");
  private HeraldProcess herald;

  @AfterEach
  void stop() {
    if (herald != null) {
      herald.destroy();
    }
  }

  @ParameterizedTest(name = "sockjs-client transport {0}")
  @ValueSource(strings = {"websocket", "xhr-streaming", "xhr-polling", "eventsource"})
  @DisplayName("The official client in Node.js registers, receives, replays and is refused once on every transport; its end is not an error")
  void officialClientInNode(String transport) throws Exception {
    ExternalTools.require("node", "install Node.js 18 or later");
    if (!Files.isDirectory(NODE_DIR.resolve("node_modules").resolve("sockjs-client"))
      || !Files.isDirectory(NODE_DIR.resolve("node_modules").resolve("@vertx"))) {
      fail("npm packages missing: run npm ci in " + NODE_DIR.toAbsolutePath());
    }
    // Several gateway instances: an xhr-polling session's polls land on any of their event
    // loops, and its h frames must be written from the one that holds the poll (SockJSHeartbeat).
    // A 1 s heartbeat, so that the client's polls are answered by them during the run.
    herald = HeraldProcess.start("SockJSNodeClientIT-" + transport,
      Map.of("HERALD_GATEWAY_INSTANCES", "2", "HERALD_GATEWAY_HEARTBEAT_SECONDS", "1"));
    Path stderr = HeraldProcess.LOGS.resolve("SockJSNodeClientIT-" + transport + "-node.stderr.log").toAbsolutePath();
    Files.createDirectories(HeraldProcess.LOGS);
    Process node = new ProcessBuilder("node", "sockjs-node.mjs", "http://127.0.0.1:" + herald.gatewayPort,
      "http://127.0.0.1:" + herald.notifierPort, HeraldProcess.PUBLISHER_KEY, transport)
      .directory(NODE_DIR.toFile()).redirectError(stderr.toFile()).start();
    if (!node.waitFor(300, TimeUnit.SECONDS)) {
      node.destroyForcibly();
      throw new AssertionError("sockjs-node.mjs still running after 300 s; stderr: " + Files.readString(stderr));
    }
    String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    String last = out.isEmpty() ? "" : out.substring(out.lastIndexOf('\n') + 1);
    assertThat(last).as("node output; stderr: %s", Files.readString(stderr)).startsWith("{");
    JsonObject r = new JsonObject(last);
    assertThat(r.getBoolean("ok")).as("result %s", r.encodePrettily()).isTrue();
    assertThat(r.getString("transport")).isEqualTo(transport);

    // Live: consecutive events, each once.
    List<JsonObject> events = r.getJsonArray("events").stream().map(o -> (JsonObject) o).collect(Collectors.toList());
    assertThat(events).hasSizeGreaterThanOrEqualTo(4);
    for (int i = 1; i < events.size(); i++) {
      assertThat(events.get(i).getJsonObject("data").getInteger("n")).as("events in order, each once: %s", events)
        .isEqualTo(events.get(i - 1).getJsonObject("data").getInteger("n") + 1);
    }
    // The replay, sent over the transport like every message: answered; everything after the
    // cursor came live, so it is empty and stands at the cursor.
    JsonObject replay = r.getJsonObject("replay");
    assertThat(replay).as("replay answer; error %s", r.getValue("replayError")).isNotNull();
    assertThat(replay.getJsonArray("events")).isEmpty();
    assertThat(replay.getString("id")).isEqualTo(events.get(0).getString("id"));
    // The refused registration: one error, to the handler, with the status and the code.
    JsonArray refused = r.getJsonArray("refused");
    assertThat(refused).hasSize(1);
    assertThat(refused.getJsonObject(0).getInteger("failureCode")).isEqualTo(400);
    assertThat(refused.getJsonObject(0).getString("message")).isEqualTo("invalid_topic");
    assertThat(r.getJsonArray("errors")).as("errors to onerror").isEmpty();
    // The pattern: the topic first published after it went live came, with its topic, on the
    // pattern's address; the other topic did not; the replay since its first event is answered.
    List<JsonObject> pattern = r.getJsonArray("patternEvents").stream().map(o -> (JsonObject) o).collect(Collectors.toList());
    assertThat(pattern).allMatch(p -> "herald.browser.~shop.**".equals(p.getString("address")));
    List<String> topics = pattern.stream().map(p -> p.getJsonObject("body").getString("topic")).collect(Collectors.toList());
    assertThat(topics.subList(topics.size() - 2, topics.size())).containsExactly("shop.new." + transport, "shop.a");
    assertThat(topics).allMatch(x -> x.startsWith("shop."));
    JsonObject patternReplay = r.getJsonObject("patternReplay");
    assertThat(patternReplay.containsKey("error")).as("pattern replay %s", patternReplay).isFalse();
    assertThat(patternReplay.getJsonArray("events")).isEmpty();

    // The client went away: its connection is closed (XHR polling: once the session times out).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!herald.stdout().contains("connection closed")) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no \"connection closed\" in the log:\n" + herald.stdout());
      }
      Thread.sleep(100);
    }
    assertThat(Arrays.stream(herald.stdout().split("\n"))
      .filter(l -> l.matches("^\\S+ ERROR .*") || l.matches("^\\S+ WARN .* (i\\.v\\.e\\.w\\.|i\\.h\\.g\\.SockJSBridge).*")))
      .as("log lines at ERROR, or at WARN from the bridge").isEmpty();
  }
}
