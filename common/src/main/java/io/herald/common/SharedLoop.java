package io.herald.common;

import io.vertx.core.Context;
import io.vertx.core.Deployable;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Several single-instance role verticles deployed as one, on one context and so on one event
 * loop: in a process that runs both the {@code replay} and the {@code notifier} role (the
 * all-in-one jar), every publish is a request from the notifier to the replay role and its reply.
 * On two event loops each of them is a hand-off to another thread (a task queued and the other
 * loop woken from {@code epoll_wait} through its eventfd, then the same back); on one loop the
 * event bus delivers them without a wake-up or a context switch. The roles still talk only over
 * the event bus, as they do in separate processes.
 *
 * <p>The parts are deployed in order, each once the previous one has started, and undeployed in
 * reverse order; a failed start undeploys the parts already started.
 */
public final class SharedLoop implements Deployable {

  /** The role names whose verticles {@link #plan} puts on one event loop when a process runs them all, single-instance. */
  public static final List<String> ROLES = List.of("replay", "notifier");

  private final List<Deployable> parts;
  private final List<Deployable> started = new ArrayList<>();

  public SharedLoop(List<Deployable> parts) {
    this.parts = List.copyOf(parts);
  }

  @Override
  public Future<?> deploy(Context context) throws Exception {
    Future<?> chain = Future.succeededFuture();
    for (Deployable part : parts) {
      chain = chain.compose(v -> {
        try {
          return part.deploy(context).onSuccess(x -> started.add(part));
        } catch (Exception e) {
          return Future.failedFuture(e);
        }
      });
    }
    return chain.recover(t -> undeploy(context).transform(ignored -> Future.failedFuture(t)));
  }

  @Override
  public Future<?> undeploy(Context context) {
    Future<?> chain = Future.succeededFuture();
    for (int i = started.size() - 1; i >= 0; i--) {
      Deployable part = started.get(i);
      chain = chain.transform(ignored -> {
        try {
          return part.undeploy(context);
        } catch (Exception e) {
          return Future.failedFuture(e);
        }
      });
    }
    return chain.onComplete(ar -> started.clear());
  }

  /**
   * The size of the event-loop pool for a process that deploys {@code plan}, or 0 for Vert.x's
   * default (two loops per core). When a {@link SharedLoop} unit shares the process with a role of
   * several instances (the gateway, in the all-in-one jar), one loop per instance of that role:
   * Vert.x gives contexts the pool's loops in turn, so n instances created in a row take all n
   * loops and the shared unit's loop is also one of that role's. The events the replay role
   * publishes to the connections of that instance are then delivered on the same thread, a task
   * queued on the running loop instead of another loop woken through its eventfd (a system call
   * and a context switch each). With the default pool every unit had a loop of its own and every
   * event crossed threads. Measured on targeted publishing (BENCHMARKS.md, run 32): per event 45 %
   * fewer eventfd writes and 23 % fewer context switches; CPU per event within the noise.
   */
  public static int eventLoops(List<Unit> plan) {
    boolean shared = plan.stream().anyMatch(u -> u.roles().size() > 1);
    int most = plan.stream().filter(u -> u.roles().size() == 1).mapToInt(Unit::instances).max().orElse(0);
    return shared && most > 1 ? most : 0;
  }

  /** One deployment of the launcher: the roles it holds (by name) and what to deploy. */
  public record Unit(List<String> roles, Supplier<? extends Deployable> verticle, int instances) {
  }

  /**
   * Groups {@code deployments} (one per role, in the order of {@code names}) into what to deploy:
   * when every role of {@link #ROLES} is there with one instance, they become one
   * {@link SharedLoop} unit, at the place of the first of them; every other role is a unit of its own.
   */
  public static List<Unit> plan(List<String> names, List<Role.Deployment> deployments) {
    List<Integer> shared = new ArrayList<>();
    for (String role : ROLES) {
      int i = names.indexOf(role);
      if (i < 0 || deployments.get(i).instances() != 1) {
        shared.clear();
        break;
      }
      shared.add(i);
    }
    List<Unit> units = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      if (!shared.contains(i)) {
        units.add(new Unit(List.of(names.get(i)), deployments.get(i).verticle(), deployments.get(i).instances()));
      } else if (i == shared.stream().mapToInt(Integer::intValue).min().orElseThrow()) {
        List<String> roles = new ArrayList<>();
        List<Supplier<? extends Deployable>> suppliers = new ArrayList<>();
        for (int k = 0; k < names.size(); k++) {
          if (shared.contains(k)) {
            roles.add(names.get(k));
            suppliers.add(deployments.get(k).verticle());
          }
        }
        units.add(new Unit(List.copyOf(roles), () -> new SharedLoop(suppliers.stream().<Deployable>map(Supplier::get).toList()), 1));
      }
    }
    return units;
  }
}
