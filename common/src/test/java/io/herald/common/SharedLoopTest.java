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

  @Test
  @DisplayName("the event-loop pool is one loop per gateway instance when the shared unit runs beside a gateway of several instances, else Vert.x's default")
  void sizesThePool() {
    assertThat(SharedLoop.eventLoops(SharedLoop.plan(List.of("replay", "notifier", "gateway"),
      List.of(deployment(1), deployment(1), deployment(2))))).isEqualTo(2);
    assertThat(SharedLoop.eventLoops(SharedLoop.plan(List.of("gateway", "replay", "notifier"),
      List.of(deployment(8), deployment(1), deployment(1))))).isEqualTo(8);
    assertThat(SharedLoop.eventLoops(SharedLoop.plan(List.of("replay", "notifier", "gateway"),
      List.of(deployment(1), deployment(1), deployment(1))))).isZero();
    assertThat(SharedLoop.eventLoops(SharedLoop.plan(List.of("gateway"), List.of(deployment(2))))).isZero();
    assertThat(SharedLoop.eventLoops(SharedLoop.plan(List.of("replay", "notifier"), List.of(deployment(1), deployment(1))))).isZero();
  }

  /** A role of the given name whose verticle records the thread each instance starts on. */
  private static Role role(String name, int instances, List<String> log) {
    return new Role() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Role.Deployment prepare(io.vertx.core.json.JsonObject section) {
        return new Role.Deployment(() -> new Recording(name, log), instances);
      }
    };
  }

  @Test
  @DisplayName("the launcher puts the shared replay and notifier loop on the thread of a gateway instance, and the gateway instances on threads of their own")
  void sharesAGatewayThread() throws Exception {
    for (int gateways : new int[] {2, 3}) {
      List<String> log = new CopyOnWriteArrayList<>();
      var config = new io.vertx.core.json.JsonObject().put("admin", new io.vertx.core.json.JsonObject().put("enabled", false).put("warmUpMillis", 0));
      HeraldLauncher.Running running = HeraldLauncher.start(config, false,
          List.of(role("replay", 1, log), role("notifier", 1, log), role("gateway", gateways, log)))
        .toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
      try {
        List<String> gatewayThreads = log.stream().filter(l -> l.startsWith("start gateway ")).map(l -> l.substring("start gateway ".length())).toList();
        String shared = log.stream().filter(l -> l.startsWith("start replay ")).findFirst().orElseThrow().substring("start replay ".length());
        assertThat(log).contains("start notifier " + shared);
        assertThat(gatewayThreads).hasSize(gateways).doesNotHaveDuplicates().contains(shared);
      } finally {
        running.close().toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
      }
    }
  }
}
