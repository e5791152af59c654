package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@link ReplayStore} contract, backend-neutral: a subclass per backend supplies
 * {@link #createStore} and inherits every test. Each test works on topics of its own (a random
 * prefix), so a backend that keeps data between runs (Redis, PostgreSQL) needs no cleanup.
 * Store calls run on a Vert.x event-loop context, as in the replay verticle; the test thread
 * only waits for their futures.
 *
 * <p>Time is a fake clock that tests move with {@link #advance}: every backend reads event ages by
 * the clock it is given. Nothing here is skipped: a promise only some backends make (the in-heap
 * byte budget) is a contract of its own ({@link ByteBudgetContractTest}) that only they run.
 */
@ExtendWith(VertxExtension.class)
public abstract class ReplayStoreContractTest implements ReplayStoreKeyContract {

  /** The fake clock's start, epoch milliseconds. */
  protected static final long START_MILLIS = 1_700_000_000_000L;
  /** Longest wait for one store call. */
  protected static final long TIMEOUT_SECONDS = 10;

  /** The Vert.x of the current test (from {@link VertxExtension}). */
  protected Vertx vertx;
  private Context context;
  private final AtomicLong clock = new AtomicLong(START_MILLIS);
  private final List<ReplayStore> stores = new ArrayList<>();
  private String prefix;

  /**
   * A new store of the backend under test, empty as far as this test's topics go.
   *
   * @param clock epoch milliseconds, the store's only notion of time
   */
  protected abstract ReplayStore createStore(ReplayOptions options, LongSupplier clock);

  /**
   * Whether the store holds anything for {@code topic} (a row, a key, a map entry, a
   * ringbuffer): read from the backend itself, not through the store's API.
   */
  protected abstract boolean holdsState(ReplayStore store, String topic);

  /**
   * A second store over the same backend data as {@code first} (same Redis prefix, same tables,
   * another Hazelcast member of the same cluster), closed by the caller; null for a backend
   * whose stores share nothing (memory).
   */
  protected ReplayStore createSharingStore(ReplayStore first, ReplayOptions options, LongSupplier clock) {
    return null;
  }

  /**
   * Does what the deployment does periodically for retention; the default sweeps a
   * {@link Sweepable} store. Called after time moved in tests that remove whole topics.
   */
  protected void maintain(ReplayStore store) {
    if (store instanceof Sweepable sweepable) {
      onContext(() -> {
        sweepable.sweep();
        return null;
      });
    }
  }

  @Override
  public ReplayStoreContractTest contract() {
    return this;
  }

  @BeforeEach
  void setUpContract(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.prefix = "c" + UUID.randomUUID().toString().substring(0, 8) + "/";
  }

  @AfterEach
  void closeStores() {
    for (ReplayStore s : stores) {
      await(s::close);
    }
    stores.clear();
  }

  // ---------------------------------------------------------------- positions

  @Test
  @DisplayName("heads and reads of a topic nobody published to create no state, and its first event follows that head without a reset")
  void headCreatesNoState() {
    ReplayStore s = newStore();
    String ghost = topic("ghost");
    Position h = head(s, ghost);
    assertThat(h.seq()).isZero();
    ReadResult atHead = read(s, ghost, h, 10);
    assertThat(atHead.reset()).isFalse();
    assertThat(atHead.events()).isEmpty();
    assertReset(read(s, ghost, new Position(h.epoch(), 5), 10), h);
    assertReset(read(s, ghost, new Position(h.epoch().equals("Zz9Zz9Zz") ? "Yy8Yy8Yy" : "Zz9Zz9Zz", 0), 10), h);
    for (int i = 0; i < 20; i++) {
      head(s, topic("ghost-" + i));
    }
    assertThat(holdsState(s, ghost)).as("state after heads and reads").isFalse();
    assertThat(holdsState(s, topic("ghost-7"))).as("state after a head").isFalse();

    Event first = append(s, draft(ghost, "1")).get(0);
    assertThat(first.position()).isEqualTo(new Position(h.epoch(), 1));
    assertThat(readAll(s, ghost, h)).containsExactly(first);
    assertThat(holdsState(s, ghost)).as("state after an append").isTrue();
  }

  @Test
  @DisplayName("sequence numbers start at 1 and are consecutive per topic, independently across topics")
  void seqsArePerTopic() {
    ReplayStore s = newStore();
    String a = topic("a");
    String b = topic("b");
    Event a1 = append(s, draft(a, "1")).get(0);
    Event b1 = append(s, draft(b, "1")).get(0);
    Event a2 = append(s, draft(a, "2")).get(0);
    List<Event> more = append(s, draft(a, "3"), draft(a, "4"));
    Event b2 = append(s, draft(b, "2")).get(0);

    assertThat(List.of(a1, a2, more.get(0), more.get(1))).extracting(Event::seq).containsExactly(1L, 2L, 3L, 4L);
    assertThat(List.of(b1, b2)).extracting(Event::seq).containsExactly(1L, 2L);
    assertThat(List.of(a2, more.get(0), more.get(1))).extracting(Event::epoch).containsOnly(a1.epoch());
    assertThat(b2.epoch()).isEqualTo(b1.epoch());
    assertThat(a1.epoch()).matches("[A-Za-z0-9]{1,16}");
    assertThat(head(s, a)).isEqualTo(new Position(a1.epoch(), 4));
    assertThat(head(s, b)).isEqualTo(new Position(b1.epoch(), 2));
  }

  @Test
  @DisplayName("a stored event keeps what the publisher sent and reads back equal")
  void eventsKeepTheirContent() {
    ReplayStore s = newStore();
    String t = topic("content");
    List<Event> stored = append(s,
      new EventDraft(t, "order.created", "{\"id\":1}", true, "pub-1"),
      new EventDraft(t, "message", "line one\nline two", false, null));
    Event json = stored.get(0);
    Event text = stored.get(1);

    assertThat(json.topic()).isEqualTo(t);
    assertThat(json.type()).isEqualTo("order.created");
    assertThat(json.data()).isEqualTo("{\"id\":1}");
    assertThat(json.json()).isTrue();
    assertThat(json.key()).isEqualTo("pub-1");
    assertThat(text.data()).isEqualTo("line one\nline two");
    assertThat(text.json()).isFalse();
    assertThat(text.key()).isNull();
    assertThat(json.timestamp()).isEqualTo(START_MILLIS);
    assertThat(read(s, t, new Position(json.epoch(), 0), 10).events()).containsExactly(json, text);
  }

  @Test
  @DisplayName("data reads back character for character: numbers beyond a double, escapes, characters outside the BMP")
  void dataExact() {
    ReplayStore s = newStore();
    String t = topic("exact");
    String pi = "3.14159265358979323846264338327950288";
    List<String> json = List.of(pi, "1e999999", "1e-999999", "-0", "1.0", "123456789012345678901234567890",
      "[[1.0,[-0,[" + pi + "]]],{\"s\":\"\\u0000\\\"\\n\u2028\ud83d\ude00 caf\u00e9\"}]");
    List<String> text = List.of("\ud83d\ude00 caf\u00e9 \u2028\r\nline", "1e999999");
    List<EventDraft> drafts = new java.util.ArrayList<>();
    json.forEach(d -> drafts.add(new EventDraft(t, "message", d, true, null)));
    text.forEach(d -> drafts.add(new EventDraft(t, "message", d, false, null)));
    List<Event> stored = append(s, drafts.toArray(new EventDraft[0]));
    List<Event> read = read(s, t, new Position(stored.get(0).epoch(), 0), 100).events();
    List<String> expected = new java.util.ArrayList<>(json);
    expected.addAll(text);
    assertThat(read).extracting(Event::data).containsExactlyElementsOf(expected);
    assertThat(read).extracting(Event::json).containsExactly(true, true, true, true, true, true, true, false, false);
  }

  @Test
  @DisplayName("topics that are URLs (Mercure's IRIs: ? & = # % [ ] ! $ ' ( ) + , ; ~) are stored, read, keyed and logged as any other, each on its own")
  void urlTopics() {
    ReplayStore s = newStore();
    String base = "https://example.com/" + topic("books/1");
    String url = base + "?lang=fr&x=%20";
    // Topics that differ only in URL characters must never share a sequence, a key or a log entry.
    List<String> topics = List.of(url, base, base + "?lang=fr", base + "?lang=fr&x=%20#top",
      base + "[0]!$'()+,;=~", "/" + topic("relative?x=1"));
    List<Event> stored = new ArrayList<>();
    Position logStart = logHead(s);
    for (String t : topics) {
      assertThat(io.herald.common.Topics.isValidTopic(t)).as(t).isTrue();
      stored.add(append(s, new EventDraft(t, "message", "{\"t\":\"" + t + "\"}", true, "urn:uuid:1")).get(0));
    }
    Event second = append(s, draft(url, "2")).get(0);
    assertThat(stored).extracting(Event::seq).containsOnly(1L);
    assertThat(stored).extracting(Event::topic).containsExactlyElementsOf(topics);
    assertThat(second.seq()).isEqualTo(2);
    assertThat(append(s, new EventDraft(url, "message", "again", false, "urn:uuid:1")).get(0))
      .as("the publisher's id is a key of this topic only").isEqualTo(stored.get(0));
    for (int i = 0; i < topics.size(); i++) {
      String t = topics.get(i);
      Position h = head(s, t);
      assertThat(h.seq()).as(t).isEqualTo(t.equals(url) ? 2 : 1);
      assertThat(readAll(s, t, new Position(h.epoch(), 0))).as(t)
        .containsExactlyElementsOf(t.equals(url) ? List.of(stored.get(0), second) : List.of(stored.get(i)));
      assertThat(holdsState(s, t)).as(t).isTrue();
    }
    LogReadResult log = readLog(s, logStart, url::equals, 100);
    assertThat(log.events()).containsExactly(stored.get(0), second);
    assertThat(stored.get(0).cursor()).matches("[0-9a-z]+-[A-Za-z0-9]+-1");
  }

  @Test
  @DisplayName("an event's Mercure flags (private, retry) are stored with it and read back by read, readLog and an idempotent repeat")
  void flagsAreStored() {
    ReplayStore s = newStore();
    String t = "https://example.com/" + topic("private/1");
    Position logStart = logHead(s);
    List<Event> stored = append(s,
      new EventDraft(t, "message", "secret", false, "urn:uuid:p", true, -1),
      new EventDraft(t, "message", "slow down", false, null, false, 5000),
      new EventDraft(t, "message", "both", false, null, true, 0),
      new EventDraft(t, "message", "public", false, null));
    assertThat(stored).extracting(Event::privateUpdate).containsExactly(true, false, true, false);
    assertThat(stored).extracting(Event::retry).containsExactly(-1L, 5000L, 0L, -1L);
    List<Event> read = read(s, t, new Position(stored.get(0).epoch(), 0), 10).events();
    assertThat(read).containsExactlyElementsOf(stored);
    assertThat(read).extracting(Event::privateUpdate).containsExactly(true, false, true, false);
    assertThat(read).extracting(Event::retry).containsExactly(-1L, 5000L, 0L, -1L);
    assertThat(readLog(s, logStart, t::equals, 100).events()).containsExactlyElementsOf(stored);
    Event again = append(s, new EventDraft(t, "message", "secret", false, "urn:uuid:p", true, -1)).get(0);
    assertThat(again).isEqualTo(stored.get(0));
    assertThat(again.privateUpdate()).isTrue();
  }

  @Test
  @DisplayName("the head of a topic without events is seq 0 in the epoch its first event then gets")
  void headOfUnknownTopic() {
    ReplayStore s = newStore();
    String t = topic("fresh");
    Position before = head(s, t);
    assertThat(before.seq()).isZero();
    assertThat(before.epoch()).matches("[A-Za-z0-9]{1,16}");

    Event first = append(s, draft(t, "first")).get(0);

    assertThat(first.position()).isEqualTo(new Position(before.epoch(), 1));
    ReadResult r = read(s, t, before, 10);
    assertThat(r.reset()).as("a client that subscribed before the first event loses nothing").isFalse();
    assertThat(r.events()).containsExactly(first);
  }

  @Test
  @DisplayName("one append with several topics numbers each topic on its own and answers in draft order")
  void oneAppendSeveralTopics() {
    ReplayStore s = newStore();
    String a = topic("a");
    String b = topic("b");
    String c = topic("c");
    List<Event> out = append(s, draft(a, "a1"), draft(b, "b1"), draft(a, "a2"), draft(c, "c1"), draft(b, "b2"));

    assertThat(out).extracting(Event::topic).containsExactly(a, b, a, c, b);
    assertThat(out).extracting(Event::data).containsExactly("a1", "b1", "a2", "c1", "b2");
    assertThat(out).extracting(Event::seq).containsExactly(1L, 1L, 2L, 1L, 2L);
    assertThat(head(s, a).seq()).isEqualTo(2);
    assertThat(head(s, b).seq()).isEqualTo(2);
    assertThat(head(s, c).seq()).isEqualTo(1);
    assertThat(readAll(s, b, new Position(out.get(1).epoch(), 0))).extracting(Event::data).containsExactly("b1", "b2");
  }

  // ---------------------------------------------------------------- reads

  @Test
  @DisplayName("a read after seq 0 returns every retained event in order, with the head")
  void readAfterZero() {
    ReplayStore s = newStore();
    String t = topic("all");
    List<Event> stored = appendMany(s, t, 5);
    String epoch = stored.get(0).epoch();

    ReadResult r = read(s, t, new Position(epoch, 0), 100);

    assertThat(r.reset()).isFalse();
    assertThat(r.head()).isEqualTo(new Position(epoch, 5));
    assertThat(r.events()).containsExactlyElementsOf(stored);
    assertThat(r.complete()).isTrue();
  }

  @Test
  @DisplayName("a read after seq n returns the events after n in order")
  void readAfterN() {
    ReplayStore s = newStore();
    String t = topic("rest");
    List<Event> stored = appendMany(s, t, 5);
    String epoch = stored.get(0).epoch();

    ReadResult r = read(s, t, new Position(epoch, 2), 100);

    assertThat(r.reset()).isFalse();
    assertThat(r.events()).containsExactlyElementsOf(stored.subList(2, 5));
    assertThat(r.events()).extracting(Event::seq).containsExactly(3L, 4L, 5L);
  }

  @Test
  @DisplayName("a read at the head returns no events and no reset")
  void readAtHead() {
    ReplayStore s = newStore();
    String t = topic("head");
    String epoch = appendMany(s, t, 3).get(0).epoch();

    ReadResult r = read(s, t, new Position(epoch, 3), 100);

    assertThat(r.reset()).isFalse();
    assertThat(r.events()).isEmpty();
    assertThat(r.head()).isEqualTo(new Position(epoch, 3));
    assertThat(r.complete()).isTrue();
  }

  @Test
  @DisplayName("a read returns at most limit events and paging by the last seq reaches the head")
  void limitAndPaging() {
    ReplayStore s = newStore();
    String t = topic("paging");
    List<Event> stored = appendMany(s, t, 10);
    Position at = new Position(stored.get(0).epoch(), 0);
    List<Event> seen = new ArrayList<>();
    List<Integer> pageSizes = new ArrayList<>();
    ReadResult r;
    do {
      r = read(s, t, at, 3);
      assertThat(r.reset()).isFalse();
      assertThat(r.events()).hasSizeLessThanOrEqualTo(3);
      pageSizes.add(r.events().size());
      seen.addAll(r.events());
      if (!r.events().isEmpty()) {
        at = r.events().get(r.events().size() - 1).position();
      }
    } while (!r.complete() && pageSizes.size() < 20);

    assertThat(pageSizes).containsExactly(3, 3, 3, 1);
    assertThat(seen).containsExactlyElementsOf(stored);
    assertThat(at).isEqualTo(r.head());
  }

  @Test
  @DisplayName("a limit above maxReadLimit is capped to maxReadLimit")
  void maxReadLimitCaps() {
    ReplayStore s = newStore(new JsonObject().put("maxReadLimit", 4));
    String t = topic("cap");
    List<Event> stored = appendMany(s, t, 10);

    ReadResult r = read(s, t, new Position(stored.get(0).epoch(), 0), 1000);

    assertThat(r.reset()).isFalse();
    assertThat(r.events()).containsExactlyElementsOf(stored.subList(0, 4));
    assertThat(r.complete()).isFalse();
  }

  // ---------------------------------------------------------------- resets

  @Test
  @DisplayName("a position of another epoch gets a reset that carries the head and no events")
  void otherEpochResets() {
    ReplayStore s = newStore();
    String t = topic("epoch");
    String epoch = appendMany(s, t, 3).get(0).epoch();
    String other = otherEpoch(epoch);

    for (long seq : new long[] {0, 1, 3}) {
      assertReset(read(s, t, new Position(other, seq), 100), new Position(epoch, 3));
    }
    String unknown = topic("never");
    Position unknownHead = head(s, unknown);
    assertReset(read(s, unknown, new Position(otherEpoch(unknownHead.epoch()), 0), 100), unknownHead);
  }

  @Test
  @DisplayName("a position beyond the head gets a reset that carries the head")
  void beyondHeadResets() {
    ReplayStore s = newStore();
    String t = topic("beyond");
    String epoch = appendMany(s, t, 5).get(0).epoch();

    assertReset(read(s, t, new Position(epoch, 6), 100), new Position(epoch, 5));
    assertReset(read(s, t, new Position(epoch, 1_000_000), 100), new Position(epoch, 5));

    String unknown = topic("never");
    Position unknownHead = head(s, unknown);
    assertReset(read(s, unknown, new Position(unknownHead.epoch(), 1), 100), unknownHead);
    ReadResult atZero = read(s, unknown, unknownHead, 100);
    assertThat(atZero.reset()).isFalse();
    assertThat(atZero.events()).isEmpty();
  }

  @Test
  @DisplayName("history truncated by maxEventsPerTopic gets a reset when the next event is gone, and is served when it is not")
  void truncatedHistoryResets() {
    ReplayStore s = newStore(new JsonObject().put("maxEventsPerTopic", 3));
    String t = topic("count");
    List<Event> stored = appendMany(s, t, 5);
    String epoch = stored.get(0).epoch();
    Position head = new Position(epoch, 5);

    assertReset(read(s, t, new Position(epoch, 0), 100), head);
    assertReset(read(s, t, new Position(epoch, 1), 100), head);
    ReadResult served = read(s, t, new Position(epoch, 2), 100);
    assertThat(served.reset()).isFalse();
    assertThat(served.events()).containsExactlyElementsOf(stored.subList(2, 5));
    assertThat(head(s, t)).as("dropping events never moves positions").isEqualTo(head);
  }

  @Test
  @DisplayName("each topic keeps its own maxEventsPerTopic events")
  void retentionIsPerTopic() {
    ReplayStore s = newStore(new JsonObject().put("maxEventsPerTopic", 2));
    String a = topic("busy");
    String b = topic("quiet");
    List<Event> bs = appendMany(s, b, 1);
    List<Event> as = appendMany(s, a, 5);

    assertThat(read(s, b, new Position(bs.get(0).epoch(), 0), 10).events()).containsExactlyElementsOf(bs);
    assertThat(read(s, a, new Position(as.get(0).epoch(), 3), 10).events()).containsExactlyElementsOf(as.subList(3, 5));
  }

  @Test
  @DisplayName("history older than maxAgeSeconds gets a reset, younger history is served, positions stay")
  void expiredHistoryResets() {
    ReplayStore s = newStore(new JsonObject().put("maxAgeSeconds", 60));
    String t = topic("age");
    List<Event> old = appendMany(s, t, 2);
    String epoch = old.get(0).epoch();
    advance(30_000);
    Event young = append(s, draft(t, "young")).get(0);
    advance(31_000);
    Position head = new Position(epoch, 3);

    assertReset(read(s, t, new Position(epoch, 0), 100), head);
    assertReset(read(s, t, new Position(epoch, 1), 100), head);
    assertThat(read(s, t, new Position(epoch, 2), 100).events()).containsExactly(young);

    advance(30_000);
    assertReset(read(s, t, new Position(epoch, 2), 100), head);
    ReadResult atHead = read(s, t, head, 100);
    assertThat(atHead.reset()).isFalse();
    assertThat(atHead.events()).isEmpty();
    assertThat(head(s, t)).isEqualTo(head);
  }

  // ---------------------------------------------------------------- idempotency

  @Test
  @DisplayName("a draft whose key matches a retained event returns that event and uses no sequence number")
  void idempotentKey() {
    ReplayStore s = newStore();
    String t = topic("idem");
    String other = topic("other");
    Event first = append(s, keyed(t, "first", "k1")).get(0);

    Event again = append(s, keyed(t, "second", "k1")).get(0);
    Event next = append(s, draft(t, "next")).get(0);
    Event elsewhere = append(s, keyed(other, "elsewhere", "k1")).get(0);

    assertThat(again).isEqualTo(first);
    assertThat(again.data()).isEqualTo("first");
    assertThat(next.seq()).isEqualTo(2);
    assertThat(head(s, t).seq()).isEqualTo(2);
    assertThat(elsewhere.seq()).as("keys are per topic").isEqualTo(1);
    assertThat(elsewhere.data()).isEqualTo("elsewhere");
    assertThat(readAll(s, t, new Position(first.epoch(), 0))).extracting(Event::data).containsExactly("first", "next");
  }

  @Test
  @DisplayName("two drafts with the same topic and key in one append store the first and return it twice")
  void sameKeyInOneAppend() {
    ReplayStore s = newStore();
    String t = topic("batch");
    List<Event> out = append(s, keyed(t, "one", "k"), keyed(t, "dup", "k"), draft(t, "two"));

    assertThat(out.get(1)).isEqualTo(out.get(0));
    assertThat(out).extracting(Event::seq).containsExactly(1L, 1L, 2L);
    assertThat(readAll(s, t, new Position(out.get(0).epoch(), 0))).extracting(Event::data).containsExactly("one", "two");
  }

  @Test
  @DisplayName("a key is stored again once its event is no longer retained")
  void keyReusableAfterDrop() {
    ReplayStore s = newStore(new JsonObject().put("maxEventsPerTopic", 2));
    String t = topic("reuse");
    append(s, keyed(t, "old", "k"));
    appendMany(s, t, 2);

    Event again = append(s, keyed(t, "new", "k")).get(0);

    assertThat(again.seq()).isEqualTo(4);
    assertThat(again.data()).isEqualTo("new");
  }

  // ---------------------------------------------------------------- continuity

  @Test
  @DisplayName("after a topic is pushed out by maxTopics and recreated, its seq never goes back and old positions never skip silently")
  void seqContinuesAfterTopicEviction() {
    ReplayStore s = newStore(new JsonObject().put("maxTopics", 2));
    String t = topic("evicted");
    Position old = appendMany(s, t, 3).get(2).position();
    for (String other : List.of("x", "y", "z")) {
      appendMany(s, topic(other), 1);
    }
    maintain(s);

    Event recreated = append(s, draft(t, "again")).get(0);

    assertContinues(s, t, old, recreated);
  }

  @Test
  @DisplayName("after all of a topic's events expire and it is recreated, its seq never goes back and old positions never skip silently")
  void seqContinuesAfterExpiry() {
    ReplayStore s = newStore(new JsonObject().put("maxAgeSeconds", 60));
    String t = topic("expired");
    Position old = appendMany(s, t, 2).get(1).position();
    advance(61_000);
    maintain(s);

    Event recreated = append(s, draft(t, "again")).get(0);

    assertContinues(s, t, old, recreated);
  }

  /**
   * Either the same epoch with the very next seq (served from {@code old}; older positions get
   * a reset, or, if the backend kept the older events, exactly those and then the new one),
   * or another epoch (reset).
   */
  private void assertContinues(ReplayStore s, String t, Position old, Event recreated) {
    ReadResult fromOld = read(s, t, old, 100);
    if (recreated.epoch().equals(old.epoch())) {
      assertThat(recreated.seq()).isEqualTo(old.seq() + 1);
      assertThat(fromOld.reset()).isFalse();
      assertThat(fromOld.events()).containsExactly(recreated);
      if (old.seq() > 1) {
        ReadResult before = read(s, t, new Position(old.epoch(), old.seq() - 1), 100);
        if (before.reset()) {
          assertReset(before, recreated.position());
        } else {
          // A backend that never dropped the topic (no maxTopics eviction, e.g. hazelcast)
          // still has the event at old.seq: it must serve it, then the new one, no gap.
          assertThat(before.events()).extracting(Event::seq).containsExactly(old.seq(), recreated.seq());
          assertThat(before.events().get(1)).isEqualTo(recreated);
        }
      }
    } else {
      assertReset(fromOld, recreated.position());
    }
  }

  // ---------------------------------------------------------------- count truncation

  @Test
  @DisplayName("history dropped by maxEventsPerTopic is not reported as evicted by the byte budget")
  void countTruncationIsNotEviction() {
    ReplayStore s = newStore(new JsonObject().put("maxEventsPerTopic", 2));
    String t = topic("count");
    List<Event> stored = appendMany(s, t, 4);
    ReadResult r = read(s, t, new Position(stored.get(0).epoch(), 0), 10);
    assertThat(r.reset()).isTrue();
    assertThat(r.resetReason()).isEqualTo("history_unavailable");
  }

  // ---------------------------------------------------------------- the log

  @Test
  @DisplayName("the log numbers stored events of all topics densely from 1 in append order, and readLog gives them back in that order")
  void logIsDenseAcrossTopics() {
    ReplayStore s = newStore();
    Position start = logHead(s);
    assertThat(start.seq()).isZero();
    String a = topic("log.a");
    String b = topic("log.b");
    String c = topic("log.c");
    List<List<Event>> calls = new ArrayList<>();
    calls.add(append(s, draft(a, "1")));
    calls.add(append(s, draft(b, "2"), draft(a, "3"), draft(c, "4"), draft(a, "3b")));
    calls.add(append(s, draft(c, "5")));
    calls.add(append(s, keyed(b, "6", "k6"), draft(a, "7")));
    List<Event> stored = calls.stream().flatMap(List::stream).toList();
    assertThat(append(s, keyed(b, "again", "k6")).get(0)).isEqualTo(calls.get(3).get(0));
    assertThat(logHead(s).seq()).as("an idempotent duplicate takes no new log position").isEqualTo(stored.size());
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
    Position head = logHead(s);
    assertThat(head).isEqualTo(new Position(start.epoch(), stored.size()));
    LogReadResult all = readLog(s, start, t -> true, 100);
    assertThat(all.reset()).isFalse();
    assertThat(all.head()).isEqualTo(head);
    assertThat(all.scannedTo()).isEqualTo(head);
    assertThat(all.complete()).isTrue();
    assertThat(all.events()).containsExactlyElementsOf(inLogOrder);
    assertThat(all.events()).extracting(Event::log).containsExactlyElementsOf(inLogOrder.stream().map(Event::log).toList());
    LogReadResult atHead = readLog(s, head, t -> true, 100);
    assertThat(atHead.reset()).isFalse();
    assertThat(atHead.events()).isEmpty();
    assertThat(atHead.scannedTo()).isEqualTo(head);
  }

  @Test
  @DisplayName("readLog keeps the topics the filter passes, returns at most limit events, and says how far it scanned, bounded per call")
  void logFilterLimitScannedTo() {
    ReplayStore s = newStore();
    Position start = logHead(s);
    String x = topic("news.x");
    String y = topic("news.y");
    String z = topic("chat.z");
    List<Event> stored = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      stored.addAll(append(s, draft(i % 3 == 0 ? x : i % 3 == 1 ? z : y, Integer.toString(i))));
    }
    for (int i = 0; i < 30; i++) {
      stored.addAll(append(s, draft(z, "z" + i)));
    }
    Predicate<String> news = t -> t.startsWith(topic("news."));
    List<Event> expected = stored.stream().filter(e -> news.test(e.topic())).toList();

    LogReadResult first = readLog(s, start, news, 3);
    assertThat(first.reset()).isFalse();
    assertThat(first.events()).containsExactlyElementsOf(expected.subList(0, 3));
    assertThat(first.scannedTo()).as("scanned up to the last event returned").isEqualTo(expected.get(2).log());
    assertThat(first.complete()).isFalse();

    List<Event> got = new ArrayList<>(first.events());
    Position at = first.scannedTo();
    int calls = 0;
    while (true) {
      LogReadResult r = readLog(s, at, news, 3);
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
    assertThat(at).isEqualTo(logHead(s));

    LogReadResult none = readLog(s, stored.get(11).log(), t -> false, 1);
    assertThat(none.reset()).isFalse();
    assertThat(none.events()).isEmpty();
    assertThat(none.scannedTo()).as("a filter that matches nothing still advances, by at most LOG_SCAN_FACTOR * limit")
      .isEqualTo(new Position(start.epoch(), 12 + ReplayStore.LOG_SCAN_FACTOR));
  }

  @Test
  @DisplayName("readLog resets from another log epoch, from beyond the head, and when a matching event after the position is gone")
  void logResets() {
    ReplayStore s = newStore(new JsonObject().put("maxEventsPerTopic", 2));
    Position start = logHead(s);
    String t = topic("trunc");
    List<Event> stored = appendMany(s, t, 5);
    Position head = logHead(s);
    assertThat(head.seq()).isEqualTo(5);
    assertLogReset(readLog(s, new Position(otherEpoch(start.epoch()), 0), x -> true, 10), head);
    assertLogReset(readLog(s, new Position(otherEpoch(start.epoch()), 3), x -> true, 10), head);
    assertLogReset(readLog(s, new Position(start.epoch(), 6), x -> true, 10), head);
    assertLogReset(readLog(s, start, x -> x.equals(t), 10), head);
    assertLogReset(readLog(s, stored.get(1).log(), x -> x.equals(t), 10), head);
    LogReadResult tail = readLog(s, stored.get(2).log(), x -> x.equals(t), 10);
    assertThat(tail.reset()).isFalse();
    assertThat(tail.events()).containsExactlyElementsOf(stored.subList(3, 5));
  }

  @Test
  @DisplayName("readLog resets when a matching event after the position expired")
  void logResetsOnExpiry() {
    ReplayStore s = newStore(new JsonObject().put("maxAgeSeconds", 10));
    String t = topic("old");
    String u = topic("young");
    Position start = logHead(s);
    Event old = append(s, draft(t, "old")).get(0);
    advance(11_000);
    Event young = append(s, draft(u, "young")).get(0);
    Position head = logHead(s);
    assertLogReset(readLog(s, start, x -> x.equals(t) || x.equals(u), 10), head);
    LogReadResult fromOld = readLog(s, old.log(), x -> true, 10);
    assertThat(fromOld.reset()).isFalse();
    assertThat(fromOld.events()).containsExactly(young);
  }

  @Test
  @DisplayName("appends to one topic from two stores at once (sharing the backend) keep log order = seq order, with dense log positions, and a reader polling meanwhile never misses a position")
  void logOrderAndVisibilityUnderConcurrency() throws Exception {
    // A long store timeout: this is about order, and eight appends serialized on one row may wait
    // long on a loaded machine (an append past its fence fails, and the test would then say little).
    ReplayOptions options = new ReplayOptions(new JsonObject().put("maxEventsPerTopic", 10_000).put("storeTimeoutMillis", 60_000));
    ReplayStore one = newStore(options.toJson());
    ReplayStore shared = onContext(() -> createSharingStore(one, options, this::now));
    ReplayStore two = shared != null ? shared : one;
    try {
      String hot = topic("hot");
      String other = topic("other");
      Position start = logHead(one);
      int perStore = 150;
      List<Event> reader = new ArrayList<>();
      boolean[] resetSeen = {false};
      CompletableFuture<Void> done = new CompletableFuture<>();
      context.runOnContext(v -> {
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
      List<Event> log = readLogAll(one, start);
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
        await(shared::close);
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

  protected Position logHead(ReplayStore s) {
    return await(s::logHead);
  }

  protected LogReadResult readLog(ReplayStore s, Position after, Predicate<String> filter, int limit) {
    return await(() -> s.readLog(after, filter, limit));
  }

  /** Every event of the log after {@code after}, following scannedTo to the head; fails on a reset. */
  protected List<Event> readLogAll(ReplayStore s, Position after) {
    List<Event> out = new ArrayList<>();
    Position at = after;
    for (int page = 0; page < 10_000; page++) {
      LogReadResult r = readLog(s, at, t -> true, 100);
      assertThat(r.reset()).as("reset").isFalse();
      out.addAll(r.events());
      if (r.complete()) {
        return out;
      }
      at = r.scannedTo();
    }
    throw new AssertionError("paging did not reach the log head");
  }

  protected static void assertLogReset(LogReadResult r, Position head) {
    assertThat(r.reset()).as("reset").isTrue();
    assertThat(r.events()).as("a reset carries no events").isEmpty();
    assertThat(r.head()).as("a reset carries the log head").isEqualTo(head);
    assertThat(r.scannedTo()).isEqualTo(head);
  }

  // ---------------------------------------------------------------- helpers for subclasses

  /** A store of the backend under test with default options. */
  protected ReplayStore newStore() {
    return newStore(new JsonObject());
  }

  /** A store with these {@code replay} keys over the defaults; closed after the test. */
  protected ReplayStore newStore(JsonObject options) {
    ReplayOptions parsed = new ReplayOptions(options);
    ReplayStore s = onContext(() -> createStore(parsed, clock::get));
    stores.add(s);
    return s;
  }

  /** A topic name unique to this test. */
  protected String topic(String name) {
    return prefix + name;
  }

  protected static EventDraft draft(String topic, String data) {
    return new EventDraft(topic, "message", data, false, null);
  }

  protected static EventDraft keyed(String topic, String data, String key) {
    return new EventDraft(topic, "message", data, false, key);
  }

  protected List<Event> append(ReplayStore s, EventDraft... drafts) {
    List<Event> out = await(() -> s.append(Arrays.asList(drafts)));
    assertThat(out).hasSize(drafts.length);
    return out;
  }

  /** Appends {@code n} events {@code "0"}, {@code "1"}, ... to {@code topic}, one call each. */
  protected List<Event> appendMany(ReplayStore s, String topic, int n) {
    List<Event> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(append(s, draft(topic, Integer.toString(i))).get(0));
    }
    return out;
  }

  protected ReadResult read(ReplayStore s, String topic, Position after, int limit) {
    return await(() -> s.read(topic, after, limit));
  }

  /** Every event after {@code after}, paging until the head; fails on a reset. */
  protected List<Event> readAll(ReplayStore s, String topic, Position after) {
    List<Event> out = new ArrayList<>();
    Position at = after;
    for (int page = 0; page < 1000; page++) {
      ReadResult r = read(s, topic, at, 100);
      assertThat(r.reset()).isFalse();
      out.addAll(r.events());
      if (r.complete()) {
        return out;
      }
      at = r.events().get(r.events().size() - 1).position();
    }
    throw new AssertionError("paging did not reach the head");
  }

  protected Position head(ReplayStore s, String topic) {
    return await(() -> s.head(topic));
  }

  protected static void assertReset(ReadResult r, Position head) {
    assertThat(r.reset()).as("reset").isTrue();
    assertThat(r.events()).as("a reset carries no events").isEmpty();
    assertThat(r.head()).as("a reset carries the head").isEqualTo(head);
  }

  /** The fake clock, epoch milliseconds. */
  protected long now() {
    return clock.get();
  }

  /** Moves the fake clock forward. */
  protected void advance(long millis) {
    clock.addAndGet(millis);
  }

  private static String otherEpoch(String epoch) {
    return epoch.equals("Other0") ? "Other1" : "Other0";
  }

  /** Runs a store call on the test's Vert.x context and waits for its future. */
  protected <T> T await(Supplier<Future<T>> op) {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        op.get().onComplete(ar -> {
          if (ar.succeeded()) {
            done.complete(ar.result());
          } else {
            done.completeExceptionally(ar.cause());
          }
        });
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    });
    return get(done);
  }

  /** Runs {@code op} on the test's Vert.x context and returns its result. */
  protected <T> T onContext(Callable<T> op) {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        done.complete(op.call());
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    });
    return get(done);
  }

  private static <T> T get(CompletableFuture<T> f) {
    try {
      return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new AssertionError(e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
