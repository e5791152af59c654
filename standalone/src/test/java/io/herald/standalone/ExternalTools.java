package io.herald.standalone;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Command-line tools that some tests run ({@code promtool}, {@code python3}, {@code curl},
 * {@code openssl}), looked up on {@code PATH}. Without one, a test is skipped with a message
 * that says how to get it, except under {@code HERALD_REQUIRE_TOOLS=1} (set by
 * {@code scripts/test.sh}, which installs them): there a missing tool fails the test, so CI can
 * never pass by skipping.
 */
final class ExternalTools {

  /** The variable that turns a missing tool from a skip into a failure. */
  static final String REQUIRE = "HERALD_REQUIRE_TOOLS";

  private ExternalTools() {
  }

  /**
   * The tool's path; skips the calling test (or fails it under {@code HERALD_REQUIRE_TOOLS=1})
   * when it is not on {@code PATH}. {@code install} says how to get it, e.g. "apt-get install prometheus".
   */
  static Path require(String tool, String install) {
    Optional<Path> found = find(tool);
    if (found.isPresent()) {
      return found.get();
    }
    missing(tool + " is not on PATH (" + System.getenv("PATH") + "): " + install + "; scripts/test.sh installs it");
    throw new IllegalStateException("unreachable");
  }

  /** {@code path} if it is an executable file; else skips the test, or fails it under {@code HERALD_REQUIRE_TOOLS=1}. */
  static Path requireFile(Path path, String install) {
    if (java.nio.file.Files.isExecutable(path)) {
      return path;
    }
    missing(path + " is not installed: " + install + "; scripts/test.sh installs it");
    throw new IllegalStateException("unreachable");
  }

  private static void missing(String message) {
    if ("1".equals(System.getenv(REQUIRE))) {
      throw new AssertionError(message + " (" + REQUIRE + "=1: a missing tool fails instead of skipping)");
    }
    System.out.println("SKIPPED: " + message);
    Assumptions.abort(message);
  }

  static Optional<Path> find(String tool) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
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
}
