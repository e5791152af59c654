package io.herald.replay;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayClient;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** The replay verticle over stores other than the default: one that fails, one without append reporting. */
@ExtendWith(VertxExtension.class)
class ReplayVerticleStoreTest {

  /** A store whose backend is down: every call fails, head even by throwing. */
  private static final class DownStore implements ReplayStore {
    @Override
    public String name() {
      return "down";
    }

    @Override
    public Future<List<Event>> append(List<EventDraft> drafts) {
      return Future.failedFuture(new IllegalStateException("connection refused"));
    }

    @Override
    public Future<ReadResult> read(String topic, Position after, int limit) {
      return Future.failedFuture(new IllegalStateException("connection refused"));
    }

    @Override
    public Future<Position> head(String topic) {
      throw new IllegalStateException("connection refused");
    }

    @Override
    public Future<Position> logHead() {
      return Future.failedFuture(new IllegalStateException("connection refused"));
    }

    @Override
    public Future<LogReadResult> readLog(Position after, Predicate<String> topicFilter, int limit) {
      throw new IllegalStateException("connection refused");
    }
  }

  /** Only the {@link ReplayStore} interface of a memory store. */
  private record PlainStore(ReplayStore delegate) implements ReplayStore {
    @Override
    public String name() {
      return "plain";
    }

    @Override
    public Future<List<Event>> append(List<EventDraft> drafts) {
      return delegate.append(drafts);
    }

    @Override
    public Future<ReadResult> read(String topic, Position after, int limit) {
      return delegate.read(topic, after, limit);
    }

    @Override
    public Future<Position> head(String topic) {
      return delegate.head(topic);
    }

    @Override
    public Future<Position> logHead() {
      return delegate.logHead();
    }

    @Override
    public Future<LogReadResult> readLog(Position after, Predicate<String> topicFilter, int limit) {
      return delegate.readLog(after, topicFilter, limit);
    }
  }

  @Test
  @DisplayName("store failures reach callers as store_unavailable with status 503, log head and log reads included")
  void storeFailures(Vertx vertx, VertxTestContext ctx) {
    ReplayClient client = new ReplayClient(vertx, 5000);
    Checkpoint three = ctx.checkpoint(5);
    vertx.deployVerticle(new ReplayVerticle(new ReplayOptions(), v -> new DownStore()))
      .onComplete(ctx.succeeding(id -> {
        List<Future<?>> calls = List.of(
          client.append(List.of(new EventDraft("t", "message", "x", false, null))),
          client.read("t", new Position("abc", 0), 10),
          client.heads(List.of("t", "u")),
          client.logHead(),
          client.readLog(new Position("abc", 0), List.of("t", "news.*"), 10));
        for (Future<?> call : calls) {
          call.onComplete(ctx.failing(t -> ctx.verify(() -> {
            assertThat(HeraldException.from(t).code()).isEqualTo(ErrorCode.STORE_UNAVAILABLE);
            three.flag();
          })));
        }
      }));
  }

  @Test
  @DisplayName("the raw reply failure of a store failure carries status 503 and the JSON error body")
  void storeFailureShape(Vertx vertx, VertxTestContext ctx) {
    vertx.deployVerticle(new ReplayVerticle(new ReplayOptions(), v -> new DownStore()))
      .compose(id -> vertx.eventBus().request(Addresses.REPLAY_HEAD, new JsonObject()
        .put("topics", new JsonArray().add("t"))))
      .onComplete(ctx.failing(t -> ctx.verify(() -> {
        ReplyException r = (ReplyException) t;
        assertThat(r.failureCode()).isEqualTo(503);
        assertThat(new JsonObject(r.getMessage()).getString("error")).isEqualTo("store_unavailable");
        ctx.completeNow();
      })));
  }

  @Test
  @DisplayName("over a store without append reporting, stored events are still published once each, in order")
  void plainStorePublishes(Vertx vertx, VertxTestContext ctx) {
    ReplayClient client = new ReplayClient(vertx, 5000);
    List<Long> seqs = new CopyOnWriteArrayList<>();
    var consumer = vertx.eventBus().<Event>consumer(Addresses.topic("plain"), msg -> seqs.add(msg.body().seq()));
    EventDraft keyed = new EventDraft("plain", "message", "k", false, "k");
    consumer.completion()
      .compose(v -> vertx.deployVerticle(new ReplayVerticle(new ReplayOptions(),
        v2 -> new PlainStore(new MemoryReplayStore(new ReplayOptions())))))
      .compose(id -> client.append(List.of(keyed, keyed, new EventDraft("plain", "message", "2", false, null))))
      .compose(v -> client.append(List.of(new EventDraft("plain", "message", "3", false, null))))
      // Deliveries are queued before the reply; a short grace lets a wrongly repeated one show.
      .onComplete(ctx.succeeding(v -> vertx.setTimer(200, t -> ctx.verify(() -> {
        assertThat(seqs).containsExactly(1L, 2L, 3L);
        ctx.completeNow();
      }))));
  }
}
