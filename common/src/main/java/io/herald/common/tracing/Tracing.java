package io.herald.common.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The OpenTelemetry tracer of one Herald process (one per {@link Vertx}), or {@link #OFF}.
 *
 * <p>Three spans per event, whatever the roles' placement in processes:
 * <ul>
 *   <li>{@value #PUBLISH} in the notifier, a child of the producer's {@code traceparent} when it
 *   sent one (a valid one: an invalid one is ignored and the publish starts a new trace);</li>
 *   <li>{@value #APPEND} in the replay role, a child of the publish;</li>
 *   <li>{@value #FAN_OUT} in every gateway instance that holds the topic, once per event (not
 *   per connection), a child of the publish, with the connections it delivered to.</li>
 * </ul>
 * The publish's context travels as W3C {@code traceparent}/{@code tracestate} text
 * ({@link TraceContext}): in the headers of the append request and inside the event on its
 * topic address ({@link io.herald.common.EventCodec}). Events read back from the store carry
 * none, so replays and gap fills make no spans.
 *
 * <p>Off (no endpoint): {@link #tracer()} is null and callers do nothing else; no SDK object is
 * created. Thread-safe.
 */
public final class Tracing {

  private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);

  /** Name of the notifier's span of one publish. */
  public static final String PUBLISH = "herald publish";
  /** Name of the replay role's span of one append. */
  public static final String APPEND = "herald append";
  /** Name of a gateway instance's span of delivering one event to its connections. */
  public static final String FAN_OUT = "herald fan-out";

  /** The topic (of the first event, for a publish of several). */
  public static final AttributeKey<String> TOPIC = AttributeKey.stringKey("herald.topic");
  /** The seq the store gave the event (the first one, for a publish of several). */
  public static final AttributeKey<Long> SEQ = AttributeKey.longKey("herald.seq");
  /** How many events a publish or append stored. */
  public static final AttributeKey<Long> EVENTS = AttributeKey.longKey("herald.events");
  /** How many connections a fan-out delivered to. */
  public static final AttributeKey<Long> CONNECTIONS = AttributeKey.longKey("herald.connections");
  /** Where a publish came from: http, webhook, eventbus, tcp-bridge, redis-pubsub, redis-streams, postgres. */
  public static final AttributeKey<String> SOURCE = AttributeKey.stringKey("herald.source");
  /** The error code of a publish or append that failed. */
  public static final AttributeKey<String> ERROR = AttributeKey.stringKey("herald.error");

  /** Tracing off: no tracer. */
  public static final Tracing OFF = new Tracing(null, null);

  private static final Map<Vertx, Tracing> ALL = new WeakHashMap<>();

  private static final TextMapGetter<TraceContext> GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(TraceContext carrier) {
      return List.of(TraceContext.TRACEPARENT, TraceContext.TRACESTATE);
    }

    @Override
    public String get(TraceContext carrier, String key) {
      if (carrier == null) {
        return null;
      }
      return TraceContext.TRACEPARENT.equals(key) ? carrier.traceparent()
        : TraceContext.TRACESTATE.equals(key) ? carrier.tracestate() : null;
    }
  };

  private final Tracer tracer;
  private final SdkTracerProvider provider;

  private Tracing(Tracer tracer, SdkTracerProvider provider) {
    this.tracer = tracer;
    this.provider = provider;
  }

  /** The tracing of this Vert.x instance: {@link #OFF} unless {@link #start} or {@link #install} set one. */
  public static Tracing of(Vertx vertx) {
    synchronized (ALL) {
      return ALL.getOrDefault(vertx, OFF);
    }
  }

  /**
   * Starts tracing for this process as {@code options} say, exporting over OTLP/HTTP in batches,
   * and makes it {@link #of(Vertx)}; {@link #OFF} (nothing created) when no endpoint is set.
   *
   * @param roles the roles this process runs, the {@code herald.roles} resource attribute
   */
  public static Tracing start(Vertx vertx, TracingOptions options, String roles) {
    if (!options.enabled()) {
      return OFF;
    }
    String endpoint = options.otlpEndpoint().replaceAll("/+$", "") + "/v1/traces";
    OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder().setEndpoint(endpoint).build();
    BatchSpanProcessor batches = BatchSpanProcessor.builder(exporter)
      .setScheduleDelay(Duration.ofMillis(scheduleDelayMillis(System.getenv("OTEL_BSP_SCHEDULE_DELAY"))))
      .build();
    SdkTracerProvider provider = SdkTracerProvider.builder()
      .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
        AttributeKey.stringKey("service.name"), options.serviceName(),
        AttributeKey.stringKey("herald.roles"), roles))))
      .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(options.sampleRatio())))
      .addSpanProcessor(batches)
      .build();
    LOG.info("tracing on: spans to {} as service {} (sample ratio {})", endpoint, options.serviceName(), options.sampleRatio());
    return install(vertx, provider);
  }

  /** Tracing through {@code provider} (tests: an exporter of their own) for this Vert.x instance. */
  public static Tracing install(Vertx vertx, SdkTracerProvider provider) {
    Tracing t = new Tracing(provider.get("io.herald"), provider);
    synchronized (ALL) {
      ALL.put(vertx, t);
    }
    return t;
  }

  static long scheduleDelayMillis(String env) {
    if (env != null) {
      try {
        long ms = Long.parseLong(env.trim());
        if (ms > 0) {
          return ms;
        }
      } catch (NumberFormatException ignored) {
        // the SDK's default, as its own autoconfiguration would
      }
    }
    return 5000;
  }

  /** The tracer, or null when tracing is off: the one check on every hot path. */
  public Tracer tracer() {
    return tracer;
  }

  public boolean enabled() {
    return tracer != null;
  }

  /**
   * The context of {@code trace} to start a span under: the remote parent it names, or the root
   * context when it is null or not a valid {@code traceparent} (the publish then starts a trace).
   */
  public static Context parent(TraceContext trace) {
    if (trace == null) {
      return Context.root();
    }
    return W3CTraceContextPropagator.getInstance().extract(Context.root(), trace, GETTER);
  }

  /** A span under {@code trace} (see {@link #parent}); null when tracing is off. */
  public Span start(String name, SpanKind kind, TraceContext trace) {
    if (tracer == null) {
      return null;
    }
    return tracer.spanBuilder(name).setSpanKind(kind).setParent(parent(trace)).startSpan();
  }

  /** The W3C context that makes {@code span} the parent of what follows. */
  public static TraceContext context(Span span) {
    String[] out = new String[2];
    W3CTraceContextPropagator.getInstance().inject(Context.root().with(span), out, (carrier, key, value) -> {
      if (TraceContext.TRACEPARENT.equals(key)) {
        carrier[0] = value;
      } else if (TraceContext.TRACESTATE.equals(key)) {
        carrier[1] = value;
      }
    });
    return out[0] == null ? null : new TraceContext(out[0], out[1]);
  }

  /**
   * Exports the spans still waiting and stops, without blocking the caller; the future completes
   * when the exporter is done (or gave up). Safe to call on {@link #OFF}, and after
   * {@code vertx} is closed.
   */
  public Future<Void> close(Vertx vertx) {
    synchronized (ALL) {
      ALL.remove(vertx, this);
    }
    if (provider == null) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    provider.shutdown().whenComplete(() -> done.tryComplete());
    return done.future();
  }
}
