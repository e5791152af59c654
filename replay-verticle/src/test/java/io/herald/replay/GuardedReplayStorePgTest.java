package io.herald.replay;

import io.herald.common.Breakers;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import io.herald.common.testing.PostgresServerProcess;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The PostgreSQL replay store during outages, against a private PostgreSQL the test kills and
 * starts again: a resume from before an outage gets a reset after it.
 */
@ExtendWith(VertxExtension.class)
class GuardedReplayStorePgTest {

  private static final int STORE_TIMEOUT_MILLIS = 400;
  private static final String PREFIX = "herald_";

  private Vertx vertx;
  private Context context;
  private PostgresServerProcess pg;
  private final ReplayOptions options = new ReplayOptions(new JsonObject().put("storeTimeoutMillis", STORE_TIMEOUT_MILLIS));

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    pg = new PostgresServerProcess().start();
  }

  @AfterEach
  void tearDown() {
    pg.close();
  }

  @Test
  @DisplayName("after a PostgreSQL outage, a resume from before it gets reset in every topic that had outage events, new topics included")
  void resumeFromBeforeOutageResets() throws Exception {
    GuardedReplayStore store = guarded();
    try {
      List<Event> durable = on(() -> store.appendReporting(List.of(draft("t", "d1"), draft("t", "d2"), draft("u", "u1")))).stored();
      Position lastDurable = durable.get(1).position();
      Position beforeNew = on(() -> store.head("n"));

      pg.kill();
      // No connection can be made: the append certainly stored nothing and goes to the outage store.
      List<Event> outage = on(() -> store.appendReporting(List.of(draft("t", "o1"), draft("n", "n1")))).stored();
      assertThat(store.degraded()).isTrue();
      assertThat(outage.get(0).epoch()).isNotEqualTo(lastDurable.epoch());
      pg.restart();

      List<Event> back = null;
      long deadline = System.nanoTime() + Duration.ofMillis(Breakers.RESET_TIMEOUT_MILLIS * 4).toNanos();
      while (back == null && System.nanoTime() < deadline) {
        AppendResult r = on(() -> store.appendReporting(List.of(draft("t", "x"), draft("n", "n2")))
          .recover(t -> Future.succeededFuture(null)));
        if (r != null && r.stored().get(0).epoch().equals(lastDurable.epoch())) {
          back = r.stored();
        } else {
          Thread.sleep(200);
        }
      }
      assertThat(back).as("appends went back to PostgreSQL").isNotNull();
      assertThat(store.degraded()).isFalse();
      assertThat(on(() -> store.read("t", lastDurable, 100)).reset()).as("a resume of t from before the outage gets reset").isTrue();
      assertThat(on(() -> store.read("n", beforeNew, 100)).reset()).as("a resume of n from before the outage gets reset").isTrue();
      // Seq 3 of t and seq 1 of n are the holes left where the outage events went.
      assertThat(back.get(0).position()).isEqualTo(new Position(lastDurable.epoch(), 4));
      assertThat(back.get(1).position()).isEqualTo(new Position(beforeNew.epoch(), 2));
      Position firstBack = back.get(0).position();
      on(() -> store.appendReporting(List.of(draft("t", "y"))));
      ReadResult after = on(() -> store.read("t", firstBack, 100));
      assertThat(after.reset()).isFalse();
      assertThat(after.events()).extracting(Event::data).containsExactly("y");
      // u had no outage event: its durable history simply goes on.
      Event u2 = on(() -> store.appendReporting(List.of(draft("u", "u2")))).stored().get(0);
      assertThat(u2.position()).isEqualTo(new Position(lastDurable.epoch(), 2));
      ReadResult uHistory = on(() -> store.read("u", durable.get(2).position(), 100));
      assertThat(uHistory.reset()).isFalse();
      assertThat(uHistory.events()).extracting(Event::data).containsExactly("u2");
    } finally {
      on(store::close);
    }
  }

  private GuardedReplayStore guarded() {
    return on(() -> {
      GuardedReplayStore s = new GuardedReplayStore(vertx, options, new PgReplayStore(vertx, options, pg.url(), PREFIX));
      return s.init().map(s);
    });
  }

  private static EventDraft draft(String topic, String data) {
    return new EventDraft(topic, Event.DEFAULT_TYPE, data, false, null);
  }

  private <T> Future<T> onContext(Supplier<Future<T>> op) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> op.get().onComplete(p));
    return p.future();
  }

  private <T> T on(Supplier<Future<T>> op) {
    return await(onContext(op));
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
