package io.herald.standalone;

import io.herald.gateway.GatewayOptions;
import io.herald.common.config.ClusterOptions;
import io.herald.notifier.NotifierOptions;
import io.herald.replay.ReplayOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The configuration reference (docs/configuration.md), config/herald.json and the typed options
 * cannot drift apart. Rows of the reference have the form {@code | `section.key` | `default` | ...}.
 */
class ConfigReferenceTest {

  /** The configuration reference, relative to the module directory Maven runs tests in. */
  static final Path REFERENCE = Path.of("..", "docs", "configuration.md");

  private static final Pattern ROW = Pattern.compile("^\\| `([a-z]+\\.[A-Za-z][A-Za-z0-9]*)` \\| `([^`]*)` \\|", Pattern.MULTILINE);

  @Test
  @DisplayName("Every key of config/herald.json is in docs/configuration.md with its default, once, and nothing else is")
  void referenceMatchesShippedConfig() throws Exception {
    JsonObject shipped = new JsonObject(Files.readString(Path.of("..", "config", "herald.json")));
    Map<String, String> documented = new LinkedHashMap<>();
    List<String> duplicates = new ArrayList<>();
    Matcher m = ROW.matcher(Files.readString(REFERENCE));
    while (m.find()) {
      if (documented.put(m.group(1), m.group(2)) != null) {
        duplicates.add(m.group(1));
      }
    }
    assertThat(duplicates).as("keys documented more than once in " + REFERENCE).isEmpty();
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
  @DisplayName("The README holds no configuration rows of its own: the reference lives in one place")
  void readmeHasNoStaleTable() throws Exception {
    assertThat(ROW.matcher(Files.readString(Path.of("..", "README.md"))).find()).isFalse();
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
    assertThat(shipped.getJsonObject("tracing")).isEqualTo(new io.herald.common.tracing.TracingOptions().toJson());
  }
}
