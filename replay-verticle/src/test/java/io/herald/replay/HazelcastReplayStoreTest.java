package io.herald.replay;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.config.ConfigException;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static io.herald.replay.HazelcastMembers.memberConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The contract on {@link HazelcastReplayStore} over one embedded Hazelcast member, plus what only this store does on
 * that member: heads that create nothing, stale idempotency claims, refused configurations and maxTopics. Each store
 * gets its own Hazelcast names, so stores of different limits share the member. The ringbuffers expire by
 * Hazelcast's wall clock, and reads check age by the store's clock, which the contract's age tests drive. The byte
 * budget evicts whole topics here, so the contract checks its whole-topic form. What needs more than one member:
 * {@link HazelcastReplayStoreClusterTest}.
 */
class HazelcastReplayStoreTest extends ByteBudgetContractTest {

  private static HazelcastInstance member;
  private static String clusterName;
  /** A second member of the same cluster, started by the first test that needs it. */
  private static HazelcastInstance secondMember;

  @BeforeAll
  static void startMember() {
    clusterName = "herald-test-" + UUID.randomUUID();
    member = Hazelcast.newHazelcastInstance(memberConfig(clusterName));
  }

  @AfterAll
  static void stopMember() {
    if (secondMember != null) {
      secondMember.shutdown();
      secondMember = null;
    }
    if (member != null) {
      member.shutdown();
    }
  }

  @Override
  protected ReplayStore createSharingStore(ReplayStore first, ReplayOptions options, LongSupplier clock) {
    synchronized (HazelcastReplayStoreTest.class) {
      if (secondMember == null) {
        secondMember = Hazelcast.newHazelcastInstance(memberConfig(clusterName));
      }
    }
    return new HazelcastReplayStore(vertx, secondMember, options, ((HazelcastReplayStore) first).namespace(), clock);
  }

  @Override
  protected ReplayStore createStore(ReplayOptions options, LongSupplier clock) {
    return new HazelcastReplayStore(vertx, member, options, "t" + UUID.randomUUID().toString().substring(0, 8), clock);
  }

  @Override
  protected boolean holdsState(ReplayStore store, String topic) {
    return member.getDistributedObjects().stream().anyMatch(o -> o.getName().contains(".history." + topic + "#")
      || o instanceof com.hazelcast.map.IMap<?, ?> m && (m.containsKey(topic) || m.keySet().stream()
        .anyMatch(k -> k instanceof String s && s.startsWith(topic + "\u0000"))));
  }

  @Override
  protected boolean evictsWholeTopics() {
    return true;
  }

  @Test
  @DisplayName("the store names itself hazelcast and the head of an unknown topic is seq 0 without creating the topic")
  void nameAndUnknownHead() {
    ReplayStore s = newStore();
    Position one = head(s, topic("ghost1"));
    Position two = head(s, topic("ghost2"));

    assertThat(s.name()).isEqualTo("hazelcast");
    assertThat(one.seq()).isZero();
    assertThat(one.epoch()).matches("[A-Za-z0-9]{8}");
    assertThat(two).isEqualTo(one);
    assertThat(member.getDistributedObjects())
      .as("heads of unknown topics create no ringbuffer")
      .noneMatch(o -> o.getName().contains(topic("ghost")));
  }

  @Test
  @DisplayName("a key claimed by an append whose member died after storing is answered with that event, never stored twice")
  void staleClaimAfterStoreIsResolvedFromHistory() throws Exception {
    String ns = "stale" + UUID.randomUUID().toString().substring(0, 8);
    HazelcastReplayStore s = onContext(() -> new HazelcastReplayStore(vertx, member, new ReplayOptions(), ns));
    String t = topic("stale");
    Event first = append(s, draft(t, "first")).get(0);
    // What a member lost mid-append leaves: its pending claim, and the event it managed to store.
    member.<String, Long>getMap(ns + ".keys").put(t + "\u0000" + first.epoch() + "\u0000k-lost", -4242L);
    io.vertx.core.json.JsonObject item = new EventDraft(t, "message", "lost", false, "k-lost").toEvent(first.epoch(), 0, System.currentTimeMillis()).toJson();
    item.remove("seq");
    member.<String>getRingbuffer(ns + ".history." + t + "#" + first.epoch()).add(item.encode());

    AppendResult retry = onContext(() -> s.appendReporting(List.of(new EventDraft(t, "message", "retry", false, "k-lost"))))
      .toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);

