package io.herald.common;

import io.herald.common.config.ClusterOptions;
import io.herald.common.config.ConfigException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterOptionsTest {

  @Test
  @DisplayName("The defaults: off, cluster herald, loopback member, interface and event bus, port 5701")
  void defaults() {
    ClusterOptions o = new ClusterOptions();
    assertThat(o.enabled()).isFalse();
    assertThat(o.name()).isEqualTo("herald");
    assertThat(o.members()).containsExactly("127.0.0.1");
    assertThat(o.iface()).isEqualTo("127.0.0.1");
    assertThat(o.port()).isEqualTo(5701);
    assertThat(o.eventBusHost()).isEqualTo("127.0.0.1");
  }

  @Test
  @DisplayName("The defaults in code are the ones config/herald.json ships")
  void defaultsMatchShippedConfig() throws Exception {
    JsonObject shipped = new JsonObject(Files.readString(Path.of("..", "config", "herald.json"))).getJsonObject("cluster");
    assertThat(new ClusterOptions().toJson()).isEqualTo(shipped);
    assertThat(new ClusterOptions(shipped).toJson()).isEqualTo(shipped);
  }

  @Test
  @DisplayName("Members can be given as a comma-separated string, as an environment variable would")
  void membersFromString() {
    ClusterOptions o = new ClusterOptions(new JsonObject().put("members", "10.0.0.1, 10.0.0.2:5702"));
    assertThat(o.members()).containsExactly("10.0.0.1", "10.0.0.2:5702");
  }

  @Test
  @DisplayName("withEnabled turns clustering on and keeps every other value")
  void withEnabled() {
    ClusterOptions o = new ClusterOptions(new JsonObject().put("name", "x").put("port", 6000)).withEnabled(true);
    assertThat(o.enabled()).isTrue();
    assertThat(o.name()).isEqualTo("x");
    assertThat(o.port()).isEqualTo(6000);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "{\"members\": [\"127.0.0.1:5701-5703\"]}|cluster.members|port ranges",
    "{\"members\": \"10.0.0.1,10.0.0.2:5701-5710\"}|cluster.members|port ranges",
    "{\"members\": []}|cluster.members|at least one",
    "{\"members\": \"\"}|cluster.members|at least one",
    "{\"port\": 0}|cluster.port|between 1 and 65535",
    "{\"port\": \"x\"}|cluster.port|must be an integer",
    "{\"enabled\": \"maybe\"}|cluster.enabled|true or false",
    "{\"name\": \"\"}|cluster.name|non-empty",
    "{\"interfaces\": \"eth0\"}|cluster.interfaces|unknown key",
  })
  @DisplayName("A bad cluster value fails with an error naming its key")
  void badValues(String json, String key, String problem) {
    assertThatThrownBy(() -> new ClusterOptions(new JsonObject(json)))
      .isInstanceOf(ConfigException.class)
      .hasMessageStartingWith(key + ": ")
      .hasMessageContaining(problem)
      .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(key));
  }

  @Test
  @DisplayName("A member whose host name contains a hyphen is not mistaken for a port range")
  void hyphenatedHostName() {
    ClusterOptions o = new ClusterOptions(new JsonObject().put("members", new JsonArray().add("herald-node-1").add("node-2.internal:5702")));
    assertThat(o.members()).containsExactly("herald-node-1", "node-2.internal:5702");
  }
}
