package io.herald.standalone;

import io.herald.gateway.GatewayOptions;
import io.herald.common.admin.AdminOptions;
import io.herald.common.config.ClusterOptions;
import io.herald.common.config.ConfigLoader;
import io.herald.notifier.NotifierOptions;
import io.herald.replay.ReplayOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No Docker engine runs in the build, so the files under {@code docker/} are checked against the
 * project instead: what {@code docker-compose.yml} and the {@code Dockerfile} reference exists
 * (modules, fat jars as the poms name them, config files, nginx, Prometheus and Grafana files),
 * every {@code HERALD_*} variable is a real configuration key (or one the launcher reads), each
 * service's effective configuration passes the roles' own validation, and the ports agree
 * across compose, nginx, Prometheus, the Dockerfile and {@code config/herald.json}.
 */
class DockerFilesTest {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path DOCKER = ROOT.resolve("docker");
  private static final Set<String> HERALD_ROLES = Set.of("replay", "notifier", "gateway");

  private static JsonObject defaults;
  private static Map<String, Object> compose;
  private static Map<String, Map<String, Object>> services;
  private static String dockerfile;
  /** ROLE build argument to the jar the Dockerfile copies for it. */
  private static Map<String, String> roleJars;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void load() throws Exception {
    defaults = new JsonObject(Files.readString(ROOT.resolve("config/herald.json")));
    compose = new Yaml().load(Files.readString(DOCKER.resolve("docker-compose.yml")));
    services = (Map<String, Map<String, Object>>) compose.get("services");
    dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
    roleJars = new LinkedHashMap<>();
    Matcher m = Pattern.compile("^\\s*([a-z]+)\\)\\s+jar=(\\S+)\\s*;;", Pattern.MULTILINE).matcher(dockerfile);
    while (m.find()) {
      roleJars.put(m.group(1), m.group(2));
    }
  }

  // ---------------------------------------------------------------- Dockerfile

  @Test
  @DisplayName("Dockerfile: JDK build stage, JRE runtime, non-root user, health check on /ready, the configured ports exposed")
  void dockerfileStages() {
    assertThat(dockerfile).containsPattern("(?m)^FROM maven:3-eclipse-temurin-17 AS build$");
    // Built for Java 17, run on Java 25 (BENCHMARKS.md, "Cold start").
    assertThat(dockerfile).containsPattern("(?m)^FROM eclipse-temurin:25-jre$");
    Matcher user = Pattern.compile("(?m)^USER (\\S+)").matcher(dockerfile);
    assertThat(user.find()).as("USER directive").isTrue();
    assertThat(user.group(1).split(":")[0]).isNotIn("root", "0");
    assertThat(dockerfile).as("the user exists").contains("useradd --system --uid 10001 --gid herald");

    int adminPort = defaults.getJsonObject("admin").getInteger("port");
    Matcher health = Pattern.compile("(?m)^HEALTHCHECK .*\\n\\s+CMD (.*)$").matcher(dockerfile);
    assertThat(health.find()).as("HEALTHCHECK").isTrue();
    assertThat(health.group(1)).contains("http://127.0.0.1:${HERALD_ADMIN_PORT:-" + adminPort + "}/ready");
    assertThat(dockerfile).as("the admin server must be reachable in a container")
      .containsPattern("(?m)^ENV HERALD_ADMIN_HOST=0\\.0\\.0\\.0");

    Matcher expose = Pattern.compile("(?m)^EXPOSE (.*)$").matcher(dockerfile);
    assertThat(expose.find()).isTrue();
    List<String> exposed = List.of(expose.group(1).trim().split("\\s+"));
    assertThat(exposed).containsExactlyInAnyOrder(
      String.valueOf(defaults.getJsonObject("gateway").getInteger("port")),
      String.valueOf(defaults.getJsonObject("notifier").getInteger("port")),
      String.valueOf(adminPort),
      String.valueOf(defaults.getJsonObject("cluster").getInteger("port")));
    assertThat(dockerfile).as("java runs as PID 1 (SIGTERM drains)").contains("exec java $JAVA_OPTS -jar /app/herald.jar");
  }

