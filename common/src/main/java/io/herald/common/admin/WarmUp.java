package io.herald.common.admin;

import io.herald.common.Addresses;
import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.EventDraft;
import io.herald.common.HeraldLauncher;
import io.herald.common.LocalRoles;
import io.herald.common.Position;
import io.herald.common.Role;
import io.herald.common.config.ClusterOptions;
import io.herald.common.replay.ReadResult;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The self warm-up of a fresh process: until it ends, {@code /ready} answers 503 (check
 * {@value #CHECK}), so that no traffic comes while the JIT compiles the hot paths.
 *
 * <p>The process starts a <em>private copy</em> of the roles it runs, in a second
 * Vert.x of its own (same classes, so the same compiled code), listening on free ports of
 * 127.0.0.1 only, with the in-memory replay store and a random publisher key, and drives it over
 * loopback: HTTP publishes with keep-alive (half of them pipelined) and a JSON body of about 200 bytes, delivered to a few
 * SSE subscribers, and to many other topics (their creation); publishes over the event bus;
 * replay reads; short SSE connections that arrive, subscribe and leave. A role the process does not run is
 * stood in for by a minimal one on the private event bus (a gateway-only node publishes through a
 * stand-in replay; a notifier-only node delivers to event-bus consumers). The copy of a clustered
 * node is clustered too, in a private Hazelcast cluster on loopback under a name of its own, and
 * the stand-in replay then runs on a second member of it, so that events reach the copy over the
 * clustered event bus as they reach the node (Hazelcast, the event bus's TCP connections and its
 * wire codecs get compiled too). Nothing of it is
 * visible to users: the private copy has its own event bus, store, ports and metrics registry
 * (it runs the node's Vert.x metrics and as many instances of each role as the node, so that the
 * code compiled for it is the code the node's traffic runs), its topics (named
 * {@value #TOPIC_PREFIX}N) exist only there, it is closed when the warm-up ends, and what its
 * threads count goes to that registry ({@link HeraldMetrics}). The topic name the
 * {@code /ready} report shows, {@value #RESERVED_TOPIC}, is not a valid topic, so no user can
 * subscribe to or publish on it.
 *
 * <p>It ends at {@code admin.warmUpMillis} or after {@code admin.warmUpPublishes} publishes,
 * whichever comes first, and is logged when it starts and when it ends with what it did. It never
 * holds readiness past its bound (plus a few seconds to close the copy): a failure of the warm-up
 * is logged and the process becomes ready. Everything runs on event loops, none is blocked.
 */
public final class WarmUp {

  private static final Logger LOG = LoggerFactory.getLogger(WarmUp.class);

  /** The name of the readiness check that fails while the warm-up runs. */
  public static final String CHECK = "warmup";
  /** Prefix of the topics of the private copy (never those of the process itself). */
  public static final String TOPIC_PREFIX = "warmup-";
  /** The name the warm-up goes by in {@code /ready}; not a valid topic (starts with {@code _}). */
  public static final String RESERVED_TOPIC = "_herald.warmup";
  /** SSE subscribers of the private gateway. */
  static final int SUBSCRIBERS = 4;
  /** Topics of the private copy that its subscribers hold. */
  static final int TOPICS = 8;
  /** Other topics of the private copy, each published to a few times (topic creation paths). */
  static final int OTHER_TOPICS = 1024;
  /** The ids a single-topic subscriber remembers: a resume from the oldest misses up to this many events. */
  static final int RECENT = 16;
  /** Events the stand-in replay keeps per subscribed topic: more than {@link #RECENT}, for what is published while a resume is on its way. */
  static final int KEPT = 4 * RECENT;
  /** How long a resuming short connection waits for its {@code herald.ready} before it leaves anyway. */
  static final long RESUME_WAIT_MILLIS = 2_000;
  /** Publishes answered but not yet delivered beyond which the driver waits for the deliveries. */
  static final int MAX_AHEAD = 256;
  /** Publishes in flight at once. */
  static final int CONCURRENCY = 4;
  /** After the time bound, how long closing the private copy may take before the process is ready anyway. */
  static final long CLOSE_GRACE_MILLIS = 5_000;

  private final Vertx node;
  private final List<Role> roles;
  /** The node's own deployments of {@link #roles}, in the same order: the copy deploys as many instances. */
  private final List<Role.Deployment> placed;
  private final long maxMillis;
  /** The node's configuration: which of its limits are off, so that the copy's are off too. */
  private final JsonObject config;
  private final long maxPublishes;
  /**
   * The name of the copy's private Hazelcast cluster when the node is clustered, else null: a
   * clustered node's traffic runs Hazelcast and the clustered event bus, so its copy does too.
   */
  private final String cluster;
  private volatile Vertx copy;
  /**
   * The other member of the private cluster, or null: where the stand-in replay runs for a node
   * without the replay role, so that its events reach the copy over the clustered event bus's
   * TCP connections, as they reach the node from its replay node.
   */
  private volatile Vertx peer;
  /** The one event loop of {@link #copy} the driver runs on (subscribers, publishes, their replies). */
  private io.vertx.core.Context context;
  private final String key = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
  /** The copy's metrics registry, its own (closed with it); also the name of its private cluster. */
  private final String registryName = "herald-warmup-copy-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(4));
  /** The peer's metrics registry. */
  private final String peerRegistryName = registryName + "-peer";
  private final List<io.vertx.core.http.HttpClientResponse> streams = new ArrayList<>();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private final Map<String, String> epochs = new ConcurrentHashMap<>();
  private final AtomicLong httpPublishes = new AtomicLong();
  private final AtomicLong busPublishes = new AtomicLong();
  private final AtomicLong replayReads = new AtomicLong();
  private final AtomicLong deliveredBytes = new AtomicLong();
  private final AtomicLong deliveredEvents = new AtomicLong();
  private final AtomicLong unwatched = new AtomicLong();
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong resumes = new AtomicLong();
  /** Events the resuming connections were replayed before their {@code herald.ready}. */
  private final AtomicLong replayed = new AtomicLong();
  /**
   * The {@code id:} of the last {@link #RECENT} frames of each single-topic subscriber: a short
   * connection resumes from the oldest with {@code Last-Event-ID}, as a client that reconnects
   * (after a gateway died, say) does, and is replayed what it missed. The driver's event loop only.
   */
  private final Map<Integer, ArrayDeque<String>> recentIds = new HashMap<>();
  private final AtomicLong failures = new AtomicLong();
  private long started;
  private HttpClient client;
  /** Half of the HTTP publishes go over one pipelined connection, as load balancers and some clients send them. */
  private HttpClient pipelined;
  private int gatewayPort = -1;
  /** The copy has a gateway that fans out per node: its stand-in replay publishes on {@link Addresses#EVENTS}. */
  private volatile boolean perNodeCopy;
  private Integer publishPort;
  private boolean replayLocal;
  private volatile boolean stopping;
  private int busSubscribers;
  /** Removes {@link WarmUpLogFilter} once the copy is closed. */
  private final Runnable unmuteLog;

  private WarmUp(Vertx node, List<Role> roles, List<Role.Deployment> placed, JsonObject config, AdminOptions options, long since) {
    this.node = node;
    this.config = config;
    this.roles = roles;
    this.placed = placed;
    this.maxMillis = options.warmUpMillis();
    this.maxPublishes = options.warmUpPublishes();
    this.started = since;
    this.cluster = node.isClustered() ? registryName : null;
    this.unmuteLog = WarmUpLogFilter.install(v -> v != null && (v == copy || v == peer), cluster);
  }

  /** The node's event-loop pool ({@link io.herald.common.SharedLoop#eventLoops}): the copy's loops are shared as the node's are. */
  private int eventLoops() {
    return io.herald.common.SharedLoop.eventLoops(io.herald.common.SharedLoop.plan(roles.stream().map(Role::name).toList(), placed));
  }

  /**
   * Builds the copy, on the calling thread (never an event loop: it waits for a private cluster
   * to form). The copy has the node's metrics, in a registry of its own that /metrics does not
   * serve: Vert.x's HTTP and event-bus metrics run on every request, and code compiled without
   * them would be thrown away (deoptimized) at the node's first requests.
   */
  private void build() throws Exception {
    if (cluster == null) {
      copy = Vertx.builder().with(HeraldLauncher.vertxOptions(registryName, eventLoops())).build();
    } else {
      // Two members on loopback ports of their own, under a cluster name of their own: nothing
      // of the node's cluster can join it, nor it the node's. The copy's member forms the cluster
      // alone and the stand-in's then joins it by its address: two members that start together,
      // each listing both, spend seconds finding each other (6.3 s against 0.5 s on a quiet
      // machine), time the warm-up's bound then does not have for the copy's traffic.
      boolean standIn = !roles.stream().map(Role::name).toList().contains("replay");
      int a = freePort();
      List<String> members = List.of("127.0.0.1:" + a);
      Future<Vertx> first = HeraldLauncher.clusteredVertx(privateCluster(cluster, members, a), registryName, cluster + "-a", eventLoops());
      Future<Vertx> second = standIn
        ? first.compose(v -> {
            try {
              return HeraldLauncher.clusteredVertx(privateCluster(cluster, members, freePort()), peerRegistryName, cluster + "-b");
            } catch (IOException e) {
              return Future.failedFuture(e);
            }
          })
        : Future.succeededFuture();
      long bound = Math.max(1_000, maxMillis - (System.currentTimeMillis() - started));
      try {
        copy = first.toCompletionStage().toCompletableFuture().get(bound, TimeUnit.MILLISECONDS);
        peer = second.toCompletionStage().toCompletableFuture().get(bound, TimeUnit.MILLISECONDS);
        int seen = ((io.vertx.core.internal.VertxInternal) copy).clusterManager().getNodes().size();
        int expected = standIn ? 2 : 1;
        if (seen != expected) {
          throw new IllegalStateException("the private cluster has " + seen + " member(s), not " + expected);
        }
      } catch (Exception e) {
        first.onSuccess(Vertx::close);
        second.onSuccess(v -> {
          if (v != null) {
            v.close();
          }
        });
        BackendRegistries.stop(registryName);
        BackendRegistries.stop(peerRegistryName);
        throw e;
      }
    }
    HeraldMetrics.mute(copy, registry(registryName));
    HeraldMetrics.bindNode(node);
    if (peer != null) {
      EventCodec.register(peer);
      HeraldMetrics.mute(peer, registry(peerRegistryName));
    }
    context = copy.getOrCreateContext();
  }

  private static ClusterOptions privateCluster(String name, List<String> members, int port) {
    return new ClusterOptions(new JsonObject().put("enabled", true).put("name", name)
      .put("members", new JsonArray(members)).put("interface", "127.0.0.1").put("port", port).put("eventBusHost", "127.0.0.1"));
  }

  private static MeterRegistry registry(String name) {
    MeterRegistry r = BackendRegistries.getNow(name);
    return r != null ? r : new SimpleMeterRegistry();
  }

  /**
   * Runs the warm-up of {@code node}, which runs {@code roles} as {@code deployments} (one per
   * role, same order) from {@code config}, when {@code options} ask for one: {@code /ready} of
   * {@code node} fails with {@value #CHECK} until the returned future completes (it never fails).
   */
  public static Future<Void> start(Vertx node, List<Role> roles, List<Role.Deployment> deployments, JsonObject config,
                                   AdminOptions options) {
    if (options.warmUpMillis() == 0) {
      return Future.succeededFuture();
    }
    long since = System.currentTimeMillis();
    Health.of(node).readiness().register(CHECK, p -> p.complete(Status.KO(new JsonObject()
      .put("reason", "warming up").put("topic", RESERVED_TOPIC)
      .put("elapsedMillis", System.currentTimeMillis() - since).put("maxMillis", options.warmUpMillis()))));
    Promise<Void> done = Promise.promise();
    // Never hold readiness past the bound: whatever the copy does, the node is ready then.
    long guard = node.setTimer(options.warmUpMillis() + CLOSE_GRACE_MILLIS, t -> {
      if (done.tryComplete()) {
        LOG.warn("warm-up did not end within {} ms; ready anyway", options.warmUpMillis() + CLOSE_GRACE_MILLIS);
      }
    });
    // The private Vert.x is built off the node's event loops (building one starts its threads).
    Thread builder = new Thread(() -> {
      WarmUp w = new WarmUp(node, roles, deployments, config, options, since);
      try {
        w.build();
      } catch (Exception e) {
        LOG.warn("warm-up skipped: {}", e.toString());
        w.unmuteLog.run();
        done.tryComplete();
        return;
      }
      w.context.runOnContext(v -> w.run().onComplete(ar -> {
        if (ar.failed()) {
          LOG.warn("warm-up ended early: {}", ar.cause().toString());
        }
        done.tryComplete();
      }));
    }, "herald-warmup");
    builder.setDaemon(true);
    builder.start();
    return done.future().andThen(ar -> {
      node.cancelTimer(guard);
      Health.of(node).readiness().unregister(CHECK);
    });
  }

  private Future<Void> run() {
    List<String> names = roles.stream().map(Role::name).toList();
    LOG.info("warm-up started: a private copy of roles {} on 127.0.0.1{}, up to {} ms or {} publishes; /ready answers 503 until it ends",
      names, cluster == null ? "" : ", clustered with " + (peer == null ? "no other member" : "a stand-in replay member")
        + " in a private cluster (" + (System.currentTimeMillis() - started) + " ms to form)", maxMillis, maxPublishes);
    return deploy(names)
      .compose(v -> subscribe())
      .compose(v -> drive())
      .eventually(this::close)
      .andThen(ar -> {
        long sse = streams.size();
        LOG.info("warm-up ended after {} ms: {} HTTP publishes, {} event-bus publishes, {} replay reads, {} bytes delivered to {} subscriber(s) ({}), {} short SSE connections ({} resuming with Last-Event-ID, {} events replayed to them), {} failed request(s); private copy closed",
          System.currentTimeMillis() - started, httpPublishes.get(), busPublishes.get(), replayReads.get(),
          deliveredBytes.get(), sse > 0 ? sse : busSubscribers, sse > 0 ? "SSE" : "event bus", connections.get(), resumes.get(), replayed.get(), failures.get());
      });
  }

  /** Deploys the private copy of {@code names}, with stand-ins for the missing replay. */
  private Future<Void> deploy(List<String> names) {
    EventCodec.register(copy);
    replayLocal = names.contains("replay");
    Future<Void> chain = replayLocal ? Future.succeededFuture() : standInReplay();
    List<Role.Deployment> deployments = new ArrayList<>();
    for (int i = 0; i < roles.size(); i++) {
      Role role = roles.get(i);
      JsonObject section;
      try {
        section = section(role.name());
      } catch (IOException e) {
        return Future.failedFuture(e);
      }
      try {
        // As many instances as the node runs: how connections and events spread over event
        // loops shapes the code the JIT compiles (a load balancer over one handler is not one over two).
        deployments.add(new Role.Deployment(role.prepare(section).verticle(), placed.get(i).instances()));
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
    // Placed as the process places its own roles (SharedLoop), so that the same paths get compiled.
    for (io.herald.common.SharedLoop.Unit unit : io.herald.common.SharedLoop.plan(roles.stream().map(Role::name).toList(), deployments)) {
      chain = chain.compose(v -> copy.deployVerticle(unit.verticle(), new DeploymentOptions().setInstances(1)).mapEmpty());
    }
    return chain.onSuccess(v -> {
      publishPort = LocalRoles.publishPort(copy);
      if (replayLocal && copy.isClustered() && sharedStore()) {
        // The node's roles ask its own replay role (ReplayClient): the copy's, alone in its
        // private cluster, is as good, and the copy compiles the path the node runs.
        LocalRoles.sharedReplay(copy, true);
      }
    });
  }

  /** Whether the node's {@code replay.store} is one every replay process shares (not {@code memory}). */
  private boolean sharedStore() {
    Object v = config.getJsonObject("replay", new JsonObject()).getValue("store");
    return v instanceof String s && !s.isBlank() && !"memory".equalsIgnoreCase(s.trim());
  }

  /** The node's {@code gateway.fanout}. */
  private String fanout() {
    Object v = config.getJsonObject("gateway", new JsonObject()).getValue("fanout");
    return v instanceof String f ? f : "topic";
  }


  /** The private copy's configuration of one role: loopback, free ports, memory store, no limits in the way. */
  private JsonObject section(String role) throws IOException {
    return switch (role) {
      case "gateway" -> {
        gatewayPort = freePort();
        perNodeCopy = "node".equals(fanout());
        yield new JsonObject().put("host", "127.0.0.1").put("port", gatewayPort)
          .put("heartbeatSeconds", 15)
          // Events reach the copy's gateway the way they reach the node's.
          .put("fanout", fanout())
          // Every warm-up connection comes from 127.0.0.1, hundreds of them a minute.
          .put("connectAttemptsPerIpPerMinute", 10_000_000).put("maxConnectionsPerIp", 10_000_000);
      }
      case "notifier" -> new JsonObject().put("host", "127.0.0.1").put("port", freePort())
        // In the production form (its SHA-256): a key in plain text makes the notifier warn
        // about a configuration the node's operators never wrote.
        .put("publisherKeys", new JsonArray().add("sha256:" + io.herald.common.Sha256.hex(key)))
        // Limits out of the copy's way, but on where the node's are on and off where they are
        // off: a limiter the copy runs and the node does not is a branch compiled for nothing,
        // thrown away at the node's first publishes (BENCHMARKS.md run 34).
        .put("publishRatePerKey", limit("publishRatePerKey", 10_000_000)).put("publishBurst", 100_000_000)
        .put("publishBytesPerSecondPerKey", limit("publishBytesPerSecondPerKey", 1_000_000_000))
        .put("newTopicsPerMinutePerKey", limit("newTopicsPerMinutePerKey", 100_000_000));
      case "replay" -> new JsonObject().put("store", "memory").put("maxEventsPerTopic", 100);
      default -> new JsonObject();
    };
  }

  private int limit(String key, int high) {
    return limit(config, key, high);
  }

  /** {@code high}, or 0 when the notifier section of {@code config} has the limit {@code key} off (0). */
  static int limit(JsonObject config, String key, int high) {
    Object v = config.getJsonObject("notifier", new JsonObject()).getValue(key);
    return v != null && "0".equals(String.valueOf(v).trim()) ? 0 : high;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** A minimal replay role on the private bus: numbers events per topic and publishes them. */
  private Future<Void> standInReplay() {
    String epoch = "warmup";
    Map<String, Long> heads = new ConcurrentHashMap<>();
    // The last KEPT events of the subscribed topics (only those: the many others are created
    // and left), so that a resume reads real events over the cluster, as from the node's store.
    Map<String, ArrayDeque<Event>> recent = new ConcurrentHashMap<>();
    for (int i = 0; i < TOPICS; i++) {
      recent.put(TOPIC_PREFIX + i, new ArrayDeque<>());
    }
    var bus = (peer != null ? peer : copy).eventBus();
    // The notifier's ReplayClient asks in LocalAppend objects on this non-clustered bus, other senders in JSON.
    consumers.add(bus.<Object>consumer(Addresses.REPLAY_APPEND, msg -> {
      var local = msg.body() instanceof io.herald.common.replay.LocalAppend.Request r ? r : null;
      List<EventDraft> drafts = local != null ? local.drafts()
        : ((JsonObject) msg.body()).getJsonArray("events").stream().map(o -> EventDraft.fromJson((JsonObject) o)).toList();
      List<Event> stored = new ArrayList<>(drafts.size());
      for (EventDraft d : drafts) {
        long seq = heads.merge(d.topic(), 1L, Long::sum);
        Event e = d.toEvent(epoch, seq, System.currentTimeMillis());
        ArrayDeque<Event> kept = recent.get(e.topic());
        if (kept != null) {
          synchronized (kept) {
            if (kept.size() == KEPT) {
              kept.removeFirst();
            }
            kept.addLast(e);
          }
        }
        // Where the node's replay role would (see FanoutRoutes): only where someone listens.
        bus.publish(perNodeCopy ? Addresses.EVENTS : Addresses.topic(e.topic()), e);
        stored.add(e);
      }
      if (local != null) {
        local.succeed(msg, stored);
      } else {
        msg.reply(new JsonObject().put("events", new JsonArray(stored.stream().<Object>map(Event::toJson).toList())));
      }
    }));
    consumers.add(bus.<JsonObject>consumer(Addresses.REPLAY_HEAD, msg -> {
      JsonObject out = new JsonObject();
      for (Object t : msg.body().getJsonArray("topics", new JsonArray())) {
        out.put((String) t, new JsonObject().put("epoch", epoch).put("seq", heads.getOrDefault((String) t, 0L)));
      }
      msg.reply(new JsonObject().put("heads", out));
    }));
    consumers.add(bus.<JsonObject>consumer(Addresses.REPLAY_READ, msg -> {
      String t = msg.body().getString("topic");
      long after = msg.body().getLong("after", 0L);
      int limit = msg.body().getInteger("limit", 100);
      ArrayDeque<Event> kept = recent.get(t);
      List<Event> events = new ArrayList<>();
      boolean reset = !epoch.equals(msg.body().getString("epoch"));
      if (kept != null && !reset) {
        synchronized (kept) {
          reset = !kept.isEmpty() && kept.peekFirst().seq() > after + 1;
          for (Event e : kept) {
            if (e.seq() > after && events.size() < limit) {
              events.add(e);
            }
          }
        }
      }
      Position head = new Position(epoch, heads.getOrDefault(t, 0L));
      msg.reply((reset ? ReadResult.reset(head) : new ReadResult(head, false, events)).toJson());
    }));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).mapEmpty();
  }

  /** SSE subscribers on the private gateway, or event-bus consumers without one. */
  private Future<Void> subscribe() {
    client = copy.createHttpClient(new HttpClientOptions().setKeepAlive(true).setDefaultHost("127.0.0.1"),
      new PoolOptions().setHttp1MaxSize(CONCURRENCY + SUBSCRIBERS + 2));
    pipelined = copy.createHttpClient(new HttpClientOptions().setKeepAlive(true).setPipelining(true)
      .setPipeliningLimit(CONCURRENCY).setDefaultHost("127.0.0.1"), new PoolOptions().setHttp1MaxSize(1));
    if (gatewayPort < 0) {
      List<Future<?>> all = new ArrayList<>();
      for (int i = 0; i < TOPICS; i++) {
        MessageConsumer<Object> c = copy.eventBus().consumer(Addresses.topic(TOPIC_PREFIX + i),
          m -> {
            deliveredBytes.addAndGet(m.body() instanceof Event e ? e.data().length() : 1);
            deliveredEvents.incrementAndGet();
          });
        consumers.add(c);
        busSubscribers++;
        all.add(c.completion());
      }
      return Future.all(all).mapEmpty();
    }
    List<Future<?>> all = new ArrayList<>();
    // Half of the subscribers on one topic each (the commonest stream: one user's topic), the
    // others sharing the rest (a stream on several topics keeps a cursor per topic).
    int single = SUBSCRIBERS / 2;
    for (int s = 0; s < SUBSCRIBERS; s++) {
      int index = s;
      StringBuilder uri = new StringBuilder("/events?");
      for (int t = s; t < TOPICS; t += s < single ? TOPICS : SUBSCRIBERS - single) {
        uri.append(t == s ? "" : "&").append("topic=").append(TOPIC_PREFIX).append(t);
      }
      all.add(client.request(new RequestOptions().setMethod(HttpMethod.GET).setPort(gatewayPort).setURI(uri.toString()))
        .compose(req -> req.putHeader("Accept", "text/event-stream").send())
        .compose(resp -> {
          if (resp.statusCode() != 200) {
            return Future.failedFuture("SSE subscribe answered " + resp.statusCode());
          }
          streams.add(resp);
          byte[] last = {0};
          ArrayDeque<String> ids = index < single ? recentIds.computeIfAbsent(index, k -> new ArrayDeque<>()) : null;
          resp.handler(b -> {
            deliveredBytes.addAndGet(b.length());
            if (ids != null) {
              rememberIds(b, ids);
            }
            // Frames end with an empty line: count them, across chunk boundaries.
            for (int i = 0; i < b.length(); i++) {
              byte c = b.getByte(i);
              if (c == '\n' && last[0] == '\n') {
                deliveredEvents.incrementAndGet();
              }
              last[0] = c;
            }
          });
          return Future.succeededFuture();
        }));
    }
    return Future.all(all).mapEmpty();
  }

  /** {@link #CONCURRENCY} loops of publishes until a bound is reached. */
  private Future<Void> drive() {
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < CONCURRENCY; i++) {
      Promise<Void> p = Promise.promise();
      loops.add(p.future());
      context.runOnContext(v -> next(p));
    }
    return Future.all(loops).mapEmpty();
  }

  private final AtomicLong sequence = new AtomicLong();
  /** Publishes to the subscribed topics so far (the driver's one event loop only). */
  private long watchedSeq;

  private void next(Promise<Void> loop) {
    long n = sequence.getAndIncrement();
    if (stopping || n >= maxPublishes || System.currentTimeMillis() - started >= maxMillis) {
      stopping = true;
      loop.tryComplete();
      return;
    }
    if (failures.get() > 100) {
      stopping = true;
      loop.tryFail("over 100 warm-up requests failed");
      return;
    }
    if (httpPublishes.get() + busPublishes.get() - unwatched.get() - deliveredEvents.get() > MAX_AHEAD) {
      // Publishes are answered before they are delivered: let the deliveries keep up, so that
      // the delivery path is exercised as much as the publish path (and nothing piles up).
      sequence.decrementAndGet();
      copy.setTimer(1, t -> next(loop));
      return;
    }
    // Most publishes go to the subscribed topics; one in four to one of many others, so that a
    // topic's first events (creation in the store) are exercised too, not only its later ones.
    boolean watched = n % 4 != 3;
    String topic = watched ? TOPIC_PREFIX + (watchedSeq++ % TOPICS) : TOPIC_PREFIX + "x" + (n / 4 % OTHER_TOPICS);
    Future<?> step;
    if (n % 16 == 15) {
      step = read(TOPIC_PREFIX + (n / 16 % TOPICS));
    } else if (n % 64 == 62 && gatewayPort >= 0) {
      step = churn(n);
    } else if (publishPort != null && n % 8 != 7) {
      step = httpPublish(topic, n);
    } else {
      step = busPublish(topic, n);
    }
    if (!watched) {
      step = step.andThen(ar -> {
        if (ar.succeeded()) {
          unwatched.incrementAndGet();
        }
      });
    }
    step.onComplete(ar -> {
      if (ar.failed() && failures.getAndIncrement() == 0) {
        LOG.info("warm-up: a request failed (more are counted, not logged): {}", ar.cause().toString());
      }
      next(loop);
    });
  }

  /**
   * About 200 bytes, the size of a typical targeted notification, in the shapes publishers send:
   * with and without {@code type}, the data an object (numbers, strings, an array, a decimal) or
   * a string, some with an {@code id}. A branch the warm-up never takes is compiled as never
   * taken, and the first real publish that takes it deoptimizes the method (JFR's
   * {@code jdk.Deoptimization}, BENCHMARKS.md run 34).
   */
  static String body(String topic, long n) {
    String order = "{\"id\":" + n + ",\"title\":\"Your order has shipped\",\"body\":\"Parcel 1Z999AA10123456784 left the warehouse\","
      + "\"url\":\"/orders/" + n + "\",\"unread\":3}";
    return switch ((int) (n % 4)) {
      case 0 -> "{\"topic\":\"" + topic + "\",\"type\":\"notification\",\"data\":" + order + "}";
      case 1 -> "{\"topic\":\"" + topic + "\",\"data\":{\"n\":" + n + ",\"t\":" + (1_700_000_000_000_000L + n)
        + ",\"progress\":0." + (n % 100) + ",\"tags\":[\"render\",\"video\"],\"done\":false,\"p\":\"" + "x".repeat(64) + "\"}}";
      case 2 -> "{\"topic\":\"" + topic + "\",\"type\":\"ticket.updated\",\"data\":\"Ticket #" + n
        + " was assigned to you by the support team; open it to reply.\"}";
      default -> "{\"id\":\"w-" + n + "\",\"topic\":\"" + topic + "\",\"data\":" + order + "}";
    };
  }

  /** One in 32 HTTP publishes is a batch of two events on the topic (producers batch too: the load tool does). */
  private Future<?> httpPublish(String topic, long n) {
    boolean batch = n % 32 == 5;
    String body = batch ? "{\"events\":[" + body(topic, n) + "," + body(topic, n + 1) + "]}" : body(topic, n);
    return (n % 2 == 0 ? pipelined : client)
      .request(new RequestOptions().setMethod(HttpMethod.POST).setPort(publishPort).setURI(batch ? "/publish/batch" : "/publish"))
      .compose(req -> req.putHeader("Content-Type", "application/json").putHeader("Authorization", "Bearer " + key)
        .send(Buffer.buffer(body)))
      .compose(resp -> resp.body().map(b -> check(resp, b)))
      .onSuccess(b -> {
        httpPublishes.incrementAndGet();
        remember(topic, b);
      });
  }

  private Buffer check(HttpClientResponse resp, Buffer b) {
    if (resp.statusCode() != 200) {
      throw new IllegalStateException("publish answered " + resp.statusCode() + ": " + b);
    }
    return b;
  }

  private void remember(String topic, Object reply) {
    JsonObject o = reply instanceof Buffer b ? new JsonObject(b) : (JsonObject) reply;
    JsonArray results = o.getJsonArray("results");
    JsonArray events = results != null && !results.isEmpty() ? results.getJsonObject(0).getJsonArray("events") : o.getJsonArray("events");
    if (events != null && !events.isEmpty()) {
      epochs.put(topic, events.getJsonObject(0).getString("epoch"));
    }
  }

  private Future<?> busPublish(String topic, long n) {
    JsonObject body = new JsonObject(body(topic, n));
    if (publishPort != null) {
      return copy.eventBus().<JsonObject>request(Addresses.PUBLISH, body).onSuccess(m -> {
        busPublishes.incrementAndGet();
        remember(topic, m.body());
      });
    }
    Object data = body.getValue("data");
    JsonObject draft = new JsonObject().put("topic", topic).put("type", body.getString("type", "notification"))
      .put("data", data instanceof JsonObject o ? o.encode() : String.valueOf(data)).put("json", data instanceof JsonObject);
    return copy.eventBus().<JsonObject>request(Addresses.REPLAY_APPEND,
        new JsonObject().put("events", new JsonArray().add(EventDraft.fromJson(draft).toJson())))
      .onSuccess(m -> {
        busPublishes.incrementAndGet();
        remember(topic, m.body());
      });
  }

  /**
   * A short-lived SSE connection: every other one on two topics, one of them new (the connect,
   * subscribe, head and close paths that every client's arrival runs), the others resuming one
   * subscribed topic with {@code Last-Event-ID} from a few events back ({@link #resume}).
   */
  private Future<?> churn(long n) {
    if (n / 64 % 2 == 1) {
      int s = (int) (n / 128 % Math.max(1, recentIds.size()));
      ArrayDeque<String> ids = recentIds.get(s);
      if (ids != null && !ids.isEmpty()) {
        return resume(TOPIC_PREFIX + s, ids.peekFirst());
      }
    }
    String uri = "/events?topic=" + TOPIC_PREFIX + (n % TOPICS) + "&topic=" + TOPIC_PREFIX + "c" + (n / 64 % OTHER_TOPICS);
    return client.request(new RequestOptions().setMethod(HttpMethod.GET).setPort(gatewayPort).setURI(uri))
      .compose(req -> req.putHeader("Accept", "text/event-stream").send())
      .compose(resp -> {
        if (resp.statusCode() != 200) {
          return Future.failedFuture("SSE subscribe answered " + resp.statusCode());
        }
        Promise<Void> first = Promise.promise();
        resp.handler(b -> first.tryComplete());
        resp.exceptionHandler(first::tryFail);
        return first.future().andThen(ar -> resp.request().connection().close());
      })
      .onSuccess(v -> connections.incrementAndGet());
  }

  /**
   * A client coming back: a stream on {@code topic} with {@code Last-Event-ID: lastId}, held
   * until its {@code herald.ready} (after the missed events are replayed from the store), then
   * closed. What a gateway does for each client of a wave of reconnects, after another gateway
   * died: head read, store read, replay, live.
   */
  private Future<?> resume(String topic, String lastId) {
    return client.request(new RequestOptions().setMethod(HttpMethod.GET).setPort(gatewayPort).setURI("/events?topic=" + topic))
      .compose(req -> req.putHeader("Accept", "text/event-stream").putHeader("Last-Event-ID", lastId).send())
      .compose(resp -> {
        if (resp.statusCode() != 200) {
          return Future.failedFuture("SSE resume answered " + resp.statusCode());
        }
        Promise<Void> ready = Promise.promise();
        long timer = copy.setTimer(RESUME_WAIT_MILLIS, t -> ready.tryComplete());
        resp.handler(b -> {
          String text = b.toString(java.nio.charset.StandardCharsets.UTF_8);
          int end = text.indexOf("event: herald.ready");
          if (!ready.future().isComplete()) {
            // The frames before herald.ready are the replayed events.
            for (int i = text.indexOf("\ndata: "); i >= 0 && (end < 0 || i < end); i = text.indexOf("\ndata: ", i + 1)) {
              replayed.incrementAndGet();
            }
          }
          if (end >= 0) {
            ready.tryComplete();
          }
        });
        resp.exceptionHandler(ready::tryFail);
        return ready.future().andThen(ar -> {
          copy.cancelTimer(timer);
          resp.request().connection().close();
        });
      })
      .onSuccess(v -> {
        connections.incrementAndGet();
        resumes.incrementAndGet();
      });
  }

  /** Keeps the last {@link #RECENT} {@code id:} values of the frames in {@code chunk}. */
  private static void rememberIds(Buffer chunk, ArrayDeque<String> ids) {
    String text = chunk.toString(java.nio.charset.StandardCharsets.UTF_8);
    int i = text.startsWith("id: ") ? 0 : text.indexOf("\nid: ");
    while (i >= 0) {
      int start = text.charAt(i) == '\n' ? i + 5 : i + 4;
      int end = text.indexOf('\n', start);
      if (end < 0) {
        return; // cut across chunks: the next frame will do
      }
      if (ids.size() == RECENT) {
        ids.removeFirst();
      }
      ids.addLast(text.substring(start, end));
      i = text.indexOf("\nid: ", end);
    }
  }

  private Future<?> read(String topic) {
    String epoch = epochs.get(topic);
    if (epoch == null) {
      return Future.succeededFuture();
    }
    return copy.eventBus().request(Addresses.REPLAY_READ,
        new JsonObject().put("topic", topic).put("epoch", epoch).put("after", 0).put("limit", 20))
      .onSuccess(m -> replayReads.incrementAndGet());
  }

  /** Closes the subscribers, then the whole private copy. */
  private Future<Void> close() {
    stopping = true;
    for (HttpClientResponse s : streams) {
      s.request().connection().close();
    }
    Future<Void> c = Future.all(client == null ? Future.succeededFuture() : client.close(),
      pipelined == null ? Future.succeededFuture() : pipelined.close()).mapEmpty();
    return c.transform(ar -> Future.join(copy.close(), peer == null ? Future.succeededFuture() : peer.close()).<Void>mapEmpty()).andThen(ar -> {
      BackendRegistries.stop(registryName);
      BackendRegistries.stop(peerRegistryName);
      HeraldMetrics.unmute(copy);
      if (peer != null) {
        HeraldMetrics.unmute(peer);
      }
      unmuteLog.run();
    });
  }
}
