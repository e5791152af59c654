package io.herald.notifier;

import io.herald.common.config.ConfigException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NotifierOptionsTest {

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(delimiter = '|', value = {
    "port|-1|notifier.port",
    "publisherKeys|[]|notifier.publisherKeys",
    "publisherKeys|[\"short\"]|notifier.publisherKeys",
    "maxBodyBytes|10|notifier.maxBodyBytes",
    "maxEventBytes|0|notifier.maxEventBytes",
    "maxTopicsPerEvent|0|notifier.maxTopicsPerEvent",
    "maxBatchSize|\"many\"|notifier.maxBatchSize",
    "replayTimeoutMillis|1|notifier.replayTimeoutMillis",
    "publisherKey|\"x\"|notifier.publisherKey",
  })
  @DisplayName("A bad notifier value fails at start with an error naming its key")
  void badValuesNameTheKey(String key, String json, String named) {
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject("{\"" + key + "\": " + json + "}")))
      .isInstanceOf(ConfigException.class)
      .hasMessageStartingWith(named + ":");
  }

  @Test
  @DisplayName("Keys come from a comma-separated environment value too")
  void keysFromEnvironmentString() {
    NotifierOptions o = new NotifierOptions(new JsonObject().put("publisherKeys", "key-number-one, key-number-two"));
    assertThat(o.publisherKeys()).containsExactly("key-number-one", "key-number-two");
    assertThat(o.isDevelopmentKey()).isFalse();
  }

  @Test
  @DisplayName("The defaults in code are the ones config/herald.json ships")
  void defaultsMatchShippedConfig() throws Exception {
    JsonObject shipped = new JsonObject(Files.readString(Path.of("..", "config", "herald.json"))).getJsonObject("notifier");
    assertThat(new NotifierOptions().toJson()).isEqualTo(shipped);
    assertThat(new NotifierOptions().isDevelopmentKey()).isTrue();
  }
}
