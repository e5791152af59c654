package io.herald.standalone;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A bad setting stops the real jar before anything starts: status 2 and a message naming the key. */
class ConfigErrorIT {

  private HeraldProcess herald;

  @AfterEach
  void tearDown() {
    if (herald != null) {
      herald.destroy();
    }
  }

  @ParameterizedTest(name = "{0}={1} names {2}")
  @CsvSource({
    "HERALD_GATEWAY_PORT, notaport, gateway.port",
    "HERALD_GATEWAY_HEARTBEAT_SECS, 1, gateway.heartbeatSecs",
    "HERALD_NOTIFIER_PORT, 70000, notifier.port",
    "HERALD_REPLAY_STORE, cassandra, replay.store",
    "HERALD_CLUSTER_MEMBERS, '10.0.0.1:5701-5710', cluster.members",
  })
  @DisplayName("A bad environment override exits with status 2 and stderr names the key")
  void badEnvironmentOverride(String variable, String value, String key) throws Exception {
    herald = HeraldProcess.launch("ConfigErrorIT-" + variable, Map.of(variable, value));
    int status = herald.awaitExit(Duration.ofSeconds(30));
    assertThat(status).as("exit status; output:%n%s", herald.logTail()).isEqualTo(2);
    assertThat(herald.stderr()).contains("configuration error: " + key + ":");
  }

  @Test
  @DisplayName("A --config file that is not JSON exits with status 2 and stderr names the file")
  void invalidConfigFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("broken.json");
    Files.writeString(file, "{\"gateway\": {\"port\": 8080,}");
    herald = HeraldProcess.launch("ConfigErrorIT-file", Map.of(), "--config", file.toString());
    int status = herald.awaitExit(Duration.ofSeconds(30));
    assertThat(status).as("exit status; output:%n%s", herald.logTail()).isEqualTo(2);
    assertThat(herald.stderr()).contains(file.toString()).contains("not valid JSON");
  }

  @ParameterizedTest(name = "{0} held by another process")
  @CsvSource({
    "HERALD_GATEWAY_PORT, gateway.port",
    "HERALD_NOTIFIER_PORT, notifier.port",
    "HERALD_ADMIN_PORT, admin.port",
  })
  @DisplayName("A port already in use exits with status 2 and one line naming the port, the key and its variable, without a stack trace")
  void portInUse(String variable, String key) throws Exception {
    try (ServerSocket held = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      int port = held.getLocalPort();
      herald = HeraldProcess.launch("ConfigErrorIT-inuse-" + variable, Map.of(variable, Integer.toString(port)));
      int status = herald.awaitExit(Duration.ofSeconds(60));
      assertThat(status).as("exit status; output:%n%s", herald.logTail()).isEqualTo(2);
      List<String> lines = herald.stderr().lines().filter(l -> !l.isBlank()).toList();
      assertThat(lines).as("stderr").containsExactly("herald: configuration error: " + key + ": port " + port
        + " on 127.0.0.1 is already in use by another process: stop it, or set another port with " + key + " (" + variable + ")");
      assertThat(herald.logTail()).doesNotContain("\tat ").doesNotContain("ERROR");
    }
  }

  @Test
  @DisplayName("An unknown command-line argument exits with status 2 and the usage")
  void unknownArgument() throws Exception {
    herald = HeraldProcess.launch("ConfigErrorIT-args", Map.of(), "--clustre");
    assertThat(herald.awaitExit(Duration.ofSeconds(30))).isEqualTo(2);
    assertThat(herald.stderr()).contains("unknown argument --clustre").contains("usage:");
  }
}
