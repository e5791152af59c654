package io.herald.standalone;

import io.herald.gateway.GatewayOptions;
import io.herald.common.admin.AdminOptions;
import io.herald.common.config.ClusterOptions;
import io.herald.notifier.NotifierOptions;
import io.herald.replay.ReplayOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docker-compose.yml against the project: its services, how each Herald service is built, its
 * environment (validated as configuration), its bind mounts and published ports.
 */
class DockerComposeFilesTest extends DockerFilesFixture {

  @Test
  @DisplayName("compose: Redis, PostgreSQL, one replay, one notifier, two gateways, nginx; Prometheus and Grafana in the monitoring profile")
  void composeServices() {
    assertThat(services).containsOnlyKeys("redis", "postgres", "replay", "notifier", "gateway1", "gateway2", "nginx",
      "prometheus", "grafana");
    assertThat(herald()).containsExactly(Map.entry("replay", "replay"), Map.entry("notifier", "notifier"),
      Map.entry("gateway1", "gateway"), Map.entry("gateway2", "gateway"));
    for (String name : services.keySet()) {
      Object profiles = services.get(name).get("profiles");
      if (name.equals("prometheus") || name.equals("grafana")) {
        assertThat(profiles).as(name).isEqualTo(List.of("monitoring"));
      } else {
        assertThat(profiles).as(name).isNull();
      }
      Object deps = services.get(name).get("depends_on");
      Iterable<?> on = deps instanceof Map<?, ?> map ? map.keySet() : deps == null ? List.of() : (List<?>) deps;
      for (Object d : on) {
        assertThat(services).as("%s depends on %s", name, d).containsKey((String) d);
      }
    }
    assertThat(services.get("replay").get("depends_on")).asString().contains("redis");
    assertThat(services.get("notifier").get("depends_on")).asString().contains("postgres");
  }

  @Test
  @SuppressWarnings("unchecked")
  @DisplayName("compose: each Herald service builds the Dockerfile with a ROLE it knows, from the repository root")
  void composeBuilds() {
    for (Map.Entry<String, String> e : herald().entrySet()) {
      Map<String, Object> build = (Map<String, Object>) services.get(e.getKey()).get("build");
      Path context = DOCKER.resolve((String) build.get("context")).normalize();
      assertThat(context).isEqualTo(ROOT);
      assertThat(context.resolve((String) build.get("dockerfile"))).isEqualTo(DOCKER.resolve("Dockerfile"));
      assertThat(roleJars).containsKey(e.getValue());
      assertThat((String) services.get(e.getKey()).get("image")).isEqualTo("herald-" + e.getValue() + ":local");
    }
  }

  @Test
  @DisplayName("compose: every HERALD_* variable is a configuration key, and each service's configuration passes its roles' validation")
  void composeEnvironment() {
    for (Map.Entry<String, String> e : herald().entrySet()) {
      Map<String, String> env = env(e.getKey());
      assertThat(knownEnvNames()).as("variables of %s", e.getKey()).containsAll(
        env.keySet().stream().filter(k -> k.startsWith("HERALD_")).toList());
      JsonObject config = effective(e.getKey());
      // What the launcher does before it starts anything: the typed options reject unknown keys and bad values.
      switch (e.getValue()) {
        case "replay" -> new ReplayOptions(config.getJsonObject("replay"));
        case "notifier" -> new NotifierOptions(config.getJsonObject("notifier"));
        case "gateway" -> new GatewayOptions(config.getJsonObject("gateway"));
        default -> throw new AssertionError(e.getValue());
      }
      ClusterOptions cluster = new ClusterOptions(config.getJsonObject("cluster"));
      AdminOptions admin = new AdminOptions(config.getJsonObject("admin"));
      assertThat(cluster.enabled()).as("%s clustered", e.getKey()).isTrue();
      assertThat(admin.enabled()).isTrue();
      assertThat(config.getJsonObject("admin").getString("host")).isEqualTo("0.0.0.0");
      // Members by service name, each advertising its event bus under its own name.
      assertThat(cluster.members()).containsExactlyInAnyOrderElementsOf(herald().keySet());
      assertThat(cluster.eventBusHost()).isEqualTo(e.getKey());
      assertThat(cluster.name()).isEqualTo("herald");
      // The Hazelcast interface pattern covers the compose network's subnet.
      String subnet = subnet();
      String prefix = subnet.substring(0, subnet.indexOf(".0.0/16"));
      assertThat(cluster.iface()).isEqualTo(prefix + ".*.*");
      // The base configuration is the shipped file, mounted where HERALD_CONFIG points.
      assertThat(env.get("HERALD_CONFIG")).isNotNull();
      assertThat(volumes(e.getKey())).contains("../config/herald.json:" + env.get("HERALD_CONFIG") + ":ro");
    }
    assertThat(effective("replay").getJsonObject("replay").getString("store")).isIn("redis", "postgres");
    assertThat(effective("replay").getJsonObject("replay").getString("redisUrl")).isEqualTo("redis://redis:6379");
    assertThat(effective("notifier").getJsonObject("notifier").getString("postgresUrl")).contains("@postgres:5432/");
    for (String gw : List.of("gateway1", "gateway2")) {
      JsonObject g = effective(gw).getJsonObject("gateway");
      assertThat(Integer.parseInt(g.getValue("maxConnectionsPerIp").toString()))
        .as("behind nginx every client has the proxy's address").isGreaterThanOrEqualTo(10000);
    }
  }

  @Test
  @DisplayName("compose: bind mounts name files of this repository; published ports are the configured ones")
  void composeMountsAndPorts() {
    for (String name : services.keySet()) {
      for (String v : volumes(name)) {
        String source = v.split(":")[0];
        if (source.startsWith(".")) {
          assertThat(DOCKER.resolve(source).normalize()).as("%s mounts %s", name, source).isRegularFile();
        }
      }
    }
    assertThat(volumes("postgres")).anyMatch(v -> v.startsWith("../config/sql/herald-outbox.sql:/docker-entrypoint-initdb.d/"));
    int notifierPort = port(effective("notifier"), "notifier");
    assertThat(notifierPort).isEqualTo(defaults.getJsonObject("notifier").getInteger("port"));
    assertThat(ports("notifier")).containsExactly(notifierPort + ":" + notifierPort);
    for (String gw : List.of("gateway1", "gateway2")) {
      assertThat(port(effective(gw), "gateway")).isEqualTo(defaults.getJsonObject("gateway").getInteger("port"));
      assertThat(ports(gw)).as("gateways are reached through nginx only").isEmpty();
    }
    assertThat(ports("nginx")).containsExactly("8080:80");
    assertThat(volumes("nginx")).containsExactly("./nginx/herald.conf:/etc/nginx/conf.d/default.conf:ro");
    assertThat(ports("prometheus")).containsExactly("9091:9090");
    assertThat(volumes("prometheus")).contains("./prometheus.yml:/etc/prometheus/prometheus.yml:ro");
  }
}
