package io.herald.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private Redis server for fault tests (kill it with SIGKILL, start it again on the same
 * port, or pause it with SIGSTOP and resume it), run from the local {@code redis-server} binary (on the {@code PATH}, or
 * {@code /usr/bin/redis-server}) on a free loopback port, without persistence
 * ({@code --save "" --appendonly no}) and with a temp directory of its own: a restart starts
 * with no data, like a crashed cache server.
 *
 * <p>Use: {@code try (RedisServerProcess redis = new RedisServerProcess().start()) { ... redis.url()
 * ... redis.kill(); ... redis.restart(); }}. Not thread-safe; one instance per test. Fails
 * loudly (with the reason and the server log) when the binary is missing or the server does
 * not answer {@code PING}.
 */
public final class RedisServerProcess implements AutoCloseable {

  private static final long START_TIMEOUT_MILLIS = 10_000;

  private final Path binary;
  private ServerWorkspace workspace;
  private int port;
  private Process process;

  public RedisServerProcess() {
    this.binary = findBinary();
  }

  /** Starts the server on a free port (the first time) and waits until it answers PING; returns this. */
  public RedisServerProcess start() {
    if (process != null && process.isAlive()) {
      return this;
    }
    try {
      if (workspace == null) {
        workspace = ServerWorkspace.create("herald-redis-", "redis-server-process-cleanup", this::close);
        port = Ports.freePort();
      }
      process = new ProcessBuilder(List.of(binary.toString(),
          "--port", String.valueOf(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
          "--dir", dir().toString(), "--daemonize", "no", "--protected-mode", "no",
          "--logfile", log().toString()))
        .redirectErrorStream(true)
        .redirectOutput(dir().resolve("stdout.log").toFile())
        .start();
      waitForPing();
      return this;
    } catch (IOException e) {
      throw new IllegalStateException("could not start redis-server: " + e.getMessage() + serverLog(), e);
    }
  }

  /** {@code redis://127.0.0.1:PORT} */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** True while the server process runs. */
  public boolean running() {
    return process != null && process.isAlive();
  }

  /** Kills the server at once, like a crash (SIGKILL): clients are cut off and, without persistence, the data is gone. */
  public void kill() {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("redis-server on port " + port + " did not die after SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while killing redis-server", e);
    }
    process = null;
  }

  /**
   * Freezes the server (SIGSTOP): connections stay open and requests queue up unanswered, like
   * a server stuck in a long pause; {@link #resume()} lets it run them. Data is kept.
   */
  public void pause() {
    signal("STOP");
  }

  /** Lets a {@link #pause() paused} server run again (SIGCONT): it then serves what queued up. */
  public void resume() {
    signal("CONT");
  }

  private void signal(String name) {
    if (process == null) {
      throw new IllegalStateException("redis-server is not running");
    }
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new IllegalStateException("could not signal redis-server: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while signalling redis-server", e);
    }
  }

  /** Starts the killed (or stopped) server again on the same port, empty. */
  public void restart() {
    kill();
    start();
  }

  /** Kills the server and deletes its directory. */
  @Override
  public void close() {
    try {
      kill();
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

  private Path log() {
    return dir().resolve("server.log");
  }

  private void waitForPing() {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
    String last = "no answer";
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("redis-server exited with " + process.exitValue() + " on port " + port + serverLog());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
        s.setSoTimeout(1000);
        OutputStream out = s.getOutputStream();
        out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[64];
        int n = in.read(buf);
        last = n <= 0 ? "connection closed" : new String(buf, 0, n, StandardCharsets.US_ASCII).trim();
        if (last.equals("+PONG")) {
          return;
        }
      } catch (IOException e) {
        last = e.toString();
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for redis-server", e);
      }
    }
    process.destroyForcibly();
    throw new IllegalStateException("redis-server on port " + port + " did not answer PING within "
      + START_TIMEOUT_MILLIS + " ms (last: " + last + ")" + serverLog());
  }

  private String serverLog() {
    if (workspace == null) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    for (Path p : new Path[] {log(), dir().resolve("stdout.log")}) {
      try {
        out.append("\n").append(p.getFileName()).append(":\n").append(Files.readString(p));
      } catch (IOException ignored) {
        // not written yet
      }
    }
    return out.toString();
  }

  private static Path findBinary() {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String d : path.split(java.io.File.pathSeparator)) {
      if (!d.isEmpty()) {
        Path candidate = Paths.get(d, "redis-server");
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    Path fallback = Paths.get("/usr/bin/redis-server");
    if (Files.isExecutable(fallback)) {
      return fallback;
    }
    throw new IllegalStateException("no redis-server binary on the PATH or at /usr/bin/redis-server: install the redis-server package");
  }
}
