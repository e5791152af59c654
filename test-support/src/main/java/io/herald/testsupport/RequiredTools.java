package io.herald.testsupport;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The one check for what a test needs from outside the JVM (a command such as {@code node},
 * {@code promtool} or {@code nginx}, a module, a kernel capability). Without it the test is
 * skipped with a message that says how to get it, except under {@code HERALD_REQUIRE_TOOLS=1}
 * (set by {@code scripts/test.sh}, which installs everything the tests run): there it fails, so CI
 * can never pass by skipping. No test skips any other way.
 */
public final class RequiredTools {

  /** The variable that turns a missing tool from a skip into a failure. */
  public static final String REQUIRE = "HERALD_REQUIRE_TOOLS";

  private static final List<String> SBIN = List.of("/usr/local/sbin", "/usr/sbin", "/sbin");

  private RequiredTools() {
  }

  /**
   * The command's path, looked up on {@code PATH} and in the sbin directories; when it is missing,
   * skips the calling test (fails it under {@code HERALD_REQUIRE_TOOLS=1}). {@code install} says how
   * to get it, e.g. "install Debian's prometheus package".
   */
  public static Path command(String tool, String install) {
    Optional<Path> found = find(tool);
    if (found.isPresent()) {
      return found.get();
    }
    missing(tool + " is not on PATH (" + System.getenv("PATH") + "): " + install);
    throw new IllegalStateException("unreachable");
  }

  /** {@code path} if it is an executable file; else as {@link #command} for a missing tool. */
  public static Path executable(Path path, String install) {
    if (Files.isExecutable(path)) {
      return path;
    }
    missing(path + " is not installed: " + install);
    throw new IllegalStateException("unreachable");
  }

  /** Whether {@code tool} is on {@code PATH} or in an sbin directory. */
  public static Optional<Path> find(String tool) {
    String path = System.getenv().getOrDefault("PATH", "");
    List<String> dirs = new java.util.ArrayList<>(List.of(path.split(File.pathSeparator)));
    dirs.addAll(SBIN);
    for (String dir : dirs) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, tool);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * Something the test needs is not there ({@code message} says what and how to get it): skips the
   * test, or fails it under {@code HERALD_REQUIRE_TOOLS=1}.
   */
  public static void missing(String message) {
    String full = message + "; scripts/test.sh installs it";
    if ("1".equals(System.getenv(REQUIRE))) {
      throw new AssertionError(full + " (" + REQUIRE + "=1: a missing tool fails instead of skipping)");
    }
    System.out.println("SKIPPED: " + full);
    Assumptions.abort(full);
  }
}
