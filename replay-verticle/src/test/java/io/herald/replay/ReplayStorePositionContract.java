package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.herald.replay.ReplayStoreFixture.START_MILLIS;
import static io.herald.replay.ReplayStoreFixture.assertReset;
import static io.herald.replay.ReplayStoreFixture.draft;
import static io.herald.replay.ReplayStoreFixture.keyed;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The part of the {@link ReplayStore} contract about positions and what is stored: sequence
 * numbers per topic, heads of unknown topics, an event's content, flags and URL topics, run for every backend by
 * {@link ReplayStoreContractTest}, which implements it through {@link ReplayStoreContract}.
 */
interface ReplayStorePositionContract {

  /** The contract test this runs in: its stores, clock and helpers. */
  ReplayStoreFixture contract();

  @Test
  @DisplayName("heads and reads of a topic nobody published to create no state, and its first event follows that head without a reset")
  default void headCreatesNoState() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String ghost = c.topic("ghost");
    Position h = c.head(s, ghost);
    assertThat(h.seq()).isZero();
    ReadResult atHead = c.read(s, ghost, h, 10);
    assertThat(atHead.reset()).isFalse();
    assertThat(atHead.events()).isEmpty();
    assertReset(c.read(s, ghost, new Position(h.epoch(), 5), 10), h);
    assertReset(c.read(s, ghost, new Position(h.epoch().equals("Zz9Zz9Zz") ? "Yy8Yy8Yy" : "Zz9Zz9Zz", 0), 10), h);
    for (int i = 0; i < 20; i++) {
      c.head(s, c.topic("ghost-" + i));
    }
    assertThat(c.holdsState(s, ghost)).as("state after heads and reads").isFalse();
    assertThat(c.holdsState(s, c.topic("ghost-7"))).as("state after a head").isFalse();

