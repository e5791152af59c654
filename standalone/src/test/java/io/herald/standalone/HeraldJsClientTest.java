package io.herald.standalone;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The browser client's logic in Node.js, fast and without a browser or a hub:
 * {@code src/test/node/herald-client.test.mjs} loads {@code herald.js} with fake EventSource,
 * WebSocket, fetch and timers, and checks the backoff schedule, the transport fallback and how
 * the last event id travels across reconnections and transports (the browser-global build of
 * {@code clients/js}, the file the gateway serves). Node.js is installed by
 * {@code scripts/test.sh}; the test fails without it.
 */
class HeraldJsClientTest {

  private static final Path NODE_DIR = Path.of("src", "test", "node");
  private static final Path CLIENT = Path.of("..", "clients", "js", "dist", "herald.js");

  @Test
  @DisplayName("herald.js: backoff 1-2-4-8-16-30 s with jitter, SSE -> WebSocket -> long-poll fallback, last id kept across transports")
  void clientLogic() throws Exception {
    assertThat(CLIENT).isRegularFile();
    Process p;
    try {
      p = new ProcessBuilder("node", "herald-client.test.mjs", CLIENT.toAbsolutePath().toString())
        .directory(NODE_DIR.toFile()).redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      fail("Node.js (`node`) cannot be run: " + e + ": run scripts/test.sh, which installs it");
      return;
    }
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (java.io.IOException e) {
        throw new RuntimeException(e);
      }
    });
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("herald-client.test.mjs still running after 60 s");
    }
    String output = out.get(5, TimeUnit.SECONDS);
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains("\"failed\":0").doesNotContain("not ok");
    assertThat(Files.readString(CLIENT)).doesNotContain("import ", "export ");
  }
}