  @Test
  @DisplayName("Dockerfile: every ROLE copies the fat jar its module builds, and the Maven build sees every module")
  void dockerfileJarsAndModules() throws Exception {
    assertThat(roleJars).containsOnlyKeys("standalone", "replay", "notifier", "gateway");
    Map<String, String> modules = new LinkedHashMap<>();
    for (String module : modules()) {
      String pom = Files.readString(ROOT.resolve(module).resolve("pom.xml"));
      Matcher name = Pattern.compile("<herald\\.jar\\.name>([^<]+)</herald\\.jar\\.name>").matcher(pom);
      if (name.find()) {
        modules.put(module, name.group(1));
      }
    }
    for (Map.Entry<String, String> e : roleJars.entrySet()) {
      String role = e.getKey();
      Path jar = Path.of(e.getValue());
      assertThat(jar.getNameCount()).as(e.getValue()).isEqualTo(3);
      String module = jar.getName(0).toString();
      assertThat(jar.getName(1).toString()).isEqualTo("target");
      assertThat(modules).as("module %s builds a fat jar", module).containsKey(module);
      assertThat(jar.getFileName().toString()).as("the shade plugin's name in %s/pom.xml", module)
        .isEqualTo(modules.get(module) + ".jar")
        .isEqualTo(role.equals("standalone") ? "herald.jar" : "herald-" + role + ".jar");
    }
    assertThat(dockerfile).as("default ROLE").contains("ARG ROLE=standalone");

    // Maven reads every module's pom of the reactor; the modules built must be copied whole.
    for (String module : modules()) {
      assertThat(dockerfile).as("the image copies %s", module)
        .containsPattern("(?m)^COPY " + Pattern.quote(module) + "(/pom\\.xml)? " + Pattern.quote(module) + "(/pom\\.xml)?$");
    }
    Matcher pl = Pattern.compile("mvn .*-pl (\\S+) -am package").matcher(dockerfile);
    assertThat(pl.find()).isTrue();
    for (String module : pl.group(1).split(",")) {
      assertThat(modules()).contains(module);
      assertThat(dockerfile).containsPattern("(?m)^COPY " + Pattern.quote(module) + " " + Pattern.quote(module) + "$");
    }
    for (String jar : roleJars.values()) {
      assertThat(pl.group(1).split(",")).as("the build makes %s", jar).contains(Path.of(jar).getName(0).toString());
    }
    // Every COPY from the build context names something that exists.
    Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(?:--chown=\\S+ )?(\\S+) (\\S+)$").matcher(dockerfile);
    int copies = 0;
    while (copy.find()) {
      assertThat(ROOT.resolve(copy.group(1))).as("COPY source %s", copy.group(1)).exists();
      copies++;
    }
    assertThat(copies).isGreaterThan(5);
    assertThat(DOCKER.resolve("Dockerfile.dockerignore")).exists();
  }

  @Test
  @DisplayName("The image's build copies what the modules' poms read from outside their folder (the gateway's /herald.js from clients/js/dist)")
  void dockerfileCopiesResourcesFromOutsideTheModules() throws Exception {
    Set<String> outside = new TreeSet<>();
    for (String module : modules()) {
      Matcher m = Pattern.compile("<directory>\\$\\{project\\.basedir}/\\.\\./([^<]+)</directory>")
        .matcher(Files.readString(ROOT.resolve(module).resolve("pom.xml")));
      while (m.find()) {
        outside.add(m.group(1).replaceAll("/+$", ""));
      }
    }
    assertThat(outside).as("the gateway's herald.js comes from the client package").contains("clients/js/dist");
    for (String dir : outside) {
      assertThat(dockerfile).as("the image copies %s", dir)
        .containsPattern("(?m)^COPY " + Pattern.quote(dir) + " " + Pattern.quote(dir) + "$");
    }
  }

  @Test
  @DisplayName("Dockerfile ENV: every HERALD_* variable is a real configuration key")
  void dockerfileEnv() throws Exception {
    Matcher env = Pattern.compile("\\b(HERALD_[A-Z0-9_]+)=").matcher(dockerfile);
    Set<String> names = new TreeSet<>();
    while (env.find()) {
      names.add(env.group(1));
    }
    assertThat(names).contains("HERALD_ADMIN_HOST");
    assertThat(knownEnvNames()).containsAll(names);
  }

  // ---------------------------------------------------------------- compose

