package io.herald.replay;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.herald.testsupport.Ports;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** What the Hazelcast store tests share: the config of an embedded member that joins only members of its cluster over loopback. */
final class HazelcastMembers {

  /**
   * The Hazelcast ports of this JVM's members, handed out in turn, and every member lists them
   * all: not Hazelcast's default of one port and a join through its first three, which another
   * test JVM's members may hold at the same time (the tests run in two).
   */
  private static final List<Integer> PORTS = Ports.freePorts(8);
  private static final AtomicInteger NEXT = new AtomicInteger();

  private HazelcastMembers() {
  }

  static Config memberConfig(String clusterName) {
    Config config = new Config();
    config.setClusterName(clusterName);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    NetworkConfig net = config.getNetworkConfig();
    // A port still held by an earlier member of this JVM is skipped by the auto-increment.
    net.setPort(PORTS.get(NEXT.getAndIncrement() % PORTS.size())).setPortAutoIncrement(true);
    net.getInterfaces().setEnabled(true).setInterfaces(List.of("127.0.0.1"));
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(PORTS.stream().map(p -> "127.0.0.1:" + p).toList());
    return config;
  }
}
