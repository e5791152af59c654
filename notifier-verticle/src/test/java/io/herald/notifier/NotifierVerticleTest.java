package io.herald.notifier;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.HeraldException;
import io.herald.common.replay.ReplayClient;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class NotifierVerticleTest {

  private static final String KEY = "test-publisher-key";

  private Vertx vertx;
  private NotifierVerticle notifier;
  private HttpClient http;
  private ReplayClient replay;

  record Reply(int status, Map<String, String> headers, JsonObject body) {
  }

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    EventCodec.register(vertx);
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    notifier = new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)
      .put("publisherKeys", List.of(KEY, "second-key-123")).put("maxBodyBytes", 4096).put("maxEventBytes", 1000)
      .put("maxTopicsPerEvent", 3).put("maxBatchSize", 3)));
    await(vertx.deployVerticle(notifier));
    http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    replay = new ReplayClient(vertx, 5000);
  }

  @AfterEach
  void stop() throws Exception {
    await(http.close());
  }

  @Test
  @DisplayName("A publish answers the per-topic positions and ids the store assigned, in order")
  void publishAnswersIds() throws Exception {
    for (int i = 1; i <= 3; i++) {
      Reply r = post("/publish", KEY, "application/json", "{\"topic\":\"orders\",\"type\":\"order.created\",\"data\":{\"n\":" + i + "}}");
      assertThat(r.status()).isEqualTo(200);
      JsonObject e = r.body().getJsonArray("events").getJsonObject(0);
      assertThat(e.getString("topic")).isEqualTo("orders");
      assertThat(e.getLong("seq")).isEqualTo(i);
      assertThat(e.getString("id")).isEqualTo(io.herald.common.Cursor.single("orders", e.getString("epoch"), i));
    }
    Reply many = post("/publish", "second-key-123", null, "{\"topics\":[\"a\",\"b\",\"a\"],\"data\":\"hi\"}");
    assertThat(many.status()).isEqualTo(200);
    assertThat(many.body().getJsonArray("events")).hasSize(2);
  }

  @Test
  @DisplayName("A subscriber of the topic's delivery address receives the published event")
  void publishedEventIsDelivered() throws Exception {
    List<Event> got = new CopyOnWriteArrayList<>();
    await(vertx.eventBus().<Event>consumer(Addresses.topic("live"), m -> got.add(m.body())).completion());
    post("/publish", KEY, "application/json", "{\"topic\":\"live\",\"type\":\"t\",\"data\":\"two\\nlines\",\"id\":\"k-1\"}");
    io.herald.testsupport.Await.until("the event on herald.topic.live", () -> !got.isEmpty(), java.time.Duration.ofSeconds(10));
    assertThat(got).hasSize(1);
    assertThat(got.get(0).data()).isEqualTo("two\nlines");
    assertThat(got.get(0).json()).isFalse();
    assertThat(got.get(0).key()).isEqualTo("k-1");
  }

  @Test
  @DisplayName("A batch is stored in order with one answer per entry")
  void batch() throws Exception {
    Reply r = post("/publish/batch", KEY, "application/json",
      "{\"events\":[{\"topic\":\"b1\",\"data\":1},{\"topics\":[\"b1\",\"b2\"],\"data\":2},{\"topic\":\"b1\",\"data\":3}]}");
    assertThat(r.status()).isEqualTo(200);
    var results = r.body().getJsonArray("results");
    assertThat(results).hasSize(3);
    assertThat(results.getJsonObject(0).getJsonArray("events").getJsonObject(0).getLong("seq")).isEqualTo(1);
    assertThat(results.getJsonObject(1).getJsonArray("events")).hasSize(2);
    assertThat(results.getJsonObject(2).getJsonArray("events").getJsonObject(0).getLong("seq")).isEqualTo(3);
  }

  static Stream<Arguments> badRequests() {
    String big = "x".repeat(5000);
    return Stream.of(
      Arguments.of("no key", "/publish", null, "application/json", "{\"topic\":\"bad\",\"data\":1}", 401, "unauthorized"),
      Arguments.of("wrong key", "/publish", "wrong-key-000", "application/json", "{\"topic\":\"bad\",\"data\":1}", 401, "unauthorized"),
      Arguments.of("malformed JSON", "/publish", KEY, "application/json", "{\"topic\":\"bad\",", 400, "malformed_json"),
      Arguments.of("JSON array body", "/publish", KEY, "application/json", "[1,2]", 400, "malformed_json"),
      Arguments.of("deeply nested JSON", "/publish", KEY, "application/json",
        "{\"topic\":\"bad\",\"data\":" + "[".repeat(1500) + "]".repeat(1500) + "}", 400, "malformed_json"),
      Arguments.of("invalid topic", "/publish", KEY, "application/json", "{\"topic\":\"has space\",\"data\":1}", 400, "invalid_topic"),
      Arguments.of("topic with LF", "/publish", KEY, "application/json", "{\"topic\":\"a\\nb\",\"data\":1}", 400, "invalid_topic"),
      Arguments.of("unicode topic", "/publish", KEY, "application/json", "{\"topic\":\"caf\u00e9\",\"data\":1}", 400, "invalid_topic"),
      Arguments.of("too many topics", "/publish", KEY, "application/json", "{\"topics\":[\"a\",\"b\",\"c\",\"d\"],\"data\":1}", 400, "too_many_topics"),
      Arguments.of("type with CR/LF", "/publish", KEY, "application/json", "{\"topic\":\"bad\",\"type\":\"x\\r\\nid: 1\",\"data\":1}", 400, "invalid_type"),
      Arguments.of("type with NUL", "/publish", KEY, "application/json", "{\"topic\":\"bad\",\"type\":\"x\\u0000\",\"data\":1}", 400, "invalid_type"),
      Arguments.of("id with LF", "/publish", KEY, "application/json", "{\"topic\":\"bad\",\"id\":\"a\\nb\",\"data\":1}", 400, "invalid_id"),
      Arguments.of("id with NUL", "/publish", KEY, "application/json", "{\"topic\":\"bad\",\"id\":\"a\\u0000\",\"data\":1}", 400, "invalid_id"),
      Arguments.of("missing data", "/publish", KEY, "application/json", "{\"topic\":\"bad\"}", 400, "invalid_data"),
      Arguments.of("unknown field", "/publish", KEY, "application/json", "{\"topic\":\"bad\",\"data\":1,\"x\":2}", 400, "invalid_request"),
      Arguments.of("event too large", "/publish", KEY, "application/json", "{\"topic\":\"bad\",\"data\":\"" + "y".repeat(1200) + "\"}", 413, "payload_too_large"),
      Arguments.of("body too large", "/publish", KEY, "application/json", "{\"topic\":\"bad\",\"data\":\"" + big + "\"}", 413, "payload_too_large"),
      Arguments.of("not JSON content type", "/publish", KEY, "text/plain", "{\"topic\":\"bad\",\"data\":1}", 415, "unsupported_media_type"),
      Arguments.of("batch too large", "/publish/batch", KEY, "application/json",
        "{\"events\":[{\"topic\":\"bad\",\"data\":1},{\"topic\":\"bad\",\"data\":1},{\"topic\":\"bad\",\"data\":1},{\"topic\":\"bad\",\"data\":1}]}", 400, "batch_too_large"),
      Arguments.of("batch with one bad entry", "/publish/batch", KEY, "application/json",
        "{\"events\":[{\"topic\":\"bad\",\"data\":1},{\"topic\":\"no good\",\"data\":1}]}", 400, "invalid_topic"),
      Arguments.of("the Mercure hub's namespace", "/publish", KEY, "application/json",
        "{\"topics\":[\"bad\",\"/.well-known/mercure/subscriptions/Exact/a/b\"],\"data\":1}", 403, "access_denied"),
      Arguments.of("batch body on /publish", "/publish", KEY, "application/json", "{\"events\":[{\"topic\":\"bad\",\"data\":1}]}", 400, "invalid_request"),
      Arguments.of("unknown path", "/nope", KEY, "application/json", "{}", 404, "not_found"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRequests")
  @DisplayName("Bad input gets a clear 4xx with a JSON body and stores nothing")
  void badInputStoresNothing(String name, String path, String key, String contentType, String body, int status, String code)
    throws Exception {
    Reply r = post(path, key, contentType, body);
    assertThat(r.status()).as(name).isEqualTo(status);
    assertThat(r.headers().get("content-type")).isEqualTo("application/json");
    assertThat(r.body().getString("error")).as(name).isEqualTo(code);
    assertThat(r.body().getString("message")).isNotBlank();
    if (status == 401) {
      assertThat(r.headers().get("www-authenticate")).startsWith("Bearer");
    }
    assertThat(await(replay.heads(List.of("bad"))).get("bad").seq()).as("nothing stored").isZero();
  }

  @Test
  @DisplayName("Wrong methods get 405 with a JSON body")
  void wrongMethod() throws Exception {
    Reply r = send(HttpMethod.GET, "/publish", KEY, null, null);
    assertThat(r.status()).isEqualTo(405);
    assertThat(r.body().getString("error")).isEqualTo("method_not_allowed");
  }

  @Test
  @DisplayName("Internal producers publish on the event bus and get the same answers and errors")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void eventBusPublish() throws Exception {
    var published = io.herald.common.admin.HeraldMetrics.get().registry().counter("herald_events_published", "source", "eventbus");
    double before = published.count();
    JsonObject ok = await(vertx.eventBus().<JsonObject>request(Addresses.PUBLISH,
      new JsonObject().put("topic", "bus").put("type", "job.done").put("data", new JsonObject().put("job", 9)))).body();
    assertThat(ok.getJsonArray("events").getJsonObject(0).getLong("seq")).isEqualTo(1);
    assertThat(published.count()).as("herald_events_published_total{source=eventbus}").isEqualTo(before + 1);
    JsonObject batch = await(vertx.eventBus().<JsonObject>request(Addresses.PUBLISH,
      new JsonObject("{\"events\":[{\"topic\":\"bus\",\"data\":1},{\"topic\":\"bus\",\"data\":2}]}"))).body();
    assertThat(batch.getJsonArray("results")).hasSize(2);
    // The Mercure hub publishes its subscription events here, and only here.
    JsonObject hub = await(vertx.eventBus().<JsonObject>request(Addresses.PUBLISH, new JsonObject()
      .put("topic", "/.well-known/mercure/subscriptions/Exact/a/b").put("data", "{}").put("private", true))).body();
    assertThat(hub.getJsonArray("events").getJsonObject(0).getLong("seq")).isEqualTo(1);
    Throwable failure = vertx.eventBus().request(Addresses.PUBLISH, new JsonObject().put("topic", "bad topic").put("data", 1))
      .toCompletionStage().toCompletableFuture().handle((m, t) -> t).get(5, TimeUnit.SECONDS);
    HeraldException e = HeraldException.from(failure.getCause() != null && !(failure instanceof io.vertx.core.eventbus.ReplyException) ? failure.getCause() : failure);
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_TOPIC);
    assertThat(await(replay.heads(List.of("bad"))).get("bad").seq()).isZero();
  }

  @Test
  @DisplayName("Over HTTP and the event bus, JSON data is stored digit for digit as sent")
  void exactData() throws Exception {
    for (String v : ExactValues.VALUES) {
      Reply r = post("/publish", KEY, "application/json", "{\"topic\":\"exact.http\",\"data\":" + v + "}");
      assertThat(r.status()).as(v + ": " + r.body()).isEqualTo(200);
    }
    assertThat(StoredEvents.readAll(replay, "exact.http")).extracting(Event::data).containsExactlyElementsOf(ExactValues.VALUES);
    for (String v : ExactValues.VALUES) {
      // on the event bus as the body's JSON text: the form that is exact across a cluster too
      await(vertx.eventBus().request(Addresses.PUBLISH, "{\"topic\":\"exact.bus\",\"data\":" + v + "}"));
      await(vertx.eventBus().request(Addresses.PUBLISH,
        Buffer.buffer("{\"topic\":\"exact.buffer\",\"data\":" + v + "}")));
    }
    for (String topic : List.of("exact.bus", "exact.buffer")) {
      assertThat(StoredEvents.readAll(replay, topic)).as(topic).extracting(Event::data).containsExactlyElementsOf(ExactValues.VALUES);
    }
    // a JsonObject built in Java: BigDecimal and -0.0 are written as they are
    await(vertx.eventBus().request(Addresses.PUBLISH, new JsonObject().put("topic", "exact.object")
      .put("data", new io.vertx.core.json.JsonArray().add(new java.math.BigDecimal(ExactValues.PI)).add(-0.0))));
    assertThat(StoredEvents.readAll(replay, "exact.object").get(0).data()).isEqualTo("[" + ExactValues.PI + ",-0.0]");
  }

  static Stream<Arguments> refusedData() {
    return Stream.of(
      Arguments.of("invalid UTF-8", PublishParserTest.bytes("{\"topic\":\"bad\",\"data\":\"caf", 0xe9, "\"}"), "malformed_json", "not valid UTF-8"),
      Arguments.of("a lone surrogate", PublishParserTest.utf8("{\"topic\":\"bad\",\"data\":\"\\ud800\"}"), "invalid_data", "lone surrogate \\ud800"),
      Arguments.of("a lone surrogate in a batch", PublishParserTest.utf8("{\"events\":[{\"topic\":\"bad\",\"data\":1},{\"topic\":\"bad\",\"data\":{\"x\":\"\\udfff\"}}]}"),
        "invalid_data", "lone surrogate \\udfff"),
      Arguments.of("a repeated field", PublishParserTest.utf8("{\"topic\":\"bad\",\"data\":1,\"data\":2}"), "malformed_json", "Duplicate field"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedData")
  @DisplayName("Data that cannot be delivered as sent is refused with 400 naming the problem, on HTTP and the event bus")
  void refusedData(String name, byte[] body, String code, String message) throws Exception {
    String path = name.contains("batch") ? "/publish/batch" : "/publish";
    var response = await(http.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(notifier.actualPort())
        .setURI(path).putHeader("Authorization", "Bearer " + KEY).putHeader("Content-Type", "application/json"))
      .compose(req -> req.send(Buffer.buffer(body)).compose(res -> res.body().map(b -> new Reply(res.statusCode(), Map.of(), b.toJsonObject())))));
    assertThat(response.status()).as(name).isEqualTo(400);
    assertThat(response.body().getString("error")).as(name).isEqualTo(code);
    assertThat(response.body().getString("message")).as(name).contains(message);
    Throwable failure = vertx.eventBus().request(Addresses.PUBLISH, Buffer.buffer(body))
      .toCompletionStage().toCompletableFuture().handle((m, t) -> t).get(5, TimeUnit.SECONDS);
    assertThat(failure).isInstanceOf(io.vertx.core.eventbus.ReplyException.class);
    assertThat(((io.vertx.core.eventbus.ReplyException) failure).failureCode()).isEqualTo(400);
    assertThat(new JsonObject(failure.getMessage()).getString("error")).as(name).isEqualTo(code);
    assertThat(await(replay.heads(List.of("bad"))).get("bad").seq()).as("nothing stored").isZero();
  }

  private Reply post(String path, String key, String contentType, String body) throws Exception {
    return send(HttpMethod.POST, path, key, contentType, body);
  }

  private Reply send(HttpMethod method, String path, String key, String contentType, String body) throws Exception {
    var r = io.herald.testsupport.JdkHttp.send(method.name(), "http://127.0.0.1:" + notifier.actualPort() + path, body,
      "Authorization", key == null ? null : "Bearer " + key, "Content-Type", contentType);
    return new Reply(r.status(), r.headers(), r.body().isEmpty() ? new JsonObject() : new JsonObject(r.body()));
  }

  private static <T> T await(Future<T> f) throws Exception {
    return io.herald.testsupport.Diagnostics.get(f.toCompletionStage().toCompletableFuture(), 10, "a request");
  }
}
