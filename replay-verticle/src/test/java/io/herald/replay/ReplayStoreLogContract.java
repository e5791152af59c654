package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static io.herald.replay.ReplayStoreFixture.assertLogReset;
import static io.herald.replay.ReplayStoreFixture.draft;
import static io.herald.replay.ReplayStoreFixture.keyed;
import static io.herald.replay.ReplayStoreFixture.otherEpoch;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The part of the {@link ReplayStore} contract about the log across topics ({@code logHead},
 * {@code readLog}): dense positions, filters, limits and scannedTo, resets, and order under
 * concurrent appends, run for every backend by
 * {@link ReplayStoreContractTest}, which implements it through {@link ReplayStoreContract}.
 */
interface ReplayStoreLogContract {

  /** The contract test this runs in: its stores, clock and helpers. */
  ReplayStoreFixture contract();

  @Test
  @DisplayName("the log numbers stored events of all topics densely from 1 in append order, and readLog gives them back in that order")
  default void logIsDenseAcrossTopics() {
    ReplayStoreFixture fx = contract();
    ReplayStore s = fx.newStore();
    Position start = fx.logHead(s);
    assertThat(start.seq()).isZero();
    String a = fx.topic("log.a");
    String b = fx.topic("log.b");
    String c = fx.topic("log.c");
    List<List<Event>> calls = new ArrayList<>();
    calls.add(fx.append(s, draft(a, "1")));
    calls.add(fx.append(s, draft(b, "2"), draft(a, "3"), draft(c, "4"), draft(a, "3b")));
    calls.add(fx.append(s, draft(c, "5")));
    calls.add(fx.append(s, keyed(b, "6", "k6"), draft(a, "7")));
    List<Event> stored = calls.stream().flatMap(List::stream).toList();
    assertThat(fx.append(s, keyed(b, "again", "k6")).get(0)).isEqualTo(calls.get(3).get(0));
    assertThat(fx.logHead(s).seq()).as("an idempotent duplicate takes no new log position").isEqualTo(stored.size());
    long next = 1;
    for (List<Event> call : calls) {
      // One call's positions are the next ones; across its topics their order is the store's.
      assertThat(call).extracting(e -> e.log().epoch()).containsOnly(start.epoch());
      assertThat(call).extracting(e -> e.log().seq()).containsExactlyInAnyOrderElementsOf(
        java.util.stream.LongStream.range(next, next + call.size()).boxed().toList());
      next += call.size();
    }
    assertThat(calls.get(1).get(1).log().seq()).as("within a topic, log order is seq order")
      .isLessThan(calls.get(1).get(3).log().seq());
    List<Event> inLogOrder = stored.stream().sorted(java.util.Comparator.comparingLong(e -> e.log().seq())).toList();
    Position head = fx.logHead(s);
    assertThat(head).isEqualTo(new Position(start.epoch(), stored.size()));
    LogReadResult all = fx.readLog(s, start, t -> true, 100);
    assertThat(all.reset()).isFalse();
    assertThat(all.head()).isEqualTo(head);
    assertThat(all.scannedTo()).isEqualTo(head);
    assertThat(all.complete()).isTrue();
    assertThat(all.events()).containsExactlyElementsOf(inLogOrder);
    assertThat(all.events()).extracting(Event::log).containsExactlyElementsOf(inLogOrder.stream().map(Event::log).toList());
    LogReadResult atHead = fx.readLog(s, head, t -> true, 100);
    assertThat(atHead.reset()).isFalse();
    assertThat(atHead.events()).isEmpty();
    assertThat(atHead.scannedTo()).isEqualTo(head);
  }

