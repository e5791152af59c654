package io.herald.common.admin;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Which metrics {@link HeraldMetrics#get} gives a thread: the process's, or a muted Vert.x's own. */
class HeraldMetricsBindingTest {

  private static HeraldMetrics getOn(Vertx vertx) throws Exception {
    CompletableFuture<HeraldMetrics> out = new CompletableFuture<>();
    vertx.runOnContext(v -> out.complete(HeraldMetrics.get()));
    return out.get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("A bound node counts in the process's metrics, a muted Vert.x in its own registry, and a node's binding goes when it closes")
  void boundNodeAndMutedCopy() throws Exception {
    HeraldMetrics process = HeraldMetrics.get(); // no Vert.x thread: the process's
    Vertx node = Vertx.vertx();
    Vertx copy = Vertx.vertx();
    SimpleMeterRegistry copyRegistry = new SimpleMeterRegistry();
    try {
      assertThat(getOn(node)).as("unbound: the process's").isSameAs(process);
      HeraldMetrics.bindNode(node);
      HeraldMetrics.mute(copy, copyRegistry);
      assertThat(HeraldMetrics.bound(node)).isTrue();
      assertThat(getOn(node)).as("bound: still the process's, found the way a muted one is").isSameAs(process);
      HeraldMetrics muted = getOn(copy);
      assertThat(muted).isNotSameAs(process);
      assertThat(muted.registry()).isSameAs(copyRegistry);
      CompletableFuture<Void> counted = new CompletableFuture<>();
      copy.runOnContext(v -> {
        HeraldMetrics.get().rejected("warm_up_only");
        counted.complete(null);
      });
      counted.get(10, TimeUnit.SECONDS);
      assertThat(copyRegistry.find("herald_rejections").tag("reason", "warm_up_only").counter()).isNotNull();
      assertThat(process.registry().find("herald_rejections").tag("reason", "warm_up_only").counter())
        .as("the muted copy's counting stays out of the process's registry").isNull();
      HeraldMetrics.unmute(copy);
      assertThat(getOn(copy)).as("unmuted: the process's again").isSameAs(process);
    } finally {
      HeraldMetrics.unmute(copy);
      copy.close().await();
      node.close().await();
    }
    assertThat(HeraldMetrics.bound(node)).as("the node's binding is gone with it (no Vert.x kept alive)").isFalse();
  }
}
