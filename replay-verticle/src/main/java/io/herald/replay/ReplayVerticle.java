package io.herald.replay;

import io.herald.common.Addresses;
import io.herald.common.pattern.PatternRoutes;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.LocalRoles;
import io.herald.common.Position;
import io.herald.common.Topics;
import io.herald.common.admin.Health;
import io.herald.common.replay.LocalAppend;
import io.herald.common.replay.ReplayStore;
import io.herald.common.tracing.TraceContext;
import io.herald.common.tracing.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.ext.healthchecks.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Serves the replay store on the event bus: {@link Addresses#REPLAY_APPEND},
 * {@link Addresses#REPLAY_READ}, {@link Addresses#REPLAY_HEAD}, {@link Addresses#REPLAY_LOG_HEAD}
 * and {@link Addresses#REPLAY_LOG_READ} (request/reply, JSON), and
 * publishes every newly stored event on {@link Addresses#topic(String)} and on
 * {@link Addresses#EVENTS}, where gateways listen ({@link FanoutRoutes}), per topic in seq
 * order. Idempotent duplicates are answered but not published again. An append request with
 * a {@code traceparent} header is a {@value Tracing#APPEND} span when tracing is on, and its
 * events go out carrying that context ({@link Event#trace()}) either way.
 *
 * <p>Deploy exactly one instance per process ({@link ReplayRole} does): the store it creates
 * is the history, and two would hand out the same positions twice. Malformed requests fail
 * with {@code invalid_request}, store failures with {@code store_unavailable}, both in the
 * reply-failure form of {@link HeraldException#toReplyException()}.
 */
public final class ReplayVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ReplayVerticle.class);

  private final ReplayOptions options;
  private final Function<Vertx, ReplayStore> storeFactory;
  private ReplayStore store;
  private long sweepTimer = -1;
  /** Null when tracing is off. */
  private Tracer tracer;
  /** The pattern subscriptions gateways hold: events matching one are published to its address too. */
  private final PatternRoutes routes = new PatternRoutes();
  private long routesTimer = -1;
  private final FanoutRoutes fanout = new FanoutRoutes();
  /** In a cluster, on a store of this process alone: the look for other replay roles ({@link #LONE_STORE_CHECK_MILLIS}). */
  private long loneTimer = -1;
  /** The other replay nodes already warned about (one line each; as many as the cluster has members). */
  private final Set<String> warnedNodes = new HashSet<>();

  /** How often a clustered replay role on a store of its own looks for other replay roles, ms. */
  static final long LONE_STORE_CHECK_MILLIS = 5000;

  /** A verticle whose store is the backend {@code options.store()} names. */
  public ReplayVerticle(ReplayOptions options) {
    this(options, vertx -> ReplayStoreFactory.create(vertx, options));
  }

  /** A verticle over a store of the caller's making (tests: a failing store). */
  ReplayVerticle(ReplayOptions options, Function<Vertx, ReplayStore> storeFactory) {
    this.options = options;
    this.storeFactory = storeFactory;
  }

  @Override
  public Future<?> start() {
    EventCodec.register(vertx);
    tracer = Tracing.of(vertx).tracer();
    store = storeFactory.apply(vertx);
    Future<Void> ready = store instanceof Initializable initializable ? initializable.init() : Future.succeededFuture();
    return ready.compose(v -> listen()).onFailure(t -> store.close());
  }

  private Future<?> listen() {
    EventBus bus = vertx.eventBus();
    MessageConsumer<Object> append = bus.consumer(Addresses.REPLAY_APPEND, this::onAppend);
    MessageConsumer<Object> read = bus.consumer(Addresses.REPLAY_READ, this::onRead);
    MessageConsumer<Object> head = bus.consumer(Addresses.REPLAY_HEAD, this::onHead);
    MessageConsumer<Object> logHead = bus.consumer(Addresses.REPLAY_LOG_HEAD, this::onLogHead);
    MessageConsumer<Object> logRead = bus.consumer(Addresses.REPLAY_LOG_READ, this::onLogRead);
    MessageConsumer<Object> key = bus.consumer(Addresses.REPLAY_KEY, this::onKey);
    MessageConsumer<JsonObject> patterns = bus.consumer(Addresses.PATTERNS,
      msg -> routes.apply(msg.body(), System.currentTimeMillis()));
    return Future.all(List.of(append.completion(), read.completion(), head.completion(), logHead.completion(),
      logRead.completion(), key.completion(), patterns.completion())).onSuccess(v -> {
      // Gateways that already hold patterns answer with their full sets on PATTERNS.
      bus.publish(Addresses.PATTERNS_SYNC, new JsonObject());
      routesTimer = vertx.setPeriodic(PatternRoutes.REFRESH_MILLIS, id -> routes.expire(System.currentTimeMillis()));
      fanout.start(vertx);
      if (store.shared()) {
        // This process's other roles may ask here rather than across the cluster (ReplayClient).
        LocalRoles.sharedReplay(vertx, true);
      } else if (vertx.isClustered()) {
        ClusterManager cm = ((VertxInternal) vertx).clusterManager();
        loneTimer = vertx.setPeriodic(LONE_STORE_CHECK_MILLIS, id -> warnOtherReplays(cm));
      }
      if (store instanceof Sweepable sweepable) {
        long period = Math.min(1000L, options.maxAgeMillis() / 10);
        sweepTimer = vertx.setPeriodic(period, id -> sweepable.sweep());
      }
      Health health = Health.of(vertx);
      health.readiness().register("replay", p -> {
        if (store instanceof GuardedReplayStore guarded) {
          // Not ready while the durable store does not answer: live delivery goes on (see
          // GuardedReplayStore), but resumes get reset, and operators should know.
          guarded.probe().onComplete(ar -> p.tryComplete(ar.succeeded()
            ? Status.OK(guarded.status())
            : Status.KO(guarded.status().put("error", String.valueOf(ar.cause().getMessage())))));
        } else {
          p.complete(Status.OK(new JsonObject().put("store", store.name())));
        }
      });
      health.liveness().register("replay-store", p -> p.complete(Status.OK(storeStatus())));
      LOG.info("replay store {} ready (maxEventsPerTopic={}, maxAgeSeconds={}, maxTopics={}, maxReadLimit={}, byte budget of in-heap stores {})",
        store.name(), options.maxEventsPerTopic(), options.maxAgeSeconds(), options.maxTopics(), options.maxReadLimit(), options.effectiveMaxBytes());
    });
  }

  /**
   * A store of this process's own ({@code memory}) with another replay role in the cluster: the
   * event bus spreads appends and reads over both, each numbering topics in its own history, so
   * resumes answered by the one that did not store the events get {@code reset}. Said once per
   * other node, at WARN, naming the key that fixes it.
   */
  private void warnOtherReplays(ClusterManager cm) {
    Promise<List<RegistrationInfo>> p = Promise.promise();
    cm.getRegistrations(Addresses.REPLAY_APPEND, p);
    p.future().onSuccess(list -> {
      for (RegistrationInfo r : list) {
        if (!r.nodeId().equals(cm.getNodeId()) && warnedNodes.add(r.nodeId())) {
          LOG.warn("another replay role is in the cluster (node {}) while this one keeps its history in {}: appends and reads "
            + "are spread over both, and resumes answered by the one that did not store the events get reset; "
            + "give every replay role a store they share (replay.store = redis, postgres or hazelcast)", r.nodeId(), store.name());
        }
      }
    });
  }

  /** What health shows of the store: its name, and for a guarded store whether it is in an outage. */
  private JsonObject storeStatus() {
    return store instanceof GuardedReplayStore guarded ? guarded.status() : new JsonObject().put("store", store.name()).put("degraded", false);
  }

  @Override
  public Future<?> stop() {
    Health health = Health.of(vertx);
    health.readiness().unregister("replay");
    health.liveness().unregister("replay-store");
    LocalRoles.sharedReplay(vertx, false);
    if (loneTimer != -1) {
      vertx.cancelTimer(loneTimer);
    }
    if (sweepTimer != -1) {
      vertx.cancelTimer(sweepTimer);
    }
    if (routesTimer != -1) {
      vertx.cancelTimer(routesTimer);
    }
    fanout.stop(vertx);
    return store == null ? Future.succeededFuture() : store.close();
  }

  private void onAppend(Message<Object> msg) {
    LocalAppend.Request local = msg.body() instanceof LocalAppend.Request r ? r : null;
    List<EventDraft> drafts;
    try {
      drafts = ReplayRequests.append(msg.body());
    } catch (HeraldException e) {
      failAppend(msg, local, e);
      return;
    }
    // The publish's trace context, passed on with its events whether or not this process traces.
    TraceContext trace = local != null && local.trace() != null ? local.trace()
      : msg.headers().isEmpty() ? null
      : TraceContext.of(msg.headers().get(TraceContext.TRACEPARENT), msg.headers().get(TraceContext.TRACESTATE));
    Span span = trace == null || tracer == null ? null
      : tracer.spanBuilder(Tracing.APPEND).setSpanKind(SpanKind.SERVER).setParent(Tracing.parent(trace))
        .setAttribute(Tracing.TOPIC, drafts.get(0).topic()).startSpan();
    Future<AppendResult> result;
    if (store instanceof ReportingReplayStore reporting) {
      result = call(() -> reporting.appendReporting(drafts));
    } else {
      // Without the capability every distinct returned event is published; gateways drop a
      // seq they already delivered.
      result = call(() -> store.append(drafts)).map(events -> new AppendResult(events, distinct(events)));
    }
    result.onComplete(ar -> {
      if (span != null) {
        endAppend(span, ar);
      }
      if (ar.failed()) {
        failAppend(msg, local, storeFailed("append of " + drafts.size() + " event(s) to " + drafts.get(0).topic() + "...", ar.cause()));
        return;
      }
      EventBus bus = vertx.eventBus();
      for (Event e : ar.result().stored()) {
        Event out = trace == null ? e : e.withTrace(trace);
        if (fanout.perTopic()) {
          bus.publish(Addresses.topic(e.topic()), out);
        }
        if (fanout.perNode()) {
          bus.publish(Addresses.EVENTS, out);
        }
        routes.forEachKey(e.topic(), key -> bus.publish(Addresses.pattern(key), out));
      }
      if (local != null) {
        local.succeed(msg, ar.result().events());
        return;
      }
      JsonArray out = new JsonArray();
      for (Event e : ar.result().events()) {
        out.add(e.toJson());
      }
      msg.reply(new JsonObject().put("events", out));
    });
  }

  private void endAppend(Span span, io.vertx.core.AsyncResult<AppendResult> ar) {
    if (ar.succeeded()) {
      List<Event> events = ar.result().events();
      if (!events.isEmpty()) {
        span.setAttribute(Tracing.SEQ, events.get(0).seq());
      }
      span.setAttribute(Tracing.EVENTS, (long) ar.result().stored().size());
    } else {
      span.setAttribute(Tracing.ERROR, HeraldException.from(ar.cause()).code().code());
      span.setStatus(StatusCode.ERROR, String.valueOf(ar.cause().getMessage()));
    }
    span.end();
  }

  private void onRead(Message<Object> msg) {
    ReplayRequests.Read req;
    try {
      req = ReplayRequests.read(msg.body(), options.maxReadLimit());
    } catch (HeraldException e) {
      fail(msg, e);
      return;
    }
    call(() -> store.read(req.topic(), req.after(), req.limit())).onComplete(ar -> {
      if (ar.failed()) {
        storeFailed(msg, "read of " + req.topic(), ar.cause());
      } else {
        msg.reply(ar.result().toJson());
      }
    });
  }

  private void onHead(Message<Object> msg) {
    List<String> topics;
    try {
      topics = ReplayRequests.heads(msg.body());
    } catch (HeraldException e) {
      fail(msg, e);
      return;
    }
    call(() -> store.heads(topics)).onComplete(ar -> {
      if (ar.failed()) {
        storeFailed(msg, "head of " + topics.size() + " topic(s)", ar.cause());
        return;
      }
      JsonObject out = new JsonObject();
      ar.result().forEach((topic, p) -> out.put(topic, new JsonObject().put("epoch", p.epoch()).put("seq", p.seq())));
      msg.reply(new JsonObject().put("heads", out));
    });
  }

  private void onLogHead(Message<Object> msg) {
    if (msg.body() != null && !(msg.body() instanceof JsonObject)) {
      fail(msg, new HeraldException(ErrorCode.INVALID_REQUEST, "request body must be a JSON object"));
      return;
    }
    call(store::logHead).onComplete(ar -> {
      if (ar.failed()) {
        storeFailed(msg, "log head", ar.cause());
      } else {
        Position p = ar.result();
        msg.reply(new JsonObject().put("head", new JsonObject().put("epoch", p.epoch()).put("seq", p.seq())));
      }
    });
  }

  private void onLogRead(Message<Object> msg) {
    ReplayRequests.LogRead req;
    try {
      req = ReplayRequests.logRead(msg.body(), options.maxReadLimit());
    } catch (HeraldException e) {
      fail(msg, e);
      return;
    }
    call(() -> store.readLog(req.after(), req.filter(), req.limit())).onComplete(ar -> {
      if (ar.failed()) {
        storeFailed(msg, "log read of " + req.filters().size() + " filter(s)", ar.cause());
      } else {
        msg.reply(ar.result().toJson());
      }
    });
  }

  private void onKey(Message<Object> msg) {
    if (!(msg.body() instanceof JsonObject o) || !(o.getValue("key") instanceof String key) || !Topics.isValidKey(key)) {
      fail(msg, new HeraldException(ErrorCode.INVALID_REQUEST, "request body must be {\"key\": <an event id>}"));
      return;
    }
    call(() -> store.findKey(key)).onComplete(ar -> {
      if (ar.failed()) {
        storeFailed(msg, "key lookup", ar.cause());
      } else {
        io.vertx.core.json.JsonArray events = new io.vertx.core.json.JsonArray();
        ar.result().forEach(e -> events.add(e.toJson()));
        msg.reply(new JsonObject().put("events", events));
      }
    });
  }

  /** A store call whose synchronous throw becomes a failed future. */
  private static <T> Future<T> call(Supplier<Future<T>> op) {
    try {
      return op.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private void storeFailed(Message<Object> msg, String what, Throwable cause) {
    fail(msg, storeFailed(what, cause));
  }

  /** A store's failure as the client gets it, logged. */
  private HeraldException storeFailed(String what, Throwable cause) {
    HeraldException e = cause instanceof HeraldException h
      ? h
      : new HeraldException(ErrorCode.STORE_UNAVAILABLE, "replay store " + store.name() + " failed: " + cause.getMessage());
    LOG.warn("replay {} failed in store {}: {}", what, store.name(), cause.toString());
    return e;
  }

  /** Fails an append in the form it was asked in: its carried answer, or the message. */
  private static void failAppend(Message<Object> msg, LocalAppend.Request local, HeraldException e) {
    if (local != null) {
      local.fail(msg, e);
    } else {
      fail(msg, e);
    }
  }

  private static void fail(Message<Object> msg, HeraldException e) {
    msg.fail(e.code().status(), e.toJson().encode());
  }

  private static List<Event> distinct(List<Event> events) {
    List<Event> out = new ArrayList<>(events.size());
    Set<String> seen = new HashSet<>();
    for (Event e : events) {
      if (seen.add(e.topic() + ' ' + e.epoch() + ' ' + e.seq())) {
        out.add(e);
      }
    }
    return out;
  }
}
