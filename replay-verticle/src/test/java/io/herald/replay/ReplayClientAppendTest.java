package io.herald.replay;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.replay.ReplayClient;
import io.herald.common.tracing.TraceContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Appends asked of a replay role in the same process from the client's own context (as the
 * notifier asks, from its HTTP requests' contexts) carry their answer instead of being event-bus
 * requests: no reply consumer per append. They must answer, fail and time out exactly as the
 * requests do, which the client still sends from any other context: both are driven here on a
 * real Vert.x with the real replay verticle (in-memory store).
 */
class ReplayClientAppendTest {

  private static final long TIMEOUT_MILLIS = 300;

  private final Vertx vertx = Vertx.vertx();
  /** The reply address of every append sent, "" when it had none. */
  private final List<String> replyAddresses = new CopyOnWriteArrayList<>();
  private final Context own = vertx.getOrCreateContext();
  private ReplayClient client;

  ReplayClientAppendTest() throws Exception {
    EventCodec.register(vertx); // as every role does when it starts
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      if (Addresses.REPLAY_APPEND.equals(ctx.message().address())) {
        replyAddresses.add(ctx.message().replyAddress() == null ? "" : ctx.message().replyAddress());
      }
      ctx.next();
    });
    client = on(own, () -> Future.succeededFuture(new ReplayClient(vertx, TIMEOUT_MILLIS)));
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Runs {@code call} on {@code context} and waits for its future. */
  private static <T> T on(Context context, Supplier<Future<T>> call) throws Exception {
    CompletableFuture<T> out = new CompletableFuture<>();
    context.runOnContext(v -> call.get().onComplete(ar -> {
      if (ar.succeeded()) {
        out.complete(ar.result());
      } else {
        out.completeExceptionally(ar.cause());
      }
    }));
    try {
      return out.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception c ? c : e;
    }
  }

  private void deployReplay() throws Exception {
    vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())).toCompletionStage().toCompletableFuture()
      .get(10, TimeUnit.SECONDS);
  }

  private static EventDraft draft(String topic, String data) {
    return new EventDraft(topic, "message", data, false, null);
  }

  /** The failure of {@code call} on {@code context}, as a {@link HeraldException}. */
  private static HeraldException failure(Context context, Supplier<Future<List<Event>>> call) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> on(context, call));
    assertThat(t).isInstanceOf(HeraldException.class);
    return (HeraldException) t;
  }

  @Test
  @DisplayName("from a duplicate of its own context: stored events back on that context, no reply consumer, the trace passed on")
  void ownContextCarriesItsAnswer() throws Exception {
    deployReplay();
    List<String> seen = new CopyOnWriteArrayList<>();
    vertx.eventBus().<Event>consumer(Addresses.topic("carried"), msg -> seen.add(msg.body().data() + " " + msg.body().trace()));
    Context request = ((ContextInternal) own).duplicate();
    TraceContext trace = new TraceContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "k=v");
    List<Object> where = new CopyOnWriteArrayList<>();

    List<Event> events = on(request, () -> client.append(List.of(draft("carried", "a"), draft("carried", "b")), trace)
      .onSuccess(e -> where.add(Vertx.currentContext())));

    assertThat(events).extracting(Event::seq, Event::data)
      .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, "a"), org.assertj.core.groups.Tuple.tuple(2L, "b"));
    assertThat(where).as("the answer's listeners run on the asking context").containsExactly(request);
    assertThat(replyAddresses).as("sent, not requested").containsExactly("");
    await(() -> seen.size() == 2);
    assertThat(seen).containsExactly("a " + trace, "b " + trace);
  }

  @Test
  @DisplayName("from any other context or thread: an event-bus request, with the same answer")
  void otherContextsRequest() throws Exception {
    deployReplay();
    List<Event> there = on(vertx.getOrCreateContext(), () -> client.append(List.of(draft("elsewhere", "a"))));
    List<Event> here = on(own, () -> client.append(List.of(draft("elsewhere", "b"))));

    assertThat(there).extracting(Event::seq).containsExactly(1L);
    assertThat(here).extracting(Event::seq).containsExactly(2L);
    assertThat(replyAddresses).hasSize(2);
    assertThat(replyAddresses.get(0)).as("the other context's append is a request").isNotEmpty();
    assertThat(replyAddresses.get(1)).isEmpty();
  }

  @Test
  @DisplayName("the replay role's refusal comes back as from a request: same code, same message")
  void refusalIsTheSame() throws Exception {
    deployReplay();
    List<EventDraft> bad = List.of(draft("bad topic", "x"));

    HeraldException carried = failure(own, () -> client.append(bad));
    HeraldException requested = failure(vertx.getOrCreateContext(), () -> client.append(bad));

    assertThat(carried.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
    assertThat(carried.code()).isEqualTo(requested.code());
    assertThat(carried.getMessage()).isEqualTo(requested.getMessage());
    assertThat(replyAddresses).hasSize(2);
  }

  @Test
  @DisplayName("no replay role: store_unavailable at once, as from a request")
  void noReplayRole() {
    HeraldException carried = failure(own, () -> client.append(List.of(draft("t", "x"))));
    HeraldException requested = failure(vertx.getOrCreateContext(), () -> client.append(List.of(draft("t", "x"))));

    assertThat(carried.code()).isEqualTo(ErrorCode.STORE_UNAVAILABLE);
    assertThat(requested.code()).isEqualTo(ErrorCode.STORE_UNAVAILABLE);
  }

  @Test
  @DisplayName("a replay role that never answers: timeout, with the request's message, and a late answer changes nothing")
  void noAnswerTimesOut() throws Exception {
    List<io.vertx.core.eventbus.Message<Object>> held = new CopyOnWriteArrayList<>();
    vertx.eventBus().consumer(Addresses.REPLAY_APPEND, held::add);

    HeraldException carried = failure(own, () -> client.append(List.of(draft("t", "x"))));
    HeraldException requested = failure(vertx.getOrCreateContext(), () -> client.append(List.of(draft("t", "y"))));

    assertThat(carried.code()).isEqualTo(ErrorCode.TIMEOUT);
    assertThat(carried.getMessage()).isEqualTo(requested.getMessage())
      .isEqualTo("no answer from " + Addresses.REPLAY_APPEND + " within " + TIMEOUT_MILLIS + " ms");
    assertThat(held).hasSize(2);
    // The held request answers now: nothing to complete any more, nothing thrown.
    on(own, () -> {
      ((io.herald.common.replay.LocalAppend.Request) held.get(0).body()).succeed(held.get(0), List.of());
      return Future.succeededFuture();
    });
  }

  @Test
  @DisplayName("many appends at once from the own context: each gets its own answer, none times out")
  void manyAtOnce() throws Exception {
    deployReplay();
    int n = 500;
    List<Long> seqs = on(own, () -> {
      List<Future<List<Event>>> all = new java.util.ArrayList<>();
      for (int i = 0; i < n; i++) {
        all.add(client.append(List.of(draft("many", "e" + i))));
      }
      return Future.all(all).map(cf -> {
        List<Long> out = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
          List<Event> events = cf.resultAt(i);
          assertThat(events.get(0).data()).isEqualTo("e" + i);
          out.add(events.get(0).seq());
        }
        return out;
      });
    });
    assertThat(seqs).hasSize(n).doesNotHaveDuplicates();
    assertThat(replyAddresses).hasSize(n).containsOnly("");
  }

  @Test
  @DisplayName("answers are taken in the order they were given, even one given before its caller listens")
  void answersInOrder() throws Exception {
    deployReplay(); // on an event loop of its own: it answers from its thread while the client's is busy
    List<Long> taken = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> both = new CompletableFuture<>();
    Context request = ((ContextInternal) own).duplicate();
    // Two tasks queued at once on the client's loop, as two frames of a pipelining producer are:
    // the first asks and listens; the second asks, and listens only once its answer is surely
    // given, after the first's.
    own.runOnContext(v -> request.runOnContext(w -> client.append(List.of(draft("ordered", "1")))
      .onSuccess(e -> taken.add(e.get(0).seq()))));
    own.runOnContext(v -> request.runOnContext(w -> {
      Future<List<Event>> second = client.append(List.of(draft("ordered", "2")));
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
      second.onSuccess(e -> {
        taken.add(e.get(0).seq());
        both.complete(null);
      });
    }));
    both.get(10, TimeUnit.SECONDS);
    await(() -> taken.size() == 2);
    assertThat(taken).containsExactly(1L, 2L);
  }

  private static void await(Supplier<Boolean> condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.get() && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertThat(condition.get()).isTrue();
  }
}
