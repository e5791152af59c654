package io.herald.common;

import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigReaderTest {

  private static ConfigReader reader(String json) {
    return new ConfigReader("gateway", new JsonObject(json));
  }

  private static void failsNaming(String key, Runnable read, String problem) {
    assertThatThrownBy(read::run)
      .isInstanceOf(ConfigException.class)
      .hasMessageStartingWith(key + ": ")
      .hasMessageContaining(problem)
      .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(key));
  }

  @Test
  @DisplayName("Missing keys give the defaults")
  void defaults() {
    ConfigReader r = reader("{}");
    assertThat(r.getInt("port", 8080, 1, 65535)).isEqualTo(8080);
    assertThat(r.getLong("big", 5L, 0, Long.MAX_VALUE)).isEqualTo(5L);
    assertThat(r.getBoolean("on", true)).isTrue();
    assertThat(r.getString("host", "0.0.0.0")).isEqualTo("0.0.0.0");
    assertThat(r.getOptionalString("secret")).isNull();
    assertThat(r.getStringList("keys", List.of("k"))).containsExactly("k");
    assertThat(r.getObject("nested")).isEqualTo(new JsonObject());
    r.rejectUnknown();
  }

  @Test
  @DisplayName("JSON-typed values are read as they are")
  void jsonValues() {
    ConfigReader r = reader("{\"port\": 9090, \"on\": false, \"host\": \"h\", \"keys\": [\"a\", \" b \"], \"n\": 3.0, \"o\": {\"x\": 1}}");
    assertThat(r.getInt("port", 1, 1, 65535)).isEqualTo(9090);
    assertThat(r.getBoolean("on", true)).isFalse();
    assertThat(r.getString("host", "d")).isEqualTo("h");
    assertThat(r.getStringList("keys", List.of())).containsExactly("a", "b");
    assertThat(r.getLong("n", 0, 0, 10)).isEqualTo(3L);
    assertThat(r.getObject("o")).isEqualTo(new JsonObject().put("x", 1));
    r.rejectUnknown();
  }

  @Test
  @DisplayName("String values, as environment variables give them, are converted")
  void stringValues() {
    ConfigReader r = reader("{\"port\": \" 9090 \", \"on\": \"TRUE\", \"off\": \"false\", \"big\": \"9223372036854775807\"}");
    assertThat(r.getInt("port", 1, 1, 65535)).isEqualTo(9090);
    assertThat(r.getBoolean("on", false)).isTrue();
    assertThat(r.getBoolean("off", true)).isFalse();
    assertThat(r.getLong("big", 0, 0, Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
  }

  @ParameterizedTest(name = "\"{0}\" -> {1}")
  @CsvSource(delimiter = '|', value = {
    "a,b,c|a;b;c",
    "a, b ,c|a;b;c",
    "a,,b,|a;b",
    "single|single",
    "' '|''",
  })
  @DisplayName("Lists come from comma-separated strings, blanks dropped and items trimmed")
  void listsFromCommaStrings(String value, String expected) {
    List<String> got = new ConfigReader("notifier", new JsonObject().put("publisherKeys", value))
      .getStringList("publisherKeys", List.of("default"));
    assertThat(got).containsExactlyElementsOf(expected.isEmpty() ? List.of() : List.of(expected.split(";")));
  }

  @Test
  @DisplayName("A list read from the configuration cannot be changed by its reader")
  void listIsImmutable() {
    List<String> got = reader("{\"keys\": \"a,b\"}").getStringList("keys", List.of());
    assertThatThrownBy(() -> got.add("c")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  @DisplayName("Type errors name the full key")
  void typeErrorsNameTheKey() {
    failsNaming("gateway.port", () -> reader("{\"port\": \"notaport\"}").getInt("port", 1, 1, 65535), "must be an integer");
    failsNaming("gateway.port", () -> reader("{\"port\": 80.5}").getInt("port", 1, 1, 65535), "must be an integer");
    failsNaming("gateway.port", () -> reader("{\"port\": true}").getInt("port", 1, 1, 65535), "must be an integer");
    failsNaming("gateway.port", () -> reader("{\"port\": [1]}").getInt("port", 1, 1, 65535), "must be an integer");
    failsNaming("gateway.port", () -> reader("{\"port\": 70000}").getInt("port", 1, 1, 65535), "between 1 and 65535");
    failsNaming("gateway.port", () -> reader("{\"port\": \"0\"}").getInt("port", 1, 1, 65535), "between 1 and 65535");
    failsNaming("gateway.port", () -> reader("{\"port\": \"99999999999999999999\"}").getInt("port", 1, 1, 65535), "must be an integer");
    failsNaming("gateway.on", () -> reader("{\"on\": \"yes\"}").getBoolean("on", true), "true or false");
    failsNaming("gateway.on", () -> reader("{\"on\": 1}").getBoolean("on", true), "true or false");
    failsNaming("gateway.host", () -> reader("{\"host\": \"\"}").getString("host", "h"), "non-empty string");
    failsNaming("gateway.host", () -> reader("{\"host\": \"  \"}").getString("host", "h"), "non-empty string");
    failsNaming("gateway.host", () -> reader("{\"host\": 5}").getString("host", "h"), "non-empty string");
    failsNaming("gateway.secret", () -> reader("{\"secret\": 5}").getOptionalString("secret"), "must be a string");
    failsNaming("gateway.keys", () -> reader("{\"keys\": [\"a\", 1]}").getStringList("keys", List.of()), "non-empty strings");
    failsNaming("gateway.keys", () -> reader("{\"keys\": [\"a\", \"\"]}").getStringList("keys", List.of()), "non-empty strings");
    failsNaming("gateway.keys", () -> reader("{\"keys\": 5}").getStringList("keys", List.of()), "list of strings");
    failsNaming("gateway.o", () -> reader("{\"o\": \"x\"}").getObject("o"), "must be an object");
    failsNaming("gateway.store", () -> reader("{\"store\": \"cassandra\"}").getOneOf("store", "memory", "memory", "redis"),
      "one of memory, redis");
  }

  @Test
  @DisplayName("A JSON integer too big for a long is an error, not a value wrapped around into range")
  void hugeJsonInteger() {
    // 2^64 + 8080: wrapping to 64 bits would read it as port 8080
    failsNaming("gateway.port", () -> reader("{\"port\": 18446744073709559696}").getInt("port", 1, 1, 65535), "gateway.port");
  }

  @Test
  @DisplayName("getOneOf accepts only the listed values")
  void oneOf() {
    assertThat(reader("{}").getOneOf("store", "memory", "memory", "redis")).isEqualTo("memory");
    assertThat(reader("{\"store\": \"redis\"}").getOneOf("store", "memory", "memory", "redis")).isEqualTo("redis");
  }

  @Test
  @DisplayName("An empty optional string reads as absent")
  void optionalBlank() {
    assertThat(reader("{\"secret\": \"  \"}").getOptionalString("secret")).isNull();
    assertThat(reader("{\"secret\": \"s\"}").getOptionalString("secret")).isEqualTo("s");
  }

  @Test
  @DisplayName("rejectUnknown names the unknown key and lists the known ones")
  void rejectUnknownNamesTheKey() {
    ConfigReader r = reader("{\"port\": 1, \"heartbeatSecs\": 5}");
    r.getInt("port", 8080, 1, 65535);
    r.getInt("heartbeatSeconds", 15, 1, 3600);
    failsNaming("gateway.heartbeatSecs", r::rejectUnknown, "unknown key (known: heartbeatSeconds, port)");
  }

  @Test
  @DisplayName("A key read with any getter, even when absent, counts as known; has() does not read")
  void readKeysAreKnown() {
    ConfigReader r = reader("{\"a\": 1}");
    assertThat(r.has("a")).isTrue();
    assertThat(r.has("b")).isFalse();
    failsNaming("gateway.a", r::rejectUnknown, "unknown key");
    r.getInt("a", 0, 0, 10);
    r.rejectUnknown();
  }

  @Test
  @DisplayName("A null section reads as empty and key() gives the dotted name")
  void nullSection() {
    ConfigReader r = new ConfigReader("replay", null);
    assertThat(r.key("store")).isEqualTo("replay.store");
    assertThat(r.getString("store", "memory")).isEqualTo("memory");
    r.rejectUnknown();
  }

  @Test
  @DisplayName("Lists given as JSON arrays are checked item by item")
  void arrayItems() {
    Consumer<JsonArray> ok = arr -> assertThat(new ConfigReader("s", new JsonObject().put("l", arr))
      .getStringList("l", List.of())).hasSize(arr.size());
    ok.accept(new JsonArray());
    ok.accept(new JsonArray().add("x").add("y"));
  }
}
