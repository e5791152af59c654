package io.herald.bench;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.herald.testsupport.Ports.freePort;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A smoke run of the load tool's other publish paths ({@code --publish-via}), so that they cannot
 * rot: the real fat jar started with {@code --cluster} (a cluster of one, under a name of its own)
 * and its TCP event-bus bridge on, then the targeted scenario published over the bridge and over
 * the clustered event bus (the tool joins the cluster), every event received exactly once. Apart
 * from {@link BenchSmokeTest} so that a cluster member joining and leaving does not touch that
 * class's soak. Not a performance test: nothing here asserts a latency or a rate.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The benchmark's publish paths other than HTTP")
class BenchPublishViaTest {

  private static final int STREAMS = 200;

  private final Path out = Path.of(System.getProperty("bench.out", "target"), "bench-smoke");
  private final String clusterName = "bench-via-" + UUID.randomUUID();
  private BenchHub herald;
  private int bridgePort;
  private int clusterPort;

  @BeforeAll
  void startHerald() throws Exception {
    bridgePort = freePort();
    clusterPort = freePort();
    herald = BenchHub.start(List.of("-Xms256m", "-Xmx256m"), List.of("--cluster"), Map.of(
      "HERALD_NOTIFIER_TCP_BRIDGE_ENABLED", "true",
      "HERALD_NOTIFIER_TCP_BRIDGE_PORT", Integer.toString(bridgePort),
      "HERALD_CLUSTER_NAME", clusterName,
      "HERALD_CLUSTER_PORT", Integer.toString(clusterPort),
      "HERALD_CLUSTER_MEMBERS", "127.0.0.1:" + clusterPort), out.resolve("herald-via.log"), 60);
  }

  @AfterAll
  void stop() throws Exception {
    if (herald != null) {
      herald.close();
    }
  }

  @Test
  @DisplayName("Over the TCP bridge: 200 streams on 200 topics get every targeted event once")
  void bridge() throws Exception {
    assertAllReceived(targeted("bridge", "--bridge-url", "127.0.0.1:" + bridgePort));
  }

  @Test
  @DisplayName("Over the clustered event bus: the tool joins the hub's cluster, and 200 streams on 200 topics get every targeted event once")
  void eventBus() throws Exception {
    assertAllReceived(targeted("eventbus", "--cluster-name", clusterName, "--cluster-members", "127.0.0.1:" + clusterPort,
      "--cluster-port", Integer.toString(freePort())));
  }

  private JsonObject targeted(String via, String... more) throws Exception {
    Path file = out.resolve("herald-targeted-" + via + ".json");
    String[] base = {"--target", "herald", "--scenario", "targeted", "--connections", Integer.toString(STREAMS),
      "--rate", "100", "--duration", "3", "--warmup-seconds", "1", "--warmup", "false", "--server-jvm", "false",
      "--payload-bytes", "200", "--sse-url", herald.sseUrl(), "--publish-url", herald.publishUrl(),
      "--server-pid", herald.pid(), "--publish-via", via, "--group", "smoke-via", "--out", file.toString()};
    String[] argv = new String[base.length + more.length];
    System.arraycopy(base, 0, argv, 0, base.length);
    System.arraycopy(more, 0, argv, base.length, more.length);
    JsonObject r = LoadTool.run(argv);
    assertThat(file).exists();
    assertThat(r.getJsonObject("params").getString("publishVia")).isEqualTo(via);
    return r;
  }

  private static void assertAllReceived(JsonObject r) {
    JsonObject ev = r.getJsonObject("events");
    assertThat(r.getJsonObject("connections").getInteger("ready")).as(r.encodePrettily()).isEqualTo(STREAMS);
    assertThat(ev.getLong("published")).as(r.encodePrettily()).isGreaterThan(0);
    assertThat(ev.getLong("publishFailed")).as(r.encodePrettily()).isZero();
    assertThat(ev.getLong("expected")).as(r.encodePrettily()).isEqualTo(ev.getLong("published"));
    assertThat(ev.getLong("received")).as(r.encodePrettily()).isEqualTo(ev.getLong("expected"));
    assertThat(ev.getLong("lost") + ev.getLong("duplicates") + ev.getLong("gaps")).as(r.encodePrettily()).isZero();
    assertThat(r.getBoolean("ok")).as(r.encodePrettily()).isTrue();
  }
}