  @Test
  @DisplayName("compose: Redis, PostgreSQL, one replay, one notifier, two gateways, nginx; Prometheus and Grafana in the monitoring profile")
  void composeServices() {
    assertThat(services).containsOnlyKeys("redis", "postgres", "replay", "notifier", "gateway1", "gateway2", "nginx",
      "prometheus", "grafana");
    assertThat(herald()).containsExactly(Map.entry("replay", "replay"), Map.entry("notifier", "notifier"),
      Map.entry("gateway1", "gateway"), Map.entry("gateway2", "gateway"));
    for (String name : services.keySet()) {
      Object profiles = services.get(name).get("profiles");
      if (name.equals("prometheus") || name.equals("grafana")) {
        assertThat(profiles).as(name).isEqualTo(List.of("monitoring"));
      } else {
        assertThat(profiles).as(name).isNull();
      }
      Object deps = services.get(name).get("depends_on");
      Iterable<?> on = deps instanceof Map<?, ?> map ? map.keySet() : deps == null ? List.of() : (List<?>) deps;
      for (Object d : on) {
        assertThat(services).as("%s depends on %s", name, d).containsKey((String) d);
      }
    }
    assertThat(services.get("replay").get("depends_on")).asString().contains("redis");
    assertThat(services.get("notifier").get("depends_on")).asString().contains("postgres");
  }

  @Test
  @SuppressWarnings("unchecked")
  @DisplayName("compose: each Herald service builds the Dockerfile with a ROLE it knows, from the repository root")
  void composeBuilds() {
    for (Map.Entry<String, String> e : herald().entrySet()) {
      Map<String, Object> build = (Map<String, Object>) services.get(e.getKey()).get("build");
      Path context = DOCKER.resolve((String) build.get("context")).normalize();
      assertThat(context).isEqualTo(ROOT);
      assertThat(context.resolve((String) build.get("dockerfile"))).isEqualTo(DOCKER.resolve("Dockerfile"));
      assertThat(roleJars).containsKey(e.getValue());
      assertThat((String) services.get(e.getKey()).get("image")).isEqualTo("herald-" + e.getValue() + ":local");
    }
  }

  @Test
  @DisplayName("compose: every HERALD_* variable is a configuration key, and each service's configuration passes its roles' validation")
  void composeEnvironment() {
    for (Map.Entry<String, String> e : herald().entrySet()) {
      Map<String, String> env = env(e.getKey());
      assertThat(knownEnvNames()).as("variables of %s", e.getKey()).containsAll(
        env.keySet().stream().filter(k -> k.startsWith("HERALD_")).toList());
      JsonObject config = effective(e.getKey());
      // What the launcher does before it starts anything: the typed options reject unknown keys and bad values.
      switch (e.getValue()) {
        case "replay" -> new ReplayOptions(config.getJsonObject("replay"));
        case "notifier" -> new NotifierOptions(config.getJsonObject("notifier"));
        case "gateway" -> new GatewayOptions(config.getJsonObject("gateway"));
        default -> throw new AssertionError(e.getValue());
      }
      ClusterOptions cluster = new ClusterOptions(config.getJsonObject("cluster"));
      AdminOptions admin = new AdminOptions(config.getJsonObject("admin"));
      assertThat(cluster.enabled()).as("%s clustered", e.getKey()).isTrue();
      assertThat(admin.enabled()).isTrue();
      assertThat(config.getJsonObject("admin").getString("host")).isEqualTo("0.0.0.0");
      // Members by service name, each advertising its event bus under its own name.
      assertThat(cluster.members()).containsExactlyInAnyOrderElementsOf(herald().keySet());
      assertThat(cluster.eventBusHost()).isEqualTo(e.getKey());
      assertThat(cluster.name()).isEqualTo("herald");
      // The Hazelcast interface pattern covers the compose network's subnet.
      String subnet = subnet();
      String prefix = subnet.substring(0, subnet.indexOf(".0.0/16"));
      assertThat(cluster.iface()).isEqualTo(prefix + ".*.*");
      // The base configuration is the shipped file, mounted where HERALD_CONFIG points.
      assertThat(env.get("HERALD_CONFIG")).isNotNull();
      assertThat(volumes(e.getKey())).contains("../config/herald.json:" + env.get("HERALD_CONFIG") + ":ro");
    }
    assertThat(effective("replay").getJsonObject("replay").getString("store")).isIn("redis", "postgres");
    assertThat(effective("replay").getJsonObject("replay").getString("redisUrl")).isEqualTo("redis://redis:6379");
    assertThat(effective("notifier").getJsonObject("notifier").getString("postgresUrl")).contains("@postgres:5432/");
    for (String gw : List.of("gateway1", "gateway2")) {
      JsonObject g = effective(gw).getJsonObject("gateway");
      assertThat(Integer.parseInt(g.getValue("maxConnectionsPerIp").toString()))
        .as("behind nginx every client has the proxy's address").isGreaterThanOrEqualTo(10000);
    }
  }

