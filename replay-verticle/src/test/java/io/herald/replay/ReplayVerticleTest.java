package io.herald.replay;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.replay.LocalAppend;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/** The replay verticle deployed on a real Vert.x, driven through {@link ReplayClient} over the event bus. */
@ExtendWith(VertxExtension.class)
class ReplayVerticleTest {

  private ReplayClient client;
  private String deploymentId;
  private final String prefix = "v" + UUID.randomUUID().toString().substring(0, 8) + "/";

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext ctx) {
    client = new ReplayClient(vertx, 5000);
    vertx.deployVerticle(new ReplayVerticle(new ReplayOptions()))
      .onComplete(ctx.succeeding(id -> {
        deploymentId = id;
        ctx.completeNow();
      }));
  }

  private String topic(String name) {
    return prefix + name;
  }

  private static EventDraft draft(String topic, String data) {
    return new EventDraft(topic, "message", data, false, null);
  }

  @Test
  @DisplayName("an append answers with the stored events and their positions, in draft order")
  void appendReturnsPositions(VertxTestContext ctx) {
    String a = topic("a");
    String b = topic("b");
    client.append(List.of(draft(a, "a1"), draft(b, "b1"), new EventDraft(a, "order.paid", "{\"n\":2}", true, "id-2")))
      .onComplete(ctx.succeeding(events -> ctx.verify(() -> {
        assertThat(events).extracting(Event::topic).containsExactly(a, b, a);
        assertThat(events).extracting(Event::seq).containsExactly(1L, 1L, 2L);
        assertThat(events).extracting(Event::epoch).allMatch(e -> e.matches("[A-Za-z0-9]{8}"));
        assertThat(events.get(2).type()).isEqualTo("order.paid");
        assertThat(events.get(2).json()).isTrue();
        assertThat(events.get(2).key()).isEqualTo("id-2");
        ctx.completeNow();
      })));
  }

  @Test
  @DisplayName("a consumer of a topic's address receives that topic's stored events, in seq order, and no other topic's")
  void publishesStoredEventsInOrder(Vertx vertx, VertxTestContext ctx) {
    String t = topic("live");
    String other = topic("other");
    List<Long> seqs = new CopyOnWriteArrayList<>();
    Checkpoint all = ctx.checkpoint(5);
    MessageConsumer<Event> consumer = vertx.eventBus().consumer(Addresses.topic(t), msg -> {
      ctx.verify(() -> assertThat(msg.body().topic()).isEqualTo(t));
      seqs.add(msg.body().seq());
      all.flag();
    });
    consumer.completion()
      .compose(v -> client.append(List.of(draft(t, "1"), draft(other, "x"), draft(t, "2"), draft(t, "3"))))
      .compose(v -> client.append(List.of(draft(t, "4"), draft(other, "y"), draft(t, "5"))))
      .onComplete(ctx.succeeding(v -> { }));
    awaitThen(ctx, () -> assertThat(seqs).containsExactly(1L, 2L, 3L, 4L, 5L));
  }

  @Test
  @DisplayName("an idempotent duplicate is answered with the original event and not published again")
  void duplicateNotPublished(Vertx vertx, VertxTestContext ctx) {
    String t = topic("idem");
    List<Event> received = new CopyOnWriteArrayList<>();
    Checkpoint two = ctx.checkpoint(2);
    MessageConsumer<Event> consumer = vertx.eventBus().consumer(Addresses.topic(t), msg -> {
      received.add(msg.body());
      two.flag();
    });
    EventDraft keyed = new EventDraft(t, "message", "once", false, "k-1");
    consumer.completion()
      .compose(v -> client.append(List.of(keyed)))
      .compose(first -> client.append(List.of(keyed, keyed)).map(again -> {
        ctx.verify(() -> assertThat(again).containsExactly(first.get(0), first.get(0)));
        return again;
      }))
      .compose(v -> client.append(List.of(draft(t, "next"))))
      .onComplete(ctx.succeeding(next -> ctx.verify(() -> assertThat(next.get(0).seq()).isEqualTo(2))));
    awaitThen(ctx, () -> assertThat(received).extracting(Event::seq).containsExactly(1L, 2L));
  }

  @Test
  @DisplayName("reads and heads answer over the event bus, with a reset for a foreign epoch")
  void readAndHeads(VertxTestContext ctx) {
    String t = topic("read");
    String unknown = topic("unknown");
    client.append(List.of(draft(t, "1"), draft(t, "2"), draft(t, "3")))
      .compose(stored -> {
        String epoch = stored.get(0).epoch();
        Future<Map<String, Position>> heads = client.heads(List.of(t, unknown));
        Future<ReadResult> rest = client.read(t, new Position(epoch, 1), 10);
        Future<ReadResult> paged = client.read(t, new Position(epoch, 0), 2);
        Future<ReadResult> foreign = client.read(t, new Position("Foreign1", 1), 10);
        return Future.all(heads, rest, paged, foreign).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertThat(heads.result()).containsOnly(
            Map.entry(t, new Position(epoch, 3)), Map.entry(unknown, new Position(epoch, 0)));
          assertThat(rest.result().reset()).isFalse();
          assertThat(rest.result().events()).containsExactlyElementsOf(stored.subList(1, 3));
          assertThat(paged.result().events()).containsExactlyElementsOf(stored.subList(0, 2));
          assertThat(paged.result().complete()).isFalse();
          assertThat(foreign.result().reset()).isTrue();
          assertThat(foreign.result().events()).isEmpty();
          assertThat(foreign.result().head()).isEqualTo(new Position(epoch, 3));
          ctx.completeNow();
        })));
      })
      .onFailure(ctx::failNow);
  }

  @Test
  @DisplayName("log head and log reads answer over the event bus: the published events carry their log position, a read filters by exact topic or pattern, pages by scannedTo, and resets for a foreign epoch")
  void logOverTheBus(Vertx vertx, VertxTestContext ctx) {
    String x = topic("news.x");
    String y = topic("news.y");
    String z = topic("chat.z");
    List<Event> published = new CopyOnWriteArrayList<>();
    MessageConsumer<Event> consumer = vertx.eventBus().consumer(Addresses.topic(x), m -> published.add(m.body()));
    consumer.completion()
      .compose(v -> client.logHead())
      .compose(start -> client.append(List.of(draft(x, "x1"), draft(z, "z1"), draft(y, "y1"), draft(x, "x2")))
        .compose(stored -> client.logHead().compose(head -> {
          // x passes as a pattern, y as an exact name; z passes neither.
          return client.readLog(start, List.of(prefix + "*.x", y), 2).compose(first ->
            client.readLog(first.scannedTo(), List.of(prefix + "*.x", y), 2).compose(second ->
              client.readLog(new Position("Other0", 0), List.of(x), 10).map(foreign -> {
                ctx.verify(() -> {
                  assertThat(stored).extracting(e -> e.log().seq()).containsExactly(1L, 2L, 3L, 4L);
                  assertThat(head).isEqualTo(new Position(start.epoch(), 4));
                  assertThat(first.reset()).isFalse();
                  assertThat(first.events()).extracting(Event::data).containsExactly("x1", "y1");
                  assertThat(first.events()).extracting(Event::log).containsExactly(stored.get(0).log(), stored.get(2).log());
                  assertThat(first.scannedTo()).isEqualTo(stored.get(2).log());
                  assertThat(second.events()).extracting(Event::data).containsExactly("x2");
                  assertThat(second.complete()).isTrue();
                  assertThat(foreign.reset()).isTrue();
                  assertThat(foreign.resetReason()).isEqualTo("history_unavailable");
                  assertThat(foreign.head()).isEqualTo(head);
                });
                return null;
              })));
        })))
      .compose(v -> vertx.eventBus().request(Addresses.REPLAY_LOG_HEAD, new JsonObject()))
      .onComplete(ctx.succeeding(raw -> ctx.verify(() -> {
        assertThat(((JsonObject) raw.body()).getJsonObject("head").getLong("seq")).isEqualTo(4L);
        assertThat(published).extracting(Event::data).containsExactly("x1", "x2");
        assertThat(published).extracting(e -> e.log().seq()).as("the published events carry their log position")
          .containsExactly(1L, 4L);
        ctx.completeNow();
      })));
  }

  static Stream<Arguments> malformed() {
    JsonObject good = new JsonObject().put("topic", "t").put("type", "message").put("data", "x");
    return Stream.of(
      Arguments.of(Addresses.REPLAY_APPEND, "not an object"),
      Arguments.of(Addresses.REPLAY_APPEND, new JsonObject()),
      Arguments.of(Addresses.REPLAY_APPEND, new JsonObject().put("events", "nope")),
      Arguments.of(Addresses.REPLAY_APPEND, new JsonObject().put("events", new JsonArray())),
      Arguments.of(Addresses.REPLAY_APPEND, new JsonObject().put("events", new JsonArray().add(good).add(42))),
      Arguments.of(Addresses.REPLAY_APPEND, events(good.copy().put("topic", "bad topic"))),
      Arguments.of(Addresses.REPLAY_APPEND, events(withoutKey(good, "topic"))),
      Arguments.of(Addresses.REPLAY_APPEND, events(good.copy().put("type", "1bad"))),
      Arguments.of(Addresses.REPLAY_APPEND, events(good.copy().put("data", 5))),
      Arguments.of(Addresses.REPLAY_APPEND, events(good.copy().put("json", "yes"))),
      Arguments.of(Addresses.REPLAY_APPEND, events(good.copy().put("key", "has space"))),
      Arguments.of(Addresses.REPLAY_APPEND, new LocalAppend.Request(List.of())),
      Arguments.of(Addresses.REPLAY_APPEND, new LocalAppend.Request(List.of(new EventDraft("bad topic", "message", "x", false, null)))),
      Arguments.of(Addresses.REPLAY_APPEND, new LocalAppend.Request(List.of(new EventDraft("t", "1bad", "x", false, null)))),
      Arguments.of(Addresses.REPLAY_APPEND, new LocalAppend.Request(List.of(new EventDraft("t", "message", "x", false, "has space")))),
      Arguments.of(Addresses.REPLAY_READ, new JsonObject().put("epoch", "abc").put("after", 0)),
      Arguments.of(Addresses.REPLAY_READ, new JsonObject().put("topic", "t").put("after", 0)),
      Arguments.of(Addresses.REPLAY_READ, new JsonObject().put("topic", "t").put("epoch", "not-alnum").put("after", 0)),
      Arguments.of(Addresses.REPLAY_READ, new JsonObject().put("topic", "t").put("epoch", "abc").put("after", -1)),
      Arguments.of(Addresses.REPLAY_READ, new JsonObject().put("topic", "t").put("epoch", "abc").put("after", "0")),
      Arguments.of(Addresses.REPLAY_READ, new JsonObject().put("topic", "t").put("epoch", "abc").put("after", 0).put("limit", 0)),
      Arguments.of(Addresses.REPLAY_HEAD, new JsonObject().put("topics", "t")),
      Arguments.of(Addresses.REPLAY_LOG_HEAD, "not an object"),
      Arguments.of(Addresses.REPLAY_LOG_READ, "not an object"),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("epoch", "not-alnum")),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("after", -1)),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("after", "0")),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("limit", 0)),
      Arguments.of(Addresses.REPLAY_LOG_READ, withoutKey(logRead(), "filters")),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("filters", "news.*")),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("filters", new JsonArray())),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("filters", new JsonArray().add(42))),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("filters", new JsonArray().add("bad topic"))),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("filters", new JsonArray().add("user.{sub}"))),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("filters", new JsonArray().add("news.*").add("a|b"))),
      Arguments.of(Addresses.REPLAY_LOG_READ, logRead().put("filters",
        new JsonArray(java.util.Collections.nCopies(io.herald.common.replay.LogFilters.MAX_FILTERS + 1, "t")))),
      Arguments.of(Addresses.REPLAY_HEAD, new JsonObject().put("topics", new JsonArray().add("ok").add("bad topic"))));
  }

  private static JsonObject logRead() {
    return new JsonObject().put("epoch", "abc").put("after", 0).put("filters", new JsonArray().add("news.*"));
  }

  private static JsonObject events(JsonObject draft) {
    return new JsonObject().put("events", new JsonArray().add(draft));
  }

  private static JsonObject withoutKey(JsonObject o, String key) {
    JsonObject c = o.copy();
    c.remove(key);
    return c;
  }

  @Test
  @DisplayName("an append asked in JSON is answered in JSON, one asked as LocalAppend objects with those objects")
  void answersInTheFormAsked(Vertx vertx, VertxTestContext ctx) {
    JsonObject draft = new JsonObject().put("topic", topic("forms")).put("type", "message").put("data", "a");
    vertx.eventBus().<Object>request(Addresses.REPLAY_APPEND, events(draft))
      .compose(json -> vertx.eventBus().<Object>request(Addresses.REPLAY_APPEND,
        new LocalAppend.Request(List.of(draft(topic("forms"), "b")))).map(local -> List.of(json.body(), local.body())))
      .onComplete(ctx.succeeding(bodies -> ctx.verify(() -> {
        assertThat(bodies.get(0)).isInstanceOf(JsonObject.class);
        assertThat(((JsonObject) bodies.get(0)).getJsonArray("events").getJsonObject(0).getLong("seq")).isEqualTo(1L);
        assertThat(bodies.get(1)).isInstanceOf(LocalAppend.Reply.class);
        assertThat(((LocalAppend.Reply) bodies.get(1)).events()).extracting(Event::seq, Event::data).containsExactly(tuple(2L, "b"));
        ctx.completeNow();
      })));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("malformed")
  @DisplayName("a malformed request fails with invalid_request and status 400")
  void malformedRequests(String address, Object body, Vertx vertx, VertxTestContext ctx) {
    vertx.eventBus().request(address, body).onComplete(ctx.failing(t -> ctx.verify(() -> {
      assertThat(t).isInstanceOf(ReplyException.class);
      assertThat(((ReplyException) t).failureCode()).isEqualTo(400);
      assertThat(HeraldException.from(t).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("after undeploy the addresses are gone and callers get store_unavailable")
  void undeployReleasesAddresses(Vertx vertx, VertxTestContext ctx) {
    vertx.undeploy(deploymentId)
      .compose(v -> client.heads(List.of(topic("x"))))
      .onComplete(ctx.failing(t -> ctx.verify(() -> {
        assertThat(HeraldException.from(t).code()).isEqualTo(ErrorCode.STORE_UNAVAILABLE);
        ctx.completeNow();
      })));
  }

  /** Waits for {@code ctx} to complete, then checks {@code after} on the test thread. */
  private static void awaitThen(VertxTestContext ctx, Runnable after) {
    try {
      assertThat(ctx.awaitCompletion(10, TimeUnit.SECONDS)).as("test completed in time").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    if (ctx.failed()) {
      throw new AssertionError(ctx.causeOfFailure());
    }
    after.run();
  }
}
