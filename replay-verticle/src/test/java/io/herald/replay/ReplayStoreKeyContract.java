package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The part of the store contract about {@link ReplayStore#findKey} (finding an event by the id its
 * publisher gave it, on any topic) and Mercure alternates, run for every backend by
 * {@link ReplayStoreContractTest}, which implements it through {@link ReplayStoreContract}. Keys
 * are unique per test: the index spans topics, and the backends' data outlives a test run.
 */
interface ReplayStoreKeyContract {

  /** The contract test this runs in: its stores, clock and helpers. */
  ReplayStoreFixture contract();

  private static String uniqueKey(String name) {
    return "urn:uuid:" + UUID.randomUUID() + "#" + name;
  }

  private List<Event> findKey(ReplayStore s, String key) {
    return contract().await(() -> s.findKey(key));
  }

  @Test
  @DisplayName("findKey answers the retained events with the key on every topic, with their log positions, in log order; an unknown key answers none")
  default void findKeyAcrossTopics() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String a = c.topic("key/a");
    String b = "https://example.com/" + c.topic("key/b?x=1");
    String key = uniqueKey("shared");
    c.append(s, ReplayStoreFixture.draft(a, "before"));
    Event onA = c.append(s, ReplayStoreFixture.keyed(a, "a", key)).get(0);
    c.append(s, ReplayStoreFixture.draft(b, "between"));
    Event onB = c.append(s, ReplayStoreFixture.keyed(b, "b", key)).get(0);
    Event other = c.append(s, ReplayStoreFixture.keyed(a, "other", uniqueKey("other"))).get(0);

    List<Event> found = findKey(s, key);

    assertThat(found).containsExactly(onA, onB);
    assertThat(found).extracting(Event::log).containsExactly(onA.log(), onB.log());
    assertThat(findKey(s, other.key())).containsExactly(other);
    assertThat(findKey(s, uniqueKey("never"))).isEmpty();
    Event again = c.append(s, ReplayStoreFixture.keyed(a, "retry", key)).get(0);
    assertThat(again).as("an idempotent repeat").isEqualTo(onA);
    assertThat(findKey(s, key)).as("a repeat adds nothing").containsExactly(onA, onB);
  }

  @Test
  @DisplayName("findKey forgets an event once its topic no longer retains it (maxEventsPerTopic, maxAgeSeconds): the index never outlives retention")
  default void findKeyFollowsRetention() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore(new JsonObject().put("maxEventsPerTopic", 2).put("maxAgeSeconds", 60));
    String t = c.topic("key/retention");
    String pushed = uniqueKey("pushed");
    c.append(s, ReplayStoreFixture.keyed(t, "old", pushed));
    assertThat(findKey(s, pushed)).hasSize(1);
    c.appendMany(s, t, 2);

    assertThat(findKey(s, pushed)).as("pushed out by maxEventsPerTopic").isEmpty();

    String aged = uniqueKey("aged");
    String u = c.topic("key/aged");
    c.append(s, ReplayStoreFixture.keyed(u, "aging", aged));
    c.advance(61_000);
    assertThat(findKey(s, aged)).as("older than maxAgeSeconds").isEmpty();
  }

  @Test
  @DisplayName("the copies of a Mercure update with alternate topics are stored once per topic, each naming all the topics, and found together by their key")
  default void alternatesAreStored() {
    ReplayStoreFixture c = contract();
    ReplayStore s = c.newStore();
    String canonical = "https://example.com/" + c.topic("books/1");
    String alternate = "https://example.com/" + c.topic("alt/books/1");
    String key = uniqueKey("alternates");
    List<String> topics = List.of(canonical, alternate);
    Position logStart = c.logHead(s);
    List<Event> stored = c.append(s,
      new EventDraft(canonical, "message", "l1\n\nl3", false, key, true, 100, topics),
      new EventDraft(alternate, "message", "l1\n\nl3", false, key, true, 100, topics));

    assertThat(stored).extracting(Event::alternates).containsOnly(topics);
    assertThat(c.read(s, alternate, new Position(stored.get(1).epoch(), 0), 10).events()).containsExactly(stored.get(1));
    assertThat(c.read(s, alternate, new Position(stored.get(1).epoch(), 0), 10).events().get(0).alternates()).isEqualTo(topics);
    // The order of one call's events across topics is the store's (see the log contract): compare as sets.
    assertThat(c.readLog(s, logStart, topics::contains, 10).events()).containsExactlyInAnyOrderElementsOf(stored);
    assertThat(findKey(s, key)).containsExactlyInAnyOrderElementsOf(stored);
    assertThat(findKey(s, key)).allSatisfy(e -> {
      assertThat(e.alternates()).isEqualTo(topics);
      assertThat(e.privateUpdate()).isTrue();
      assertThat(e.retry()).isEqualTo(100);
    });
  }
}
