package io.herald.common;

import com.hazelcast.core.HazelcastInstance;
import io.herald.common.config.ClusterOptions;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hazelcast listens on {@code cluster.interface} only: a member port open on every interface
 * would let anything that reaches the machine talk to the cluster. The kernel's socket table
 * ({@code /proc/net/tcp}, {@code /proc/net/tcp6}) says where the member's port is bound.
 */
class ClusterBindTest {

  @Test
  @DisplayName("A clustered node with cluster.interface 127.0.0.1 listens on 127.0.0.1 only, not on the wildcard address")
  void hazelcastBindsTheConfiguredInterface() throws Exception {
    ClusterOptions options = new ClusterOptions(new JsonObject().put("enabled", true)
      .put("name", "herald-bind-test-" + ProcessHandle.current().pid()).put("interface", "127.0.0.1"));
    Vertx vertx = HeraldLauncher.clusteredVertx(options).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    try {
      HazelcastInstance hz = ((HazelcastClusterManager) ((VertxInternal) vertx).clusterManager()).getHazelcastInstance();
      int port = hz.getCluster().getLocalMember().getAddress().getPort();
      List<String> listening = listeningAddresses(port);
      assertThat(listening).as("local addresses listening on Hazelcast's port %d", port)
        .isNotEmpty()
        .allMatch(a -> a.equals("0100007F") || a.equals("0000000000000000FFFF00000100007F"), "127.0.0.1");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** The local addresses (hex, as the kernel writes them) of the sockets listening on {@code port}. */
  private static List<String> listeningAddresses(int port) throws Exception {
    String hexPort = String.format(Locale.ROOT, "%04X", port);
    List<String> found = new ArrayList<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path path = Path.of(table);
      if (!Files.exists(path)) {
        continue;
      }
      for (String line : Files.readAllLines(path)) {
        String[] f = line.trim().split("\\s+");
        // sl local_address rem_address st ...; st 0A is LISTEN
        if (f.length > 3 && f[1].contains(":") && f[3].equals("0A")) {
          String[] local = f[1].split(":");
          if (local[1].equalsIgnoreCase(hexPort)) {
            found.add(local[0].toUpperCase(Locale.ROOT));
          }
        }
      }
    }
    return found;
  }
}
