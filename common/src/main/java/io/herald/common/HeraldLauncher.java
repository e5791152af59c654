package io.herald.common;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.herald.common.admin.AdminOptions;
import io.herald.common.admin.AdminServer;
import io.herald.common.config.ClusterOptions;
import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigLoader;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts Herald roles from the command line: {@code java -jar herald.jar [--config FILE] [--cluster]}.
 * Validates the whole configuration before starting anything (an error names the key and the
 * process exits with status 2), builds a local or clustered Vert.x, deploys the roles in order
 * and closes everything on SIGTERM so that clients reconnect elsewhere.
 */
public final class HeraldLauncher {

  static {
    // Must run before the first logger exists: HERALD_LOG_FORMAT=json switches to one JSON object a line.
    if ("json".equalsIgnoreCase(System.getenv("HERALD_LOG_FORMAT")) && System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "logback-json.xml");
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(HeraldLauncher.class);

  /** How long shutdown may take before the process exits anyway. */
  public static final long SHUTDOWN_TIMEOUT_MILLIS = 10_000;

  private HeraldLauncher() {
  }

  /** A started Herald: its Vert.x instance, closed by {@link #close()}. */
  public record Running(Vertx vertx, List<String> deploymentIds, int adminPort) {
    /** Closes Vert.x, then exports the spans still waiting (when tracing is on). */
    public Future<Void> close() {
      io.herald.common.tracing.Tracing tracing = io.herald.common.tracing.Tracing.of(vertx);
      return vertx.close().eventually(() -> tracing.close(vertx));
    }
  }

  /** Entry point of every fat jar: {@code roles} are what this jar runs. */
  public static void main(String[] args, Role... roles) {
    String configPath = System.getenv("HERALD_CONFIG");
    boolean cluster = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--config" -> {
          if (i + 1 >= args.length) {
            usage("--config needs a file");
          }
          configPath = args[++i];
        }
        case "--cluster" -> cluster = true;
        case "-h", "--help" -> {
          usage(null);
        }
        default -> usage("unknown argument " + args[i]);
      }
    }
    JsonObject config;
    try {
      config = ConfigLoader.load(configPath, System.getenv());
    } catch (ConfigException e) {
      System.err.println("herald: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    Running running;
    try {
      running = start(config, cluster, List.of(roles)).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof ConfigException ce) {
        System.err.println("herald: configuration error: " + ce.getMessage());
        System.exit(2);
      }
      LOG.error("start failed", cause);
      System.exit(1);
      return;
    }
    int grace = new AdminOptions(config.getJsonObject(AdminOptions.SECTION, new JsonObject())).shutdownGraceMillis();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("shutting down");
      // Not ready from now on; with a grace period, keep serving while load balancers notice.
      io.herald.common.admin.Health.of(running.vertx()).readiness().register("shutdown",
        p -> p.complete(io.vertx.ext.healthchecks.Status.KO(new JsonObject().put("reason", "shutting down"))));
      if (grace > 0) {
        LOG.info("not ready; draining in {} ms", grace);
        try {
          Thread.sleep(grace);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      try {
        running.close().toCompletionStage().toCompletableFuture().get(SHUTDOWN_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        LOG.info("stopped");
      } catch (Exception e) {
        LOG.warn("shutdown did not finish in {} ms: {}", SHUTDOWN_TIMEOUT_MILLIS, e.toString());
      }
    }, "herald-shutdown"));
  }

  private static void usage(String problem) {
    if (problem != null) {
      System.err.println("herald: " + problem);
    }
    System.err.println("usage: java -jar <herald jar> [--config FILE] [--cluster]");
    System.err.println("  --config FILE  configuration file (default: the packaged config/herald.json; env HERALD_CONFIG)");
    System.err.println("  --cluster      join the Hazelcast cluster described by the cluster section");
    System.err.println("  Any key can be overridden by HERALD_<SECTION>_<KEY>, e.g. HERALD_GATEWAY_PORT=9090.");
    System.exit(problem == null ? 0 : 2);
  }

  /**
   * Validates every role's section, builds Vert.x (clustered when {@code cluster} or
   * {@code cluster.enabled}) and deploys the roles in the given order.
   */
  public static Future<Running> start(JsonObject config, boolean cluster, List<Role> roles) {
    List<Role.Deployment> deployments = new ArrayList<>();
    ClusterOptions clusterOptions;
    AdminOptions adminOptions;
    io.herald.common.tracing.TracingOptions tracingOptions;
    try {
      for (Role role : roles) {
        deployments.add(role.prepare(config.getJsonObject(role.name(), new JsonObject())));
      }
      clusterOptions = new ClusterOptions(config.getJsonObject("cluster", new JsonObject()));
      adminOptions = new AdminOptions(config.getJsonObject(AdminOptions.SECTION, new JsonObject()));
      tracingOptions = new io.herald.common.tracing.TracingOptions(
        config.getJsonObject(io.herald.common.tracing.TracingOptions.SECTION, new JsonObject()), System.getenv());
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    boolean clustered = cluster || clusterOptions.enabled();
    List<SharedLoop.Unit> plan = SharedLoop.plan(roles.stream().map(Role::name).toList(), deployments);
    int eventLoops = SharedLoop.eventLoops(plan);
    Future<Vertx> vertxFuture = clustered
      ? clusteredVertx(clusterOptions, MicrometerMetricsOptions.DEFAULT_REGISTRY_NAME, null, eventLoops)
      : Future.succeededFuture(Vertx.builder().with(vertxOptions(MicrometerMetricsOptions.DEFAULT_REGISTRY_NAME, eventLoops)).build());
    return vertxFuture.compose(vertx -> {
      EventCodec.register(vertx);
      tagLogs(vertx);
      io.herald.common.tracing.Tracing.start(vertx, tracingOptions,
        String.join(",", roles.stream().map(Role::name).toList()));
      io.herald.common.admin.HeapPressure.of(vertx).start(vertx, adminOptions.heapHighPercent(), adminOptions.heapLowPercent());
      if (vertx.isNativeTransportEnabled()) {
        LOG.info("network transport: epoll");
      } else {
        Throwable why = vertx.unavailableNativeTransportCause();
        LOG.info("network transport: nio ({})", why == null ? "native transport not wanted" : why.getMessage());
      }
      if (vertx.isClustered()) {
        var cm = ((io.vertx.core.internal.VertxInternal) vertx).clusterManager();
        io.herald.common.admin.Health.of(vertx).readiness().register("cluster", p -> p.complete(cm.isActive()
          ? io.vertx.ext.healthchecks.Status.OK(new JsonObject().put("node", cm.getNodeId()).put("members", cm.getNodes().size()))
          : io.vertx.ext.healthchecks.Status.KO(new JsonObject().put("reason", "not a cluster member"))));
        if (cm instanceof HazelcastClusterManager hcm) {
          io.herald.common.admin.Health.of(vertx).liveness().register("cluster", p -> memberSafety(vertx, hcm, p));
        }
      }
      List<String> ids = new ArrayList<>();
      Future<Void> chain = Future.succeededFuture();
      for (SharedLoop.Unit unit : plan) {
        chain = chain.compose(v -> vertx.deployVerticle(unit.verticle(), new DeploymentOptions().setInstances(unit.instances()))
          .map(id -> {
            ids.add(id);
            if (unit.roles().size() == 1) {
              LOG.info("role {} started ({} instance(s))", unit.roles().get(0), unit.instances());
            } else {
              LOG.info("roles {} started on one event loop{}", unit.roles(),
                eventLoops > 0 ? ", of " + eventLoops + " (one per instance of the other roles)" : "");
            }
            return null;
          }));
      }
      // The warm-up's readiness check is in place before the admin server answers /ready.
      chain = chain.andThen(ar -> {
        if (ar.succeeded()) {
          io.herald.common.admin.WarmUp.start(vertx, roles, deployments, config, adminOptions);
        }
      });
      Future<Integer> admin = chain.compose(v -> adminOptions.enabled()
        ? AdminServer.start(vertx, adminOptions).map(server -> server.actualPort())
        : Future.succeededFuture(-1));
      return admin.map(port -> new Running(vertx, ids, port))
        .recover(t -> new Running(vertx, ids, -1).close().transform(ignored -> Future.failedFuture(t)));
    });
  }

  /**
   * The {@code cluster} check of {@code /health}: members seen, and {@code safe}, whether every
   * partition this member owns has its backups in sync (Hazelcast's
   * {@code isLocalMemberSafe}), so that stopping it now loses no history of the hazelcast store.
   * The answer is looked up on a worker; {@code safe} is false when it takes over 800 ms.
   * Always UP: an unsafe member is working, it just should not be stopped yet.
   */
  private static void memberSafety(Vertx vertx, HazelcastClusterManager cm, io.vertx.core.Promise<io.vertx.ext.healthchecks.Status> p) {
    JsonObject data = new JsonObject().put("node", cm.getNodeId()).put("members", cm.getNodes().size());
    long timer = vertx.setTimer(800, t -> p.tryComplete(io.vertx.ext.healthchecks.Status.OK(data.copy().put("safe", false))));
    vertx.executeBlocking(() -> cm.getHazelcastInstance().getPartitionService().isLocalMemberSafe(), false)
      .onComplete(ar -> {
        vertx.cancelTimer(timer);
        p.tryComplete(io.vertx.ext.healthchecks.Status.OK(data.put("safe", ar.succeeded() && ar.result())));
      });
  }

  /** A clustered Vert.x joined to the Hazelcast cluster {@code options} describe. */
  public static Future<Vertx> clusteredVertx(ClusterOptions options) {
    return clusteredVertx(options, MicrometerMetricsOptions.DEFAULT_REGISTRY_NAME, null);
  }

  /**
   * {@link #clusteredVertx(ClusterOptions)} with the metrics in the registry named
   * {@code registryName} and, when {@code instanceName} is not null, a Hazelcast instance of that
   * name (its threads are named {@code hz.<instanceName>.*}) that joins without waiting: a
   * private cluster of the warm-up ({@link io.herald.common.admin.WarmUp}).
   */
  public static Future<Vertx> clusteredVertx(ClusterOptions options, String registryName, String instanceName) {
    return clusteredVertx(options, registryName, instanceName, 0);
  }

  /**
   * {@link #clusteredVertx(ClusterOptions, String, String)} with {@code eventLoops} event loops
   * (0: Vert.x's default), see {@link SharedLoop#eventLoops}.
   */
  public static Future<Vertx> clusteredVertx(ClusterOptions options, String registryName, String instanceName, int eventLoops) {
    Config hz = ConfigUtil.loadConfig();
    if (instanceName != null) {
      hz.setInstanceName(instanceName);
      hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    }
    hz.setClusterName(options.name());
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.logging.type", "slf4j");
    // Hazelcast binds the wildcard address by default and uses the interface only to advertise.
    hz.setProperty("hazelcast.socket.bind.any", "false");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(options.port()).setPortAutoIncrement(true);
    net.getInterfaces().setEnabled(true).setInterfaces(List.of(options.iface()));
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(new ArrayList<>(options.members()));
    VertxOptions vo = vertxOptions(registryName, eventLoops).setEventBusOptions(new EventBusOptions().setHost(options.eventBusHost()));
    if (instanceName == null) {
      LOG.info("joining cluster {} via {} on {}", options.name(), options.members(), options.iface());
    }
    return Vertx.builder().with(vo).withClusterManager(new HazelcastClusterManager(hz)).buildClustered();
  }

  /**
   * Puts the node's id in every log line ({@code node} in the JSON logs' context properties, and
   * in the readable pattern): the cluster member id when clustered, else host name and pid.
   */
  private static void tagLogs(Vertx vertx) {
    String node = ClusterView.nodeId(vertx);
    if ("local".equals(node)) {
      String host;
      try {
        host = java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.io.IOException e) {
        host = "localhost";
      }
      node = host + ":" + ProcessHandle.current().pid();
    }
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext ctx) {
      ctx.putProperty("node", node);
    }
    LOG.atInfo().addKeyValue("node", node).log("node id");
  }

  /**
   * Vert.x with Micrometer metrics in the Prometheus registry that {@code /metrics} serves, on
   * the native epoll transport where it loads (Linux x86_64), NIO otherwise.
   */
  static VertxOptions vertxOptions() {
    return vertxOptions(MicrometerMetricsOptions.DEFAULT_REGISTRY_NAME);
  }

  /**
   * The options of {@link #vertxOptions()} with the metrics in the registry named
   * {@code registryName}: the warm-up's private Vert.x runs with the same metrics as the node,
   * so that the same code gets compiled, in a registry {@code /metrics} does not serve.
   */
  public static VertxOptions vertxOptions(String registryName) {
    return vertxOptions(registryName, 0);
  }

  /** {@link #vertxOptions(String)} with {@code eventLoops} event loops (0: Vert.x's default), see {@link SharedLoop#eventLoops}. */
  public static VertxOptions vertxOptions(String registryName, int eventLoops) {
    VertxOptions options = new VertxOptions();
    if (eventLoops > 0) {
      options.setEventLoopPoolSize(eventLoops);
    }
    return options.setPreferNativeTransport(true).setMetricsOptions(new MicrometerMetricsOptions()
      .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
      .setRegistryName(registryName)
      .setEnabled(true));
  }

  /** Environment passed to {@link ConfigLoader#load}; a seam for tests. */
  static Map<String, String> env() {
    return System.getenv();
  }
}
