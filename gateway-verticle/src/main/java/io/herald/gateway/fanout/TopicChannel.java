package io.herald.gateway.fanout;

import io.herald.common.Addresses;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.ReadResult;
import io.herald.common.tracing.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * One topic held by one gateway instance: the event-bus consumer of the topic (registered only
 * while a connection holds it, and none when the gateway fans out per node: {@link Subscriptions}
 * hands it its events then), the topic's position, and the subscribers to fan out to.
 *
 * <p>Events reach the subscribers strictly in sequence order, each once. Publishers on different
 * nodes can make seq 7 arrive before seq 6: the channel holds 7 back and fills 6 from the store
 * (waiting at most {@code gapWaitMillis}); when the store cannot fill it, the subscribers get a
 * {@code reset} for the topic — never a silent skip. Each event is encoded once here and the
 * same bytes go to every subscriber.
 *
 * <p>Confined to the gateway instance's event loop.
 */
public final class TopicChannel {

  private static final Logger LOG = LoggerFactory.getLogger(TopicChannel.class);

  /** Events held while the topic's head is being fetched; more are dropped and refilled from the store. */
  static final int MAX_EARLY = 10_000;
  /** Out-of-order events held while a gap is filled; more and the gap is declared lost. */
  static final int MAX_PENDING = 10_000;
  /** When a new channel in a cluster checks the store's head again, ms after the previous check. */
  static final long[] SETTLE_CHECKS_MILLIS = {200, 800, 3000};
  /** Pauses between gap-fill reads that got no answer; after the last, the gap is declared lost. */
  static final long[] FILL_RETRY_MILLIS = {250, 1000, 2000};

  private final String topic;
  private final Subscriptions owner;
  private final Members<Subscriber> members;
  private final Promise<Void> readyPromise = Promise.promise();
  private MessageConsumer<Event> consumer;
  private boolean ready;
  /** In a cluster: the consumer's registration has completed. */
  private boolean registered;
  private int registrationAttempts;
  private boolean closed;
  private String epoch;
  private long lastSeq;
  private ArrayDeque<Event> early = new ArrayDeque<>();
  private final TreeMap<Long, Event> pending = new TreeMap<>();
  private boolean filling;
  /** Null when tracing is off. */
  private final Tracer tracer;

  public TopicChannel(String topic, Subscriptions owner) {
    this.topic = topic;
    this.owner = owner;
    this.members = new Members<>(LOG, "topic " + topic, s -> owner.emptied(this, s));
    this.tracer = Tracing.of(owner.vertx()).tracer();
  }

  public String topic() {
    return topic;
  }

  public int size() {
    return members.size();
  }

  /**
   * Registers the consumer and fetches the head: every event published after both are done
   * reaches us, and the head says where the topic stood, so nothing falls between the two.
   *
   * <p>Alone, the registration is local and done at once: the head is read after it. In a
   * cluster the registration is a write to the cluster's subscription map, and the cluster
   * manager performs one event loop's writes one at a time: when hundreds of clients arrive
   * together (the clients of a killed gateway, reconnecting with {@code Last-Event-ID}), the
   * last waited seconds in that line before its stream opened. So there the head is read at
   * once (with the heads of the other topics opening in the same moment, in one request) and
   * the stream opens on it; when the registration is in, the head is read again and whatever
   * was published in between is filled from the store, in order, before the events that follow.
   */
  public Future<Void> open() {
    if (owner.perNode()) {
      // The deployment's consumer of every event was registered before it listened:
      // every event published from now on reaches this channel, so the head read now is the
      // start, and there is no registration to wait for or spread.
      registered = true;
      owner.head(topic).onComplete(this::positioned);
      return readyPromise.future();
    }
    register();
    if (!owner.vertx().isClustered()) {
      consumer.completion().compose(v -> owner.head(topic)).onComplete(this::positioned);
    } else {
      owner.head(topic).onComplete(this::positioned);
    }
    return readyPromise.future();
  }

  private void register() {
    MessageConsumer<Event> c = owner.vertx().eventBus().consumer(Addresses.topic(topic), msg -> onEvent(msg.body()));
    consumer = c;
    if (!owner.vertx().isClustered()) {
      return;
    }
    c.completion().onComplete(ar -> {
      if (closed || consumer != c) {
        return;
      }
      if (ar.failed()) {
        onRegistrationFailed(ar.cause());
        return;
      }
      registered = true;
      if (ready) {
        settle();
      }
    });
  }

