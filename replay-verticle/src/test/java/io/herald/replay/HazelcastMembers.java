package io.herald.replay;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;

import java.util.List;

/** What the Hazelcast store tests share: the config of an embedded member that joins only members of its cluster over loopback. */
final class HazelcastMembers {

  private HazelcastMembers() {
  }

  static Config memberConfig(String clusterName) {
    Config config = new Config();
    config.setClusterName(clusterName);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    NetworkConfig net = config.getNetworkConfig();
    net.setPort(5801).setPortAutoIncrement(true);
    net.getInterfaces().setEnabled(true).setInterfaces(List.of("127.0.0.1"));
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(List.of("127.0.0.1"));
    return config;
  }
}
