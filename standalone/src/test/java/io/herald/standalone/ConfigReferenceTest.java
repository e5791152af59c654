package io.herald.standalone;

import io.herald.common.config.ClusterOptions;
import io.herald.gateway.GatewayOptions;
import io.herald.notifier.NotifierOptions;
import io.herald.replay.ReplayOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's configuration table, config/herald.json and the typed options cannot drift apart. */
class ConfigReferenceTest {

  private static final Pattern ROW = Pattern.compile("^\\| `([a-z]+\\.[A-Za-z][A-Za-z0-9]*)` \\| `([^`]*)` \\|", Pattern.MULTILINE);

  @Test
  @DisplayName("Every key of config/herald.json is in the README table with its default, and nothing else is")
  void readmeTableMatchesShippedConfig() throws Exception {
    JsonObject shipped = new JsonObject(Files.readString(Path.of("..", "config", "herald.json")));
    Map<String, String> documented = new LinkedHashMap<>();
    Matcher m = ROW.matcher(Files.readString(Path.of("..", "README.md")));
    while (m.find()) {
      documented.put(m.group(1), m.group(2));
    }
    Map<String, String> expected = new LinkedHashMap<>();
    for (String section : shipped.fieldNames()) {
      JsonObject s = shipped.getJsonObject(section);
      for (String key : s.fieldNames()) {
        Object v = s.getValue(key);
        expected.put(section + "." + key, v instanceof JsonArray a ? a.encode() : String.valueOf(v));
      }
    }
    assertThat(documented).isEqualTo(expected);
  }

  @Test
  @DisplayName("config/herald.json holds exactly the defaults of the typed options of every role")
  void shippedConfigIsTheTypedDefaults() throws Exception {
    JsonObject shipped = new JsonObject(Files.readString(Path.of("..", "config", "herald.json")));
    assertThat(shipped.getJsonObject("gateway")).isEqualTo(new GatewayOptions().toJson());
    assertThat(shipped.getJsonObject("notifier")).isEqualTo(new NotifierOptions().toJson());
    assertThat(shipped.getJsonObject("replay")).isEqualTo(new ReplayOptions().toJson());
    assertThat(shipped.getJsonObject("cluster")).isEqualTo(new ClusterOptions().toJson());
    assertThat(shipped.getJsonObject("admin")).isEqualTo(new io.herald.common.admin.AdminOptions().toJson());
  }
}
