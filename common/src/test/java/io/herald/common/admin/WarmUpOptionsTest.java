package io.herald.common.admin;

import io.herald.common.config.ConfigException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WarmUpOptionsTest {

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource({"warmUpMillis, -1", "warmUpMillis, 60001", "warmUpPublishes, 0", "warmUpPublishes, 10000001"})
  @DisplayName("A warm-up bound out of range is a config error naming its key")
  void outOfRange(String key, int value) {
    assertThatThrownBy(() -> new AdminOptions(new JsonObject().put(key, value)))
      .isInstanceOf(ConfigException.class).hasMessageContaining("admin." + key);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"0, 1", "15000, 100000", "60000, 10000000"})
  @DisplayName("The warm-up bounds take 0 (no warm-up) to their maximum, with 15 s and 100,000 publishes by default")
  void inRange(int millis, int publishes) {
    AdminOptions o = new AdminOptions(new JsonObject().put("warmUpMillis", millis).put("warmUpPublishes", publishes));
    assertThat(o.warmUpMillis()).isEqualTo(millis);
    assertThat(o.warmUpPublishes()).isEqualTo(publishes);
    assertThat(new AdminOptions().warmUpMillis()).isEqualTo(15_000);
    assertThat(new AdminOptions().warmUpPublishes()).isEqualTo(100_000);
  }
}
