package io.herald.notifier;

import io.herald.common.Addresses;
import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.tracing.TraceContext;
import io.herald.common.tracing.Tracing;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A producer's W3C trace context, from each way of publishing, reaches the stored event that
 * the replay role publishes to the gateways, and the spans link up: producer, publish, append.
 * Spans are caught in memory by an exporter of the test's own (the OTLP path is in TracingIT).
 */
@ExtendWith(VertxExtension.class)
class NotifierTracingTest {

  private static final String KEY = "trace-publisher-key";
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String PARENT = "00f067aa0ba902b7";
  private static final String TRACEPARENT = "00-" + TRACE_ID + "-" + PARENT + "-01";

  private final List<SpanData> spans = new CopyOnWriteArrayList<>();
  private final LinkedBlockingQueue<Event> delivered = new LinkedBlockingQueue<>();
  private Vertx vertx;
  private NotifierVerticle notifier;

  private void start(Vertx vertx, boolean traced) throws Exception {
    this.vertx = vertx;
    EventCodec.register(vertx);
    if (traced) {
      Tracing.install(vertx, SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(new SpanExporter() {
        @Override
        public CompletableResultCode export(Collection<SpanData> batch) {
          spans.addAll(batch);
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
      })).build());
    }
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    notifier = new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0).put("publisherKeys", List.of(KEY))
      .put("tcpBridgeEnabled", true).put("tcpBridgePort", 0)));
    await(vertx.deployVerticle(notifier));
    await(vertx.eventBus().<Event>consumer(Addresses.topic("orders"), m -> delivered.add(m.body())).completion());
  }

  @AfterEach
  void stop() {
    if (vertx != null) {
      Tracing.of(vertx).close(vertx);
    }
  }

  @Test
  @DisplayName("HTTP: the traceparent header is the publish span's parent; the append is its child; the event carries the publish's context")
  void http(Vertx vertx) throws Exception {
    start(vertx, true);
    var r = io.herald.testsupport.JdkHttp.send("POST", "http://127.0.0.1:" + notifier.actualPort() + "/publish",
      "{\"topic\":\"orders\",\"data\":1}", "Authorization", "Bearer " + KEY, "Content-Type", "application/json",
      "traceparent", TRACEPARENT, "tracestate", "vendor=abc");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    Event e = next();
    SpanData publish = awaitSpan(Tracing.PUBLISH);
    assertThat(publish.getParentSpanId()).isEqualTo(PARENT);
    assertThat(publish.getTraceId()).isEqualTo(TRACE_ID);
    assertThat(publish.getKind()).isEqualTo(SpanKind.SERVER);
    assertThat(publish.getSpanContext().getTraceState().get("vendor")).as("tracestate kept").isEqualTo("abc");
    assertThat(publish.getAttributes().get(Tracing.TOPIC)).isEqualTo("orders");
    assertThat(publish.getAttributes().get(Tracing.SEQ)).isEqualTo(e.seq());
    assertThat(publish.getAttributes().get(Tracing.SOURCE)).isEqualTo("http");
    SpanData append = awaitSpan(Tracing.APPEND);
    assertThat(append.getParentSpanId()).isEqualTo(publish.getSpanId());
    assertThat(append.getTraceId()).isEqualTo(TRACE_ID);
    assertThat(append.getAttributes().get(Tracing.SEQ)).isEqualTo(e.seq());
    assertThat(e.trace()).isNotNull();
    assertThat(e.trace().traceparent()).isEqualTo("00-" + TRACE_ID + "-" + publish.getSpanId() + "-01");
    assertThat(e.trace().tracestate()).isEqualTo("vendor=abc");
  }

  @Test
  @DisplayName("An invalid traceparent is ignored: the publish succeeds and starts a trace of its own")
  void invalidTraceparent(Vertx vertx) throws Exception {
    start(vertx, true);
    for (String bad : List.of("garbage", "00-" + TRACE_ID + "-" + PARENT, "00-00000000000000000000000000000000-" + PARENT + "-01",
      "00-" + TRACE_ID.toUpperCase() + "-" + PARENT + "-01", "x".repeat(600))) {
      spans.clear();
      var r = io.herald.testsupport.JdkHttp.send("POST", "http://127.0.0.1:" + notifier.actualPort() + "/publish",
        "{\"topic\":\"orders\",\"data\":1}", "Authorization", "Bearer " + KEY, "traceparent", bad);
      assertThat(r.status()).as(bad + ": " + r.body()).isEqualTo(200);
      Event e = next();
      SpanData publish = awaitSpan(Tracing.PUBLISH);
      assertThat(publish.getParentSpanContext().isValid()).as(bad).isFalse();
      assertThat(publish.getTraceId()).isNotEqualTo(TRACE_ID);
      assertThat(e.trace().traceparent()).contains(publish.getTraceId());
    }
  }

  @Test
  @DisplayName("Event bus: the message's traceparent header is the publish span's parent")
  void eventBus(Vertx vertx) throws Exception {
    start(vertx, true);
    await(vertx.eventBus().request(Addresses.PUBLISH, new JsonObject().put("topic", "orders").put("data", 2),
      new DeliveryOptions().addHeader("traceparent", TRACEPARENT)));
    Event e = next();
    SpanData publish = awaitSpan(Tracing.PUBLISH);
    assertThat(publish.getParentSpanId()).isEqualTo(PARENT);
    assertThat(publish.getKind()).isEqualTo(SpanKind.CONSUMER);
    assertThat(e.trace().traceparent()).startsWith("00-" + TRACE_ID + "-" + publish.getSpanId());
  }

  @Test
  @DisplayName("TCP bridge: the frame's headers carry the traceparent")
  void tcpBridge(Vertx vertx) throws Exception {
    start(vertx, true);
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", notifier.tcpBridgePort()), 5000);
    s.setSoTimeout(5000);
    try (TcpBridgeFixture.Bridge b = new TcpBridgeFixture.Bridge(s)) {
      b.send(new JsonObject().put("type", "send").put("address", Addresses.PUBLISH).put("replyAddress", "r1")
        .put("headers", new JsonObject().put("X-Herald-Key", KEY).put("traceparent", TRACEPARENT))
        .put("body", new JsonObject().put("topic", "orders").put("data", 3)));
      assertThat(b.read().getString("type")).isEqualTo("message");
    }
    Event e = next();
    SpanData publish = awaitSpan(Tracing.PUBLISH);
    assertThat(publish.getParentSpanId()).isEqualTo(PARENT);
    assertThat(publish.getAttributes().get(Tracing.SOURCE)).isEqualTo("tcp-bridge");
    assertThat(e.trace().traceparent()).startsWith("00-" + TRACE_ID + "-" + publish.getSpanId());
  }

  @Test
  @DisplayName("Ingests: traceparent and tracestate fields of a body (of a batch's events) are taken out and parent the publish")
  void carriedFields(Vertx vertx) throws Exception {
    start(vertx, true);
    Publisher publisher = new Publisher(new PublishParser(new NotifierOptions()), new io.herald.common.replay.ReplayClient(vertx, 5000),
      () -> false, Tracing.of(vertx));
    JsonObject batch = new JsonObject().put("events", new io.vertx.core.json.JsonArray()
      .add(new JsonObject().put("topic", "orders").put("data", 4))
      .add(new JsonObject().put("topic", "orders").put("data", 5).put("traceparent", TRACEPARENT).put("tracestate", "a=b")));
    await(publisher.publishCarrying(batch, "redis-pubsub"));
    Event first = next();
    Event second = next();
    SpanData publish = awaitSpan(Tracing.PUBLISH);
    assertThat(publish.getParentSpanId()).isEqualTo(PARENT);
    assertThat(publish.getAttributes().get(Tracing.EVENTS)).isEqualTo(2L);
    assertThat(first.trace()).isEqualTo(second.trace());
    assertThat(second.trace().tracestate()).isEqualTo("a=b");
  }

  @Test
  @DisplayName("Redis pub/sub: the envelope's traceparent parents the publish; Redis streams: the entry's fields do")
  void redisIngests(Vertx vertx) throws Exception {
    start(vertx, true);
    Publisher publisher = new Publisher(new PublishParser(new NotifierOptions()), new io.herald.common.replay.ReplayClient(vertx, 5000),
      () -> false, Tracing.of(vertx));
    String url = RedisPubSubIngestTest.URL;
    String prefix = "trace-" + java.util.UUID.randomUUID() + ":";
    String stream = "herald-test-stream-" + java.util.UUID.randomUUID();
    RedisPubSubIngest pubsub = new RedisPubSubIngest(vertx, body -> publisher.publishCarrying(body, "redis-pubsub"), url,
      List.of(prefix + "orders"), prefix);
    RedisStreamsIngest streams = new RedisStreamsIngest(vertx, body -> publisher.publishCarrying(body, "redis-streams"), url,
      List.of(stream), "herald", "c1", 30_000);
    io.vertx.redis.client.Redis admin = io.vertx.redis.client.Redis.createClient(vertx, url);
    try {
      await(pubsub.start());
      await(streams.start());
      PgOutboxIngestTest.waitUntil(() -> pubsub.status().getBoolean("connected") && streams.status().getBoolean("connected"), 5000, "connected");
      await(admin.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.PUBLISH).arg(prefix + "orders")
        .arg("{\"data\":{\"n\":1},\"traceparent\":\"" + TRACEPARENT + "\",\"tracestate\":\"r=1\"}")));
      Event viaPubSub = next();
      SpanData pub = awaitSpan(Tracing.PUBLISH);
      assertThat(pub.getParentSpanId()).isEqualTo(PARENT);
      assertThat(pub.getAttributes().get(Tracing.SOURCE)).isEqualTo("redis-pubsub");
      assertThat(viaPubSub.data()).isEqualTo("{\"n\":1}");
      assertThat(viaPubSub.trace().traceparent()).startsWith("00-" + TRACE_ID + "-" + pub.getSpanId());
      assertThat(viaPubSub.trace().tracestate()).isEqualTo("r=1");

      spans.clear();
      await(admin.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.XADD).arg(stream).arg("*")
        .arg("topic").arg("orders").arg("data").arg("s").arg("traceparent").arg(TRACEPARENT)));
      Event viaStream = next();
      SpanData streamed = awaitSpan(Tracing.PUBLISH);
      assertThat(streamed.getParentSpanId()).isEqualTo(PARENT);
      assertThat(streamed.getAttributes().get(Tracing.SOURCE)).isEqualTo("redis-streams");
      assertThat(viaStream.trace().traceparent()).startsWith("00-" + TRACE_ID + "-" + streamed.getSpanId());
    } finally {
      await(pubsub.stop());
      await(streams.stop());
      await(admin.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.DEL).arg(stream)));
      await(admin.close());
    }
  }

  @Test
  @DisplayName("PostgreSQL outbox: herald_publish with a traceparent parents the row's publish; a row of the older form starts a trace of its own")
  void postgresOutbox(Vertx vertx) throws Exception {
    start(vertx, true);
    Publisher publisher = new Publisher(new PublishParser(new NotifierOptions()), new io.herald.common.replay.ReplayClient(vertx, 5000),
      () -> false, Tracing.of(vertx));
    String schema = "herald_t_" + java.util.UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    io.vertx.sqlclient.Pool admin = PgOutboxIngestTest.pool(vertx, PgOutboxIngestTest.URL, null);
    await(admin.query("CREATE SCHEMA " + schema).execute());
    await(admin.close());
    io.vertx.sqlclient.Pool db = PgOutboxIngestTest.pool(vertx, PgOutboxIngestTest.URL, schema);
    PgOutboxIngest ingest = new PgOutboxIngest(vertx, body -> publisher.publishCarrying(body, "postgres"), PgOutboxIngestTest.URL,
      schema + ".herald_outbox", "herald_outbox", 60_000, 100);
    try {
      PgOutboxIngestTest.loadShippedSql(db);
      await(ingest.start());
      PgOutboxIngestTest.waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "connected");
      await(db.query("SELECT herald_publish('orders', 'plain', '1'::jsonb); "
        + "SELECT herald_publish('orders', 'traced', '2'::jsonb, '" + TRACEPARENT + "', 'pg=1')").execute());
      Event plain = next();
      Event traced = next();
      assertThat(plain.type()).isEqualTo("plain");
      assertThat(plain.trace().traceparent()).as("a row without a traceparent: a trace of its own").doesNotContain(TRACE_ID);
      assertThat(traced.type()).isEqualTo("traced");
      PgOutboxIngestTest.waitUntil(() -> spans.stream().anyMatch(x -> x.getName().equals(Tracing.PUBLISH) && x.getParentSpanId().equals(PARENT)),
        10_000, "the publish span under the row's traceparent");
      SpanData publish = spans.stream().filter(x -> x.getName().equals(Tracing.PUBLISH) && x.getParentSpanId().equals(PARENT))
        .findFirst().orElseThrow();
      assertThat(publish.getAttributes().get(Tracing.SOURCE)).isEqualTo("postgres");
      assertThat(traced.trace().traceparent()).startsWith("00-" + TRACE_ID + "-" + publish.getSpanId());
      assertThat(traced.trace().tracestate()).isEqualTo("pg=1");
    } finally {
      await(ingest.stop());
      await(db.query("DROP SCHEMA " + schema + " CASCADE").execute());
      await(db.close());
    }
  }

  @Test
  @DisplayName("Tracing off: no span, and the event carries no trace context even when the producer sent one")
  void off(Vertx vertx) throws Exception {
    start(vertx, false);
    assertThat(Tracing.of(vertx)).isSameAs(Tracing.OFF);
    var r = io.herald.testsupport.JdkHttp.send("POST", "http://127.0.0.1:" + notifier.actualPort() + "/publish",
      "{\"topic\":\"orders\",\"data\":1}", "Authorization", "Bearer " + KEY, "traceparent", TRACEPARENT);
    assertThat(r.status()).isEqualTo(200);
    assertThat(next().trace()).isNull();
    Publisher publisher = new Publisher(new PublishParser(new NotifierOptions()), new io.herald.common.replay.ReplayClient(vertx, 5000));
    await(publisher.publishCarrying(new JsonObject().put("topic", "orders").put("data", 2).put("traceparent", TRACEPARENT), "postgres"));
    assertThat(next().trace()).as("the fields are taken out all the same, and nothing follows").isNull();
    assertThat(spans).isEmpty();
  }

  private Event next() throws InterruptedException {
    Event e = delivered.poll(10, TimeUnit.SECONDS);
    assertThat(e).as("an event delivered on the topic address").isNotNull();
    return e;
  }

  private SpanData awaitSpan(String name) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      for (SpanData s : spans) {
        if (s.getName().equals(name)) {
          return s;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no span " + name + " in " + spans);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return io.herald.testsupport.Diagnostics.get(f.toCompletionStage().toCompletableFuture(), 10, "a request");
  }
}
