package io.herald.standalone;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Dockerfile against the project: build and runtime stages, the jars each ROLE copies, the
 * files copied from outside the modules, and its HERALD_* variables. Compose is checked by
 * {@link DockerComposeFilesTest}, nginx and monitoring by {@link DockerMonitoringFilesTest}.
 */
class DockerFilesTest extends DockerFilesFixture {

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
  @DisplayName("Dockerfile: every image trains the AOT cache with scripts/aot-cache.sh on the jar it runs (a role clustered and alone), and the entrypoint uses it only when it exists")
  void dockerfileAotCache() {
    Matcher mount = Pattern.compile("--mount=type=bind,source=(\\S+),target=(\\S+)").matcher(dockerfile);
    assertThat(mount.find()).as("the training script is mounted").isTrue();
    assertThat(ROOT.resolve(mount.group(1))).as("the mounted script").exists().isEqualTo(ROOT.resolve("scripts/aot-cache.sh"));
    assertThat(dockerfile).as("a build ARG turns it off").contains("ARG AOT_CACHE=1")
      .as("trained on the jar at the path it runs from, into the file the entrypoint reads")
      .contains("bash " + mount.group(2) + " /app/herald.jar /app/herald.aot")
      .as("a role image trains its role clustered and alone, on its warm-up (no publish API to send to)")
      .contains("AOT_ARGS=--cluster AOT_PUBLISHES=0 bash " + mount.group(2) + " /app/herald.jar /app/herald.aot")
      .as("the entrypoint adds the cache only when the file exists")
      .contains("[ -f /app/herald.aot ] && JAVA_OPTS=\\\"$JAVA_OPTS -XX:AOTCache=/app/herald.aot\\\"; exec java $JAVA_OPTS -jar /app/herald.jar");
    // The training run must see the runtime's JAVA_OPTS: the ENV that sets them comes first.
    assertThat(dockerfile.indexOf("JAVA_OPTS=\"-XX:")).isPositive().isLessThan(dockerfile.indexOf("ARG AOT_CACHE=1"));
    assertThat(dockerfile.indexOf("COPY --from=build --chown=root:root /out/herald.jar /app/herald.jar"))
      .isPositive().isLessThan(dockerfile.indexOf("ARG AOT_CACHE=1"));
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
}
