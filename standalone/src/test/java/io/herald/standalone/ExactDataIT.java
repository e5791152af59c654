package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.common.Addresses;
import io.herald.common.HeraldLauncher;
import io.herald.common.config.ClusterOptions;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JSON-object ingests of the real jar deliver numbers digit for digit to an SSE subscriber:
 * a TCP bridge frame whose {@code body} is an object, a {@code JsonObject} sent to
 * {@code herald.publish} from another JVM of the cluster (this test's), and {@code /dev/publish}.
 * Each is decoded in the hub's JVM by Vert.x's JSON codec, which Herald replaces with its exact one.
 */
class ExactDataIT extends JarTestBase {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String PI = "3.14159265358979323846264338327950288";
  /** What a double would change; the last is an array holding them all. */
  private static final List<String> VALUES = List.of(PI, "1e999999", "1e-999999", "123456789012345678901234567890", "-0",
    "1.0", "1.00", "1E2", "-0.0", "[" + PI + ",1e999999,1e-999999,-0,{\"x\":1E+400}]");

  @Test
  @DisplayName("Numbers arrive at a subscriber as written from a TCP bridge object body, a clustered JsonObject and /dev/publish")
  void objectIngestsAreExact() throws Exception {
    String cluster = "herald-exact-it-" + ProcessHandle.current().pid();
    int bridgePort = Ports.freePort();
    // Both members on ports of their own, each naming the other: not 5701 and up, where another
    // test's cluster may be forming at the same time.
    int hubPort = Ports.freePort();
    int testPort = Ports.freePort();
    List<String> members = List.of("127.0.0.1:" + hubPort, "127.0.0.1:" + testPort);
    herald = HeraldProcess.start("exact-data", Map.of(
      "HERALD_CLUSTER_NAME", cluster,
      "HERALD_CLUSTER_PORT", String.valueOf(hubPort),
      "HERALD_CLUSTER_MEMBERS", String.join(",", members),
      "HERALD_GATEWAY_DEV_MODE", "true",
      "HERALD_NOTIFIER_TCP_BRIDGE_ENABLED", "true",
      "HERALD_NOTIFIER_TCP_BRIDGE_PORT", String.valueOf(bridgePort)), "--cluster");
    vertx = HeraldLauncher.clusteredVertx(new ClusterOptions(new JsonObject().put("enabled", true).put("name", cluster)
      .put("port", testPort).put("members", new io.vertx.core.json.JsonArray(members))))
      .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    SseClient sse = SseClient.open(vertx.createHttpClient(), herald.gatewayPort, "/events?topic=exact.tcp&topic=exact.cluster&topic=exact.dev");
    sse.await(l -> !l.isEmpty(), WAIT);

    List<String> refused = new java.util.ArrayList<>();
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", bridgePort), 5000);
      socket.setSoTimeout(10_000);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      DataInputStream in = new DataInputStream(socket.getInputStream());
      for (String v : VALUES) {
        byte[] frame = ("{\"type\":\"send\",\"address\":\"herald.publish\",\"replyAddress\":\"r\",\"headers\":{\"Authorization\":\"Bearer "
          + HeraldProcess.PUBLISHER_KEY + "\"},\"body\":{\"topic\":\"exact.tcp\",\"type\":\"tcp\",\"data\":" + v + "}}").getBytes(StandardCharsets.UTF_8);
        out.writeInt(frame.length);
        out.write(frame);
        out.flush();
        byte[] answer = new byte[in.readInt()];
        in.readFully(answer);
        JsonObject reply = new JsonObject(new String(answer, StandardCharsets.UTF_8));
        if (!"message".equals(reply.getString("type"))) {
          refused.add(v + ": " + reply.encode());
        }
      }
    }

    awaitPublishHandler();
    for (String v : VALUES) {
      // As a producer builds it: decoded from JSON in its own JVM, or with BigDecimals put by hand.
      publishOnBus(new JsonObject("{\"topic\":\"exact.cluster\",\"type\":\"cluster\",\"data\":" + v + "}"), refused);
    }
    publishOnBus(new JsonObject().put("topic", "exact.cluster").put("type", "cluster").put("data", new BigDecimal(PI)), refused);

    for (String v : VALUES) {
      HttpResponse<String> r = HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + herald.gatewayPort + "/dev/publish"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"topic\":\"exact.dev\",\"type\":\"dev\",\"data\":" + v + "}"))
        .build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        refused.add("/dev/publish " + v + ": " + r.statusCode() + " " + r.body());
      }
    }

    // Soft: without the exact codec each ingest fails in its own way, and all are reported.
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(refused).as("refusals").isEmpty();
    List<String> clustered = new java.util.ArrayList<>(VALUES);
    clustered.add(PI);
    List<SseEvent> got = sse.awaitAppEvents(VALUES.size() - refused.size() + clustered.size() + VALUES.size(), WAIT);
    soft.assertThat(data(got, "tcp")).as("TCP bridge").containsExactlyElementsOf(VALUES);
    soft.assertThat(data(got, "cluster")).as("clustered event bus").containsExactlyElementsOf(clustered);
    soft.assertThat(data(got, "dev")).as("/dev/publish").containsExactlyElementsOf(VALUES);
    soft.assertAll();
  }

  private void publishOnBus(JsonObject publish, List<String> refused) throws Exception {
    Throwable t = vertx.eventBus().request(Addresses.PUBLISH, publish).toCompletionStage().toCompletableFuture()
      .handle((m, e) -> e).get(10, TimeUnit.SECONDS);
    if (t != null) {
      refused.add("event bus " + publish.encode() + ": " + t.getMessage());
    }
  }

  /** Until this node sees the hub's herald.publish consumer (registrations reach a new member shortly after it joins). */
  private void awaitPublishHandler() throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      Throwable t = vertx.eventBus().request(Addresses.PUBLISH, "not a publish").toCompletionStage().toCompletableFuture()
        .handle((m, e) -> e).get(10, TimeUnit.SECONDS);
      if (!(t instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS)) {
        assertThat(t).as("the hub's answer to a bad publish").isInstanceOf(ReplyException.class);
        return;
      }
      assertThat(System.nanoTime()).as("herald.publish registered in the cluster").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  private static List<String> data(List<SseEvent> events, String type) {
    return events.stream().filter(e -> e.type().equals(type)).map(SseEvent::data).toList();
  }
}
