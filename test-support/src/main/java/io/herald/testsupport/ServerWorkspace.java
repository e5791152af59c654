package io.herald.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * What a test server process ({@link RedisServerProcess}, {@link PostgresServerProcess}) owns
 * besides the process: a temp directory of its own, and a shutdown hook that stops the server
 * when the test JVM dies without {@code close()}. {@link #close()} deletes the directory and
 * removes the hook.
 *
 * <p>Not thread-safe; one per server.
 */
final class ServerWorkspace implements AutoCloseable {

  private final Path dir;
  private Thread cleanupHook;

  private ServerWorkspace(Path dir) {
    this.dir = dir;
  }

  /**
   * A new temp directory named {@code <prefix>...}, and a shutdown hook (thread {@code hookName})
   * that runs {@code stopServer}, which is expected to {@link #close()} this workspace too.
   */
  static ServerWorkspace create(String prefix, String hookName, Runnable stopServer) throws IOException {
    ServerWorkspace w = new ServerWorkspace(Files.createTempDirectory(prefix));
    // A test JVM that dies without close() must not leave a server running.
    w.cleanupHook = new Thread(stopServer, hookName);
    Runtime.getRuntime().addShutdownHook(w.cleanupHook);
    return w;
  }

  Path dir() {
    return dir;
  }

  /** Deletes the directory (best effort) and removes the shutdown hook, unless called from it. */
  @Override
  public void close() {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort: a temp dir
    }
    if (cleanupHook != null && Thread.currentThread() != cleanupHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(cleanupHook);
      } catch (IllegalStateException ignored) {
        // already shutting down
      }
      cleanupHook = null;
    }
  }
}
