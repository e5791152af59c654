package io.herald.common;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link Deadlines}: keys expire in the order they were last armed, disarmed keys never do. */
@ExtendWith(VertxExtension.class)
class DeadlinesTest {

  @Test
  @DisplayName("Keys expire in the order they were last armed; a disarmed key never expires; re-arming starts a key again")
  void order(Vertx vertx, VertxTestContext ctx) throws Exception {
    List<String> expired = new CopyOnWriteArrayList<>();
    vertx.runOnContext(v -> {
      java.util.concurrent.atomic.AtomicReference<Deadlines<String>> ref = new java.util.concurrent.atomic.AtomicReference<>();
      Deadlines<String> d = new Deadlines<>(vertx, 50, key -> {
        expired.add(key);
        if (key.equals("last")) {
          ctx.verify(() -> {
            // "gone" was disarmed and "a" re-armed after "b": b, then a, then the key armed last.
            assertThat(expired).containsExactly("b", "a", "last");
            assertThat(ref.get().size()).isZero();
          });
          ctx.completeNow();
        }
      });
      ref.set(d);
      d.arm("a");
      d.arm("gone");
      d.arm("b");
      assertThat(d.disarm("gone")).isTrue();
      assertThat(d.disarm("never armed")).isFalse();
      d.arm("a");
      assertThat(d.size()).isEqualTo(2);
      // Armed later, from another deadline's expiry: it falls due after the others.
      vertx.setTimer(20, t -> d.arm("last"));
    });
    assertThat(ctx.awaitCompletion(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  @DisplayName("An expiry handler may arm keys again, the same one included; the guard keeps going after its head was disarmed")
  void rearmFromHandler(Vertx vertx, VertxTestContext ctx) throws Exception {
    List<String> expired = new CopyOnWriteArrayList<>();
    vertx.runOnContext(v -> {
      @SuppressWarnings("unchecked")
      Deadlines<String>[] holder = new Deadlines[1];
      holder[0] = new Deadlines<>(vertx, 20, key -> {
        expired.add(key);
        if (expired.size() < 3) {
          holder[0].arm(key); // expires again, each time one more
        } else {
          ctx.verify(() -> assertThat(expired).containsExactly("x", "x", "x"));
          ctx.completeNow();
        }
      });
      holder[0].arm("head");
      holder[0].disarm("head"); // the timer waits for a key that is gone: it fires into nothing and moves on
      holder[0].arm("x");
      assertThat(holder[0].size()).isEqualTo(1);
    });
    assertThat(ctx.awaitCompletion(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  @DisplayName("A deadline must be positive")
  void positive(Vertx vertx) {
    assertThatThrownBy(() -> new Deadlines<String>(vertx, 0, k -> { })).isInstanceOf(IllegalArgumentException.class);
  }
}