  @Test
  @DisplayName("readLog keeps the topics the filter passes, returns at most limit events, and says how far it scanned, bounded per call")
  default void logFilterLimitScannedTo() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    Position start = c.logHead(s);
    String x = c.topic("news.x");
    String y = c.topic("news.y");
    String z = c.topic("chat.z");
    List<Event> stored = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      stored.addAll(c.append(s, draft(i % 3 == 0 ? x : i % 3 == 1 ? z : y, Integer.toString(i))));
    }
    for (int i = 0; i < 30; i++) {
      stored.addAll(c.append(s, draft(z, "z" + i)));
    }
    Predicate<String> news = t -> t.startsWith(c.topic("news."));
    List<Event> expected = stored.stream().filter(e -> news.test(e.topic())).toList();

    LogReadResult first = c.readLog(s, start, news, 3);
    assertThat(first.reset()).isFalse();
    assertThat(first.events()).containsExactlyElementsOf(expected.subList(0, 3));
    assertThat(first.scannedTo()).as("scanned up to the last event returned").isEqualTo(expected.get(2).log());
    assertThat(first.complete()).isFalse();

    List<Event> got = new ArrayList<>(first.events());
    Position at = first.scannedTo();
    int calls = 0;
    while (true) {
      LogReadResult r = c.readLog(s, at, news, 3);
      calls++;
      assertThat(r.reset()).isFalse();
      assertThat(r.events()).hasSizeLessThanOrEqualTo(3);
      assertThat(r.scannedTo().seq()).as("every call advances").isGreaterThan(at.seq());
      assertThat(r.scannedTo().seq() - at.seq()).as("and looks at no more than LOG_SCAN_FACTOR * limit entries")
        .isLessThanOrEqualTo(ReplayStore.LOG_SCAN_FACTOR * 3L);
      got.addAll(r.events());
      at = r.scannedTo();
      if (r.complete()) {
        break;
      }
      assertThat(calls).isLessThan(100);
    }
    assertThat(got).containsExactlyElementsOf(expected);
    assertThat(at).isEqualTo(c.logHead(s));

    LogReadResult none = c.readLog(s, stored.get(11).log(), t -> false, 1);
    assertThat(none.reset()).isFalse();
    assertThat(none.events()).isEmpty();
    assertThat(none.scannedTo()).as("a filter that matches nothing still advances, by at most LOG_SCAN_FACTOR * limit")
      .isEqualTo(new Position(start.epoch(), 12 + ReplayStore.LOG_SCAN_FACTOR));
  }

  @Test
  @DisplayName("readLog resets from another log epoch, from beyond the head, and when a matching event after the position is gone")
  default void logResets() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxEventsPerTopic", 2));
    Position start = c.logHead(s);
    String t = c.topic("trunc");
    List<Event> stored = c.appendMany(s, t, 5);
    Position head = c.logHead(s);
    assertThat(head.seq()).isEqualTo(5);
    assertLogReset(c.readLog(s, new Position(otherEpoch(start.epoch()), 0), x -> true, 10), head);
    assertLogReset(c.readLog(s, new Position(otherEpoch(start.epoch()), 3), x -> true, 10), head);
    assertLogReset(c.readLog(s, new Position(start.epoch(), 6), x -> true, 10), head);
    assertLogReset(c.readLog(s, start, x -> x.equals(t), 10), head);
    assertLogReset(c.readLog(s, stored.get(1).log(), x -> x.equals(t), 10), head);
    LogReadResult tail = c.readLog(s, stored.get(2).log(), x -> x.equals(t), 10);
    assertThat(tail.reset()).isFalse();
    assertThat(tail.events()).containsExactlyElementsOf(stored.subList(3, 5));
  }

  @Test
  @DisplayName("readLog resets when a matching event after the position expired")
  default void logResetsOnExpiry() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxAgeSeconds", 10));
    String t = c.topic("old");
    String u = c.topic("young");
    Position start = c.logHead(s);
    Event old = c.append(s, draft(t, "old")).get(0);
    c.advance(11_000);
    Event young = c.append(s, draft(u, "young")).get(0);
    Position head = c.logHead(s);
    assertLogReset(c.readLog(s, start, x -> x.equals(t) || x.equals(u), 10), head);
    LogReadResult fromOld = c.readLog(s, old.log(), x -> true, 10);
    assertThat(fromOld.reset()).isFalse();
    assertThat(fromOld.events()).containsExactly(young);
  }

  @Test
  @DisplayName("appends to one topic from two stores at once (sharing the backend) keep log order = seq order, with dense log positions, and a reader polling meanwhile never misses a position")
  default void logOrderAndVisibilityUnderConcurrency() throws Exception {
    ReplayStoreFixture c = contract();
    // A long store timeout: this is about order, and eight appends serialized on one row may wait
    // long on a loaded machine (an append past its fence fails, and the test would then say little).
    ReplayOptions options = new ReplayOptions(new JsonObject().put("maxEventsPerTopic", 10_000).put("storeTimeoutMillis", 60_000));
    ReplayStore one = c.newStore(options.toJson());
    ReplayStore shared = c.onContext(() -> c.createSharingStore(one, options, c::now));
    ReplayStore two = shared != null ? shared : one;
    try {
      String hot = c.topic("hot");
      String other = c.topic("other");
      Position start = c.logHead(one);
      int perStore = 150;
      List<Event> reader = new ArrayList<>();
      boolean[] resetSeen = {false};
      CompletableFuture<Void> done = new CompletableFuture<>();
      c.context().runOnContext(v -> {
        // Four lanes per store, each appending one call after the other: eight appends in flight.
        List<Future<Void>> lanes = new ArrayList<>();
        for (int lane = 0; lane < 4; lane++) {
          Future<Void> a = Future.succeededFuture();
          Future<Void> b = Future.succeededFuture();
          for (int i = lane; i < perStore; i += 4) {
            int n = i;
            a = a.compose(x -> one.append(List.of(draft(hot, "one" + n))).mapEmpty());
            b = b.compose(x -> two.append(List.of(draft(hot, "two" + n), draft(other, "o" + n))).mapEmpty());
          }
          lanes.add(a);
          lanes.add(b);
        }
        Future<?> all = Future.join(lanes);
        poll(one, start, reader, resetSeen, all, 2 * perStore + perStore, done);
      });
      done.get(60, TimeUnit.SECONDS);
      assertThat(resetSeen[0]).as("the reader never got a reset").isFalse();
      List<Event> log = c.readLogAll(one, start);
      assertThat(log).hasSize(3 * perStore);
      for (int i = 0; i < log.size(); i++) {
        assertThat(log.get(i).log()).isEqualTo(new Position(start.epoch(), i + 1));
      }
      List<Long> hotSeqs = log.stream().filter(e -> e.topic().equals(hot)).map(Event::seq).toList();
      assertThat(hotSeqs).as("log order is seq order within the topic")
        .isEqualTo(java.util.stream.LongStream.rangeClosed(1, 2 * perStore).boxed().toList());
      assertThat(reader).as("what the reader polled meanwhile is the log, in order, each position once")
        .extracting(Event::log).containsExactlyElementsOf(log.stream().map(Event::log).toList());
    } finally {
      if (shared != null) {
        c.await(shared::close);
      }
    }
  }

  /** Reads the log from {@code at} on the context until the appends are done and all {@code total} events are read. */
  private void poll(ReplayStore s, Position at, List<Event> got, boolean[] resetSeen, Future<?> appends, int total,
                    CompletableFuture<Void> done) {
    // Whether every append had completed before this read was sent: only then must the read see them all.
    boolean appendsDone = appends.isComplete();
    s.readLog(at, t -> true, 50).onComplete(ar -> {
      if (ar.failed()) {
        done.completeExceptionally(ar.cause());
        return;
      }
      LogReadResult r = ar.result();
      if (r.reset()) {
        resetSeen[0] = true;
        done.complete(null);
        return;
      }
      got.addAll(r.events());
      if (appendsDone && got.size() >= total) {
        if (appends.failed()) {
          done.completeExceptionally(appends.cause());
        } else {
          done.complete(null);
        }
        return;
      }
      if (appendsDone && r.complete() && got.size() < total) {
        // Appends done but the reader is short of events: positions it passed were missed, or an append failed.
        if (appends.failed()) {
          done.completeExceptionally(new AssertionError("an append failed, the log cannot be complete", appends.cause()));
        } else {
          done.complete(null);
        }
        return;
      }
      poll(s, r.scannedTo(), got, resetSeen, appends, total, done);
    });
  }
}
