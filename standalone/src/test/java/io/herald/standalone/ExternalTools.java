package io.herald.standalone;

import io.herald.testsupport.RequiredTools;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Command-line tools that some tests run ({@code promtool}, {@code python3}, {@code curl},
 * {@code openssl}, {@code nginx}, {@code node}): {@link RequiredTools}, the one required-tool check
 * (a skip with a how-to, a failure under scripts/test.sh's {@code HERALD_REQUIRE_TOOLS=1}).
 */
final class ExternalTools {

  private ExternalTools() {
  }

  /** The tool's path; see {@link RequiredTools#command}. */
  static Path require(String tool, String install) {
    return RequiredTools.command(tool, install);
  }

  /** {@code path} if it is an executable file; see {@link RequiredTools#executable}. */
  static Path requireFile(Path path, String install) {
    return RequiredTools.executable(path, install);
  }

  static Optional<Path> find(String tool) {
    return RequiredTools.find(tool);
  }
}
