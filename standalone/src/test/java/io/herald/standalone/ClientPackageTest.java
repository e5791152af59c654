package io.herald.standalone;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The JavaScript client package ({@code clients/js}, npm {@code @herald/client}): its own tests
 * ({@code npm test}: dist/ is the build of src/, the TypeScript types compile with {@code tsc},
 * the client and the React hook under Node's test runner) and the file the gateway serves at
 * {@code /herald.js} being its browser-global build. Node.js and the package's devDependencies are
 * installed by {@code scripts/test.sh}; the test fails without them.
 */
class ClientPackageTest {

  private static final Path PACKAGE = Path.of("..", "clients", "js");
  private static final String HOW_TO_INSTALL =
    "run scripts/test.sh from the repository root: it installs Node.js and runs npm ci in clients/js";

  @Test
  @DisplayName("The gateway serves at /herald.js exactly clients/js/dist/herald.js, the package's browser-global build")
  void servedFileIsThePackageBuild() throws IOException {
    byte[] built = Files.readAllBytes(PACKAGE.resolve("dist").resolve("herald.js"));
    byte[] served;
    // The classpath resource io.herald.gateway.WebAssets reads for GET /herald.js.
    try (InputStream in = ClientPackageTest.class.getClassLoader().getResourceAsStream("herald-web/herald.js")) {
      assertThat(in).as("herald-web/herald.js on the gateway's classpath").isNotNull();
      served = in.readAllBytes();
    }
    assertThat(new String(served, StandardCharsets.UTF_8)).isEqualTo(new String(built, StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("npm test in clients/js passes: dist/ up to date with src/, types checked by tsc, client and React hook unit tests")
  void packageTests() throws Exception {
    if (!Files.isDirectory(PACKAGE.resolve("node_modules").resolve("typescript"))) {
      fail("the devDependencies of clients/js are missing (" + PACKAGE.resolve("node_modules").toAbsolutePath().normalize() + "): " + HOW_TO_INSTALL);
    }
    Process p;
    try {
      p = new ProcessBuilder("npm", "test", "--silent").directory(PACKAGE.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      fail("npm cannot be run: " + e + ": " + HOW_TO_INSTALL);
      return;
    }
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      fail("npm test in clients/js still running after 180 s");
    }
    String output = out.get(5, TimeUnit.SECONDS);
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains("dist/ is up to date").containsPattern("(?m)^# fail 0$").doesNotContain("not ok");
  }
}
