package io.herald.common.replay;

import io.herald.common.Addresses;
import io.herald.common.Deadlines;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.LocalRoles;
import io.herald.common.Position;
import io.herald.common.tracing.TraceContext;
import io.vertx.core.Completable;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageProducer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed client of the replay verticle's event-bus API ({@link Addresses#REPLAY_APPEND},
 * {@link Addresses#REPLAY_READ}, {@link Addresses#REPLAY_HEAD}, {@link Addresses#REPLAY_LOG_HEAD},
 * {@link Addresses#REPLAY_LOG_READ}, {@link Addresses#REPLAY_KEY}). The notifier and the gateways
 * use it; it is the only place that knows the message shapes besides the replay verticle.
 * Failures come back as {@link HeraldException}.
 *
 * <p>The head reads a subscription opens with ({@link #heads}, {@link #logHead}) are retried
 * when the event bus itself failed them: no handler, or no answer in time. That is what a
 * cluster does for a few seconds after a member is killed (its registrations are cleaned up,
 * partitions move, lookups stall), and a client opening a stream then should not be refused
 * for it. Retries are bounded: within twice the timeout from the first attempt, backing off
 * from 100 ms to 1 s. The store's own answers (a {@code store_unavailable} while its breaker is
 * open, a bad request) are never retried: they come from the replay role, which is there.
 *
 * <p>In a cluster, when a replay role of this process serves a store every replay process shares
 * ({@link LocalRoles#sharedReplay(Vertx)}: the all-in-one jar with {@code --cluster} on Redis,
 * PostgreSQL or Hazelcast), requests stay in the process ({@code localOnly}) and appends go as
 * {@link LocalAppend} objects, as in a process of its own: no serialization, no hop to another
 * member, where the event bus would otherwise pick the replay processes in turn.
 */
public final class ReplayClient {

  private static final long FIRST_BACKOFF_MILLIS = 100;
  private static final long MAX_BACKOFF_MILLIS = 1000;

  private final Vertx vertx;
  private final EventBus bus;
  private final DeliveryOptions anywhere;
  private final DeliveryOptions here;
  private final long timeoutMillis;
  /** No other node: appends go as {@link LocalAppend} objects. */
  private final boolean alone;
  /**
   * The context the client was made on (its verticle's, not a duplicate): appends to a replay
   * role of this process asked on it carry their answer ({@link #appendHere}); from anywhere else they are
   * event-bus requests.
   */
  private final ContextInternal owner;
  private final MessageProducer<Object> appendAnywhere;
  private final MessageProducer<Object> appendHere;
  /** The deadlines of the appends asked from {@link #owner} that wait for their answer; confined to it. */
  private final Deadlines<Pending> deadlines;
  private long appends;

  public ReplayClient(Vertx vertx, long timeoutMillis) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.alone = !vertx.isClustered();
    this.timeoutMillis = timeoutMillis;
    this.anywhere = new DeliveryOptions().setSendTimeout(timeoutMillis);
    this.here = new DeliveryOptions().setSendTimeout(timeoutMillis).setLocalOnly(true);
    this.owner = ((ContextInternal) vertx.getOrCreateContext()).unwrap();
    this.appendAnywhere = bus.sender(Addresses.REPLAY_APPEND, anywhere);
    this.appendHere = bus.sender(Addresses.REPLAY_APPEND, here);
    String expired = "no answer from " + Addresses.REPLAY_APPEND + " within " + timeoutMillis + " ms";
    this.deadlines = new Deadlines<>(vertx, timeoutMillis,
      p -> p.answer.tryFail(new HeraldException(ErrorCode.TIMEOUT, expired)));
  }

  /**
   * The delivery options of a request now: kept in the process beside a replay role on a shared
   * store, else to any replay process (alone, that is this one anyway).
   */
  private DeliveryOptions options() {
    return !alone && LocalRoles.sharedReplay(vertx) ? here : anywhere;
  }

  public Future<List<Event>> append(List<EventDraft> drafts) {
    return append(drafts, null);
  }

  /**
   * Appends {@code drafts} in order, as one request. {@code trace}, when not null, goes in the
   * request's {@code traceparent}/{@code tracestate} headers: the replay role makes its append
   * span a child of it and stamps the published events with it ({@link Event#trace()}).
   */
  public Future<List<Event>> append(List<EventDraft> drafts, TraceContext trace) {
    DeliveryOptions delivery = options();
    boolean local = alone || delivery == here;
    if (local && Vertx.currentContext() instanceof ContextInternal current && current.unwrap() == owner) {
      return appendHere(current, drafts, trace, delivery == here ? appendHere : appendAnywhere);
    }
    if (trace != null) {
      delivery = new DeliveryOptions(delivery).addHeader(TraceContext.TRACEPARENT, trace.traceparent());
      if (trace.tracestate() != null) {
        delivery.addHeader(TraceContext.TRACESTATE, trace.tracestate());
      }
    }
    if (local) {
      return bus.<Object>request(Addresses.REPLAY_APPEND, new LocalAppend.Request(drafts), delivery)
        .recover(t -> Future.failedFuture(HeraldException.from(t)))
        .map(msg -> msg.body() instanceof LocalAppend.Reply r ? r.events() : events((JsonObject) msg.body()));
    }
    JsonArray arr = new JsonArray();
    for (EventDraft d : drafts) {
      arr.add(d.toJson());
    }
    return bus.<JsonObject>request(Addresses.REPLAY_APPEND, new JsonObject().put("events", arr), delivery)
      .recover(t -> Future.failedFuture(HeraldException.from(t)))
      .map(msg -> events(msg.body()));
  }

  /**
   * An append to the replay role of this process, from the client's own context: the request
   * carries its answer, which the replay role gives and this context takes, sent with a plain send.
   * The event bus's request would register, time and unregister a reply consumer for each
   * append (with a close hook and a timer each); here the deadline is an entry of
   * {@link #deadlines} and the answer a completed promise. Failures are the same: no replay role
   * listening ({@code store_unavailable}, at once), no answer within the timeout ({@code timeout}),
   * or the replay role's own.
   */
  private Future<List<Event>> appendHere(ContextInternal current, List<EventDraft> drafts, TraceContext trace,
      MessageProducer<Object> sender) {
    // The caller's context (an HTTP request's duplicate of the verticle's): its listeners run there.
    Promise<List<Event>> answer = current.promise();
    Pending pending = new Pending(++appends, answer);
    deadlines.arm(pending);
    Future<List<Event>> out = answer.future();
    out.onComplete(ar -> deadlines.disarm(pending));
    // The replay role answers from its own thread: the answer goes to this context's event loop
    // as a task, as a reply would, so that answers are taken in the order they were given. Were
    // the promise completed from there directly, an answer given before its caller had added its
    // listeners would run them at once, ahead of earlier answers still queued (replies of a
    // pipelining producer would then leave out of order).
    Completable<List<Event>> given = (events, failure) -> current.execute(() -> {
      if (failure == null) {
        answer.tryComplete(events);
      } else {
        answer.tryFail(failure);
      }
    });
    sender.write(new LocalAppend.Request(drafts, trace, given))
      .onFailure(t -> answer.tryFail(HeraldException.from(t)));
    return out;
  }

  /** An append waiting for its answer: hashed by its number, not by identity. */
  private static final class Pending {
    private final long id;
    private final Promise<List<Event>> answer;

    Pending(long id, Promise<List<Event>> answer) {
      this.id = id;
      this.answer = answer;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(id);
    }

    @Override
    public boolean equals(Object o) {
      return o == this;
    }
  }

  /** The events of an append's JSON answer. */
  private static List<Event> events(JsonObject answer) {
    JsonArray out = answer.getJsonArray("events");
    List<Event> events = new ArrayList<>(out.size());
    for (int i = 0; i < out.size(); i++) {
      events.add(Event.fromJson(out.getJsonObject(i)));
    }
    return events;
  }

  public Future<ReadResult> read(String topic, Position after, int limit) {
    JsonObject req = new JsonObject().put("topic", topic).put("epoch", after.epoch()).put("after", after.seq())
      .put("limit", limit);
    return bus.<JsonObject>request(Addresses.REPLAY_READ, req, options())
      .recover(t -> Future.failedFuture(HeraldException.from(t)))
      .map(msg -> ReadResult.fromJson(msg.body()));
  }

  /** Where the store's log stands ({@link Addresses#REPLAY_LOG_HEAD}). */
  public Future<Position> logHead() {
    return retrying(Addresses.REPLAY_LOG_HEAD, new JsonObject())
      .recover(t -> Future.failedFuture(HeraldException.from(t)))
      .map(msg -> {
        JsonObject h = msg.body().getJsonObject("head");
        return new Position(h.getString("epoch"), h.getLong("seq"));
      });
  }

  /**
   * Reads the store's log after {@code after}, keeping the topics that pass one of
   * {@code filters} (syntax of {@link LogFilters#compile}), at most {@code limit} events
   * ({@link Addresses#REPLAY_LOG_READ}). Bad filters fail with {@code invalid_request}.
   */
  public Future<LogReadResult> readLog(Position after, List<String> filters, int limit) {
    JsonObject req = new JsonObject().put("epoch", after.epoch()).put("after", after.seq())
      .put("filters", new JsonArray(new ArrayList<>(filters))).put("limit", limit);
    return bus.<JsonObject>request(Addresses.REPLAY_LOG_READ, req, options())
      .recover(t -> Future.failedFuture(HeraldException.from(t)))
      .map(msg -> LogReadResult.fromJson(msg.body()));
  }

  /** {@link #readLog} for filters given by their {@link io.herald.common.pattern.TopicFilters#key}s. */
  public Future<LogReadResult> readLogKeys(Position after, List<String> keys, int limit) {
    JsonArray filters = new JsonArray();
    for (String k : keys) {
      filters.add(new JsonObject().put("key", k));
    }
    JsonObject req = new JsonObject().put("epoch", after.epoch()).put("after", after.seq())
      .put("filters", filters).put("limit", limit);
    return bus.<JsonObject>request(Addresses.REPLAY_LOG_READ, req, options())
      .recover(t -> Future.failedFuture(HeraldException.from(t)))
      .map(msg -> LogReadResult.fromJson(msg.body()));
  }

  /** The retained events whose key is {@code key}, in log order ({@link Addresses#REPLAY_KEY}). */
  public Future<List<Event>> findKey(String key) {
    return bus.<JsonObject>request(Addresses.REPLAY_KEY, new JsonObject().put("key", key), options())
      .recover(t -> Future.failedFuture(HeraldException.from(t)))
      .map(msg -> {
        JsonArray out = msg.body().getJsonArray("events");
        List<Event> events = new ArrayList<>(out.size());
        for (int i = 0; i < out.size(); i++) {
          events.add(Event.fromJson(out.getJsonObject(i)));
        }
        return events;
      });
  }

  public Future<Map<String, Position>> heads(List<String> topics) {
    JsonObject req = new JsonObject().put("topics", new JsonArray(new ArrayList<>(topics)));
    return retrying(Addresses.REPLAY_HEAD, req)
      .recover(t -> Future.failedFuture(HeraldException.from(t)))
      .map(msg -> {
        JsonObject heads = msg.body().getJsonObject("heads");
        Map<String, Position> out = new HashMap<>();
        for (String topic : heads.fieldNames()) {
          JsonObject h = heads.getJsonObject(topic);
          out.put(topic, new Position(h.getString("epoch"), h.getLong("seq")));
        }
        return out;
      });
  }

  /** A read request, retried as the class comment says. */
  private Future<Message<JsonObject>> retrying(String address, JsonObject req) {
    long deadline = System.nanoTime() + 2 * timeoutMillis * 1_000_000L;
    return attempt(address, req, deadline, FIRST_BACKOFF_MILLIS);
  }

  private Future<Message<JsonObject>> attempt(String address, JsonObject req, long deadline, long backoff) {
    long left = (deadline - System.nanoTime()) / 1_000_000L;
    DeliveryOptions now = options();
    DeliveryOptions delivery = left >= timeoutMillis ? now : new DeliveryOptions(now).setSendTimeout(Math.max(1, left));
    return bus.<JsonObject>request(address, req, delivery).recover(t -> {
      long wait = (deadline - System.nanoTime()) / 1_000_000L - backoff;
      if (!transientBusFailure(t) || wait <= 0) {
        return Future.failedFuture(t);
      }
      return vertx.timer(backoff).compose(v -> attempt(address, req, deadline, Math.min(2 * backoff, MAX_BACKOFF_MILLIS)));
    });
  }

  /** No handler, or no answer in time: the event bus's own failures, not the replay role's. */
  static boolean transientBusFailure(Throwable t) {
    return t instanceof ReplyException r
      && (r.failureType() == ReplyFailure.NO_HANDLERS || r.failureType() == ReplyFailure.TIMEOUT);
  }
}
