package io.herald.notifier;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.ReplayClient;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Validates a publish body and stores it through the replay role; the same for HTTP and the
 * event bus. Answers {@code {"events": [{"topic","seq","epoch","id"}]}} for a single publish and
 * {@code {"results": [{"events": [...]}, ...]}} for a batch, where {@code id} is the event's
 * resume cursor. A batch is stored with one append, in order. While the process is under heap
 * pressure ({@link io.herald.common.admin.HeapPressure}) every publish fails with
 * {@code over_capacity}, whatever its source, before anything is parsed or stored.
 */
public final class Publisher {

  private final PublishParser parser;
  private final ReplayClient replay;
  private final BooleanSupplier overloaded;

  public Publisher(PublishParser parser, ReplayClient replay) {
    this(parser, replay, () -> false);
  }

  /** A publisher that refuses every publish while {@code overloaded} says so. */
  public Publisher(PublishParser parser, ReplayClient replay, BooleanSupplier overloaded) {
    this.parser = parser;
    this.replay = replay;
    this.overloaded = overloaded;
  }

  /** Publishes a single or a batch body; the future fails with a {@link HeraldException}. */
  public Future<JsonObject> publish(JsonObject body) {
    return publish(body, "other");
  }

  /**
   * Publishes a single or a batch body coming from {@code source} ({@code http},
   * {@code eventbus}, {@code redis-pubsub}, ...: the label of {@code herald_events_published_total}).
   */
  public Future<JsonObject> publish(JsonObject body, String source) {
    return publish(body, source, null);
  }

  /**
   * Like {@link #publish(JsonObject, String)}, for an authenticated publisher: when
   * {@code grant} is not null, every topic of the body must be inside it, else nothing is
   * stored and the future fails with {@code access_denied} naming the topic.
   */
  public Future<JsonObject> publish(JsonObject body, String source, PublisherAuth.Grant grant) {
    if (overloaded.getAsBoolean()) {
      return Future.failedFuture(new HeraldException(io.herald.common.ErrorCode.OVER_CAPACITY,
        "the hub is short of memory: retry in " + io.herald.common.admin.HeapPressure.RETRY_AFTER_SECONDS + " s"));
    }
    List<List<EventDraft>> groups;
    boolean batch = PublishParser.isBatch(body);
    List<EventDraft> all = new ArrayList<>();
    try {
      groups = batch ? parser.batch(body) : List.of(parser.single(body));
      for (List<EventDraft> g : groups) {
        all.addAll(g);
      }
      if (grant != null) {
        grant.check(all.stream().map(EventDraft::topic).toList());
      }
    } catch (HeraldException e) {
      return Future.failedFuture(e);
    }
    return replay.append(all).map(stored -> {
      HeraldMetrics.get().published(source, stored.size());
      int k = 0;
      JsonArray results = new JsonArray();
      for (List<EventDraft> g : groups) {
        JsonArray events = new JsonArray();
        for (int i = 0; i < g.size(); i++) {
          events.add(summary(stored.get(k++)));
        }
        results.add(new JsonObject().put("events", events));
      }
      return batch ? new JsonObject().put("results", results) : results.getJsonObject(0);
    });
  }

  private static JsonObject summary(Event e) {
    return new JsonObject().put("topic", e.topic()).put("seq", e.seq()).put("epoch", e.epoch()).put("id", e.cursor());
  }
}
