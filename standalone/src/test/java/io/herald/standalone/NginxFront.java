package io.herald.standalone;

import io.herald.testsupport.Ports;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Debian's nginx ({@code /usr/sbin/nginx}) on loopback running the reverse-proxy configuration
 * shipped in {@code docker/nginx/herald.conf} in front of two gateways. The file is used as
 * shipped; only its upstream addresses and its {@code listen} port are rewritten to the test's
 * ports, and the test's own nginx.conf around it adds an {@link #UPSTREAM_HEADER} response
 * header, so a test knows which gateway answered. Its files and logs are in
 * {@code target/it-logs/<name>-nginx}.
 */
final class NginxFront implements AutoCloseable {

  static final Path NGINX = Path.of("/usr/sbin/nginx");
  static final Path SHIPPED_CONF = Path.of("..", "docker", "nginx", "herald.conf");
  /** The response header that names the gateway ({@code 127.0.0.1:<port>}) that answered. */
  static final String UPSTREAM_HEADER = "X-Herald-Upstream";

  private final Process process;
  private final Path dir;
  /** The port nginx listens on, on 127.0.0.1. */
  final int port;

  private NginxFront(Process process, Path dir, int port) {
    this.process = process;
    this.dir = dir;
    this.port = port;
  }

  /**
   * Starts nginx in front of the gateways on {@code gw1} and {@code gw2} and waits until it
   * listens; skips the test without nginx (fails it under {@code HERALD_REQUIRE_TOOLS=1}).
   */
  static NginxFront start(String name, int gw1, int gw2) throws Exception {
    ExternalTools.requireFile(NGINX, name + " needs Debian's nginx (apt-get install nginx)");
    Path dir = HeraldProcess.LOGS.resolve(name + "-nginx").toAbsolutePath();
    if (Files.exists(dir)) {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Files.createDirectories(dir);
    int port = Ports.freePort();
    String shipped = Files.readString(SHIPPED_CONF);
    String conf = replaceLines(shipped, "server gateway1:8080 ", "server 127.0.0.1:" + gw1 + " ", 2);
    conf = replaceLines(conf, "server gateway2:8080 ", "server 127.0.0.1:" + gw2 + " ", 2);
    conf = replaceLines(conf, "listen 80;", "listen 127.0.0.1:" + port + ";", 1);
    Files.writeString(dir.resolve("herald.conf"), conf);
    String d = dir.toString();
    boolean root = "root".equals(System.getProperty("user.name"));
    String main = (root ? "user root;\n" : "")
      + "daemon off;\n"
      + "master_process on;\n"
      + "worker_processes 1;\n"
      + "pid " + d + "/nginx.pid;\n"
      + "error_log " + d + "/error.log info;\n"
      + "events { worker_connections 1024; }\n"
      + "http {\n"
      + "  access_log " + d + "/access.log;\n"
      + "  client_body_temp_path " + d + "/client_body;\n"
      + "  proxy_temp_path " + d + "/proxy;\n"
      + "  fastcgi_temp_path " + d + "/fastcgi;\n"
      + "  uwsgi_temp_path " + d + "/uwsgi;\n"
      + "  scgi_temp_path " + d + "/scgi;\n"
      + "  # The test's only addition: which gateway answered (herald.conf sets no add_header, so every location inherits it).\n"
      + "  add_header " + UPSTREAM_HEADER + " $upstream_addr always;\n"
      + "  include " + d + "/herald.conf;\n"
      + "}\n";
    Path mainConf = dir.resolve("nginx.conf");
    Files.writeString(mainConf, main);
    Process nginx = new ProcessBuilder(NGINX.toString(), "-p", d, "-c", mainConf.toString(), "-e", d + "/error.log")
      .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile())
      .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
    NginxFront front = new NginxFront(nginx, dir, port);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!Ports.accepts(port)) {
      if (!nginx.isAlive() || System.nanoTime() > deadline) {
        String out = Files.readString(dir.resolve("nginx.out"))
          + "\n" + (Files.exists(dir.resolve("error.log")) ? Files.readString(dir.resolve("error.log")) : "");
        front.close();
        throw new AssertionError("nginx did not start: " + out);
      }
      Thread.sleep(50);
    }
    return front;
  }

  /** {@code http://127.0.0.1:<port><path>}. */
  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  /** {@code ws://127.0.0.1:<port><path>}. */
  URI wsUri(String path) {
    return URI.create("ws://127.0.0.1:" + port + path);
  }

  /** The gateway port named by an {@link #UPSTREAM_HEADER} value. */
  static int upstreamPort(String header) {
    return Integer.parseInt(header.substring(header.lastIndexOf(':') + 1));
  }

  /** Stops nginx (SIGTERM: its fast shutdown, workers included), by force after 5 s. */
  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(5, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
    // Workers that outlived their master (should not happen): end them by pid.
    Path pid = dir.resolve("nginx.pid");
    if (Files.exists(pid)) {
      ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  /** Replaces {@code from} where a directive line starts with it (comments untouched), expecting {@code expected} such lines. */
  private static String replaceLines(String text, String from, String to, int expected) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^(\\s*)" + java.util.regex.Pattern.quote(from)).matcher(text);
    StringBuilder out = new StringBuilder();
    int count = 0;
    while (m.find()) {
      count++;
      m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(m.group(1) + to));
    }
    m.appendTail(out);
    assertThat(count).as("directive lines starting \"%s\" in %s", from, SHIPPED_CONF).isEqualTo(expected);
    return out.toString();
  }
}