  @Test
  @DisplayName("compose: bind mounts name files of this repository; published ports are the configured ones")
  void composeMountsAndPorts() {
    for (String name : services.keySet()) {
      for (String v : volumes(name)) {
        String source = v.split(":")[0];
        if (source.startsWith(".")) {
          assertThat(DOCKER.resolve(source).normalize()).as("%s mounts %s", name, source).isRegularFile();
        }
      }
    }
    assertThat(volumes("postgres")).anyMatch(v -> v.startsWith("../config/sql/herald-outbox.sql:/docker-entrypoint-initdb.d/"));
    int notifierPort = port(effective("notifier"), "notifier");
    assertThat(notifierPort).isEqualTo(defaults.getJsonObject("notifier").getInteger("port"));
    assertThat(ports("notifier")).containsExactly(notifierPort + ":" + notifierPort);
    for (String gw : List.of("gateway1", "gateway2")) {
      assertThat(port(effective(gw), "gateway")).isEqualTo(defaults.getJsonObject("gateway").getInteger("port"));
      assertThat(ports(gw)).as("gateways are reached through nginx only").isEmpty();
    }
    assertThat(ports("nginx")).containsExactly("8080:80");
    assertThat(volumes("nginx")).containsExactly("./nginx/herald.conf:/etc/nginx/conf.d/default.conf:ro");
    assertThat(ports("prometheus")).containsExactly("9091:9090");
    assertThat(volumes("prometheus")).contains("./prometheus.yml:/etc/prometheus/prometheus.yml:ro");
  }

  // ---------------------------------------------------------------- nginx, Prometheus, Grafana

  @Test
  @DisplayName("nginx: both upstreams list every gateway service on its configured port; the transports' locations are there")
  void nginxConfig() throws Exception {
    String conf = Files.readString(DOCKER.resolve("nginx/herald.conf"));
    Set<String> gateways = new LinkedHashSet<>();
    for (Map.Entry<String, String> e : herald().entrySet()) {
      if (e.getValue().equals("gateway")) {
        gateways.add(e.getKey() + ":" + port(effective(e.getKey()), "gateway"));
      }
    }
    for (String upstream : List.of("herald_gateways", "herald_sockjs")) {
      Matcher block = Pattern.compile("upstream " + upstream + " \\{([^}]*)\\}").matcher(conf);
      assertThat(block.find()).as("upstream %s", upstream).isTrue();
      Matcher server = Pattern.compile("(?m)^\\s*server (\\S+)").matcher(block.group(1));
      Set<String> servers = new LinkedHashSet<>();
      while (server.find()) {
        servers.add(server.group(1));
      }
      assertThat(servers).as(upstream).isEqualTo(gateways);
    }
    assertThat(conf).contains("listen 80;");
    String sse = location(conf, "= /events");
    assertThat(sse).contains("proxy_buffering off;", "proxy_cache off;", "proxy_http_version 1.1;",
      "proxy_set_header Connection '';", "proxy_read_timeout 1h;", "X-Forwarded-For $proxy_add_x_forwarded_for");
    assertThat(location(conf, "= /ws")).contains("proxy_set_header Upgrade $http_upgrade;",
      "proxy_set_header Connection $herald_connection_upgrade;", "proxy_set_header Host $http_host;");
    assertThat(location(conf, "/eventbus")).contains("proxy_pass http://herald_sockjs;", "proxy_set_header Upgrade $http_upgrade;",
      "proxy_buffering off;");
    int longPoll = defaults.getJsonObject("gateway").getInteger("longPollTimeoutSeconds");
    Matcher poll = Pattern.compile("proxy_read_timeout (\\d+)s;").matcher(location(conf, "= /poll"));
    assertThat(poll.find()).isTrue();
    assertThat(Integer.parseInt(poll.group(1))).isGreaterThan(longPoll);
    assertThat(location(conf, "/")).contains("proxy_pass http://herald_gateways;");
    // Mercure: streams unbuffered and uncached, publishes up to the gateway's body limit, no header dropped
    // (nginx passes Authorization, Cookie and Last-Event-ID unless told not to); docs/mercure.md shows it as shipped.
    String mercure = location(conf, "= /.well-known/mercure");
    assertThat(mercure).contains("proxy_pass http://herald_gateways;", "proxy_buffering off;", "proxy_cache off;",
      "proxy_read_timeout 1h;", "client_max_body_size 1m;").doesNotContain("proxy_pass_request_headers", "non_idempotent");
    assertThat(conf).doesNotContain("non_idempotent");
    assertThat(io.herald.gateway.mercure.MercurePublish.MAX_BODY_BYTES).isEqualTo(1024 * 1024);
    assertThat(location(Files.readString(DOCKER.resolve("../docs/mercure.md")), "= /.well-known/mercure")).isEqualTo(mercure);
  }

