package io.herald.common.admin;

import io.herald.common.Breakers;
import io.herald.common.ClusterView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The live admin dashboard of the admin server:
 * <ul>
 *   <li>{@code GET /dashboard}: a static page (HTML, JS, CSS from the classpath folder
 *       {@code herald-admin/}, nothing from elsewhere) that draws the stream below;</li>
 *   <li>{@code GET /dashboard/stream}: Server-Sent Events, one {@code snapshot} event per
 *       {@link #INTERVAL_MILLIS}: per node across the cluster (from {@link ClusterView}) its
 *       connections and the events it delivered and accepted per second, the top topics by
 *       subscribers, the top topics by presence entries ({@code topPresence}), and the circuit
 *       breakers of this process.</li>
 * </ul>
 * When {@code admin.token} is set, the page loads without it but the stream needs it, as the
 * {@code token} query parameter (an EventSource cannot set headers) or {@code Authorization:
 * Bearer}. At most {@link #MAX_STREAMS} streams are open at once; one sampler serves them all and
 * runs only while a stream is open. Confined to the admin server's event loop.
 *
 * <p>Rates: every gateway instance refreshes its entry every {@link ClusterView#REFRESH_MILLIS}
 * with cumulative counters and the time it made them; a rate is the difference between an
 * entry's last two versions, so it changes every refresh and reads 0 until a second version.
 */
public final class Dashboard {

  private static final Logger LOG = LoggerFactory.getLogger(Dashboard.class);

  /** Path of the page; the stream and the assets live under it. */
  public static final String PATH = "/dashboard";
  /** Most dashboard streams open at once, in this process. */
  public static final int MAX_STREAMS = 16;
  /** Time between two snapshots, ms. */
  public static final long INTERVAL_MILLIS = 1000;
  /** Most nodes one snapshot lists (sorted by id; the rest are counted in {@code nodesOmitted}). */
  public static final int MAX_NODES = 64;
  /** Most breakers one snapshot lists. */
  public static final int MAX_BREAKERS = 32;
  /** Longest wait for the cluster view; a slower read sends a snapshot with {@code error}, ms. */
  public static final long READ_TIMEOUT_MILLIS = 5000;
  /** The client's reconnection delay, sent in the stream's {@code retry:} field, ms. */
  public static final long RETRY_MILLIS = 2000;

  private static final String RESOURCES = "herald-admin/";
  /** The page's files and their content types: only these are served. */
  private static final Map<String, String> ASSETS = Map.of(
    "index.html", "text/html; charset=utf-8",
    "dashboard.js", "text/javascript; charset=utf-8",
    "dashboard.css", "text/css; charset=utf-8");
  /** The page may load only its own files and open only its own stream. */
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private final Vertx vertx;
  private final String token;
  private final String self;
  private final Set<HttpServerResponse> streams = new LinkedHashSet<>();
  private final Rates rates = new Rates();
  private Future<Map<String, Buffer>> assets;
  private volatile long timer = -1;
  private boolean sampling;

  /** @param options the admin options; {@code token} guards the stream when set */
  public Dashboard(Vertx vertx, AdminOptions options) {
    this.vertx = vertx;
    this.token = options.token();
    this.self = ClusterView.nodeId(vertx);
  }

  /** Adds the dashboard's routes to the admin router. */
  public void mount(Router router) {
    router.get(PATH).handler(ctx -> asset(ctx, "index.html"));
    router.get(PATH + "/stream").handler(this::stream);
    router.get(PATH + "/:asset").handler(ctx -> asset(ctx, ctx.pathParam("asset")));
  }

  private void asset(RoutingContext ctx, String name) {
    if (!ASSETS.containsKey(name) || name.equals("index.html") && !ctx.request().path().equals(PATH)) {
      ctx.next();
      return;
    }
    if (assets == null) {
      // Read once, off the event loop; a handful of kilobytes kept for the life of the process.
      assets = vertx.executeBlocking(Dashboard::load, false);
    }
    assets.onComplete(ar -> {
      HttpServerResponse resp = ctx.response();
      if (ar.failed()) {
        LOG.error("dashboard assets cannot be read from the classpath folder {}", RESOURCES, ar.cause());
        json(resp, 500, "internal_error", "dashboard assets missing");
        return;
      }
      resp.putHeader(HttpHeaders.CONTENT_TYPE, ASSETS.get(name))
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Content-Security-Policy", CSP)
        .end(ar.result().get(name));
    });
  }

  private static Map<String, Buffer> load() throws IOException {
    Map<String, Buffer> out = new HashMap<>();
    for (String name : ASSETS.keySet()) {
      try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(RESOURCES + name)) {
        if (in == null) {
          throw new IOException(RESOURCES + name + " not on the classpath");
        }
        out.put(name, Buffer.buffer(in.readAllBytes()));
      }
    }
    return out;
  }

  private void stream(RoutingContext ctx) {
    HttpServerResponse resp = ctx.response();
    if (!token.isEmpty() && !authorized(ctx)) {
      HeraldMetrics.get().rejected("unauthorized");
      resp.putHeader("WWW-Authenticate", "Bearer realm=\"herald-admin\"");
      json(resp, 401, "unauthorized", "send ?token=<admin.token> or Authorization: Bearer <admin.token>");
      return;
    }
    if (streams.size() >= MAX_STREAMS) {
      HeraldMetrics.get().rejected("rate_limited");
      resp.putHeader("Retry-After", "5");
      json(resp, 429, "rate_limited", "at most " + MAX_STREAMS + " dashboard streams at once");
      return;
    }
    resp.setChunked(true)
      .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
      .putHeader("X-Accel-Buffering", "no")
      .putHeader("X-Content-Type-Options", "nosniff");
    streams.add(resp);
    resp.closeHandler(v -> closed(resp));
    resp.exceptionHandler(t -> closed(resp));
    resp.write("retry: " + RETRY_MILLIS + "\n\n");
    if (timer < 0) {
      timer = vertx.setPeriodic(INTERVAL_MILLIS, id -> sample());
    }
    sample();
  }

  /** Whether the sampler runs (it does while a stream is open); for tests. */
  boolean sampling() {
    return timer >= 0;
  }

  private void closed(HttpServerResponse resp) {
    if (streams.remove(resp) && streams.isEmpty() && timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
      rates.clear();
    }
  }

  private boolean authorized(RoutingContext ctx) {
    String given = ctx.request().getParam("token");
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (given == null && header != null && header.startsWith("Bearer ")) {
      given = header.substring(7).trim();
    }
    return given != null
      && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
  }

  /** Reads the view and sends one snapshot to every stream; skips a tick while the last read runs. */
  private void sample() {
    if (sampling || streams.isEmpty()) {
      return;
    }
    sampling = true;
    // Bounded, so that a cluster map that never answers cannot stop the snapshots for good.
    ClusterView.map(vertx).compose(AsyncMap::entries).timeout(READ_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).onComplete(ar -> {
      sampling = false;
      JsonObject snapshot;
      if (ar.succeeded()) {
        snapshot = snapshot(ar.result(), System.currentTimeMillis());
      } else {
        LOG.debug("dashboard: cluster view unavailable: {}", ar.cause().toString());
        snapshot = base(System.currentTimeMillis()).put("error", "cluster view unavailable: " + ar.cause().getMessage());
      }
      String frame = "event: snapshot\ndata: " + snapshot.encode() + "\n\n";
      for (HttpServerResponse r : new java.util.ArrayList<>(streams)) {
        // A client that does not read gets the next snapshot instead: each one stands alone.
        if (!r.closed() && !r.writeQueueFull()) {
          r.write(frame);
        }
      }
    });
  }

  private JsonObject base(long now) {
    JsonArray breakers = new JsonArray();
    Breakers.status(vertx).forEach(e -> {
      if (breakers.size() < MAX_BREAKERS) {
        JsonObject b = (JsonObject) e.getValue();
        breakers.add(new JsonObject().put("name", e.getKey()).put("state", b.getString("state")).put("failures", b.getValue("failures")));
      }
    });
    JsonObject memory = HeapPressure.of(vertx).status()
      .put("replayEvictedEvents", (long) HeraldMetrics.get().replayEvictedEvents());
    return new JsonObject().put("at", now).put("node", self).put("intervalMillis", INTERVAL_MILLIS)
      .put("streams", streams.size()).put("breakers", breakers).put("memory", memory);
  }

  /** One snapshot from the view's entries (key {@code <node>/<instance>}); updates the rates. */
  JsonObject snapshot(Map<String, JsonObject> entries, long now) {
    Map<String, JsonObject> nodes = new TreeMap<>();
    Map<String, JsonObject> freshest = new HashMap<>();
    Map<String, Integer> topics = new HashMap<>();
    Set<String> seen = new HashSet<>();
    int total = 0;
    for (Map.Entry<String, JsonObject> kv : entries.entrySet()) {
      JsonObject e = kv.getValue();
      String node = e.getString("node", "?");
      int connections = e.getInteger("connections", 0);
      total += connections;
      JsonObject n = nodes.computeIfAbsent(node, k -> new JsonObject().put("node", k).put("connections", 0)
        .put("instances", 0).put("deliveries", 0L).put("deliveriesPerSecond", 0.0));
      n.put("connections", n.getInteger("connections") + connections).put("instances", n.getInteger("instances") + 1);
      Long at = e.getLong("at");
      long deliveries = e.getLong("deliveries", 0L);
      n.put("deliveries", n.getLong("deliveries") + deliveries);
      if (at != null) {
        String key = "d:" + kv.getKey();
        seen.add(key);
        n.put("deliveriesPerSecond", n.getDouble("deliveriesPerSecond") + rates.update(key, at, deliveries));
        JsonObject f = freshest.get(node);
        if (f == null || f.getLong("at") < at) {
          freshest.put(node, e);
        }
      }
      for (Object o : e.getJsonArray("topTopics", new JsonArray())) {
        JsonObject t = (JsonObject) o;
        topics.merge(t.getString("topic"), t.getInteger("subscribers", 0), Integer::sum);
      }
    }
    // "published" counts the whole process in every instance's entry: one per node, the freshest.
    nodes.forEach((node, n) -> {
      JsonObject f = freshest.get(node);
      long published = f == null ? 0 : f.getLong("published", 0L);
      double rate = 0;
      if (f != null) {
        String key = "p:" + node;
        seen.add(key);
        rate = rates.update(key, f.getLong("at"), published);
      }
      n.put("published", published).put("publishedPerSecond", round(rate))
        .put("deliveriesPerSecond", round(n.getDouble("deliveriesPerSecond")));
    });
    rates.retain(seen);
    // Presence is per process (every instance's entry of a node carries the same): the freshest per node.
    Map<String, Integer> presence = new HashMap<>();
    freshest.values().forEach(f -> f.getJsonArray("topPresence", new JsonArray()).forEach(o -> {
      JsonObject t = (JsonObject) o;
      presence.merge(t.getString("topic"), t.getInteger("subscribers", 0), Integer::sum);
    }));
    JsonArray list = new JsonArray();
    nodes.values().stream().limit(MAX_NODES).forEach(list::add);
    return base(now).put("connections", total).put("nodes", list).put("nodesOmitted", Math.max(0, nodes.size() - MAX_NODES))
      .put("topTopics", ClusterView.top(topics)).put("topPresence", ClusterView.top(presence));
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private static void json(HttpServerResponse resp, int status, String code, String message) {
    resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .end(new JsonObject().put("error", code).put("message", message).encode());
  }

  /** Per-second rates of cumulative counters from their successive timestamped versions. */
  static final class Rates {

    private final Map<String, double[]> byKey = new HashMap<>();

    /** The rate of {@code key} once {@code value} was its count at {@code at} (ms); 0 until a second version. */
    double update(String key, long at, long value) {
      double[] last = byKey.get(key); // {at, value, perSecond}
      if (last == null) {
        byKey.put(key, new double[] {at, value, 0});
        return 0;
      }
      if (at > last[0]) {
        // A smaller count means the process restarted: no rate for that step.
        last[2] = value >= last[1] ? (value - last[1]) * 1000.0 / (at - last[0]) : 0;
        last[0] = at;
        last[1] = value;
      }
      return last[2];
    }

    void retain(Set<String> keys) {
      byKey.keySet().retainAll(keys);
    }

    void clear() {
      byKey.clear();
    }
  }
}
