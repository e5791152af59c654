package io.herald.common.config;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The {@code cluster} section: whether this process joins a Hazelcast-clustered event bus, and
 * how it finds the others. Defaults suit several processes on one machine (loopback, TCP-IP
 * join to 127.0.0.1, multicast and auto-detection off, phone-home off).
 */
public final class ClusterOptions {

  /** Off: every role runs in this JVM on a local event bus. */
  public static final boolean DEFAULT_ENABLED = false;
  /** Hazelcast cluster name; processes with different names never join. */
  public static final String DEFAULT_NAME = "herald";
  /** Members to join, host or host:port (no port ranges). */
  public static final List<String> DEFAULT_MEMBERS = List.of("127.0.0.1");
  /** The interface Hazelcast binds to and advertises. */
  public static final String DEFAULT_INTERFACE = "127.0.0.1";
  /** First Hazelcast port; the next free one is taken when it is in use. */
  public static final int DEFAULT_PORT = 5701;
  /** Host the clustered event bus binds to (TCP between nodes). */
  public static final String DEFAULT_EVENT_BUS_HOST = "127.0.0.1";

  private final boolean enabled;
  private final String name;
  private final List<String> members;
  private final String iface;
  private final int port;
  private final String eventBusHost;

  public ClusterOptions() {
    this(new JsonObject());
  }

  public ClusterOptions(JsonObject json) {
    ConfigReader r = new ConfigReader("cluster", json);
    enabled = r.getBoolean("enabled", DEFAULT_ENABLED);
    name = r.getString("name", DEFAULT_NAME);
    members = r.getStringList("members", DEFAULT_MEMBERS);
    if (members.isEmpty()) {
      throw new ConfigException(r.key("members"), "must name at least one member");
    }
    for (String m : members) {
      int colon = m.lastIndexOf(':');
      if (colon >= 0 && m.substring(colon + 1).contains("-")) {
        throw new ConfigException(r.key("members"), "port ranges are not supported, got \"" + m + "\"");
      }
    }
    iface = r.getString("interface", DEFAULT_INTERFACE);
    port = r.getInt("port", DEFAULT_PORT, 1, 65535);
    eventBusHost = r.getString("eventBusHost", DEFAULT_EVENT_BUS_HOST);
    r.rejectUnknown();
  }

  public boolean enabled() { return enabled; }
  public String name() { return name; }
  public List<String> members() { return members; }
  public String iface() { return iface; }
  public int port() { return port; }
  public String eventBusHost() { return eventBusHost; }

  public ClusterOptions withEnabled(boolean on) {
    JsonObject j = toJson();
    j.put("enabled", on);
    return new ClusterOptions(j);
  }

  public JsonObject toJson() {
    return new JsonObject().put("enabled", enabled).put("name", name)
      .put("members", new io.vertx.core.json.JsonArray(members)).put("interface", iface).put("port", port)
      .put("eventBusHost", eventBusHost);
  }
}