    Event first = c.append(s, draft(ghost, "1")).get(0);
    assertThat(first.position()).isEqualTo(new Position(h.epoch(), 1));
    assertThat(c.readAll(s, ghost, h)).containsExactly(first);
    assertThat(c.holdsState(s, ghost)).as("state after an append").isTrue();
  }

  @Test
  @DisplayName("the heads of several topics in one call are each topic's own head, in the request's order, topics without events and a name given twice included")
  default void headsOfSeveralTopics() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String a = c.topic("ha");
    String b = c.topic("hb");
    String none = c.topic("hnone");
    c.append(s, draft(a, "1"), draft(a, "2"), draft(b, "1"));
    java.util.Map<String, Position> heads = c.await(() -> s.heads(List.of(b, none, a, b)));
    assertThat(heads.keySet()).containsExactly(b, none, a);
    assertThat(heads.get(a)).isEqualTo(c.head(s, a)).extracting(Position::seq).isEqualTo(2L);
    assertThat(heads.get(b)).isEqualTo(c.head(s, b)).extracting(Position::seq).isEqualTo(1L);
    assertThat(heads.get(none)).isEqualTo(c.head(s, none)).extracting(Position::seq).isEqualTo(0L);
    assertThat(c.holdsState(s, none)).as("state after a batch of heads").isFalse();
    assertThat(c.await(() -> s.heads(List.of()))).isEmpty();
  }

  @Test
  @DisplayName("sequence numbers start at 1 and are consecutive per topic, independently across topics")
  default void seqsArePerTopic() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String a = c.topic("a");
    String b = c.topic("b");
    Event a1 = c.append(s, draft(a, "1")).get(0);
    Event b1 = c.append(s, draft(b, "1")).get(0);
    Event a2 = c.append(s, draft(a, "2")).get(0);
    List<Event> more = c.append(s, draft(a, "3"), draft(a, "4"));
    Event b2 = c.append(s, draft(b, "2")).get(0);

    assertThat(List.of(a1, a2, more.get(0), more.get(1))).extracting(Event::seq).containsExactly(1L, 2L, 3L, 4L);
    assertThat(List.of(b1, b2)).extracting(Event::seq).containsExactly(1L, 2L);
    assertThat(List.of(a2, more.get(0), more.get(1))).extracting(Event::epoch).containsOnly(a1.epoch());
    assertThat(b2.epoch()).isEqualTo(b1.epoch());
    assertThat(a1.epoch()).matches("[A-Za-z0-9]{1,16}");
    assertThat(c.head(s, a)).isEqualTo(new Position(a1.epoch(), 4));
    assertThat(c.head(s, b)).isEqualTo(new Position(b1.epoch(), 2));
  }

  @Test
  @DisplayName("a stored event keeps what the publisher sent and reads back equal")
  default void eventsKeepTheirContent() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("content");
    List<Event> stored = c.append(s,
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
    assertThat(c.read(s, t, new Position(json.epoch(), 0), 10).events()).containsExactly(json, text);
  }

  @Test
  @DisplayName("data reads back character for character: numbers beyond a double, escapes, characters outside the BMP")
  default void dataExact() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("exact");
    String pi = "3.14159265358979323846264338327950288";
    List<String> json = List.of(pi, "1e999999", "1e-999999", "-0", "1.0", "123456789012345678901234567890",
      "[[1.0,[-0,[" + pi + "]]],{\"s\":\"\\u0000\\\"\\n\u2028\ud83d\ude00 caf\u00e9\"}]");
    List<String> text = List.of("\ud83d\ude00 caf\u00e9 \u2028\r\nline", "1e999999");
    List<EventDraft> drafts = new java.util.ArrayList<>();
    json.forEach(d -> drafts.add(new EventDraft(t, "message", d, true, null)));
    text.forEach(d -> drafts.add(new EventDraft(t, "message", d, false, null)));
    List<Event> stored = c.append(s, drafts.toArray(new EventDraft[0]));
    List<Event> read = c.read(s, t, new Position(stored.get(0).epoch(), 0), 100).events();
    List<String> expected = new java.util.ArrayList<>(json);
    expected.addAll(text);
    assertThat(read).extracting(Event::data).containsExactlyElementsOf(expected);
    assertThat(read).extracting(Event::json).containsExactly(true, true, true, true, true, true, true, false, false);
  }

  @Test
  @DisplayName("topics that are URLs (Mercure's IRIs: ? & = # % [ ] ! $ ' ( ) + , ; ~) are stored, read, keyed and logged as any other, each on its own")
  default void urlTopics() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String base = "https://example.com/" + c.topic("books/1");
    String url = base + "?lang=fr&x=%20";
    // Topics that differ only in URL characters must never share a sequence, a key or a log entry.
    List<String> topics = List.of(url, base, base + "?lang=fr", base + "?lang=fr&x=%20#top",
      base + "[0]!$'()+,;=~", "/" + c.topic("relative?x=1"));
    List<Event> stored = new ArrayList<>();
    Position logStart = c.logHead(s);
    for (String t : topics) {
      assertThat(io.herald.common.Topics.isValidTopic(t)).as(t).isTrue();
      stored.add(c.append(s, new EventDraft(t, "message", "{\"t\":\"" + t + "\"}", true, "urn:uuid:1")).get(0));
    }
    Event second = c.append(s, draft(url, "2")).get(0);
    assertThat(stored).extracting(Event::seq).containsOnly(1L);
    assertThat(stored).extracting(Event::topic).containsExactlyElementsOf(topics);
    assertThat(second.seq()).isEqualTo(2);
    assertThat(c.append(s, new EventDraft(url, "message", "again", false, "urn:uuid:1")).get(0))
      .as("the publisher's id is a key of this topic only").isEqualTo(stored.get(0));
    for (int i = 0; i < topics.size(); i++) {
      String t = topics.get(i);
      Position h = c.head(s, t);
      assertThat(h.seq()).as(t).isEqualTo(t.equals(url) ? 2 : 1);
      assertThat(c.readAll(s, t, new Position(h.epoch(), 0))).as(t)
        .containsExactlyElementsOf(t.equals(url) ? List.of(stored.get(0), second) : List.of(stored.get(i)));
      assertThat(c.holdsState(s, t)).as(t).isTrue();
    }
    LogReadResult log = c.readLog(s, logStart, url::equals, 100);
    assertThat(log.events()).containsExactly(stored.get(0), second);
    assertThat(stored.get(0).cursor()).matches("[0-9a-z]+-[A-Za-z0-9]+-1");
  }

  @Test
  @DisplayName("an event's Mercure flags (private, retry) are stored with it and read back by read, readLog and an idempotent repeat")
  default void flagsAreStored() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = "https://example.com/" + c.topic("private/1");
    Position logStart = c.logHead(s);
    List<Event> stored = c.append(s,
      new EventDraft(t, "message", "secret", false, "urn:uuid:p", true, -1),
      new EventDraft(t, "message", "slow down", false, null, false, 5000),
      new EventDraft(t, "message", "both", false, null, true, 0),
      new EventDraft(t, "message", "public", false, null));
    assertThat(stored).extracting(Event::privateUpdate).containsExactly(true, false, true, false);
    assertThat(stored).extracting(Event::retry).containsExactly(-1L, 5000L, 0L, -1L);
    List<Event> read = c.read(s, t, new Position(stored.get(0).epoch(), 0), 10).events();
    assertThat(read).containsExactlyElementsOf(stored);
    assertThat(read).extracting(Event::privateUpdate).containsExactly(true, false, true, false);
    assertThat(read).extracting(Event::retry).containsExactly(-1L, 5000L, 0L, -1L);
    assertThat(c.readLog(s, logStart, t::equals, 100).events()).containsExactlyElementsOf(stored);
    Event again = c.append(s, new EventDraft(t, "message", "secret", false, "urn:uuid:p", true, -1)).get(0);
    assertThat(again).isEqualTo(stored.get(0));
    assertThat(again.privateUpdate()).isTrue();
  }

  @Test
  @DisplayName("the head of a topic without events is seq 0 in the epoch its first event then gets")
  default void headOfUnknownTopic() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String t = c.topic("fresh");
    Position before = c.head(s, t);
    assertThat(before.seq()).isZero();
    assertThat(before.epoch()).matches("[A-Za-z0-9]{1,16}");

    Event first = c.append(s, draft(t, "first")).get(0);

    assertThat(first.position()).isEqualTo(new Position(before.epoch(), 1));
    ReadResult r = c.read(s, t, before, 10);
    assertThat(r.reset()).as("a client that subscribed before the first event loses nothing").isFalse();
    assertThat(r.events()).containsExactly(first);
  }

  @Test
  @DisplayName("one append with several topics numbers each topic on its own and answers in draft order")
  default void oneAppendSeveralTopics() {
    ReplayStoreFixture fx = contract();
    ReplayStore s = fx.newStore();
    String a = fx.topic("a");
    String b = fx.topic("b");
    String c = fx.topic("c");
    List<Event> out = fx.append(s, draft(a, "a1"), draft(b, "b1"), draft(a, "a2"), draft(c, "c1"), draft(b, "b2"));

    assertThat(out).extracting(Event::topic).containsExactly(a, b, a, c, b);
    assertThat(out).extracting(Event::data).containsExactly("a1", "b1", "a2", "c1", "b2");
    assertThat(out).extracting(Event::seq).containsExactly(1L, 1L, 2L, 1L, 2L);
    assertThat(fx.head(s, a).seq()).isEqualTo(2);
    assertThat(fx.head(s, b).seq()).isEqualTo(2);
    assertThat(fx.head(s, c).seq()).isEqualTo(1);
    assertThat(fx.readAll(s, b, new Position(out.get(1).epoch(), 0))).extracting(Event::data).containsExactly("b1", "b2");
  }
}
