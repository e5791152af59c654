package io.herald.notifier;

import io.herald.common.Event;
import io.herald.testsupport.RequiredTools;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The TCP event-bus bridge on a real loopback socket, in front of the real notifier and replay
 * verticles: a Node.js producer speaking the bridge's framing, and the bridge's options and
 * lifecycle. Access control is in {@link TcpBridgeAccessTest}, bad input in {@link TcpBridgeInputTest}.
 */
class TcpBridgeTest extends TcpBridgeFixture {

  @Test
  @DisplayName("A Node.js producer publishes over the bridge: replies carry ids and seqs, events are stored in order")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void nodeProducer() throws Exception {
    RequiredTools.command("node", "install Node.js 18 or later");
    Path script = Path.of("src", "test", "node", "tcp-producer.mjs").toAbsolutePath();
    assertThat(script).exists();
    double before = counter("herald_events_published", "source", "tcp-bridge");
    int count = 25;
    Process p = new ProcessBuilder("node", script.toString(), Integer.toString(notifier.tcpBridgePort()), KEY, "tcp.orders",
      Integer.toString(count)).redirectErrorStream(false).start();
    String out;
    String err;
    try {
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the producer finished").isTrue();
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      p.destroyForcibly();
    }
    assertThat(p.exitValue()).as("exit status; stderr: " + err + "\nstdout: " + out).isZero();
    List<JsonObject> replies = out.lines().filter(l -> !l.isBlank()).map(JsonObject::new).toList();
    assertThat(replies).hasSize(count);
    for (int i = 1; i <= count; i++) {
      JsonObject r = replies.get(i - 1);
      assertThat(r.getString("type")).as(r.encode()).isEqualTo("message");
      assertThat(r.getString("address")).isEqualTo("reply-" + i);
      JsonObject e = r.getJsonObject("body").getJsonArray("events").getJsonObject(0);
      assertThat(e.getString("topic")).isEqualTo("tcp.orders");
      assertThat(e.getLong("seq")).isEqualTo(i);
      assertThat(e.getString("id")).isEqualTo(io.herald.common.Cursor.single("tcp.orders", e.getString("epoch"), i));
    }
    List<Event> stored = readAll("tcp.orders");
    assertThat(stored).hasSize(count);
    for (int i = 1; i <= count; i++) {
      Event e = stored.get(i - 1);
      assertThat(e.seq()).isEqualTo(i);
      assertThat(e.type()).isEqualTo("tcp.test");
      assertThat(new JsonObject(e.data()).getInteger("n")).as("stored in the order sent").isEqualTo(i);
    }
    assertThat(counter("herald_events_published", "source", "tcp-bridge")).isEqualTo(before + count);
  }

  @Test
  @DisplayName("The bridge is off by default: no port is opened")
  void disabledByDefault() throws Exception {
    assertThat(new NotifierOptions().tcpBridgeEnabled()).isFalse();
    assertThat(new NotifierOptions().tcpBridgePort()).isEqualTo(NotifierOptions.DEFAULT_TCP_BRIDGE_PORT).isEqualTo(7001);
    assertThat(new NotifierOptions().tcpBridgeHost()).isEqualTo("127.0.0.1");
    boolean free;
    try (ServerSocket probe = new ServerSocket(NotifierOptions.DEFAULT_TCP_BRIDGE_PORT, 1, InetAddress.getLoopbackAddress())) {
      free = true;
    } catch (IOException e) {
      free = false;
    }
    NotifierVerticle off = new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)));
    await(vertx.deployVerticle(off));
    assertThat(off.tcpBridgePort()).isEqualTo(-1);
    if (free) {
      assertThatThrownBy(() -> new Socket().connect(new InetSocketAddress("127.0.0.1", NotifierOptions.DEFAULT_TCP_BRIDGE_PORT), 2000))
        .as("nothing listens on the default bridge port").isInstanceOf(ConnectException.class);
    }
  }

  @Test
  @DisplayName("Undeploying the notifier closes the bridge's port")
  void closedOnStop() throws Exception {
    NotifierVerticle v = deploy(new JsonObject());
    int port = v.tcpBridgePort();
    String id = v.deploymentID();
    try (Bridge b = connect(port)) {
      assertThat(b.ping()).isTrue();
    }
    await(vertx.undeploy(id));
    assertThatThrownBy(() -> new Socket().connect(new InetSocketAddress("127.0.0.1", port), 2000)).isInstanceOf(ConnectException.class);
  }

  @Test
  @DisplayName("Bad option values name their key")
  void badOptions() {
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("tcpBridgePort", 70000)))
      .hasMessageStartingWith("notifier.tcpBridgePort:");
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("tcpBridgeEnabled", "yes")))
      .hasMessageStartingWith("notifier.tcpBridgeEnabled:");
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("tcpBridgeHost", "")))
      .hasMessageStartingWith("notifier.tcpBridgeHost:");
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("tcpBridgeEnabled", true).put("port", 7001)))
      .hasMessageStartingWith("notifier.tcpBridgePort:");
    NotifierOptions on = new NotifierOptions(new JsonObject().put("tcpBridgeEnabled", "true").put("tcpBridgePort", 0));
    assertThat(on.toJson().getBoolean("tcpBridgeEnabled")).isTrue();
    assertThat(on.with(new JsonObject()).toJson()).isEqualTo(on.toJson());
  }
}
