package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The contract on {@link RedisReplayStore} against a real Redis ({@value #DEFAULT_URL}, or
 * the {@code HERALD_TEST_REDIS_URL} environment variable), plus what only a shared Redis
 * promises: two stores on two connections number one topic without holes or duplicates, and a
 * Redis that lost its data gives a new epoch. Each store gets its own key prefix, whose keys
 * are deleted after the test. An unreachable Redis fails every test (it is never skipped).
 * The store takes the test's fake clock, so the age tests run too.
 */
class RedisReplayStoreTest extends ReplayStoreContractTest {

  static final String DEFAULT_URL = "redis://127.0.0.1:6379";
  static final String URL = System.getenv().getOrDefault("HERALD_TEST_REDIS_URL", DEFAULT_URL);

  private Redis admin;
  private final List<String> prefixes = new ArrayList<>();

  @BeforeEach
  void connectAdmin(Vertx vertx) {
    admin = Redis.createClient(vertx, URL);
    try {
      call(admin.send(Request.cmd(Command.PING)));
    } catch (Throwable t) {
      fail("Redis is not reachable at " + URL + " (start it, or set HERALD_TEST_REDIS_URL): " + t, t);
    }
  }

  @AfterEach
  void deleteKeys() {
    try {
      deleteKeysOfPrefixes();
    } finally {
      prefixes.clear();
      call(admin.close());
    }
  }

  /** Deletes every key of the prefixes this test used (SCAN MATCH prefix* + DEL). */
  private void deleteKeysOfPrefixes() {
    for (String prefix : prefixes) {
      String cursor = "0";
      do {
        Response r = call(admin.send(Request.cmd(Command.SCAN).arg(cursor).arg("MATCH").arg(prefix + "*").arg("COUNT").arg(1000)));
        cursor = r.get(0).toString();
        List<String> keys = new ArrayList<>();
        r.get(1).forEach(k -> keys.add(k.toString()));
        if (!keys.isEmpty()) {
          Request del = Request.cmd(Command.DEL);
          keys.forEach(del::arg);
          call(admin.send(del));
        }
      } while (!cursor.equals("0"));
    }
  }

  @Override
  protected ReplayStore createStore(ReplayOptions options, LongSupplier clock) {
    return new RedisReplayStore(vertx, options, URL, newPrefix(), clock);
  }

  @Override
  protected ReplayStore createSharingStore(ReplayStore first, ReplayOptions options, LongSupplier clock) {
    return new RedisReplayStore(vertx, options, URL, ((RedisReplayStore) first).keyPrefix(), clock);
  }

  @Override
  protected boolean holdsState(ReplayStore store, String topic) {
    // SCAN MATCH is a glob: a topic's [ ] ? are escaped to match themselves.
    String cursor = "0";
    do {
      Response r = call(admin.send(Request.cmd(Command.SCAN).arg(cursor).arg("MATCH").arg("herald-test:*:" + topic.replaceAll("([*?\\[\\]\\\\])", "\\\\$1")).arg("COUNT").arg(1000)));
      cursor = r.get(0).toString();
      if (r.get(1).size() > 0) {
        return true;
      }
    } while (!cursor.equals("0"));
    return false;
  }

  private String newPrefix() {
    String prefix = "herald-test:" + UUID.randomUUID() + ":";
    prefixes.add(prefix);
    return prefix;
  }

  private static <T> T call(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  @DisplayName("the store names itself redis and keeps its epoch and history across store instances on the same keys")
  void nameAndRestart() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions();
    RedisReplayStore first = onContext(() -> new RedisReplayStore(vertx, options, URL, prefix, this::now));
    String t = topic("restart");
    List<Event> stored = appendMany(first, t, 3);
    await(first::close);

    RedisReplayStore second = onContext(() -> new RedisReplayStore(vertx, options, URL, prefix, this::now));
    try {
      assertThat(second.name()).isEqualTo("redis");
      assertThat(stored.get(0).epoch()).matches("[A-Za-z0-9]{8}");
      assertThat(head(second, t)).isEqualTo(stored.get(2).position());
      assertThat(readAll(second, t, new Position(stored.get(0).epoch(), 0))).containsExactlyElementsOf(stored);
    } finally {
      await(second::close);
    }
  }

  @Test
  @DisplayName("when Redis loses the store's data a new epoch appears and old positions get a reset")
  void dataLossChangesEpoch() {
    ReplayStore s = newStore();
    String t = topic("lost");
    List<Event> stored = appendMany(s, t, 3);
    deleteKeysOfPrefixes();

    Position head = head(s, t);
    assertThat(head.seq()).isZero();
    assertThat(head.epoch()).isNotEqualTo(stored.get(0).epoch());
    assertReset(read(s, t, stored.get(2).position(), 100), head);
    assertReset(read(s, t, new Position(stored.get(0).epoch(), 0), 100), head);
    assertThat(append(s, draft(t, "again")).get(0).position()).isEqualTo(new Position(head.epoch(), 1));
  }

  @Test
  @DisplayName("an unreachable Redis fails init and store calls with a message naming its address")
  void unreachable() {
    RedisReplayStore s = onContext(() -> new RedisReplayStore(vertx, new ReplayOptions(), "redis://127.0.0.1:1", newPrefix(), this::now));
    try {
      assertThatThrownBy(() -> await(s::init)).hasMessageContaining("redis://127.0.0.1:1");
      assertThatThrownBy(() -> head(s, topic("x"))).hasMessageContaining("redis://127.0.0.1:1");
    } finally {
      await(s::close);
    }
  }

  @Test
  @DisplayName("concurrent appends from two stores on two connections to one topic get seqs 1..N without duplicates or holes")
  void concurrentAppendsFromTwoStores() {
    String prefix = newPrefix();
    ReplayOptions options = new ReplayOptions(new JsonObject().put("maxEventsPerTopic", 10_000));
    RedisReplayStore one = onContext(() -> new RedisReplayStore(vertx, options, URL, prefix, this::now));
    RedisReplayStore two = onContext(() -> new RedisReplayStore(vertx, options, URL, prefix, this::now));
    try {
      String t = topic("race");
      int perStore = 100;
      List<List<Event>> results = await(() -> {
        List<Future<List<Event>>> fs = new ArrayList<>();
        for (int i = 0; i < perStore; i++) {
          fs.add(one.append(List.of(draft(t, "one-" + i), draft(t, "one-" + i + "b"))));
          fs.add(two.append(List.of(draft(t, "two-" + i), draft(t, "two-" + i + "b"))));
        }
        return Future.all(fs).map(c -> c.<List<Event>>list());
      });

      List<Event> all = new ArrayList<>();
      for (List<Event> pair : results) {
        assertThat(pair.get(1).seq()).as("one call's events of a topic are consecutive").isEqualTo(pair.get(0).seq() + 1);
        all.addAll(pair);
      }
      Set<Long> seqs = new HashSet<>();
      all.forEach(e -> seqs.add(e.seq()));
      int n = 4 * perStore;
      assertThat(seqs).hasSize(n).containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, n).boxed().toList());
      assertThat(all).extracting(Event::epoch).containsOnly(all.get(0).epoch());
      List<Event> read = readAll(two, t, new Position(all.get(0).epoch(), 0));
      assertThat(read).extracting(Event::seq).containsExactlyElementsOf(LongStream.rangeClosed(1, n).boxed().toList());
      assertThat(read).containsExactlyInAnyOrderElementsOf(all);
      ReadResult r = read(one, t, new Position(all.get(0).epoch(), n), 10);
      assertThat(r.reset()).isFalse();
      assertThat(r.events()).isEmpty();
    } finally {
      await(one::close);
      await(two::close);
    }
  }

  @Test
  @DisplayName("a skip (the guard's hole after an outage) also takes a log position without an entry: a log read across it gets a reset")
  void skipLeavesLogHole() {
    RedisReplayStore s = (RedisReplayStore) newStore();
    String t = topic("t");
    Position before = append(s, draft(t, "a"), draft(t, "b")).get(1).log();
    await(() -> s.skip(List.of(t)));
    Event after = append(s, draft(t, "c")).get(0);
    assertThat(after.log()).isEqualTo(new Position(before.epoch(), before.seq() + 2));
    assertThat(logHead(s)).isEqualTo(after.log());
    assertLogReset(readLog(s, before, x -> x.equals("nothing"), 10), after.log());
    assertThat(readLog(s, new Position(before.epoch(), before.seq() + 1), x -> true, 10).events()).containsExactly(after);
  }
}
