package io.herald.notifier;

import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.testsupport.Ports;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When the PostgreSQL outbox ingest delivers, and that it delivers once: at once on NOTIFY, by
 * the poll after a lost wake-up, after a stop or a killed LISTEN connection, from two nodes on one
 * outbox, after a lost answer, and once an unreachable server comes back.
 */
class PgOutboxDeliveryTest extends PgOutboxFixture {

  @Test
  @DisplayName("Rows written while no notifier runs are delivered once, in order, when one starts (and not again on restart)")
  void rowsWrittenWhileStopped() throws Exception {
    await(db.query("SELECT herald_publish('backlog', 'n', to_jsonb(g)) FROM generate_series(1, 250) g").execute());
    PgOutboxIngest first = ingest(60_000, 100);
    long t0 = System.nanoTime();
    await(first.start());
    List<Event> got = waitForEvents("backlog", 250);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.println("[measure] backlog of 250 rows delivered " + ms + " ms after start");
    assertThat(got).extracting(Event::data).containsExactlyElementsOf(IntStream.rangeClosed(1, 250).mapToObj(String::valueOf).toList());
    waitUntil(() -> first.status().getLong("published") == 250, 5000, "250 rows marked published");
    await(first.stop());

    PgOutboxIngest second = ingest(60_000, 100);
    await(second.start());
    // A marker row written after: once it is delivered, a backlog row delivered again would have been too.
    await(db.query("SELECT herald_publish('backlog.marker', 'n', to_jsonb(1))").execute());
    waitForEvents("backlog.marker", 1);
    assertThat(readAll("backlog")).hasSize(250);
    waitUntil(() -> second.status().getLong("received") >= 1, 5000, "the marker row received");
    assertThat(second.status().getLong("received")).as("rows the second ingest received: the marker only").isEqualTo(1);
  }

