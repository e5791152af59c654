package io.herald.notifier;

import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayClient;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** What the ingest tests read back from the real replay store. */
final class StoredEvents {

  private StoredEvents() {
  }

  /** Every stored event of {@code topic}, in order, paging through the store; fails on a reset. */
  static List<Event> readAll(ReplayClient replay, String topic) throws Exception {
    Position head = await(replay.heads(List.of(topic))).get(topic);
    List<Event> out = new ArrayList<>();
    Position at = new Position(head.epoch(), 0);
    while (true) {
      ReadResult r = await(replay.read(topic, at, 1000));
      assertThat(r.reset()).as("reset while reading " + topic).isFalse();
      out.addAll(r.events());
      if (r.events().isEmpty() || r.complete()) {
        return out;
      }
      at = new Position(head.epoch(), r.events().get(r.events().size() - 1).seq());
    }
  }

  /** Waits until the topic holds n events; fails on more than n or on a repeated idempotency key. */
  static List<Event> waitForEvents(ReplayClient replay, String topic, int n, long timeoutMillis) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    List<Event> got = readAll(replay, topic);
    while (got.size() < n && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
      got = readAll(replay, topic);
    }
    assertThat(got).as("events of " + topic).hasSize(n);
    Set<String> keys = new HashSet<>();
    for (Event e : got) {
      if (e.key() != null) {
        assertThat(keys.add(e.key())).as("delivered once: " + e.key()).isTrue();
      }
    }
    return got;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
  }
}
