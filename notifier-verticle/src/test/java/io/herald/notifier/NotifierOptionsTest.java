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
    "publishRatePerKey|-1|notifier.publishRatePerKey",
    "publishRatePerKey|\"fast\"|notifier.publishRatePerKey",
    "publishBurst|0|notifier.publishBurst",
    "publishBurst|50|notifier.publishBurst",
    "trustedProducers|[\"10.0.0.0/33\"]|notifier.trustedProducers",
    "trustedProducers|[\"localhost\"]|notifier.trustedProducers",
    "trustedProducers|[\"fd00::1/8\"]|notifier.trustedProducers",
    "trustedProducers|\"10.0.0.0/8,1.2.3\"|notifier.trustedProducers",
    "trustedProducers|[1]|notifier.trustedProducers",
    "maxHeaderBytes|1023|notifier.maxHeaderBytes",
    "requestTimeoutMillis|99|notifier.requestTimeoutMillis",
    "idleTimeoutSeconds|-1|notifier.idleTimeoutSeconds",
    "idleTimeoutSeconds|5|notifier.idleTimeoutSeconds",
  })
  @DisplayName("A bad notifier value fails at start with an error naming its key")
  void badValuesNameTheKey(String key, String json, String named) {
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject("{\"" + key + "\": " + json + "}")))
      .isInstanceOf(ConfigException.class)
      .hasMessageStartingWith(named + ":");
  }

  @Test
  @DisplayName("The abuse limits have their documented defaults and accept their bounds")
  void limitDefaultsAndBounds() {
    NotifierOptions d = new NotifierOptions();
    assertThat(d.publishRatePerKey()).isEqualTo(NotifierOptions.DEFAULT_PUBLISH_RATE_PER_KEY).isEqualTo(1000);
    assertThat(d.publishBurst()).isEqualTo(NotifierOptions.DEFAULT_PUBLISH_BURST).isEqualTo(2000);
    assertThat(d.trustedProducers()).isEqualTo(NotifierOptions.DEFAULT_TRUSTED_PRODUCERS).isEmpty();
    assertThat(d.producerAllowlist().allowsAll()).isTrue();
    assertThat(d.maxHeaderBytes()).isEqualTo(NotifierOptions.DEFAULT_MAX_HEADER_BYTES).isEqualTo(8192);
    assertThat(d.requestTimeoutMillis()).isEqualTo(NotifierOptions.DEFAULT_REQUEST_TIMEOUT_MILLIS).isEqualTo(10_000);
    assertThat(d.idleTimeoutSeconds()).isEqualTo(NotifierOptions.DEFAULT_IDLE_TIMEOUT_SECONDS).isEqualTo(60);
    JsonObject json = d.toJson();
    assertThat(json.getInteger("publishRatePerKey")).isEqualTo(1000);
    assertThat(json.getInteger("publishBurst")).isEqualTo(2000);
    assertThat(json.getJsonArray("trustedProducers")).isEmpty();
    assertThat(json.getInteger("maxHeaderBytes")).isEqualTo(8192);
    assertThat(json.getInteger("requestTimeoutMillis")).isEqualTo(10_000);
    assertThat(json.getInteger("idleTimeoutSeconds")).isEqualTo(60);

    NotifierOptions edges = new NotifierOptions(new JsonObject().put("publishRatePerKey", 0).put("publishBurst", 1)
      .put("maxHeaderBytes", 1024).put("requestTimeoutMillis", 100).put("idleTimeoutSeconds", 0)
      .put("trustedProducers", "127.0.0.1, 10.0.0.0/8, ::1, fd00::/8, ::ffff:192.168.0.0/112"));
    assertThat(edges.publishRatePerKey()).as("0: off, so a burst below maxBatchSize is fine").isZero();
    assertThat(edges.trustedProducers()).hasSize(5);
    assertThat(edges.producerAllowlist().allows("192.168.3.4")).isTrue();
    assertThat(edges.with(new JsonObject()).toJson()).as("toJson round-trips").isEqualTo(edges.toJson());
    assertThat(new NotifierOptions(new JsonObject().put("publishBurst", 100)).publishBurst()).as("= maxBatchSize").isEqualTo(100);
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
