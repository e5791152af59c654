package io.herald.replay;

import io.herald.common.Role;
import io.herald.common.config.ConfigException;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code replay} section: defaults, bounds, and errors that name the key. */
class ReplayOptionsTest {

  private static JsonObject shippedSection() throws IOException {
    JsonObject root = new JsonObject(Files.readString(Path.of("../config/herald.json")));
    return root.getJsonObject("replay");
  }

  @Test
  @DisplayName("the defaults are exactly the replay section of config/herald.json")
  void defaultsMatchShippedConfig() throws IOException {
    JsonObject shipped = shippedSection();

    assertThat(new ReplayOptions().toJson()).isEqualTo(shipped);
    assertThat(new ReplayOptions(shipped)).isEqualTo(new ReplayOptions());
    assertThat(shipped.getString("store")).isEqualTo(ReplayOptions.DEFAULT_STORE);
    assertThat(shipped.getInteger("maxEventsPerTopic")).isEqualTo(ReplayOptions.DEFAULT_MAX_EVENTS_PER_TOPIC);
    assertThat(shipped.getInteger("maxAgeSeconds")).isEqualTo(ReplayOptions.DEFAULT_MAX_AGE_SECONDS);
    assertThat(shipped.getInteger("maxTopics")).isEqualTo(ReplayOptions.DEFAULT_MAX_TOPICS);
    assertThat(shipped.getInteger("maxReadLimit")).isEqualTo(ReplayOptions.DEFAULT_MAX_READ_LIMIT);
  }

  static Stream<Arguments> badConfigs() {
    return Stream.of(
      Arguments.of("store", "nosuch"),
      Arguments.of("store", ""),
      Arguments.of("store", 3),
      Arguments.of("maxEventsPerTopic", 0),
      Arguments.of("maxEventsPerTopic", 1_000_001),
      Arguments.of("maxEventsPerTopic", "many"),
      Arguments.of("maxEventsPerTopic", 2.5),
      Arguments.of("maxAgeSeconds", 0),
      Arguments.of("maxAgeSeconds", -5),
      Arguments.of("maxAgeSeconds", 2_592_001),
      Arguments.of("maxTopics", 0),
      Arguments.of("maxTopics", 10_000_001),
      Arguments.of("maxTopics", true),
      Arguments.of("maxReadLimit", 0),
      Arguments.of("maxReadLimit", 100_001),
      Arguments.of("redisUrl", "http://127.0.0.1:6379"),
      Arguments.of("redisKeyPrefix", ""),
      Arguments.of("postgresUrl", "jdbc:postgresql://127.0.0.1/x"),
      Arguments.of("postgresTablePrefix", "Herald;drop"),
      Arguments.of("maxReadLimit", "1e3"),
      Arguments.of("maxEvents", 10));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("badConfigs")
  @DisplayName("a bad value fails with a ConfigException that names the key")
  void badConfigNamesTheKey(String key, Object value) {
    JsonObject section = new JsonObject().put(key, value);

    assertThatThrownBy(() -> new ReplayOptions(section))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("replay." + key)
      .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("replay." + key));
  }

  @Test
  @DisplayName("the bounds themselves are accepted, also as strings from environment variables")
  void boundsAccepted() {
    ReplayOptions low = new ReplayOptions(new JsonObject().put("maxEventsPerTopic", 1).put("maxAgeSeconds", 1)
      .put("maxTopics", 1).put("maxReadLimit", 1));
    ReplayOptions high = new ReplayOptions(new JsonObject().put("maxEventsPerTopic", "1000000")
      .put("maxAgeSeconds", "2592000").put("maxTopics", "10000000").put("maxReadLimit", "100000"));

    assertThat(low.toJson()).isEqualTo(new ReplayOptions().toJson().put("store", "memory").put("maxEventsPerTopic", 1)
      .put("maxAgeSeconds", 1).put("maxTopics", 1).put("maxReadLimit", 1));
    assertThat(high.maxEventsPerTopic()).isEqualTo(1_000_000);
    assertThat(high.maxAgeSeconds()).isEqualTo(2_592_000);
    assertThat(high.maxAgeMillis()).isEqualTo(2_592_000_000L);
    assertThat(high.maxTopics()).isEqualTo(10_000_000);
    assertThat(high.maxReadLimit()).isEqualTo(100_000);
    assertThat(new ReplayOptions(high.toJson())).isEqualTo(high);
  }

  @Test
  @DisplayName("the factory builds the memory store for store = memory")
  void factoryBuildsMemory() {
    Vertx vertx = Vertx.vertx();
    try {
      ReplayStore store = ReplayStoreFactory.create(vertx, new ReplayOptions());
      assertThat(store).isInstanceOf(MemoryReplayStore.class);
      assertThat(store.name()).isEqualTo("memory");
    } finally {
      vertx.close();
    }
  }

  @Test
  @DisplayName("the replay role reads the replay section, deploys one ReplayVerticle, and rejects bad config before deploying")
  void role() {
    ReplayRole role = new ReplayRole();
    Role.Deployment d = role.prepare(new JsonObject().put("maxTopics", 10));

    assertThat(role.name()).isEqualTo("replay");
    assertThat(d.instances()).isEqualTo(1);
    assertThat(d.verticle().get()).isInstanceOf(ReplayVerticle.class);
    assertThatThrownBy(() -> role.prepare(new JsonObject().put("maxTopics", 0)))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("replay.maxTopics");
  }
}
