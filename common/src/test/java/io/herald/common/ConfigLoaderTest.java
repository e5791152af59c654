package io.herald.common;

import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigLoader;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

  private static final JsonObject BASE = new JsonObject()
    .put("gateway", new JsonObject().put("port", 8080).put("heartbeatSeconds", 15))
    .put("notifier", new JsonObject().put("port", 8081));

  @Test
  @DisplayName("HERALD_GATEWAY_PORT and HERALD_NOTIFIER_PORT override the file's values")
  void envOverridesPorts() {
    JsonObject out = ConfigLoader.applyEnv(BASE, Map.of("HERALD_GATEWAY_PORT", "9090", "HERALD_NOTIFIER_PORT", "9091"));
    assertThat(out.getJsonObject("gateway").getValue("port")).isEqualTo("9090");
    assertThat(out.getJsonObject("notifier").getValue("port")).isEqualTo("9091");
    assertThat(out.getJsonObject("gateway").getValue("heartbeatSeconds")).isEqualTo(15);
  }

  @Test
  @DisplayName("A multi-word variable maps to the camel-case key: HERALD_GATEWAY_HEARTBEAT_SECONDS -> gateway.heartbeatSeconds")
  void envMultiWord() {
    JsonObject out = ConfigLoader.applyEnv(BASE, Map.of("HERALD_GATEWAY_HEARTBEAT_SECONDS", "1",
      "HERALD_CLUSTER_EVENT_BUS_HOST", "10.0.0.1", "HERALD_GATEWAY_MAX_LAST_EVENT_ID_LENGTH", "100"));
    assertThat(out.getJsonObject("gateway").getValue("heartbeatSeconds")).isEqualTo("1");
    assertThat(out.getJsonObject("gateway").getValue("maxLastEventIdLength")).isEqualTo("100");
    assertThat(out.getJsonObject("cluster").getValue("eventBusHost")).isEqualTo("10.0.0.1");
  }

  @Test
  @DisplayName("Overrides do not change the document they are applied to")
  void applyEnvCopies() {
    JsonObject before = BASE.copy();
    ConfigLoader.applyEnv(BASE, Map.of("HERALD_GATEWAY_PORT", "1"));
    assertThat(BASE).isEqualTo(before);
  }

  @Test
  @DisplayName("Variables that are not HERALD_<SECTION>_<KEY> are ignored")
  void unrelatedVariablesIgnored() {
    JsonObject out = ConfigLoader.applyEnv(BASE, Map.of("PATH", "/bin", "HERALD_CONFIG", "x.json",
      "HERALD_LOG_FORMAT", "json", "HERALD_GATEWAY_", "1", "HERALD_FOO_BAR", "2", "herald_gateway_port", "3",
      "XHERALD_GATEWAY_PORT", "4"));
    assertThat(out).isEqualTo(BASE);
  }

  @ParameterizedTest(name = "{0}.{1} <-> {2}")
  @CsvSource({
    "gateway, port, HERALD_GATEWAY_PORT",
    "gateway, heartbeatSeconds, HERALD_GATEWAY_HEARTBEAT_SECONDS",
    "gateway, maxLastEventIdLength, HERALD_GATEWAY_MAX_LAST_EVENT_ID_LENGTH",
    "notifier, publisherKeys, HERALD_NOTIFIER_PUBLISHER_KEYS",
    "replay, maxEventsPerTopic, HERALD_REPLAY_MAX_EVENTS_PER_TOPIC",
    "cluster, eventBusHost, HERALD_CLUSTER_EVENT_BUS_HOST",
  })
  @DisplayName("envName and the override agree: the variable named for a key sets that key")
  void envNameRoundTrip(String section, String key, String variable) {
    assertThat(ConfigLoader.envName(section, key)).isEqualTo(variable);
    JsonObject out = ConfigLoader.applyEnv(new JsonObject(), Map.of(variable, "v"));
    assertThat(out.getJsonObject(section).getValue(key)).isEqualTo("v");
  }

  @Test
  @DisplayName("Every key of the shipped config/herald.json can be overridden by the variable envName gives")
  void everyShippedKeyHasAVariable() throws Exception {
    JsonObject shipped = new JsonObject(Files.readString(Path.of("..", "config", "herald.json")));
    for (String section : shipped.fieldNames()) {
      assertThat(ConfigLoader.SECTIONS).contains(section);
      for (String key : shipped.getJsonObject(section).fieldNames()) {
        JsonObject out = ConfigLoader.applyEnv(shipped, Map.of(ConfigLoader.envName(section, key), "x"));
        assertThat(out.getJsonObject(section).getValue(key)).as("%s.%s", section, key).isEqualTo("x");
      }
    }
  }

  @Test
  @DisplayName("A variable for a section the file does not have creates the section")
  void envCreatesSection() {
    JsonObject out = ConfigLoader.applyEnv(new JsonObject(), Map.of("HERALD_REPLAY_STORE", "memory"));
    assertThat(out).isEqualTo(new JsonObject().put("replay", new JsonObject().put("store", "memory")));
  }

  @Test
  @DisplayName("A file is read and then overridden by the environment")
  void loadFileThenEnv(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("h.json");
    Files.writeString(file, "{\"gateway\": {\"port\": 1234, \"host\": \"127.0.0.1\"}}");
    JsonObject out = ConfigLoader.load(file.toString(), Map.of("HERALD_GATEWAY_HOST", "0.0.0.0"));
    assertThat(out.getJsonObject("gateway").getValue("port")).isEqualTo(1234);
    assertThat(out.getJsonObject("gateway").getValue("host")).isEqualTo("0.0.0.0");
  }

  @Test
  @DisplayName("An unknown section fails with the section's name")
  void unknownSection(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("h.json");
    Files.writeString(file, "{\"gateway\": {}, \"gatewy\": {\"port\": 1}}");
    assertThatThrownBy(() -> ConfigLoader.load(file.toString(), Map.of()))
      .isInstanceOf(ConfigException.class)
      .hasMessageStartingWith("gatewy:")
      .hasMessageContaining("unknown section");
  }

  @Test
  @DisplayName("A section that is not an object fails with the section's name")
  void sectionNotObject(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("h.json");
    Files.writeString(file, "{\"gateway\": 8080}");
    assertThatThrownBy(() -> ConfigLoader.load(file.toString(), Map.of()))
      .isInstanceOf(ConfigException.class)
      .hasMessageStartingWith("gateway:")
      .hasMessageContaining("must be an object");
  }

  @Test
  @DisplayName("A file that is not valid JSON fails with an error naming the file")
  void invalidJson(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("broken.json");
    Files.writeString(file, "{\"gateway\": {\"port\": 80,}");
    assertThatThrownBy(() -> ConfigLoader.load(file.toString(), Map.of()))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining(file.toString())
      .hasMessageContaining("not valid JSON")
      .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("config"));
  }

  @Test
  @DisplayName("A missing file fails with an error naming the file")
  void missingFile(@TempDir Path dir) {
    Path file = dir.resolve("nope.json");
    assertThatThrownBy(() -> ConfigLoader.load(file.toString(), Map.of()))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining(file.toString());
  }

  @Test
  @DisplayName("Without a file and without packaged defaults, the environment alone makes the configuration")
  void noFile() {
    JsonObject out = ConfigLoader.load(null, Map.of("HERALD_GATEWAY_PORT", "9"));
    assertThat(out.getJsonObject("gateway").getValue("port")).isEqualTo("9");
  }
}