  /** The head is known: the channel's subscribers start from it. */
  private void positioned(io.vertx.core.AsyncResult<Position> ar) {
    if (closed) {
      return;
    }
    if (ar.failed()) {
      LOG.warn("topic {}: cannot fetch head: {}", topic, ar.cause().getMessage());
      readyPromise.tryFail(HeraldException.from(ar.cause()));
      owner.discard(this);
      return;
    }
    Position head = ar.result();
    epoch = head.epoch();
    lastSeq = head.seq();
    ready = true;
    members.forEach((s, i) -> s.onPosition(i, head));
    ArrayDeque<Event> held = early;
    early = null;
    for (Event e : held) {
      onEvent(e);
    }
    readyPromise.tryComplete();
    if (registered && (consumer != null || owner.spreading())) {
      settle();
    }
  }

  /**
   * A cluster registration that failed: before the head is known the channel fails (its
   * connections are refused and retried by their clients); after, its subscribers already
   * stream, so the registration is tried again, and the head check after it fills what they
   * missed meanwhile.
   */
  private void onRegistrationFailed(Throwable cause) {
    if (!ready) {
      LOG.warn("topic {}: cannot register in the cluster: {}", topic, cause.getMessage());
      readyPromise.tryFail(HeraldException.from(cause));
      owner.discard(this);
      return;
    }
    int attempt = Math.min(registrationAttempts++, FILL_RETRY_MILLIS.length - 1);
    LOG.warn("topic {}: cluster registration failed ({}): trying again", topic, cause.getMessage());
    MessageConsumer<Event> failed = consumer;
    failed.unregister();
    owner.vertx().setTimer(FILL_RETRY_MILLIS[attempt], id -> {
      if (!closed && consumer == failed) {
        register();
      }
    });
  }

  /** Registered and positioned in a cluster: check the head now, then while the registration spreads. */
  private void settle() {
    checkHead();
    settleCheck(0);
  }

  /**
   * In a cluster, {@code completion()} means the registration is stored, not that every node's
   * routing cache has seen it: for a moment a node may publish the topic's next event to the
   * other gateways only. Such an event would surface only as a gap when a later one arrives, or
   * never on a quiet topic. So a new channel compares its position with the store's head a few
   * times while the registration spreads, and fills whatever it missed.
   */
  private void settleCheck(int round) {
    if (round >= SETTLE_CHECKS_MILLIS.length) {
      return;
    }
    owner.vertx().setTimer(SETTLE_CHECKS_MILLIS[round], id -> {
      if (closed) {
        return;
      }
      checkHead().onComplete(ar -> settleCheck(round + 1));
    });
  }

  /** Compares the position with the store's head, and fills from the store when behind. */
  private Future<Void> checkHead() {
    return owner.head(topic).<Void>map(head -> {
      if (!closed && head != null && head.epoch().equals(epoch) && head.seq() > lastSeq && !filling) {
        LOG.atDebug().addKeyValue("topic", topic).addKeyValue("at", lastSeq).addKeyValue("head", head.seq())
          .log("events published while the subscription spread: filling from the store");
        fill();
      }
      return null;
    }).otherwiseEmpty();
  }

  /** Adds a subscriber; the returned future completes when the channel knows its position. */
  public Future<Void> add(Subscriber s, int index) {
    members.add(s, index);
    if (ready) {
      s.onPosition(index, position());
    }
    return readyPromise.future();
  }

  public void remove(Subscriber s) {
    members.remove(s);
  }

  /** True once the topic's position is known (the consumer is registered and the head fetched). */
  public boolean ready() {
    return ready && !closed;
  }

  public Position position() {
    return new Position(epoch, lastSeq);
  }

