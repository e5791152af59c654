package io.herald.standalone;

import io.herald.common.config.ConfigLoader;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.yaml.snakeyaml.Yaml;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shared loading of the Docker files (docker/Dockerfile, docker-compose.yml, nginx, Prometheus,
 * Grafana) and of the configuration they are checked against, with helpers that read services.
 */
abstract class DockerFilesFixture {

  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path DOCKER = ROOT.resolve("docker");
  static final Set<String> HERALD_ROLES = Set.of("replay", "notifier", "gateway");

  static JsonObject defaults;
  static Map<String, Object> compose;
  static Map<String, Map<String, Object>> services;
  static String dockerfile;
  /** ROLE build argument to the jar the Dockerfile copies for it. */
  static Map<String, String> roleJars;

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

  /** Module directories of the root pom. */
  static List<String> modules() throws Exception {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(ROOT.resolve("pom.xml")));
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** HERALD_<SECTION>_<KEY> of every key of config/herald.json, and the variables the launcher reads itself. */
  static Set<String> knownEnvNames() {
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
  static Map<String, String> herald() {
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
  static Map<String, String> env(String service) {
    Map<String, String> out = new LinkedHashMap<>();
    Object env = services.get(service).get("environment");
    if (env instanceof Map<?, ?> map) {
      map.forEach((k, v) -> out.put((String) k, interpolate(String.valueOf(v))));
    }
    return out;
  }

  static String interpolate(String value) {
    return value.replaceAll("\\$\\{[A-Z_]+:-([^}]*)}", "$1");
  }

  /** config/herald.json with the service's environment applied, as the launcher does it. */
  static JsonObject effective(String service) {
    return ConfigLoader.applyEnv(defaults, env(service));
  }

  static int port(JsonObject config, String section) {
    return Integer.parseInt(config.getJsonObject(section).getValue("port").toString());
  }

  @SuppressWarnings("unchecked")
  static List<String> volumes(String service) {
    Object v = services.get(service).get("volumes");
    return v == null ? List.of() : (List<String>) v;
  }

  @SuppressWarnings("unchecked")
  static List<String> ports(String service) {
    Object v = services.get(service).get("ports");
    return v == null ? List.of() : ((List<Object>) v).stream().map(String::valueOf).toList();
  }

  @SuppressWarnings("unchecked")
  static String subnet() {
    Map<String, Object> networks = (Map<String, Object>) compose.get("networks");
    Map<String, Object> herald = (Map<String, Object>) networks.get("herald");
    Map<String, Object> ipam = (Map<String, Object>) herald.get("ipam");
    return (String) ((Map<String, Object>) ((List<Object>) ipam.get("config")).get(0)).get("subnet");
  }

  /** The body of {@code location <spec> { ... }} (no nested blocks in herald.conf). */
  static String location(String conf, String spec) {
    Matcher m = Pattern.compile("location " + Pattern.quote(spec) + " \\{([^}]*)\\}").matcher(conf);
    assertThat(m.find()).as("location %s", spec).isTrue();
    return m.group(1);
  }
}