  @Test
  @DisplayName("Rows written without NOTIFY (a lost wake-up) are delivered by the poll")
  void droppedNotify() throws Exception {
    PgOutboxIngest ingest = ingest(300, 100);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "listener connected");
    long t0 = System.nanoTime();
    await(db.query("INSERT INTO herald_outbox (topic, type, data) SELECT 'quiet', 'n', to_jsonb(g) FROM generate_series(1, 5) g").execute());
    List<Event> got = waitForEvents("quiet", 5);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.println("[measure] rows without NOTIFY delivered after " + ms + " ms (poll 300 ms)");
    assertThat(got).extracting(Event::data).containsExactly("1", "2", "3", "4", "5");
  }

  @Test
  @DisplayName("A NOTIFY wakes the notifier at once, well before the poll")
  void notifyIsFast() throws Exception {
    // The poll comes every 10 minutes and each event is waited for 10 s at most: an event that
    // arrives was woken by its NOTIFY, not picked up by the poll.
    PgOutboxIngest ingest = ingest(600_000, 100);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "listener connected");
    long worst = 0;
    for (int i = 1; i <= 20; i++) {
      long t0 = System.nanoTime();
      await(db.preparedQuery("SELECT herald_publish('fast', 'n', to_jsonb($1::int))").execute(Tuple.of(i)));
      waitForEvents("fast", i);
      worst = Math.max(worst, System.nanoTime() - t0);
    }
    System.out.println("[measure] commit-to-stored latency via NOTIFY, worst of 20: " + TimeUnit.NANOSECONDS.toMillis(worst) + " ms");
  }

  @Test
  @DisplayName("When the LISTEN connection is killed the ingest reconnects and delivers what was written meanwhile, once")
  void listenerKilled() throws Exception {
    PgOutboxIngest ingest = ingest(60_000, 100);
    await(ingest.start());
    waitUntil(() -> ingest.status().getBoolean("connected"), 5000, "listener connected");
    await(db.query("SELECT herald_publish('relisten', 'n', to_jsonb(g)) FROM generate_series(1, 3) g").execute());
    waitForEvents("relisten", 3);

    long killed = count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
      + " WHERE application_name = 'herald-outbox-listen' AND query ILIKE 'LISTEN%'");
    assertThat(killed).isEqualTo(1);
    await(db.query("SELECT herald_publish('relisten', 'n', to_jsonb(g)) FROM generate_series(4, 10) g").execute());
    waitUntil(() -> ingest.status().getLong("reconnects") >= 1 && ingest.status().getBoolean("connected"), 10_000, "reconnected");
    waitForEvents("relisten", 10);
    // The poll is a minute away: this one arrives through the new LISTEN.
    await(db.query("SELECT herald_publish('relisten', 'n', to_jsonb(11))").execute());
    waitForEvents("relisten", 11);
    // Nothing twice: a twelfth row written after comes right after the eleventh.
    await(db.query("SELECT herald_publish('relisten', 'n', to_jsonb(12))").execute());
    List<Event> got = waitForEvents("relisten", 12);
    assertThat(got).extracting(Event::data)
      .containsExactlyElementsOf(IntStream.rangeClosed(1, 12).mapToObj(String::valueOf).toList());
  }

  @Test
  @DisplayName("Two notifier nodes on one outbox deliver every row once and keep per-topic order")
  void twoNodes() throws Exception {
    PgOutboxIngest a = ingest(500, 10);
    PgOutboxIngest b = ingest(500, 10);
    await(a.start());
    await(b.start());
    int perTopic = 100;
    List<String> topics = List.of("node.a", "node.b", "node.c");
    // One producer per topic, each committing its rows one after the other; the three run at once.
    List<Future<Void>> producers = new ArrayList<>();
    for (String t : topics) {
      Future<Void> chain = Future.succeededFuture();
      for (int i = 1; i <= perTopic; i++) {
        int n = i;
        chain = chain.compose(v -> db.preparedQuery("SELECT herald_publish($1, 'n', to_jsonb($2::int))").execute(Tuple.of(t, n)).mapEmpty());
      }
      producers.add(chain);
    }
    await(Future.all(producers));
    for (String t : topics) {
      List<Event> got = waitForEvents(t, perTopic);
      assertThat(got).as(t).extracting(Event::data)
        .containsExactlyElementsOf(IntStream.rangeClosed(1, perTopic).mapToObj(String::valueOf).toList());
    }
    // A marker row written after all of them: once both nodes have marked it too, every row before it is counted.
    await(db.query("SELECT herald_publish('node.marker', 'n', to_jsonb(1))").execute());
    waitForEvents("node.marker", 1);
    waitUntil(() -> a.status().getLong("published") + b.status().getLong("published") >= 3L * perTopic + 1, 5000,
      "every row and the marker marked published");
    long pa = a.status().getLong("published");
    long pb = b.status().getLong("published");
    System.out.println("[measure] two nodes: node A published " + pa + ", node B " + pb);
    assertThat(pa + pb).isEqualTo(3L * perTopic + 1);
    for (String t : topics) {
      assertThat(readAll(t)).hasSize(perTopic);
    }
  }

  @Test
  @DisplayName("A publish whose answer is lost (store stored it, the notifier saw a failure) is retried and still stored once")
  void lostAnswerIsRetriedOnce() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Function<JsonObject, Future<JsonObject>> lossy = body -> publisher.publish(body).compose(r -> calls.getAndIncrement() == 0
      ? Future.failedFuture(new HeraldException(ErrorCode.STORE_UNAVAILABLE, "answer lost"))
      : Future.succeededFuture(r));
    PgOutboxIngest ingest = new PgOutboxIngest(vertx, lossy, URL, schema + ".herald_outbox", "herald_outbox", 60_000, 100);
    ingests.add(ingest);
    await(db.query("SELECT herald_publish('lossy', 'n', to_jsonb(g)) FROM generate_series(1, 5) g").execute());
    await(ingest.start());
    waitUntil(() -> ingest.status().getLong("published") == 5, 5000, "published after the retry");
    assertThat(calls.get()).isEqualTo(2);
    assertThat(ingest.status().getLong("failed")).isEqualTo(1);
    assertThat(waitForEvents("lossy", 5)).extracting(Event::data).containsExactly("1", "2", "3", "4", "5");
  }

  @Test
  @DisplayName("An unreachable server does not fail the start: the ingest says so and keeps trying")
  void unreachableAtStart() throws Exception {
    int port = Ports.freePort();
    PgOutboxIngest ingest = new PgOutboxIngest(vertx, publisher::publish, "postgresql://postgres@127.0.0.1:" + port + "/none",
      "herald_outbox", "herald_outbox", 60_000, 100);
    ingests.add(ingest);
    await(ingest.start());
    waitUntil(() -> ingest.status().getString("lastError") != null, 5000, "the failure in the status");
    assertThat(ingest.status().getBoolean("connected")).isFalse();
    assertThat(ingest.status().getString("lastError")).contains("Connection refused");
  }
}