    assertThat(retry.events()).extracting(Event::seq, Event::data).containsExactly(org.assertj.core.groups.Tuple.tuple(2L, "lost"));
    assertThat(retry.stored()).as("nothing stored again").isEmpty();
    assertThat(head(s, t).seq()).isEqualTo(2);
    assertThat(member.<String, Long>getMap(ns + ".keys").get(t + "\u0000" + first.epoch() + "\u0000k-lost")).isEqualTo(2L);
  }

  @Test
  @DisplayName("a key claimed by an append whose member died before storing is taken over and stored exactly once")
  void staleClaimBeforeStoreIsTakenOver() {
    String ns = "stale" + UUID.randomUUID().toString().substring(0, 8);
    HazelcastReplayStore s = onContext(() -> new HazelcastReplayStore(vertx, member, new ReplayOptions(), ns));
    String t = topic("taken");
    Event first = append(s, draft(t, "first")).get(0);
    member.<String, Long>getMap(ns + ".keys").put(t + "\u0000" + first.epoch() + "\u0000k2", -777L);

    Event stored = append(s, new EventDraft(t, "message", "once", false, "k2")).get(0);
    Event again = append(s, new EventDraft(t, "message", "twice", false, "k2")).get(0);

    assertThat(stored.seq()).isEqualTo(2);
    assertThat(again).isEqualTo(stored);
    assertThat(head(s, t).seq()).isEqualTo(2);
  }

  @Test
  @DisplayName("a non-clustered Vert.x is refused with a ConfigException that names replay.store")
  void needsCluster() {
    ReplayOptions options = new ReplayOptions(new JsonObject().put("store", "hazelcast"));
    assertThatThrownBy(() -> ReplayStoreFactory.create(vertx, options))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("replay.store")
      .hasMessageContaining("--cluster");
  }

  @Test
  @DisplayName("a second store with other limits in the same cluster fails to initialize with a ConfigException naming replay.maxEventsPerTopic")
  void conflictingLimits() {
    String namespace = "conflict" + UUID.randomUUID().toString().substring(0, 8);
    HazelcastReplayStore first = onContext(() -> new HazelcastReplayStore(vertx, member, new ReplayOptions(), namespace));
    await(first::init);
    HazelcastReplayStore second = onContext(() -> new HazelcastReplayStore(vertx, member,
      new ReplayOptions(new JsonObject().put("maxEventsPerTopic", 5)), namespace));

    assertThatThrownBy(() -> await(second::init))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("replay.maxEventsPerTopic");
  }

  @Test
  @DisplayName("topics beyond replay.maxTopics are evicted least recently appended first, their resumes reset without history_evicted")
  void maxTopicsIsEnforced() {
    HazelcastReplayStore s = (HazelcastReplayStore) newStore(new JsonObject().put("maxTopics", 2));
    Event a = appendMany(s, topic("a"), 2).get(1);
    appendMany(s, topic("b"), 1);
    appendMany(s, topic("c"), 1);

    Position head = head(s, topic("a"));
    ReadResult resume = read(s, topic("a"), a.position(), 10);

    assertThat(head.epoch()).isNotEqualTo(a.epoch());
    assertReset(resume, head);
    assertThat(resume.resetReason()).isEqualTo("history_unavailable");
    assertThat(holdsState(s, topic("b")) && holdsState(s, topic("c"))).isTrue();
    assertThat(member.getDistributedObjects()).noneMatch(o -> o.getName().contains(".history." + topic("a") + "#"));
    assertThat(s.evictedEvents()).as("not counted as byte-budget evictions").isZero();
  }
}
