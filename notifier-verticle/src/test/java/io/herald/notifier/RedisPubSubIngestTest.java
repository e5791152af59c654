package io.herald.notifier;

import io.herald.common.Event;
import io.herald.testsupport.RedisServerProcess;
import io.herald.common.replay.ReplayClient;
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

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static io.herald.notifier.PgOutboxIngestTest.await;
import static io.herald.notifier.StoredEvents.readAll;
import static io.herald.notifier.PgOutboxIngestTest.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Redis pub/sub ingest against a real Redis (env {@code HERALD_TEST_REDIS_URL}, default
 * {@code redis://127.0.0.1:6379}; an unreachable Redis fails the tests) with the real replay
 * verticle behind a {@link Publisher}. Each test uses channels under a random prefix; what
 * clients would see is read back from the replay store.
 */
@ExtendWith(VertxExtension.class)
class RedisPubSubIngestTest {

  static final String URL = System.getenv().getOrDefault("HERALD_TEST_REDIS_URL", "redis://127.0.0.1:6379");

  private Vertx vertx;
  private Publisher publisher;
  private ReplayClient replay;
  private Redis admin;
  private String prefix;
  private final List<RedisPubSubIngest> ingests = new ArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    this.vertx = vertx;
    PgOutboxIngestTest.Harness h = PgOutboxIngestTest.Harness.start(vertx);
    publisher = h.publisher();
    replay = h.replay();
    admin = Redis.createClient(vertx, URL);
    try {
      await(admin.send(Request.cmd(Command.PING)));
    } catch (Exception e) {
      fail("Redis is not reachable at " + URL + " (start it, or set HERALD_TEST_REDIS_URL): " + e, e);
    }
    prefix = "herald-test-" + UUID.randomUUID().toString().substring(0, 8) + ":";
  }

  @AfterEach
  void tearDown() throws Exception {
    for (RedisPubSubIngest i : ingests) {
      await(i.stop());
    }
    await(admin.close());
  }

  @Test
  @DisplayName("Messages on a channel become events of the topic named by the channel without the prefix, in order, envelope or raw")
  void channelToTopic() throws Exception {
    String other = prefix.replace(":", "-") + "raw";
    RedisPubSubIngest ingest = ingest(List.of(prefix + "orders", other));
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "subscribed");

    pub(prefix + "orders", "{\"type\":\"order.created\",\"data\":{\"n\":1},\"id\":\"o-1\"}");
    pub(prefix + "orders", "{\"n\":2}");
    pub(prefix + "orders", "[3]");
    pub(prefix + "orders", "plain text");
    pub(prefix + "orders", "{\"type\":\"order.created\",\"data\":{\"n\":1},\"id\":\"o-1\"}");
    pub(prefix + "orders", "{\"type\":\"order.done\",\"data\":\"text data\"}");
    pub(other, "elsewhere");

    List<Event> got = waitForEvents("orders", 5);
    assertThat(got).extracting(Event::type).containsExactly("order.created", "message", "message", "message", "order.done");
    assertThat(got).extracting(Event::data).containsExactly("{\"n\":1}", "{\"n\":2}", "[3]", "plain text", "text data");
    assertThat(got).extracting(Event::json).containsExactly(true, true, true, false, false);
    assertThat(got.get(0).key()).isEqualTo("o-1");
    // A channel without the prefix is the topic as it is.
    assertThat(waitForEvents(other, 1).get(0).data()).isEqualTo("elsewhere");
    waitUntil(() -> ingest.status().getLong("received") == 7, 5000, "7 received");
    assertThat(ingest.status().getLong("rejected")).isZero();
  }

  @Test
  @DisplayName("JSON payloads are stored digit for digit; a payload that is not UTF-8 or holds a lone surrogate is rejected, not altered")
  void exactData() throws Exception {
    RedisPubSubIngest ingest = ingest(List.of(prefix + "exact"));
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "subscribed");
    for (String v : ExactValues.VALUES) {
      pub(prefix + "exact", "{\"data\":" + v + "}");
    }
    pub(prefix + "exact", "{\"n\":" + ExactValues.PI + ",\"m\":-0}");
    byte[] notUtf8 = {'c', 'a', 'f', (byte) 0xe9};
    long n = await(admin.send(Request.cmd(Command.PUBLISH).arg(prefix + "exact").arg(notUtf8))).toLong();
    assertThat(n).isEqualTo(1);
    pub(prefix + "exact", "[\"\\ud800\"]");
    pub(prefix + "exact", "marker");
    List<Event> got = waitForEvents("exact", ExactValues.VALUES.size() + 2);
    List<String> expected = new ArrayList<>(ExactValues.VALUES);
    expected.add("{\"n\":" + ExactValues.PI + ",\"m\":-0}");
    expected.add("marker");
    assertThat(got).extracting(Event::data).containsExactlyElementsOf(expected);
    assertThat(ingest.status().getLong("rejected")).isEqualTo(2);
  }

  @Test
  @DisplayName("A pattern subscribes every matching channel, each message going to its own channel's topic")
  void pattern() throws Exception {
    RedisPubSubIngest ingest = ingest(List.of(prefix + "user.*"));
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "subscribed");
    assertThat(ingest.status().getJsonArray("patterns")).containsExactly(prefix + "user.*");
    for (int i = 1; i <= 10; i++) {
      pub(prefix + "user." + (i % 2), "{\"data\":" + i + "}");
    }
    await(admin.send(Request.cmd(Command.PUBLISH).arg(prefix + "nope").arg("not matching")));
    assertThat(waitForEvents("user.1", 5)).extracting(Event::data).containsExactly("1", "3", "5", "7", "9");
    assertThat(waitForEvents("user.0", 5)).extracting(Event::data).containsExactly("2", "4", "6", "8", "10");
    assertThat(ingest.status().getLong("received")).isEqualTo(10);
  }

  @Test
  @DisplayName("Invalid messages are counted and skipped, and the subscriber keeps delivering")
  void invalidSkipped() throws Exception {
    RedisPubSubIngest ingest = ingest(List.of(prefix + "*"));
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "subscribed");

    pub(prefix + "bad topic", "space in the channel");
    pub(prefix + "big", "x".repeat(NotifierOptions.DEFAULT_MAX_EVENT_BYTES + 1));
    pub(prefix + "env", "{\"topic\":\"elsewhere\",\"data\":1}");
    pub(prefix + "env", "{\"data\":1,\"type\":\"1-not-a-type\"}");
    pub(prefix + "env", "{\"data\":1,\"unknown\":true}");
    pub(prefix + "good", "still working");

    assertThat(waitForEvents("good", 1).get(0).data()).isEqualTo("still working");
    waitUntil(() -> ingest.status().getLong("rejected") == 5, 5000, "5 rejected");
    assertThat(ingest.status().getLong("published")).isEqualTo(1);
    assertThat(readAll(replay, "env")).isEmpty();
    assertThat(readAll(replay, "elsewhere")).isEmpty();
    assertThat(ingest.status().getBoolean("connected")).isTrue();
  }

  @Test
  @DisplayName("After CLIENT KILL TYPE pubsub the subscriber reconnects on its own and receives later messages")
  void reconnects() throws Exception {
    // A private Redis: killing pub/sub clients on the shared one would cut other tests' too.
    try (RedisServerProcess server = new RedisServerProcess().start()) {
      Redis own = Redis.createClient(vertx, server.url());
      try {
        RedisPubSubIngest ingest = new RedisPubSubIngest(vertx, body -> publisher.publish(body, "redis-pubsub"), server.url(),
          List.of(prefix + "live", prefix + "pat.*"), prefix);
        ingests.add(ingest);
        ingest.pingMillis = 200;
        await(ingest.start());
        waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "subscribed");
        pub(own, prefix + "live", "before");
        waitForEvents("live", 1);

        long t0 = System.nanoTime();
        await(own.send(Request.cmd(Command.CLIENT).arg("KILL").arg("TYPE").arg("pubsub")));
        waitUntil(() -> ingest.status().getLong("reconnects") >= 1, 5000, "connection loss seen");
        waitUntil(() -> ingest.status().getBoolean("connected"), 10_000, "subscribed again");
        System.out.println("[measure] pub/sub resubscribed " + (System.nanoTime() - t0) / 1_000_000 + " ms after CLIENT KILL");
        pub(own, prefix + "live", "after");
        pub(own, prefix + "pat.x", "pattern after");
        assertThat(waitForEvents("live", 2)).extracting(Event::data).containsExactly("before", "after");
        assertThat(waitForEvents("pat.x", 1).get(0).data()).isEqualTo("pattern after");
        // Three more PINGs answered on the new connection (the server counts them; only the
        // ingest pings it): no reconnect beyond the killed connection.
        long pings = pings(own);
        waitUntil(() -> pings(own) >= pings + 3, 10_000, "three PINGs answered");
        assertThat(ingest.status().getLong("reconnects")).isEqualTo(1);
        assertThat(ingest.status().getString("breaker")).isEqualTo("CLOSED");
      } finally {
        await(own.close());
      }
    }
  }

  /** PING calls the server has answered, from INFO commandstats. */
  private static long pings(Redis redis) {
    try {
      String info = await(redis.send(Request.cmd(Command.INFO).arg("commandstats"))).toString();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("cmdstat_ping:calls=(\\d+)").matcher(info);
      return m.find() ? Long.parseLong(m.group(1)) : 0;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  @DisplayName("Bad settings are refused with the setting's name")
  void badSettings() {
    assertThatThrownBy(() -> new RedisPubSubIngest(vertx, publisher::publish, URL, List.of(), ""))
      .hasMessageContaining("channels");
    assertThatThrownBy(() -> new RedisPubSubIngest(vertx, publisher::publish, "", List.of("a"), ""))
      .hasMessageContaining("redis url");
  }

  // ---- helpers --------------------------------------------------------------------------

  private RedisPubSubIngest ingest(List<String> channels) {
    RedisPubSubIngest i = new RedisPubSubIngest(vertx, body -> publisher.publish(body, "redis-pubsub"), URL, channels, prefix);
    ingests.add(i);
    return i;
  }

  private void pub(String channel, String payload) throws Exception {
    pub(admin, channel, payload);
  }

  private static void pub(Redis redis, String channel, String payload) throws Exception {
    long n = await(redis.send(Request.cmd(Command.PUBLISH).arg(channel).arg(payload))).toLong();
    assertThat(n).as("subscribers of " + channel).isGreaterThanOrEqualTo(1);
  }

  private List<Event> waitForEvents(String topic, int n) throws Exception {
    return StoredEvents.waitForEvents(replay, topic, n, 10_000);
  }

}
