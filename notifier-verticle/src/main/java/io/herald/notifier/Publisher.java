package io.herald.notifier;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.ReplayClient;
import io.herald.common.tracing.TraceContext;
import io.herald.common.tracing.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Validates a publish body and stores it through the replay role; the same for HTTP and the
 * event bus. Answers {@code {"events": [{"topic","seq","epoch","id"}]}} for a single publish and
 * {@code {"results": [{"events": [...]}, ...]}} for a batch, where {@code id} is the event's
 * resume cursor. A batch is stored with one append, in order. While the process is under heap
 * pressure ({@link io.herald.common.admin.HeapPressure}) every publish fails with
 * {@code over_capacity}, whatever its source, before anything is parsed or stored.
 */
public final class Publisher {

  private final PublishParser parser;
  private final ReplayClient replay;
  private final BooleanSupplier overloaded;
  private final Tracer tracer;

  public Publisher(PublishParser parser, ReplayClient replay) {
    this(parser, replay, () -> false);
  }

  /** A publisher that refuses every publish while {@code overloaded} says so. */
  public Publisher(PublishParser parser, ReplayClient replay, BooleanSupplier overloaded) {
    this(parser, replay, overloaded, Tracing.OFF);
  }

  /** A publisher that also records a {@value Tracing#PUBLISH} span per publish when {@code tracing} is on. */
  public Publisher(PublishParser parser, ReplayClient replay, BooleanSupplier overloaded, Tracing tracing) {
    this.parser = parser;
    this.replay = replay;
    this.overloaded = overloaded;
    this.tracer = tracing.tracer();
  }

  /** Whether publishes are traced: callers read a producer's trace context only then. */
  public boolean tracing() {
    return tracer != null;
  }

  /** Publishes a single or a batch body; the future fails with a {@link HeraldException}. */
  public Future<JsonObject> publish(JsonObject body) {
    return publish(body, "other");
  }

  /**
   * Publishes a single or a batch body coming from {@code source} ({@code http},
   * {@code eventbus}, {@code redis-pubsub}, ...: the label of {@code herald_events_published_total}).
   * Only {@code eventbus} (code inside the cluster: the Mercure hub's subscription events) may
   * publish to the hub's namespace ({@link io.herald.common.Topics#isHubTopic}); from any other
   * source such a topic fails the whole publish with {@code access_denied}.
   */
  public Future<JsonObject> publish(JsonObject body, String source) {
    return publish(body, source, null);
  }

  /**
   * Like {@link #publish(JsonObject, String)}, for an authenticated publisher: when
   * {@code grant} is not null, every topic of the body must be inside it, else nothing is
   * stored and the future fails with {@code access_denied} naming the topic.
   */
  public Future<JsonObject> publish(JsonObject body, String source, PublisherAuth.Grant grant) {
    return publish(body, source, grant, null);
  }

  /**
   * Like {@link #publish(JsonObject, String, PublisherAuth.Grant)}, for a producer that sent a W3C
   * trace context ({@code trace}, may be null). With tracing on, the publish is a
   * {@value Tracing#PUBLISH} span, a child of {@code trace} when it is a valid
   * {@code traceparent} (else the start of a trace: an invalid one never fails the publish),
   * and its context goes with the append to the replay role and on to the gateways. With
   * tracing off, {@code trace} is ignored.
   */
  public Future<JsonObject> publish(JsonObject body, String source, PublisherAuth.Grant grant, TraceContext trace) {
    if (tracer == null) {
      return publish(body, source, grant, null, null);
    }
    Span span = tracer.spanBuilder(Tracing.PUBLISH)
      .setSpanKind("http".equals(source) || "webhook".equals(source) ? SpanKind.SERVER : SpanKind.CONSUMER)
      .setParent(Tracing.parent(trace))
      .setAttribute(Tracing.SOURCE, source)
      .startSpan();
    return publish(body, source, grant, span, Tracing.context(span)).andThen(ar -> {
      if (ar.failed()) {
        HeraldException e = HeraldException.from(ar.cause());
        span.setAttribute(Tracing.ERROR, e.code().code());
        span.setStatus(StatusCode.ERROR, e.getMessage());
      }
      span.end();
    });
  }

  /**
   * A publish from an ingest (Redis pub/sub, Redis streams, PostgreSQL outbox), whose messages
   * carry their trace context as fields {@code traceparent} and {@code tracestate} of the body
   * (of a batch's events): the fields are taken out, whether tracing is on or not, and the
   * first one found is the parent of the publish.
   */
  public Future<JsonObject> publishCarrying(JsonObject body, String source) {
    TraceContext trace = take(body);
    if (body.getValue("events") instanceof JsonArray events) {
      for (Object e : events) {
        if (e instanceof JsonObject o) {
          TraceContext t = take(o);
          trace = trace != null ? trace : t;
        }
      }
    }
    return publish(body, source, null, trace);
  }

  private static TraceContext take(JsonObject o) {
    if (!o.containsKey(TraceContext.TRACEPARENT) && !o.containsKey(TraceContext.TRACESTATE)) {
      return null;
    }
    return TraceContext.of(o.remove(TraceContext.TRACEPARENT), o.remove(TraceContext.TRACESTATE));
  }

  private Future<JsonObject> publish(JsonObject body, String source, PublisherAuth.Grant grant, Span span, TraceContext context) {
    if (overloaded.getAsBoolean()) {
      return Future.failedFuture(new HeraldException(io.herald.common.ErrorCode.OVER_CAPACITY,
        "the hub is short of memory: retry in " + io.herald.common.admin.HeapPressure.RETRY_AFTER_SECONDS + " s"));
    }
    List<List<EventDraft>> groups;
    boolean batch = PublishParser.isBatch(body);
    List<EventDraft> all = new ArrayList<>();
    try {
      groups = batch ? parser.batch(body) : List.of(parser.single(body));
      for (List<EventDraft> g : groups) {
        all.addAll(g);
      }
      if (grant != null) {
        grant.check(all.stream().map(EventDraft::topic).toList());
      }
      if (!"eventbus".equals(source)) {
        for (EventDraft d : all) {
          if (io.herald.common.Topics.isHubTopic(d.topic())) {
            throw new HeraldException(io.herald.common.ErrorCode.ACCESS_DENIED, "topics under "
              + io.herald.common.Topics.HUB_NAMESPACE + " are the Mercure hub's own: \"" + d.topic() + "\"");
          }
        }
      }
    } catch (HeraldException e) {
      return Future.failedFuture(e);
    }
    return replay.append(all, context).map(stored -> {
      HeraldMetrics.get().published(source, stored.size());
      if (span != null && !stored.isEmpty()) {
        span.setAttribute(Tracing.TOPIC, stored.get(0).topic());
        span.setAttribute(Tracing.SEQ, stored.get(0).seq());
        span.setAttribute(Tracing.EVENTS, (long) stored.size());
      }
      int k = 0;
      JsonArray results = new JsonArray();
      for (List<EventDraft> g : groups) {
        JsonArray events = new JsonArray();
        for (int i = 0; i < g.size(); i++) {
          events.add(summary(stored.get(k++)));
        }
        results.add(new JsonObject().put("events", events));
      }
      return batch ? new JsonObject().put("results", results) : results.getJsonObject(0);
    });
  }

  private static JsonObject summary(Event e) {
    return new JsonObject().put("topic", e.topic()).put("seq", e.seq()).put("epoch", e.epoch()).put("id", e.cursor());
  }
}
