package io.herald.bench.jmh;

import io.herald.common.Addresses;
import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.replay.ReplayClient;
import io.herald.common.tracing.TraceContext;
import io.herald.common.tracing.Tracing;
import io.herald.notifier.NotifierOptions;
import io.herald.notifier.PublishParser;
import io.herald.notifier.Publisher;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The publish path in one JVM, as the notifier runs it: a body parsed, appended over the event
 * bus to the replay verticle (memory store), the stored event published on its topic address
 * and taken by a consumer standing for a gateway, which does what {@code TopicChannel} does for
 * tracing (one fan-out span per event when on, a null check when off). One operation is one
 * publish, waited for until the consumer has the event. {@code off}: tracing code, no endpoint;
 * {@code on}: the SDK with its batch processor and an exporter that drops the batches (the
 * cost in the process, not the network's), the producer sending a {@code traceparent}.
 * Compare with the same benchmark at the commit before tracing (BENCHMARKS.md, run 20).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TracingBench {

  @Param({"off", "on"})
  public String tracing;

  private Vertx vertx;
  private Publisher publisher;
  private TraceContext producer;
  private final AtomicReference<CompletableFuture<Event>> waiting = new AtomicReference<>();

  @Setup
  public void setup() throws Exception {
    vertx = Vertx.vertx();
    EventCodec.register(vertx);
    if (tracing.equals("on")) {
      SpanExporter drop = new SpanExporter() {
        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
          return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
          return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
          return CompletableResultCode.ofSuccess();
        }
      };
      Tracing.install(vertx, SdkTracerProvider.builder().addSpanProcessor(BatchSpanProcessor.builder(drop).build()).build());
      producer = new TraceContext("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", null);
    }
    vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Tracer tracer = Tracing.of(vertx).tracer();
    vertx.eventBus().<Event>consumer(Addresses.topic("bench"), m -> {
      Event e = m.body();
      Span span = tracer == null || e.trace() == null ? null
        : tracer.spanBuilder(Tracing.FAN_OUT).setSpanKind(SpanKind.CONSUMER).setParent(Tracing.parent(e.trace()))
          .setAttribute(Tracing.TOPIC, e.topic()).setAttribute(Tracing.SEQ, e.seq()).startSpan();
      if (span != null) {
        span.setAttribute(Tracing.CONNECTIONS, 1L);
        span.end();
      }
      CompletableFuture<Event> w = waiting.getAndSet(null);
      if (w != null) {
        w.complete(e);
      }
    }).completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    publisher = new Publisher(new PublishParser(new NotifierOptions(new JsonObject())), new ReplayClient(vertx, 5000),
      () -> false, Tracing.of(vertx));
  }

  @TearDown
  public void tearDown() throws Exception {
    Tracing.of(vertx).close(vertx);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private final Event stored = new Event("bench", "e1", 7, "order.paid", "{\"id\":42}", true, null, 0L);

  /**
   * Only the tracing work of one event, in one thread, without the event bus: what the notifier,
   * the replay role and one gateway add per event (three spans started and ended, the context
   * written out and read back twice, the event copied with its context). Off, each step is the
   * null check the real code does.
   */
  @Benchmark
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public Object tracingWork() {
    Tracer tracer = Tracing.of(vertx).tracer();
    if (tracer == null) {
      return stored;
    }
    Span publish = tracer.spanBuilder(Tracing.PUBLISH).setSpanKind(SpanKind.SERVER).setParent(Tracing.parent(producer))
      .setAttribute(Tracing.SOURCE, "http").startSpan();
    TraceContext context = Tracing.context(publish);
    Span append = tracer.spanBuilder(Tracing.APPEND).setSpanKind(SpanKind.SERVER).setParent(Tracing.parent(context))
      .setAttribute(Tracing.TOPIC, "bench").startSpan();
    append.setAttribute(Tracing.SEQ, 7L);
    append.end();
    Event traced = stored.withTrace(context);
    Span fanOut = tracer.spanBuilder(Tracing.FAN_OUT).setSpanKind(SpanKind.CONSUMER).setParent(Tracing.parent(traced.trace()))
      .setAttribute(Tracing.TOPIC, "bench").setAttribute(Tracing.SEQ, 7L).startSpan();
    fanOut.setAttribute(Tracing.CONNECTIONS, 1L);
    fanOut.end();
    publish.setAttribute(Tracing.TOPIC, "bench");
    publish.setAttribute(Tracing.SEQ, 7L);
    publish.end();
    return traced;
  }

  @Benchmark
  public Event publish() throws Exception {
    CompletableFuture<Event> delivered = new CompletableFuture<>();
    waiting.set(delivered);
    JsonObject body = new JsonObject().put("topic", "bench").put("type", "order.paid")
      .put("data", new JsonObject().put("id", 42).put("status", "paid"));
    publisher.publish(body, "http", null, producer).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    return delivered.get(5, TimeUnit.SECONDS);
  }
}
