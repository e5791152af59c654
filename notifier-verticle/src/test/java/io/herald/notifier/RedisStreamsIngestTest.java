package io.herald.notifier;

import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.HeraldException;
import io.herald.common.replay.ReplayClient;
import io.herald.testsupport.RedisServerProcess;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;

import static io.herald.notifier.PgOutboxIngestTest.await;
import static io.herald.notifier.StoredEvents.readAll;
import static io.herald.notifier.PgOutboxIngestTest.waitUntil;
import static io.herald.notifier.RedisPubSubIngestTest.URL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Redis streams ingest against a real Redis (env {@code HERALD_TEST_REDIS_URL}, default
 * {@code redis://127.0.0.1:6379}; an unreachable Redis fails the tests) with the real replay
 * verticle behind a {@link Publisher}, plus one fault test on a private {@code redis-server}
 * that is killed with SIGKILL and started again. Streams have random names and are deleted
 * afterwards.
 */
@ExtendWith(VertxExtension.class)
class RedisStreamsIngestTest {

  private static final String GROUP = "herald";

  private Vertx vertx;
  private Publisher publisher;
  private ReplayClient replay;
  private Redis admin;
  private String replayDeployment;
  private final List<String> keys = new ArrayList<>();
  private final List<RedisStreamsIngest> ingests = new ArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    this.vertx = vertx;
    EventCodec.register(vertx);
    replayDeployment = await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    replay = new ReplayClient(vertx, 5000);
    publisher = new Publisher(new PublishParser(new NotifierOptions(new JsonObject())), replay);
    admin = Redis.createClient(vertx, URL);
    try {
      await(admin.send(Request.cmd(Command.PING)));
    } catch (Exception e) {
      fail("Redis is not reachable at " + URL + " (start it, or set HERALD_TEST_REDIS_URL): " + e, e);
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    for (RedisStreamsIngest i : ingests) {
      await(i.stop());
    }
    if (!keys.isEmpty()) {
      Request del = Request.cmd(Command.DEL);
      keys.forEach(k -> del.arg(k).arg(k + RedisStreamsIngest.DEAD_LETTER_SUFFIX));
      await(admin.send(del));
    }
    await(admin.close());
  }

  @Test
  @DisplayName("Entries are delivered in stream order, once, with the stream entry as idempotency key, and acknowledged")
  void inOrder() throws Exception {
    String s = stream();
    RedisStreamsIngest ingest = ingest(s, 30_000);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "connected");
    long t0 = System.nanoTime();
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 200; i++) {
      ids.add(xadd(admin, s, "topic", "ordered", "type", "n", "data", "{\"i\":" + i + "}"));
    }
    xadd(admin, s, "event", "{\"topics\":[\"ordered\",\"other\"],\"type\":\"both\",\"data\":\"text\"}");
    xadd(admin, s, "topic", "other", "data", "plain", "id", "my-key", "extra", "ignored");
    List<Event> got = StoredEvents.waitForEvents(replay, "ordered", 201, 10_000);
    System.out.println("[measure] 202 stream entries stored " + (System.nanoTime() - t0) / 1_000_000 + " ms after the first XADD");
    assertThat(got.subList(0, 200)).extracting(e -> new JsonObject(e.data()).getInteger("i"))
      .containsExactlyElementsOf(IntStream.rangeClosed(1, 200).boxed().toList());
    assertThat(got.get(0).key()).isEqualTo(s + ":" + ids.get(0));
    assertThat(got.get(200).type()).isEqualTo("both");
    List<Event> other = StoredEvents.waitForEvents(replay, "other", 2, 5000);
    assertThat(other).extracting(Event::data).containsExactly("text", "plain");
    assertThat(other.get(1).key()).isEqualTo("my-key");
    assertThat(other.get(1).type()).isEqualTo("message");
    waitUntil(() -> pending(admin, s) == 0, 5000, "all acknowledged");
    assertThat(ingest.status().getLong("published")).isEqualTo(202);
  }

  @Test
  @DisplayName("Entries keep their JSON data digit for digit; one that is not UTF-8 or holds a lone surrogate is dead-lettered, not altered")
  void exactData() throws Exception {
    String s = stream();
    RedisStreamsIngest ingest = ingest(s, 30_000);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "connected");
    for (String v : ExactValues.VALUES) {
      xadd(admin, s, "event", "{\"topic\":\"exact\",\"data\":" + v + "}");
    }
    xadd(admin, s, "topic", "exact", "data", "{\"n\":" + ExactValues.PI + ",\"m\":-0}");
    await(admin.send(Request.cmd(Command.XADD).arg(s).arg("*").arg("topic").arg("exact").arg("data")
      .arg(new byte[] {'c', 'a', 'f', (byte) 0xe9})));
    xadd(admin, s, "topic", "exact", "data", "[\"\\udc00\"]");
    xadd(admin, s, "topic", "exact", "data", "marker");
    List<Event> got = StoredEvents.waitForEvents(replay, "exact", ExactValues.VALUES.size() + 2, 10_000);
    List<String> expected = new ArrayList<>(ExactValues.VALUES);
    expected.add("{\"n\":" + ExactValues.PI + ",\"m\":-0}");
    expected.add("marker");
    assertThat(got).extracting(Event::data).containsExactlyElementsOf(expected);
    waitUntil(() -> ingest.status().getLong("rejected") == 2, 5000, "2 rejected");
  }

  @Test
  @DisplayName("While the store is unavailable the entry stays pending; when it is back the entry is delivered and acknowledged")
  void ackOnlyAfterStored() throws Exception {
    String s = stream();
    RedisStreamsIngest ingest = ingest(s, 30_000);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "connected");
    await(vertx.undeploy(replayDeployment));

    xadd(admin, s, "topic", "held", "data", "1");
    xadd(admin, s, "topic", "held", "data", "2");
    waitUntil(() -> ingest.status().getLong("failed") >= 3, 5000, "publishes failing and retried");
    // The first entry is retried before anything newer is read, so the second may not be read yet.
    assertThat(pending(admin, s)).isBetween(1L, 2L);
    assertThat(ingest.status().getLong("published")).isZero();

    replayDeployment = await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    List<Event> got = StoredEvents.waitForEvents(replay, "held", 2, 10_000);
    assertThat(got).extracting(Event::data).containsExactly("1", "2");
    waitUntil(() -> pending(admin, s) == 0, 5000, "acknowledged");
  }

  @Test
  @DisplayName("Entries a crashed consumer read and never acknowledged are taken over and delivered once")
  void reclaim() throws Exception {
    String s = stream();
    await(admin.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(s).arg(GROUP).arg("$").arg("MKSTREAM")));
    for (int i = 1; i <= 3; i++) {
      xadd(admin, s, "topic", "orphans", "data", String.valueOf(i));
    }
    Response read = await(admin.send(Request.cmd(Command.XREADGROUP).arg("GROUP").arg(GROUP).arg("crashed")
      .arg("COUNT").arg(10).arg("STREAMS").arg(s).arg(">")));
    assertThat(read).isNotNull();
    assertThat(pending(admin, s)).isEqualTo(3);

    RedisStreamsIngest ingest = ingest(s, 300);
    await(ingest.start());
    List<Event> got = StoredEvents.waitForEvents(replay, "orphans", 3, 10_000);
    assertThat(got).extracting(Event::data).containsExactly("1", "2", "3");
    waitUntil(() -> pending(admin, s) == 0, 5000, "acknowledged");
    assertThat(ingest.status().getLong("claimed")).isEqualTo(3);
    // Delivered once: an entry added after them comes fourth, with nothing in between.
    xadd(admin, s, "topic", "orphans", "data", "4");
    assertThat(StoredEvents.waitForEvents(replay, "orphans", 4, 10_000)).extracting(Event::data).containsExactly("1", "2", "3", "4");
  }

  @Test
  @DisplayName("A bad entry is acknowledged, copied to the dead-letter stream with its error, and the entries behind it flow")
  void deadLetter() throws Exception {
    String s = stream();
    RedisStreamsIngest ingest = ingest(s, 30_000);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "connected");
    String bad1 = xadd(admin, s, "topic", "bad topic", "data", "x");
    String bad2 = xadd(admin, s, "event", "{not json");
    xadd(admin, s, "data", "no topic");
    xadd(admin, s, "topic", "fine", "data", "ok");

    assertThat(StoredEvents.waitForEvents(replay, "fine", 1, 10_000).get(0).data()).isEqualTo("ok");
    waitUntil(() -> pending(admin, s) == 0, 5000, "acknowledged");
    assertThat(ingest.status().getLong("rejected")).isEqualTo(3);
    Response dead = await(admin.send(Request.cmd(Command.XRANGE).arg(s + RedisStreamsIngest.DEAD_LETTER_SUFFIX).arg("-").arg("+")));
    assertThat(dead.size()).isEqualTo(3);
    Map<String, String> first = fields(dead.get(0).get(1));
    assertThat(first).containsEntry("topic", "bad topic").containsEntry("error", "invalid_topic")
      .containsEntry("stream", s).containsEntry("entry_id", bad1);
    Map<String, String> second = fields(dead.get(1).get(1));
    assertThat(second).containsEntry("error", "malformed_json").containsEntry("entry_id", bad2);
    assertThat(fields(dead.get(2).get(1))).containsEntry("error", "invalid_request");
  }

  @Test
  @DisplayName("An entry delivered again (stored, then the notifier failed before XACK) is stored once")
  void redeliveredStoredOnce() throws Exception {
    String s = stream();
    AtomicInteger calls = new AtomicInteger();
    // The first publish stores the event, then fails as if the notifier died before acknowledging.
    Function<JsonObject, Future<JsonObject>> flaky = body -> calls.incrementAndGet() == 1
      ? publisher.publish(body).compose(ok -> Future.failedFuture(new HeraldException(ErrorCode.TIMEOUT, "lost answer")))
      : publisher.publish(body);
    RedisStreamsIngest ingest = new RedisStreamsIngest(vertx, flaky, URL, List.of(s), GROUP, "c1", 30_000);
    ingests.add(ingest);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "connected");
    xadd(admin, s, "topic", "dedupe", "data", "once");
    xadd(admin, s, "topic", "dedupe", "data", "same key", "id", "k-1");
    xadd(admin, s, "topic", "dedupe", "data", "same key again", "id", "k-1");

    waitUntil(() -> ingest.status().getLong("published") == 3, 10_000, "3 published");
    waitUntil(() -> pending(admin, s) == 0, 5000, "acknowledged");
    assertThat(calls.get()).isEqualTo(4);
    assertThat(ingest.status().getLong("failed")).isEqualTo(1);
    List<Event> got = readAll(replay, "dedupe");
    assertThat(got).extracting(Event::data).containsExactly("once", "same key");
  }

  @Test
  @DisplayName("FAULT: Redis killed with SIGKILL mid-stream: the breaker opens, and after a restart on the same port delivery resumes")
  void redisKilled() throws Exception {
    try (RedisServerProcess redis = new RedisServerProcess().start()) {
      Redis own = Redis.createClient(vertx, redis.url());
      try {
        String s = "fault-" + UUID.randomUUID();
        RedisStreamsIngest ingest = new RedisStreamsIngest(vertx, publisher::publish, redis.url(), List.of(s), GROUP, "c1", 30_000);
        ingests.add(ingest);
        await(ingest.start());
        waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "connected");
        for (int i = 1; i <= 3; i++) {
          xadd(own, s, "topic", "fault", "data", String.valueOf(i));
        }
        StoredEvents.waitForEvents(replay, "fault", 3, 5000);

        long t0 = System.nanoTime();
        redis.kill();
        waitUntil(() -> !ingest.status().getBoolean("connected"), 5000, "disconnected");
        long down = (System.nanoTime() - t0) / 1_000_000;
        waitUntil(() -> ingest.status().getString("breaker").equals("OPEN"), 10_000, "breaker open");
        long open = (System.nanoTime() - t0) / 1_000_000;

        long t1 = System.nanoTime();
        redis.restart();
        waitUntil(() -> ingest.status().getBoolean("connected"), 12_000, "connected again");
        long back = (System.nanoTime() - t1) / 1_000_000;
        System.out.println("[measure] redis SIGKILL: connected=false after " + down + " ms, breaker OPEN after " + open
          + " ms; reconnected " + back + " ms after the restart");
        // The restarted Redis is empty: the ingest made the group again (MKSTREAM) on reconnect.
        for (int i = 4; i <= 6; i++) {
          xadd(own, s, "topic", "fault", "data", String.valueOf(i));
        }
        List<Event> got = StoredEvents.waitForEvents(replay, "fault", 6, 10_000);
        assertThat(got).extracting(Event::data).containsExactly("1", "2", "3", "4", "5", "6");
        waitUntil(() -> ingest.status().getString("breaker").equals("CLOSED"), 5000, "breaker closed");
        assertThat(ingest.status().getLong("reconnects")).isGreaterThanOrEqualTo(1);
        waitUntil(() -> pending(own, s) == 0, 5000, "acknowledged");
      } finally {
        await(own.close().recover(t -> Future.succeededFuture()));
      }
    }
  }

  // ---- helpers --------------------------------------------------------------------------

  private String stream() {
    String s = "herald-test-stream-" + UUID.randomUUID();
    keys.add(s);
    return s;
  }

  private RedisStreamsIngest ingest(String stream, long claimIdleMillis) {
    RedisStreamsIngest i = new RedisStreamsIngest(vertx, body -> publisher.publish(body, "redis-streams"), URL, List.of(stream),
      GROUP, "c-" + UUID.randomUUID().toString().substring(0, 8), claimIdleMillis);
    ingests.add(i);
    return i;
  }

  private static String xadd(Redis redis, String stream, String... fields) throws Exception {
    Request req = Request.cmd(Command.XADD).arg(stream).arg("*");
    for (String f : fields) {
      req.arg(f);
    }
    return await(redis.send(req)).toString();
  }

  private static long pending(Redis redis, String stream) {
    try {
      Response r = await(redis.send(Request.cmd(Command.XPENDING).arg(stream).arg(GROUP)));
      return r.get(0).toLong();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static Map<String, String> fields(Response r) {
    Map<String, String> out = new HashMap<>();
    if (r.isMap()) {
      r.getKeys().forEach(k -> out.put(k, r.get(k).toString()));
    } else {
      for (int i = 0; i + 1 < r.size(); i += 2) {
        out.put(r.get(i).toString(), r.get(i + 1).toString());
      }
    }
    return out;
  }
}
