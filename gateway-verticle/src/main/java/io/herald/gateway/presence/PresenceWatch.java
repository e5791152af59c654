package io.herald.gateway.presence;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.TopicPattern;
import io.herald.gateway.Connection;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.Http;
import io.herald.gateway.admission.SubscriberAuth;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Presence at one gateway instance: the hooks of its connection lifecycle ({@link #open},
 * {@link #close}) that add and remove the connection's entries in the process's {@link Presence},
 * and the delivery of {@code join}/{@code leave} frames to its connections that asked for them
 * ({@value #PARAM}{@code =1}) and may ({@link #mayWatch}).
 *
 * <p>The instance consumes a topic's presence address only while it holds such a connection on
 * the topic, and {@link #WATCH_LINGER_MILLIS} after (long-poll watchers come and go per request). Changes come per node; it forwards a {@code join} when a member appears on its first
 * node and a {@code leave} when it has left its last one, so a member that moves from one gateway
 * to another within the debounce is neither. A node that leaves the cluster (killed) counts as
 * a {@code leave} of each member it alone held. At most {@link #MAX_TRACKED} members are tracked
 * per watched topic; beyond, changes are forwarded as they come. Confined to the instance's event loop.
 */
public final class PresenceWatch {

  /** The query parameter asking for {@code join}/{@code leave} frames ({@code presence=1}). */
  public static final String PARAM = "presence";
  /** Most members tracked per watched topic for the cross-node debounce. */
  static final int MAX_TRACKED = 100_000;
  /**
   * How long a topic stays watched after its last watching connection left, ms: long-poll
   * watchers come back with every poll, and a consumer registered and dropped per poll would be
   * a cluster-wide registration per request (and would miss what happens while it propagates).
   */
  static final long WATCH_LINGER_MILLIS = 5000;
  /** How often the watched members' nodes are checked against the cluster's members, ms. */
  static final long NODE_CHECK_MILLIS = 1000;

  private final Vertx vertx;
  private final GatewayOptions options;
  private final Presence presence;
  private final ClusterManager cluster;
  private final Map<String, Watched> watched = new HashMap<>();
  private final Set<Connection> watching = new HashSet<>();
  private long nodeTimer = -1;

  private final class Watched {
    final Set<Connection> connections = new LinkedHashSet<>();
    final Map<String, Set<String>> members = new HashMap<>();
    final Map<String, JsonObject> lastFrame = new HashMap<>();
    MessageConsumer<JsonObject> consumer;
    long lingerTimer = -1;
  }

  public PresenceWatch(Vertx vertx, GatewayOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.presence = Presence.shared(vertx, options);
    this.cluster = ((VertxInternal) vertx).clusterManager();
  }

  /**
   * A connection is about to start: adds its entries and, when it asked, watches its topics.
   * False when it asked for presence on a topic its token does not grant: answered with 403
   * {@code access_denied} naming the topic, and the caller releases the connection.
   */
  public boolean open(Connection conn, HttpServerRequest request, SubscriberAuth.Grant grant, String client) {
    boolean asked = asked(request.getParam(PARAM));
    JsonObject claims = grant.anonymous() ? null : claims(SubscriberAuth.token(request));
    if (asked) {
      for (String t : conn.topics()) {
        if (!mayWatch(claims, grant, t)) {
          Http.error(request.response(), new HeraldException(ErrorCode.ACCESS_DENIED,
            "this token does not grant presence on topic \"" + t + "\" (claim \"" + options.presenceClaim() + "\")"),
            new JsonObject().put("topic", t));
          return false;
        }
      }
    }
    String member = grant.userKey() != null ? grant.userKey() : "anonymous@" + client;
    JsonObject info = info(claims);
    long now = System.currentTimeMillis();
    for (String t : conn.topics()) {
      presence.add(new PresenceEntry(t, grant.subject(), conn.id(), conn.transport(), presence.node(), now, info), member);
    }
    if (asked) {
      watching.add(conn);
      for (String t : conn.topics()) {
        watch(t, conn);
      }
    }
    return true;
  }

  /** The connection left the gateway: its entries linger for the debounce, its watches end. */
  public void close(Connection conn) {
    for (String t : conn.topics()) {
      presence.remove(t, conn.id());
    }
    if (watching.remove(conn)) {
      for (String t : conn.topics()) {
        Watched w = watched.get(t);
        if (w != null && w.connections.remove(conn) && w.connections.isEmpty() && w.lingerTimer < 0) {
          w.lingerTimer = vertx.setTimer(WATCH_LINGER_MILLIS, id -> unwatch(t, w));
        }
      }
    }
  }

  private void unwatch(String topic, Watched w) {
    w.lingerTimer = -1;
    if (!w.connections.isEmpty() || watched.get(topic) != w) {
      return;
    }
    watched.remove(topic);
    w.consumer.unregister();
    if (watched.isEmpty() && nodeTimer >= 0) {
      vertx.cancelTimer(nodeTimer);
      nodeTimer = -1;
    }
  }

  /**
   * A SockJS bridge socket registered {@code topic}: its entry (without {@code info}: the bridge
   * keeps no claims). Bridge sockets do not get presence frames.
   */
  public void bridged(String topic, long id, String transport, SubscriberAuth.Grant grant, String client) {
    String member = grant.userKey() != null ? grant.userKey() : "anonymous@" + client;
    presence.add(new PresenceEntry(topic, grant.subject(), id, transport, presence.node(), System.currentTimeMillis(), null), member);
  }

  /** A SockJS bridge socket left {@code topic} (unregistered or closed). */
  public void unbridged(String topic, long id) {
    presence.remove(topic, id);
  }

  /** {@code 1}, {@code true} or an empty value ask for presence. */
  static boolean asked(String value) {
    return value != null && (value.isEmpty() || "1".equals(value) || "true".equalsIgnoreCase(value));
  }

  /** Whether these claims may see presence on {@code topic}: always with {@code authMode} none. */
  boolean mayWatch(JsonObject claims, SubscriberAuth.Grant grant, String topic) {
    if (!options.jwtAuth()) {
      return true;
    }
    if (claims == null) {
      return false;
    }
    for (TopicPattern p : patterns(claims.getValue(options.presenceClaim()))) {
      if (p.matches(topic, grant.subject())) {
        return true;
      }
    }
    return false;
  }

  private void watch(String topic, Connection conn) {
    Watched w = watched.get(topic);
    if (w == null) {
      Watched fresh = new Watched();
      fresh.consumer = vertx.eventBus().consumer(Addresses.presence(topic), m -> changed(fresh, m.body()));
      watched.put(topic, fresh);
      w = fresh;
      if (cluster != null && nodeTimer < 0) {
        nodeTimer = vertx.setPeriodic(NODE_CHECK_MILLIS, id -> checkNodes());
      }
    }
    if (w.lingerTimer >= 0) {
      vertx.cancelTimer(w.lingerTimer);
      w.lingerTimer = -1;
    }
    w.connections.add(conn);
  }

  private void changed(Watched w, JsonObject change) {
    String member = change.getString("member");
    String node = change.getString("node");
    JsonObject frame = change.getJsonObject("frame");
    boolean join = PresenceRegistry.Change.JOIN.equals(change.getString("type"));
    boolean forward;
    if (join) {
      Set<String> nodes = w.members.get(member);
      if (nodes == null && w.members.size() >= MAX_TRACKED) {
        forward = true;
      } else {
        if (nodes == null) {
          nodes = new HashSet<>(2);
          w.members.put(member, nodes);
        }
        forward = nodes.isEmpty();
        nodes.add(node);
        w.lastFrame.put(member, frame);
      }
    } else {
      Set<String> nodes = w.members.get(member);
      if (nodes == null) {
        forward = true; // present before this instance watched
      } else {
        nodes.remove(node);
        forward = nodes.isEmpty();
        if (forward) {
          w.members.remove(member);
          w.lastFrame.remove(member);
        }
      }
    }
    if (forward) {
      deliver(w, join ? PresenceRegistry.Change.JOIN : PresenceRegistry.Change.LEAVE, frame);
    }
  }

  private void deliver(Watched w, String type, JsonObject frame) {
    for (Connection c : new ArrayList<>(w.connections)) {
      c.control(type, frame);
    }
  }

  /** Members held only by nodes that left the cluster get their {@code leave}. */
  private void checkNodes() {
    Set<String> live = new HashSet<>(cluster.getNodes());
    for (Watched w : new ArrayList<>(watched.values())) {
      for (var it = w.members.entrySet().iterator(); it.hasNext(); ) {
        var e = it.next();
        if (e.getValue().removeIf(n -> !live.contains(n)) && e.getValue().isEmpty()) {
          it.remove();
          JsonObject frame = w.lastFrame.remove(e.getKey());
          if (frame != null) {
            deliver(w, PresenceRegistry.Change.LEAVE, frame.copy().put("reason", "node_left"));
          }
        }
      }
    }
  }

  /** The client info of a connection: the info claim, when its JSON is at most {@code presenceMaxInfoBytes}. */
  JsonObject info(JsonObject claims) {
    Object v = claims == null ? null : claims.getValue(options.presenceInfoClaim());
    if (v == null) {
      return null;
    }
    JsonObject info = v instanceof JsonObject o ? o : new JsonObject().put("value", v);
    return info.encode().getBytes(StandardCharsets.UTF_8).length <= options.presenceMaxInfoBytes() ? info : null;
  }

  /**
   * The claims of a token the gateway has just verified (its signature checked by
   * {@link SubscriberAuth}): the payload decoded again for the presence claims, null when unreadable.
   */
  static JsonObject claims(String token) {
    if (token == null) {
      return null;
    }
    int first = token.indexOf('.');
    int last = token.lastIndexOf('.');
    if (first < 0 || last <= first) {
      return null;
    }
    try {
      return new JsonObject(new String(Base64.getUrlDecoder().decode(token.substring(first + 1, last)), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** A claim as patterns, read as the token's {@code topics} claim is ({@link SubscriberAuth#patterns}). */
  static List<TopicPattern> patterns(Object claim) {
    return SubscriberAuth.patterns(claim);
  }

  /** The process's presence. */
  public Presence presence() {
    return presence;
  }
}
