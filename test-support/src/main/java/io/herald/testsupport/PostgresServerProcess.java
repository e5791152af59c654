package io.herald.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private PostgreSQL server for fault tests (kill it, start it again), made from the local
 * binaries in {@code /usr/lib/postgresql/<newest>/bin}: {@code initdb} into a temp directory,
 * trust authentication, listening on a free loopback port with its unix socket in the temp
 * directory. PostgreSQL refuses to run as root, so when the JVM is root the server runs as the
 * {@code postgres} OS user (through {@code runuser}) and owns the temp directory.
 *
 * <p>Not thread-safe; one instance per test class. Fails loudly (with the reason and the
 * server log) when the binaries are missing or the server does not start.
 */
public final class PostgresServerProcess implements AutoCloseable {

  private static final long STEP_TIMEOUT_SECONDS = 60;

  private final Path bin;
  private final boolean root;
  private ServerWorkspace workspace;
  private int port;
  private boolean running;

  public PostgresServerProcess() {
    this.bin = findBin();
    this.root = isRoot();
  }

  /** initdb (first time only) and start on a free port; returns this. */
  public PostgresServerProcess start() {
    try {
      if (workspace == null) {
        workspace = ServerWorkspace.create("herald-pg-", "postgres-server-process-cleanup", this::close);
        Files.createDirectories(dir().resolve("sock"));
        if (root) {
          run(List.of("chown", "-R", "postgres:postgres", dir().toString()), false);
        }
        run(List.of(bin.resolve("initdb").toString(), "-D", data().toString(), "-U", "postgres", "--auth=trust",
          "-E", "UTF8", "--no-sync", "--no-instructions"), root);
        port = Ports.freePort();
      }
      pgCtlStart();
      return this;
    } catch (IOException e) {
      throw new IllegalStateException("could not start PostgreSQL: " + e.getMessage(), e);
    }
  }

  /** {@code postgresql://postgres@127.0.0.1:PORT/postgres} */
  public String url() {
    return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
  }

  public int port() {
    return port;
  }

  /**
   * Stops the server at once, like a crash: no shutdown checkpoint, clients cut off (pg_ctl
   * stop -m immediate: SIGQUIT to the postmaster, which kills its backends). Committed data
   * survives; the next start runs crash recovery.
   */
  public void kill() {
    if (!running) {
      return;
    }
    pgCtl("stop", "-m", "immediate");
    running = false;
  }

  /** Starts the killed (or stopped) server again, on the same port with the same data. */
  public void restart() {
    if (running) {
      kill();
    }
    pgCtlStart();
  }

  /** Stops the server and deletes its directory. */
  @Override
  public void close() {
    try {
      if (running) {
        kill();
      }
    } finally {
      if (workspace != null) {
        workspace.close();
        workspace = null;
      }
    }
  }

  private Path dir() {
    return workspace.dir();
  }

  private Path data() {
    return dir().resolve("data");
  }

  private void pgCtlStart() {
    String opts = "-p " + port + " -k " + dir().resolve("sock") + " -c listen_addresses=127.0.0.1"
      + " -c fsync=off -c full_page_writes=off -c max_connections=50 -c shared_buffers=16MB";
    pgCtl("start", "-w", "-t", "30", "-l", dir().resolve("server.log").toString(), "-o", opts);
    running = true;
  }

  private void pgCtl(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(bin.resolve("pg_ctl").toString());
    cmd.add("-D");
    cmd.add(data().toString());
    cmd.addAll(Arrays.asList(args));
    try {
      run(cmd, root);
    } catch (IOException e) {
      String log = "";
      try {
        log = Files.readString(dir().resolve("server.log"));
      } catch (IOException ignored) {
        // no log yet
      }
      throw new IllegalStateException(e.getMessage() + "\nserver log:\n" + log, e);
    }
  }

  private static void run(List<String> cmd, boolean asPostgres) throws IOException {
    List<String> full = new ArrayList<>();
    if (asPostgres) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(cmd);
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    String out;
    try {
      // pg_ctl start leaves the server running with our stdout closed (it logs to -l).
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + String.join(" ", full));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", full), e);
    }
    if (p.exitValue() != 0) {
      throw new IOException("failed (exit " + p.exitValue() + "): " + String.join(" ", full) + "\n" + out);
    }
  }

  private static Path findBin() {
    Path base = Paths.get("/usr/lib/postgresql");
    try (Stream<Path> versions = Files.list(base)) {
      return versions
        .filter(v -> Files.isExecutable(v.resolve("bin/initdb")) && Files.isExecutable(v.resolve("bin/pg_ctl")))
        .max(Comparator.comparingDouble(v -> version(v.getFileName().toString())))
        .map(v -> v.resolve("bin"))
        .orElseThrow(() -> new IllegalStateException("no PostgreSQL server binaries (initdb, pg_ctl) under " + base
          + ": install the postgresql server package"));
    } catch (IOException e) {
      throw new IllegalStateException("no PostgreSQL server binaries: cannot list " + base + " (" + e + ")"
        + ": install the postgresql server package", e);
    }
  }

  private static double version(String name) {
    try {
      return Double.parseDouble(name);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static boolean isRoot() {
    try {
      Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(10, TimeUnit.SECONDS);
      return out.equals("0");
    } catch (IOException e) {
      return "root".equals(System.getProperty("user.name"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "root".equals(System.getProperty("user.name"));
    }
  }
}
