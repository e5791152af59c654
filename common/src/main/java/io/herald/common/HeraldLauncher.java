package io.herald.common;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.herald.common.config.ClusterOptions;
import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigLoader;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;
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
  public record Running(Vertx vertx, List<String> deploymentIds) {
    public Future<Void> close() {
      return vertx.close();
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
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("shutting down");
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
    try {
      for (Role role : roles) {
        deployments.add(role.prepare(config.getJsonObject(role.name(), new JsonObject())));
      }
      clusterOptions = new ClusterOptions(config.getJsonObject("cluster", new JsonObject()));
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    boolean clustered = cluster || clusterOptions.enabled();
    Future<Vertx> vertxFuture = clustered ? clusteredVertx(clusterOptions) : Future.succeededFuture(Vertx.vertx());
    return vertxFuture.compose(vertx -> {
      EventCodec.register(vertx);
      List<String> ids = new ArrayList<>();
      Future<Void> chain = Future.succeededFuture();
      for (int i = 0; i < roles.size(); i++) {
        Role role = roles.get(i);
        Role.Deployment d = deployments.get(i);
        chain = chain.compose(v -> vertx.deployVerticle(d.verticle(), new DeploymentOptions().setInstances(d.instances()))
          .map(id -> {
            ids.add(id);
            LOG.info("role {} started ({} instance(s))", role.name(), d.instances());
            return null;
          }));
      }
      return chain.map(v -> new Running(vertx, ids))
        .recover(t -> vertx.close().transform(ignored -> Future.failedFuture(t)));
    });
  }

  /** A clustered Vert.x joined to the Hazelcast cluster {@code options} describe. */
  public static Future<Vertx> clusteredVertx(ClusterOptions options) {
    Config hz = ConfigUtil.loadConfig();
    hz.setClusterName(options.name());
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.logging.type", "slf4j");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(options.port()).setPortAutoIncrement(true);
    net.getInterfaces().setEnabled(true).setInterfaces(List.of(options.iface()));
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(new ArrayList<>(options.members()));
    VertxOptions vo = new VertxOptions().setEventBusOptions(new EventBusOptions().setHost(options.eventBusHost()));
    LOG.info("joining cluster {} via {} on {}", options.name(), options.members(), options.iface());
    return Vertx.builder().with(vo).withClusterManager(new HazelcastClusterManager(hz)).buildClustered();
  }

  /** Environment passed to {@link ConfigLoader#load}; a seam for tests. */
  static Map<String, String> env() {
    return System.getenv();
  }
}