  @Test
  @DisplayName("Prometheus scrapes every Herald service on its admin port; Grafana is provisioned with it and the dashboard")
  @SuppressWarnings("unchecked")
  void monitoring() throws Exception {
    Map<String, Object> prom = new Yaml().load(Files.readString(DOCKER.resolve("prometheus.yml")));
    Set<String> targets = new TreeSet<>();
    for (Object job : (List<Object>) prom.get("scrape_configs")) {
      for (Object sc : (List<Object>) ((Map<String, Object>) job).get("static_configs")) {
        targets.addAll((List<String>) ((Map<String, Object>) sc).get("targets"));
      }
    }
    Set<String> expected = new TreeSet<>();
    for (String s : herald().keySet()) {
      expected.add(s + ":" + port(effective(s), "admin"));
    }
    assertThat(targets).isEqualTo(expected);

    Map<String, Object> ds = new Yaml().load(Files.readString(DOCKER.resolve("grafana/provisioning/datasources/prometheus.yml")));
    Map<String, Object> source = (Map<String, Object>) ((List<Object>) ds.get("datasources")).get(0);
    assertThat(source.get("type")).isEqualTo("prometheus");
    assertThat(source.get("url")).isEqualTo("http://prometheus:9090");
    Map<String, Object> dash = new Yaml().load(Files.readString(DOCKER.resolve("grafana/provisioning/dashboards/herald.yml")));
    Map<String, Object> provider = (Map<String, Object>) ((List<Object>) dash.get("providers")).get(0);
    String dir = (String) ((Map<String, Object>) provider.get("options")).get("path");
    assertThat(volumes("grafana")).contains("./grafana/herald-dashboard.json:" + dir + "/herald-dashboard.json:ro",
      "./grafana/provisioning/datasources/prometheus.yml:/etc/grafana/provisioning/datasources/prometheus.yml:ro",
      "./grafana/provisioning/dashboards/herald.yml:/etc/grafana/provisioning/dashboards/herald.yml:ro");
    new JsonObject(Files.readString(DOCKER.resolve("grafana/herald-dashboard.json")));
  }

  @Test
  @DisplayName("Alert rules: docs/operations.md shows docker/herald-alerts.yml word for word; prometheus.yml loads it where compose mounts it")
  @SuppressWarnings("unchecked")
  void alertRules() throws Exception {
    String rules = Files.readString(DOCKER.resolve("herald-alerts.yml"));
    String ops = Files.readString(ROOT.resolve("docs/operations.md"));
    Matcher block = Pattern.compile("## Alerts\n.*?```yaml\n(.*?)```", Pattern.DOTALL).matcher(ops);
    assertThat(block.find()).as("a yaml block under ## Alerts in docs/operations.md").isTrue();
    assertThat(block.group(1)).as("docs/operations.md's alert rules are docker/herald-alerts.yml").isEqualTo(rules);

    // Prometheus resolves rule_files against its configuration file's directory, /etc/prometheus in compose.
    Map<String, Object> prom = new Yaml().load(Files.readString(DOCKER.resolve("prometheus.yml")));
    assertThat((List<String>) prom.get("rule_files")).containsExactly("herald-alerts.yml");
    assertThat(volumes("prometheus")).contains("./prometheus.yml:/etc/prometheus/prometheus.yml:ro",
      "./herald-alerts.yml:/etc/prometheus/herald-alerts.yml:ro");

    // Every alert has a promtool test where it fires and one where it must not.
    Map<String, Object> parsed = new Yaml().load(rules);
    Set<String> alerts = new TreeSet<>();
    for (Object group : (List<Object>) parsed.get("groups")) {
      for (Object rule : (List<Object>) ((Map<String, Object>) group).get("rules")) {
        alerts.add((String) ((Map<String, Object>) rule).get("alert"));
      }
    }
    assertThat(alerts).hasSize(8);
    Map<String, Object> unit = new Yaml().load(Files.readString(DOCKER.resolve("herald-alerts.test.yml")));
    assertThat((List<String>) unit.get("rule_files")).containsExactly("herald-alerts.yml");
    Set<String> fires = new TreeSet<>();
    Set<String> quiet = new TreeSet<>();
    for (Object test : (List<Object>) unit.get("tests")) {
      for (Object check : (List<Object>) ((Map<String, Object>) test).get("alert_rule_test")) {
        Map<String, Object> c = (Map<String, Object>) check;
        (((List<Object>) c.get("exp_alerts")).isEmpty() ? quiet : fires).add((String) c.get("alertname"));
      }
    }
    assertThat(fires).as("alerts a unit test makes fire").isEqualTo(alerts);
    assertThat(quiet).as("alerts a unit test expects quiet").isEqualTo(alerts);
  }

