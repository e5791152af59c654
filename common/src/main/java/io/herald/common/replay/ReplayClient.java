package io.herald.common.replay;

import io.herald.common.Addresses;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.tracing.TraceContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
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
 */
public final class ReplayClient {

  private final EventBus bus;
  private final DeliveryOptions options;
  private final long timeoutMillis;

  public ReplayClient(Vertx vertx, long timeoutMillis) {
    this.bus = vertx.eventBus();
    this.timeoutMillis = timeoutMillis;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMillis);
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
    JsonArray arr = new JsonArray();
    for (EventDraft d : drafts) {
      arr.add(d.toJson());
    }
    DeliveryOptions delivery = options;
    if (trace != null) {
      delivery = new DeliveryOptions().setSendTimeout(timeoutMillis).addHeader(TraceContext.TRACEPARENT, trace.traceparent());
      if (trace.tracestate() != null) {
        delivery.addHeader(TraceContext.TRACESTATE, trace.tracestate());
      }
    }
    return bus.<JsonObject>request(Addresses.REPLAY_APPEND, new JsonObject().put("events", arr), delivery)
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

  public Future<ReadResult> read(String topic, Position after, int limit) {
    JsonObject req = new JsonObject().put("topic", topic).put("epoch", after.epoch()).put("after", after.seq())
      .put("limit", limit);
    return bus.<JsonObject>request(Addresses.REPLAY_READ, req, options)
      .recover(t -> Future.failedFuture(HeraldException.from(t)))
      .map(msg -> ReadResult.fromJson(msg.body()));
  }

  /** Where the store's log stands ({@link Addresses#REPLAY_LOG_HEAD}). */
  public Future<Position> logHead() {
    return bus.<JsonObject>request(Addresses.REPLAY_LOG_HEAD, new JsonObject(), options)
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
    return bus.<JsonObject>request(Addresses.REPLAY_LOG_READ, req, options)
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
    return bus.<JsonObject>request(Addresses.REPLAY_LOG_READ, req, options)
      .recover(t -> Future.failedFuture(HeraldException.from(t)))
      .map(msg -> LogReadResult.fromJson(msg.body()));
  }

  /** The retained events whose key is {@code key}, in log order ({@link Addresses#REPLAY_KEY}). */
  public Future<List<Event>> findKey(String key) {
    return bus.<JsonObject>request(Addresses.REPLAY_KEY, new JsonObject().put("key", key), options)
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
    return bus.<JsonObject>request(Addresses.REPLAY_HEAD, req, options)
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
}
