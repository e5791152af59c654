package io.herald.common.replay;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The head reads a subscription opens with survive the event bus failing them for a moment (no
 * handler yet, as in a cluster re-forming after a member was killed), on a real event bus: the
 * replay role's handler shows up only when the client asks a second time.
 */
class ReplayClientRetryTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Counts the requests sent to {@code address}; the replay handler registers on the {@code nth}. */
  private AtomicInteger handlerFrom(String address, int nth, JsonObject answer) {
    AtomicInteger sent = new AtomicInteger();
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      if (address.equals(ctx.message().address()) && sent.incrementAndGet() == nth) {
        vertx.eventBus().<JsonObject>consumer(address, msg -> msg.reply(answer));
      }
      ctx.next();
    });
    return sent;
  }

  @Test
  @DisplayName("logHead: no handler at first, answered on a later attempt")
  void logHeadRetriesNoHandlers() throws Exception {
    AtomicInteger sent = handlerFrom(Addresses.REPLAY_LOG_HEAD, 3,
      new JsonObject().put("head", new JsonObject().put("epoch", "ep").put("seq", 41L)));
    ReplayClient client = new ReplayClient(vertx, 5000);

    Position head = client.logHead().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

    assertThat(head).isEqualTo(new Position("ep", 41));
    assertThat(sent.get()).as("two refused attempts, then the answered one").isEqualTo(3);
  }

  @Test
  @DisplayName("heads: no handler at first, answered on a later attempt")
  void headsRetryNoHandlers() throws Exception {
    AtomicInteger sent = handlerFrom(Addresses.REPLAY_HEAD, 2, new JsonObject()
      .put("heads", new JsonObject().put("t", new JsonObject().put("epoch", "ep").put("seq", 7L))));
    ReplayClient client = new ReplayClient(vertx, 5000);

    Map<String, Position> heads = client.heads(List.of("t")).toCompletionStage().toCompletableFuture()
      .get(30, TimeUnit.SECONDS);

    assertThat(heads).containsExactly(Map.entry("t", new Position("ep", 7)));
    assertThat(sent.get()).isEqualTo(2);
  }

  @Test
  @DisplayName("The replay role's own refusal is not retried; a replay role that never comes fails within the bound")
  void storeAnswersAndAbsenceAreNotRetriedForever() throws Exception {
    AtomicInteger sent = new AtomicInteger();
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      if (Addresses.REPLAY_HEAD.equals(ctx.message().address())) {
        sent.incrementAndGet();
      }
      ctx.next();
    });
    vertx.eventBus().<JsonObject>consumer(Addresses.REPLAY_HEAD,
      msg -> msg.fail(503, new HeraldException(ErrorCode.STORE_UNAVAILABLE, "breaker open").toJson().encode()));
    ReplayClient client = new ReplayClient(vertx, 5000);

    assertThatThrownBy(() -> client.heads(List.of("t")).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS))
      .isInstanceOf(ExecutionException.class).cause().isInstanceOf(HeraldException.class)
      .hasMessageContaining("breaker open");
    assertThat(sent.get()).as("a store's answer is final").isEqualTo(1);

    // Nobody listens on the log head at all: the read gives up (within twice its 200 ms timeout).
    ReplayClient shortClient = new ReplayClient(vertx, 200);
    assertThatThrownBy(() -> shortClient.logHead().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS))
      .isInstanceOf(ExecutionException.class).cause().isInstanceOf(HeraldException.class)
      .satisfies(e -> assertThat(((HeraldException) e).code()).isEqualTo(ErrorCode.STORE_UNAVAILABLE));
  }
}
