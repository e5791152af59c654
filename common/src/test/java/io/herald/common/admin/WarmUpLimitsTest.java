package io.herald.common.admin;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class WarmUpLimitsTest {

  private static JsonObject notifier(String key, Object value) {
    return new JsonObject().put("notifier", new JsonObject().put(key, value));
  }

  @Test
  @DisplayName("The warm-up copy's publish limits are off where the node's are off (0, as a number or as an environment string) and out of the way otherwise")
  void mirrorsTheNodesLimits() {
    assertThat(WarmUp.limit(notifier("publishRatePerKey", 0), "publishRatePerKey", 10_000_000)).isZero();
    assertThat(WarmUp.limit(notifier("publishRatePerKey", "0"), "publishRatePerKey", 10_000_000)).isZero();
    assertThat(WarmUp.limit(notifier("publishRatePerKey", 50), "publishRatePerKey", 10_000_000)).isEqualTo(10_000_000);
    // Not configured: the node runs its default limit, so the copy runs one too.
    assertThat(WarmUp.limit(new JsonObject(), "publishRatePerKey", 10_000_000)).isEqualTo(10_000_000);
    assertThat(WarmUp.limit(notifier("publishRatePerKey", 0), "newTopicsPerMinutePerKey", 100_000_000)).isEqualTo(100_000_000);
  }
}