  // ---------------------------------------------------------------- helpers

  /** Module directories of the root pom. */
  private static List<String> modules() throws Exception {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(ROOT.resolve("pom.xml")));
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** HERALD_<SECTION>_<KEY> of every key of config/herald.json, and the variables the launcher reads itself. */
  private static Set<String> knownEnvNames() {
    Set<String> names = new TreeSet<>();
    for (String section : defaults.fieldNames()) {
      for (String key : defaults.getJsonObject(section).fieldNames()) {
        names.add(ConfigLoader.envName(section, key));
      }
    }
    try {
      String launcher = Files.readString(ROOT.resolve("common/src/main/java/io/herald/common/HeraldLauncher.java"));
      Matcher m = Pattern.compile("getenv\\(\"(HERALD_[A-Z_]+)\"\\)").matcher(launcher);
      while (m.find()) {
        names.add(m.group(1));
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertThat(names).contains("HERALD_CONFIG", "HERALD_LOG_FORMAT", "HERALD_GATEWAY_PORT");
    return names;
  }

  /** Herald services (built from the Dockerfile) to their ROLE. */
  @SuppressWarnings("unchecked")
  private static Map<String, String> herald() {
    Map<String, String> out = new LinkedHashMap<>();
    services.forEach((name, s) -> {
      if (s.get("build") instanceof Map<?, ?> build) {
        String role = String.valueOf(((Map<String, Object>) build.get("args")).get("ROLE"));
        assertThat(HERALD_ROLES).as("ROLE of %s", name).contains(role);
        out.put(name, role);
      }
    });
    return out;
  }

  /** A service's environment, with compose's ${VAR:-default} replaced by the default. */
  @SuppressWarnings("unchecked")
  private static Map<String, String> env(String service) {
    Map<String, String> out = new LinkedHashMap<>();
    Object env = services.get(service).get("environment");
    if (env instanceof Map<?, ?> map) {
      map.forEach((k, v) -> out.put((String) k, interpolate(String.valueOf(v))));
    }
    return out;
  }

  private static String interpolate(String value) {
    return value.replaceAll("\\$\\{[A-Z_]+:-([^}]*)}", "$1");
  }

  /** config/herald.json with the service's environment applied, as the launcher does it. */
  private static JsonObject effective(String service) {
    return ConfigLoader.applyEnv(defaults, env(service));
  }

  private static int port(JsonObject config, String section) {
    return Integer.parseInt(config.getJsonObject(section).getValue("port").toString());
  }

  @SuppressWarnings("unchecked")
  private static List<String> volumes(String service) {
    Object v = services.get(service).get("volumes");
    return v == null ? List.of() : (List<String>) v;
  }

  @SuppressWarnings("unchecked")
  private static List<String> ports(String service) {
    Object v = services.get(service).get("ports");
    return v == null ? List.of() : ((List<Object>) v).stream().map(String::valueOf).toList();
  }

  @SuppressWarnings("unchecked")
  private static String subnet() {
    Map<String, Object> networks = (Map<String, Object>) compose.get("networks");
    Map<String, Object> herald = (Map<String, Object>) networks.get("herald");
    Map<String, Object> ipam = (Map<String, Object>) herald.get("ipam");
    return (String) ((Map<String, Object>) ((List<Object>) ipam.get("config")).get(0)).get("subnet");
  }

  /** The body of {@code location <spec> { ... }} (no nested blocks in herald.conf). */
  private static String location(String conf, String spec) {
    Matcher m = Pattern.compile("location " + Pattern.quote(spec) + " \\{([^}]*)\\}").matcher(conf);
    assertThat(m.find()).as("location %s", spec).isTrue();
    return m.group(1);
  }
}
