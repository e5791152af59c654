package io.herald.common.admin;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class HeapPressureTest {

  private static final long MAX = 1000;

  @Test
  @DisplayName("pressure begins after two readings at or above the high-water mark and ends only below the low-water mark")
  void hysteresis(Vertx vertx) {
    HeapPressure h = HeapPressure.of(vertx);
    h.marks(90, 75);
    h.update(950, MAX);
    assertThat(h.over()).as("one reading is not pressure that stays").isFalse();
    h.update(500, MAX);
    h.update(950, MAX);
    assertThat(h.over()).as("a reading below resets the count").isFalse();
    h.update(900, MAX);
    assertThat(h.over()).isTrue();
    h.update(800, MAX);
    assertThat(h.over()).as("between the marks: still under pressure").isTrue();
    assertThat(h.status().getInteger("liveAfterGcPercent")).isEqualTo(80);
    h.update(740, MAX);
    assertThat(h.over()).as("recovered by itself below the low-water mark").isFalse();
    h.update(800, MAX);
    assertThat(h.over()).isFalse();
  }

  @Test
  @DisplayName("a low-water mark not below the high-water mark is a config error naming admin.heapLowPercent")
  void badMarks() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new AdminOptions(new io.vertx.core.json.JsonObject()
        .put("heapHighPercent", 80).put("heapLowPercent", 80)))
      .isInstanceOf(io.herald.common.config.ConfigException.class)
      .hasMessageContaining("admin.heapLowPercent");
    assertThat(new AdminOptions(new io.vertx.core.json.JsonObject().put("heapHighPercent", 0).put("heapLowPercent", 95)).heapHighPercent())
      .isZero();
  }

  @Test
  @DisplayName("with heapHighPercent 0 the guard never refuses")
  void off(Vertx vertx) {
    HeapPressure h = HeapPressure.of(vertx);
    h.marks(0, 75);
    h.update(MAX, MAX);
    h.update(MAX, MAX);
    assertThat(h.over()).isFalse();
  }

  @Test
  @DisplayName("the live reading comes from the heap pools' usage after collection, within the max heap")
  void readsPools() {
    System.gc();
    long live = HeapPressure.liveAfterGc();
    assertThat(live).isPositive().isLessThanOrEqualTo(Runtime.getRuntime().maxMemory());
  }
}
