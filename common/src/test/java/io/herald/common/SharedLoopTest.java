package io.herald.common;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link SharedLoop}: which roles the launcher puts on one event loop, and that they run there, in order. */
@ExtendWith(VertxExtension.class)
class SharedLoopTest {

  /** Records its start and stop, and the thread it started on. */
  private static final class Recording extends VerticleBase {
    private final String name;
    private final List<String> log;

    Recording(String name, List<String> log) {
      this.name = name;
      this.log = log;
    }

    @Override
    public Future<?> start() {
      log.add("start " + name + " " + Thread.currentThread().getName());
      return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
      log.add("stop " + name);
      return Future.succeededFuture();
    }
  }

  private static Role.Deployment deployment(int instances) {
    return new Role.Deployment(() -> new Recording("x", new CopyOnWriteArrayList<>()), instances);
  }

  @Test
  @DisplayName("replay and notifier, single-instance, become one unit at the replay's place; other roles stay apart")
  void plansTheSharedUnit() {
    List<SharedLoop.Unit> units = SharedLoop.plan(List.of("replay", "notifier", "gateway"),
      List.of(deployment(1), deployment(1), deployment(2)));
    assertThat(units).extracting(SharedLoop.Unit::roles, SharedLoop.Unit::instances)
      .containsExactly(org.assertj.core.groups.Tuple.tuple(List.of("replay", "notifier"), 1),
        org.assertj.core.groups.Tuple.tuple(List.of("gateway"), 2));
    assertThat(SharedLoop.plan(List.of("notifier"), List.of(deployment(1)))).extracting(SharedLoop.Unit::roles)
      .containsExactly(List.of("notifier"));
    assertThat(SharedLoop.plan(List.of("replay", "notifier"), List.of(deployment(1), deployment(2))))
      .extracting(SharedLoop.Unit::roles).containsExactly(List.of("replay"), List.of("notifier"));
  }

  @Test
  @DisplayName("the parts start in order on one event loop thread and stop in reverse order")
  void startsOnOneLoop(Vertx vertx, VertxTestContext ctx) {
    List<String> log = new CopyOnWriteArrayList<>();
    vertx.deployVerticle(() -> new SharedLoop(List.of(new Recording("a", log), new Recording("b", log))),
        new io.vertx.core.DeploymentOptions())
      .compose(id -> vertx.undeploy(id))
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertThat(log).hasSize(4);
        String thread = log.get(0).substring("start a ".length());
        assertThat(thread).startsWith("vert.x-eventloop-thread-");
        assertThat(log).containsExactly("start a " + thread, "start b " + thread, "stop b", "stop a");
        ctx.completeNow();
      })));
  }
}