  /** Unregisters the consumer; the channel is done. */
  public Future<Void> close() {
    closed = true;
    readyPromise.tryFail(new HeraldException(io.herald.common.ErrorCode.SHUTTING_DOWN, "topic released"));
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  /** An event of the topic, from the channel's own consumer or (per node) from {@link Subscriptions}. */
  void onEvent(Event e) {
    if (closed) {
      return;
    }
    owner.stats().eventsReceived++;
    if (!ready) {
      if (early.size() < MAX_EARLY) {
        early.add(e);
      }
      return;
    }
    if (!e.epoch().equals(epoch)) {
      if (e.prev() != null && e.prev().equals(position()) && pending.isEmpty()) {
        // The store says where the topic stood in our epoch when this one began (entering or
        // leaving a store outage), and we stand exactly there: nothing was missed, follow the
        // new epoch without a reset. Subscribers' cursors move on with this event.
        LOG.atInfo().addKeyValue("topic", topic).addKeyValue("from", epoch).addKeyValue("to", e.epoch()).addKeyValue("seq", e.seq())
          .log("epoch changed where we stood: following it without a reset");
        epoch = e.epoch();
        lastSeq = e.seq() - 1;
      } else {
        // The store's history changed under us (a restart without persistence, a store outage
        // or its end) and we cannot tell that nothing was missed: positions of the old epoch
        // mean nothing any more. Say so, then follow the new epoch from this event. Not from
        // its start: after an outage the durable epoch comes back at a seq its subscribers'
        // clients had long received before the outage.
        LOG.atInfo().addKeyValue("topic", topic).addKeyValue("from", epoch).addKeyValue("to", e.epoch()).addKeyValue("seq", e.seq())
          .log("epoch changed: subscribers get a reset");
        epoch = e.epoch();
        pending.clear();
        resetAll(new Position(epoch, e.seq() - 1), "history_lost");
      }
    }
    if (e.seq() <= lastSeq) {
      return;
    }
    if (e.seq() == lastSeq + 1 && !filling) {
      dispatch(e);
      drainPending();
      return;
    }
    pending.put(e.seq(), e);
    if (pending.size() > MAX_PENDING) {
      skipGap("gap_not_filled");
      return;
    }
    if (!filling) {
      fill();
    }
  }

  private void fill() {
    fill(0);
  }

  /**
   * Reads the missing events from the store. A read that fails (no answer in time, no replay
   * role in reach: typically while a replay process is being replaced and the cluster moves its
   * partitions) is tried again, {@link #FILL_RETRY_MILLIS} apart, before the gap is declared
   * lost: a store that answers "not there" is believed at once, one that does not answer is not.
   */
  private void fill(int attempt) {
    filling = true;
    owner.stats().gapFills++;
    Position from = position();
    owner.gapReplay().read(topic, from, owner.options().maxReplayEvents() + 1).onComplete(ar -> {
      filling = false;
      if (closed) {
        return;
      }
      if (ar.failed() && attempt < FILL_RETRY_MILLIS.length && pending.size() <= MAX_PENDING) {
        LOG.info("topic {}: gap after {} not filled yet ({}); trying again", topic, from.seq(), ar.cause().getMessage());
        filling = true; // events keep queueing in pending meanwhile
        owner.vertx().setTimer(FILL_RETRY_MILLIS[attempt], id -> {
          if (!closed) {
            fill(attempt + 1);
          }
        });
        return;
      }
      if (ar.failed() || ar.result().reset() || !ar.result().head().epoch().equals(epoch)) {
        LOG.warn("topic {}: cannot fill gap after {}: {}", topic, from.seq(),
          ar.failed() ? ar.cause().getMessage() : "history unavailable");
        skipGap("gap_not_filled");
        return;
      }
      ReadResult r = ar.result();
      long before = lastSeq;
      for (Event e : r.events()) {
        if (e.seq() == lastSeq + 1) {
          dispatch(e);
        }
      }
      drainPending();
      if (!pending.isEmpty()) {
        if (lastSeq > before) {
          fill();
        } else {
          skipGap("gap_not_filled");
        }
      }
    });
  }

  /** Gives up on the missing events: subscribers get a reset, delivery goes on after the gap. */
  private void skipGap(String reason) {
    if (pending.isEmpty()) {
      return;
    }
    long resumeAfter = pending.firstKey() - 1;
    resetAll(new Position(epoch, resumeAfter), reason);
    drainPending();
  }

  private void drainPending() {
    while (!pending.isEmpty()) {
      Map.Entry<Long, Event> first = pending.firstEntry();
      if (first.getKey() <= lastSeq) {
        pending.pollFirstEntry();
      } else if (first.getKey() == lastSeq + 1) {
        pending.pollFirstEntry();
        dispatch(first.getValue());
      } else {
        return;
      }
    }
  }

  private void dispatch(Event e) {
    lastSeq = e.seq();
    if (members.isEmpty()) {
      return;
    }
    // One span per event and gateway instance, not per connection; only for a live event of a
    // traced publish (events filled from the store carry no trace).
    Span span = tracer == null || e.trace() == null ? null
      : tracer.spanBuilder(Tracing.FAN_OUT).setSpanKind(SpanKind.CONSUMER).setParent(Tracing.parent(e.trace()))
        .setAttribute(Tracing.TOPIC, topic).setAttribute(Tracing.SEQ, e.seq()).startSpan();
    EncodedEvent encoded = new EncodedEvent(e);
    int delivered = members.size();
    owner.stats().deliveries += delivered;
    HeraldMetrics.get().delivered(delivered, e.timestamp());
    members.forEach((s, i) -> s.onEvent(i, encoded));
    if (span != null) {
      span.setAttribute(Tracing.CONNECTIONS, (long) delivered);
      span.end();
    }
  }

  private void resetAll(Position to, String reason) {
    lastSeq = to.seq();
    owner.stats().resets += members.size();
    members.forEach((s, i) -> s.onReset(i, to, reason));
  }
}
