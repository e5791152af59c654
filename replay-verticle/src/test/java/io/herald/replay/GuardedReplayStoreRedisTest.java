package io.herald.replay;

import io.herald.common.Breakers;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import io.herald.testsupport.Await;
import io.herald.testsupport.RedisServerProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Redis replay store during outages, against a private Redis the test pauses (SIGSTOP) and
 * resumes: an append lands in exactly one place, and the first event of a topic in a new epoch
 * says where the topic stood in the epoch before.
 */
@ExtendWith(VertxExtension.class)
class GuardedReplayStoreRedisTest extends OnContextCalls {

  private static final int STORE_TIMEOUT_MILLIS = 400;
  private static final String PREFIX = "herald:";

  private Vertx vertx;
  private RedisServerProcess redis;
  private Redis admin;
  private final ReplayOptions options = new ReplayOptions(new JsonObject().put("storeTimeoutMillis", STORE_TIMEOUT_MILLIS));

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    redis = new RedisServerProcess().start();
    admin = Redis.createClient(vertx, redis.url());
  }

  @AfterEach
  void tearDown() {
    try {
      redis.close();
    } finally {
      admin.close();
    }
  }

  @Test
  @DisplayName("an append that times out while Redis is paused fails with store_unavailable and is not stored when Redis runs it late")
  void pausedAppendLandsInOnePlace() throws Exception {
    GuardedReplayStore store = on(() -> {
      GuardedReplayStore s = new GuardedReplayStore(vertx, options, new RedisReplayStore(vertx, options, redis.url(), PREFIX));
      return s.init().map(s);
    });
    try {
      Event first = on(() -> store.appendReporting(List.of(draft("t", "before")))).events().get(0);
      long scriptsRun = scriptCalls();

      redis.pause();
      Throwable failure;
      try {
        failure = onFailure(() -> store.appendReporting(List.of(draft("t", "during"))));
      } finally {
        redis.resume();
      }
      assertThat(failure).as("an append whose fate is unknown is refused, not taken elsewhere")
        .isInstanceOf(HeraldException.class);
      assertThat(((HeraldException) failure).code()).isEqualTo(ErrorCode.STORE_UNAVAILABLE);
      assertThat(store.degraded()).as("nothing went to the outage store").isFalse();

      // Redis runs the queued append once it is resumed: wait until it has, then look.
      awaitScriptCalls(scriptsRun + 1);
      ReadResult history = on(() -> store.read("t", new Position(first.epoch(), 0), 100));
      assertThat(history.reset()).isFalse();
      assertThat(history.events()).extracting(Event::data).as("the late append did not land").containsExactly("before");

      Event next = on(() -> store.appendReporting(List.of(draft("t", "after")))).events().get(0);
      assertThat(next.position()).isEqualTo(new Position(first.epoch(), 2));
    } finally {
      on(store::close);
    }
  }

  @Test
  @DisplayName("a batch of heads comes from Redis in one call, and during an outage from the outage store, in its epoch, as single heads do")
  void headsAcrossOutage() throws Exception {
    GuardedReplayStore store = on(() -> {
      GuardedReplayStore s = new GuardedReplayStore(vertx, options, new RedisReplayStore(vertx, options, redis.url(), PREFIX));
      return s.init().map(s);
    });
    try {
      on(() -> store.appendReporting(List.of(draft("t", "d1"), draft("t", "d2"))));
      java.util.Map<String, Position> durable = on(() -> store.heads(List.of("t", "u")));
      assertThat(durable.get("t").seq()).isEqualTo(2);
      assertThat(durable.get("u")).isEqualTo(new Position(durable.get("t").epoch(), 0));
      redis.kill();
      // The first calls may fail on the pooled connection that was open; then heads come from
      // the outage store the failure started.
      java.util.Map<String, Position> outage = null;
      for (int i = 0; i < 20 && outage == null; i++) {
        outage = on(() -> store.heads(List.of("t", "u")).recover(t -> Future.succeededFuture(null)));
      }
      assertThat(outage).as("heads during the outage").isNotNull();
      assertThat(store.degraded()).isTrue();
      assertThat(outage.get("t").epoch()).isNotEqualTo(durable.get("t").epoch());
      assertThat(outage.get("t")).isEqualTo(on(() -> store.head("t")));
      assertThat(outage.get("u")).isEqualTo(on(() -> store.head("u")));
    } finally {
      on(store::close);
    }
  }

  @Test
  @DisplayName("during a Redis outage (Redis killed: appends go to the outage store) a durable log position cannot be read, and after it a log resume from before gets a reset")
  void logAcrossOutage() throws Exception {
    GuardedReplayStore store = on(() -> {
      GuardedReplayStore s = new GuardedReplayStore(vertx, options, new RedisReplayStore(vertx, options, redis.url(), PREFIX));
      return s.init().map(s);
    });
    try {
      Position durableLog = on(() -> store.appendReporting(List.of(draft("t", "d1"), draft("u", "d2")))).stored().get(1).log();
      assertThat(durableLog.seq()).isEqualTo(2);
      redis.kill();
      // The first call may fail on the pooled connection that was open (fate unknown to the
      // guard); once connections are refused, appends go to the outage store.
      Event outage = null;
      for (int i = 0; i < 20 && outage == null; i++) {
        AppendResult r = on(() -> store.appendReporting(List.of(draft("t", "o1"))).recover(t -> Future.succeededFuture(null)));
        outage = r == null ? null : r.stored().get(0);
      }
      assertThat(outage).isNotNull();
      assertThat(store.degraded()).isTrue();
      assertThat(outage.log().epoch()).isNotEqualTo(durableLog.epoch());
      assertThat(onFailure(() -> store.readLog(durableLog, t -> true, 10))).isNotNull();
      redis.restart();

      Event back = null;
      long deadline = System.nanoTime() + java.time.Duration.ofMillis(io.herald.common.Breakers.RESET_TIMEOUT_MILLIS * 4).toNanos();
      while (back == null) {
        awaitTrial(store, deadline);
        AppendResult r = on(() -> store.appendReporting(List.of(draft("u", "back")))
          .recover(t -> Future.succeededFuture(null)));
        if (r != null && !store.degraded()) {
          back = r.stored().get(0);
        }
      }
      assertThat(back).as("appends went back to Redis").isNotNull();
      // This test Redis does not persist: it came back empty, with a new store (and log) epoch.
      // The hole a skip leaves in the same epoch is checked in RedisReplayStoreTest.
      assertThat(on(() -> store.readLog(durableLog, t -> t.equals("u"), 10)).reset())
        .as("a log resume from before the outage gets a reset").isTrue();
    } finally {
      on(store::close);
    }
  }

  @Test
  @DisplayName("the Redis store refuses an append that Redis runs after its deadline, and stores nothing")
  void fenceRefusesLateAppend() throws Exception {
    RedisReplayStore store = on(() -> {
      RedisReplayStore s = new RedisReplayStore(vertx, options, redis.url(), PREFIX);
      return s.init().map(s);
    });
    try {
      Event first = on(() -> store.appendReporting(List.of(draft("t", "before")))).events().get(0);
      redis.pause();
      Future<AppendResult> late;
      try {
        late = onContext(() -> store.appendReporting(List.of(draft("t", "late"))));
        // Not before the deadline has passed: the point is that Redis runs the script after it.
        Thread.sleep(RedisReplayStore.fenceMillis(options) + 200);
      } finally {
        redis.resume();
      }
      Throwable failure = await(late.map(r -> (Throwable) null).recover(Future::succeededFuture));
      assertThat(failure).isInstanceOf(NotStoredException.class);
      assertThat(GuardedReplayStore.certainlyNotStored(failure)).isTrue();
      ReadResult history = on(() -> store.read("t", new Position(first.epoch(), 0), 100));
      assertThat(history.events()).extracting(Event::data).containsExactly("before");
    } finally {
      on(store::close);
    }
  }

  @Test
  @DisplayName("entering and leaving an outage, a topic's first event in the new epoch carries its last position in the epoch before, and a read from before the outage gets reset")
  void prevAcrossOutage() throws Exception {
    GuardedReplayStore store = on(() -> {
      GuardedReplayStore s = new GuardedReplayStore(vertx, options, new RedisReplayStore(vertx, options, redis.url(), PREFIX));
      return s.init().map(s);
    });
    try {
      List<Event> durable = on(() -> store.appendReporting(List.of(draft("t", "d1"), draft("t", "d2"), draft("u", "u1")))).stored();
      assertThat(durable).extracting(Event::prev).containsOnlyNulls();
      Position lastDurable = durable.get(1).position();

      redis.pause();
      List<Event> outage;
      try {
        // Appends time out (refused: their fate is unknown) until the breaker opens; then they
        // certainly do not reach Redis and go to the outage store.
        outage = null;
        for (int i = 0; i < 2 * Breakers.MAX_FAILURES && outage == null; i++) {
          AppendResult r = on(() -> store.appendReporting(List.of(draft("t", "o1"), draft("t", "o2")))
            .recover(t -> Future.succeededFuture(null)));
          outage = r == null ? null : r.stored();
        }
      } finally {
        redis.resume();
      }
      assertThat(outage).as("the breaker opened and appends went to the outage store").isNotNull();
      assertThat(store.degraded()).isTrue();
      assertThat(outage.get(0).epoch()).isNotEqualTo(lastDurable.epoch());
      assertThat(outage.get(0).seq()).isEqualTo(1);
      assertThat(outage.get(0).prev()).isEqualTo(lastDurable);
      assertThat(outage.get(1).prev()).isNull();

      // After the breaker's reset timeout a trial append reaches Redis again.
      Position lastOutage = outage.get(1).position();
      List<Event> back = null;
      long deadline = System.nanoTime() + Duration.ofMillis(Breakers.RESET_TIMEOUT_MILLIS * 4).toNanos();
      while (back == null) {
        awaitTrial(store, deadline);
        AppendResult r = on(() -> store.appendReporting(List.of(draft("t", "x"), draft("t", "y")))
          .recover(t -> Future.succeededFuture(null)));
        if (r != null && r.stored().get(0).epoch().equals(lastDurable.epoch())) {
          back = r.stored();
        } else {
          if (r != null) {
            lastOutage = r.stored().get(1).position();
          }
        }
      }
      assertThat(back).as("appends went back to Redis").isNotNull();
      assertThat(store.degraded()).isFalse();
      // Seq 3 is the hole left where the outage events went: a read from before cannot pass it.
      assertThat(back.get(0).position()).isEqualTo(new Position(lastDurable.epoch(), 4));
      assertThat(on(() -> store.read("t", lastDurable, 100)).reset()).as("a resume from before the outage gets reset").isTrue();
      Position firstBack = back.get(0).position();
      ReadResult after = on(() -> store.read("t", firstBack, 100));
      assertThat(after.reset()).isFalse();
      assertThat(after.events()).extracting(Event::data).containsExactly("y");
      assertThat(back.get(0).prev()).isEqualTo(lastOutage);
      assertThat(back.get(1).prev()).isNull();
      // u had no outage event: its durable history simply goes on.
      Event u2 = on(() -> store.appendReporting(List.of(draft("u", "u2")))).stored().get(0);
      assertThat(u2.position()).isEqualTo(new Position(lastDurable.epoch(), 2));
      assertThat(u2.prev()).isNull();
    } finally {
      on(store::close);
    }
  }


  /** EVALSHA calls Redis has run (INFO commandstats), on a connection of the test's own. */
  private long scriptCalls() {
    String info = await(admin.send(Request.cmd(Command.INFO).arg("commandstats"))).toString();
    Matcher m = Pattern.compile("cmdstat_evalsha:calls=(\\d+)").matcher(info);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  /**
   * Waits until the write breaker lets a call through (closed, or half-open after its reset
   * timeout) instead of retrying on a timer; fails past {@code deadline}.
   */
  static void awaitTrial(GuardedReplayStore store, long deadline) throws InterruptedException {
    assertThat(System.nanoTime()).as("appends back to the durable store before the deadline: %s", store.status()).isLessThan(deadline);
    Await.until(() -> "the write breaker let a call through: " + store.status(),
      () -> !"OPEN".equals(store.status().getJsonObject("breakers").getString(GuardedReplayStore.WRITE_BREAKER)),
      Duration.ofNanos(deadline - System.nanoTime()));
  }

  private void awaitScriptCalls(long atLeast) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (scriptCalls() < atLeast) {
      assertThat(System.nanoTime()).as("Redis ran the queued append within 10 s").isLessThan(deadline);
      Thread.sleep(20);
    }
  }
}
