package io.herald.gateway.fanout;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.pattern.TopicFilter;
import io.herald.common.replay.LogReadResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One pattern subscription held by one gateway instance: the event-bus consumer of the pattern's
 * address (events the replay role found matching, see
 * {@link io.herald.common.pattern.PatternRoutes}), and the subscribers to fan out to.
 *
 * <p>Exactness comes from the store's log. The channel keeps {@code logAt}, a log position up
 * to which every matching event was given to the subscribers, and for each topic it gave an event
 * of, where that topic stands. A live event is given at once when it is certainly next in its
 * topic (the topic's next sequence, or the first event of a topic); any doubt (a gap in the
 * topic, a topic seen for the first time in the middle of its history, a new epoch) and the
 * event is left to a <em>catch-up</em>: a read of the log after {@code logAt} filtered by the
 * pattern, which gives what is missing in log order (per-topic order) and moves {@code logAt}
 * to where it scanned. Catch-ups also run while the subscription spreads through the cluster,
 * when many topics stand above {@code logAt} (so that subscribers' cursors stay short), and now
 * and then while idle (so that a cursor does not point at history the log no longer holds).
 *
 * <p>Confined to the gateway instance's event loop.
 */
public final class PatternChannel {

  private static final Logger LOG = LoggerFactory.getLogger(PatternChannel.class);

  /** Topics above {@code logAt} before a catch-up is started to bring them under it. */
  static final int MAX_ABOVE = 8;
  /** Topics whose position the channel remembers (under {@code logAt}: only to skip a catch-up). */
  static final int MAX_REMEMBERED = 4096;
  /** Events asked per log read of a catch-up. */
  static final int READ_LIMIT = 500;
  /** Reads per catch-up before yielding to the loop (the next catch-up goes on). */
  static final int MAX_ROUNDS = 20;
  /** Catch-ups after the channel opens, ms after it opened: the registration spreads meanwhile. */
  static final long[] SETTLE_MILLIS = {200, 800, 3000};
  /** A catch-up at least this often while topics stand above {@code logAt}, ms. */
  static final long ABOVE_MILLIS = 2000;
  /** A catch-up at least this often while idle, ms: keeps {@code logAt} within the log. */
  static final long IDLE_MILLIS = 30_000;

  private final String key;
  private final TopicFilter filter;
  private final Subscriptions owner;
  private final Members<PatternSubscriber> members;
  private final Promise<Void> readyPromise = Promise.promise();
  /** Topic to where it stands, least recently given first. */
  private final LinkedHashMap<String, TopicAt> topics = new LinkedHashMap<>(64, 0.75f, true);
  private MessageConsumer<Event> consumer;
  private boolean ready;
  private boolean closed;
  private Position logAt;
  private int above;
  private boolean catchingUp;
  private boolean again;
  private long timer = -1;

  PatternChannel(String key, TopicFilter filter, Subscriptions owner) {
    this.key = key;
    this.filter = filter;
    this.owner = owner;
    this.members = new Members<>(LOG, "pattern " + filter.source(), s -> owner.discard(this));
  }

  public String key() {
    return key;
  }

  public TopicFilter filter() {
    return filter;
  }

  public int size() {
    return members.size();
  }

  public boolean ready() {
    return ready && !closed;
  }

  /**
   * Registers the consumer, announces the pattern to the replay role, then reads where the log
   * stands: events after it reach us live or through the catch-ups that follow while the
   * announcement spreads.
   */
  Future<Void> open() {
    consumer = owner.vertx().eventBus().consumer(Addresses.pattern(key), msg -> onEvent(msg.body()));
    consumer.completion()
      .compose(v -> {
        owner.announce(key, true);
        return owner.replay().logHead();
      })
      .onComplete(ar -> {
        if (closed) {
          return;
        }
        if (ar.failed()) {
          LOG.warn("pattern {}: cannot read the log head: {}", filter.source(), ar.cause().getMessage());
          readyPromise.tryFail(HeraldException.from(ar.cause()));
          owner.discard(this);
          return;
        }
        logAt = ar.result();
        ready = true;
        members.forEach((s, i) -> s.onPatternPosition(i, logAt, Map.of()));
        readyPromise.tryComplete();
        for (long delay : SETTLE_MILLIS) {
          owner.vertx().setTimer(delay, id -> catchUp());
        }
        schedule();
      });
    return readyPromise.future();
  }

  /** Adds a subscriber; the returned future completes when the channel knows its position. */
  Future<Void> add(PatternSubscriber s, int index) {
    members.add(s, index);
    if (ready) {
      s.onPatternPosition(index, logAt, aboveLogAt());
    }
    return readyPromise.future();
  }

  void remove(PatternSubscriber s) {
    members.remove(s);
  }

  /** Unregisters the consumer; the channel is done. */
  Future<Void> close() {
    closed = true;
    if (timer >= 0) {
      owner.vertx().cancelTimer(timer);
    }
    readyPromise.tryFail(new HeraldException(ErrorCode.SHUTTING_DOWN, "pattern released"));
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  private Map<String, TopicAt> aboveLogAt() {
    if (above == 0) {
      return Map.of();
    }
    Map<String, TopicAt> out = new HashMap<>();
    topics.forEach((t, at) -> {
      if (at.log() > logAt.seq()) {
        out.put(t, at);
      }
    });
    return out;
  }

  private void onEvent(Event e) {
    if (closed) {
      return;
    }
    owner.stats().eventsReceived++;
    HeraldMetrics.get().patternEventReceived();
    Position log = e.log();
    if (!ready || log == null || !log.epoch().equals(logAt.epoch())) {
      catchUp(); // not positioned yet, or of a log we do not stand in: the log says what to give
      return;
    }
    if (log.seq() <= logAt.seq()) {
      return; // a catch-up already gave it
    }
    TopicAt at = topics.get(e.topic());
    boolean next = at == null
      ? e.seq() == 1 && e.prev() == null
      : at.epoch().equals(e.epoch()) && e.seq() == at.seq() + 1;
    if (at != null && at.epoch().equals(e.epoch()) && e.seq() <= at.seq()) {
      return; // given already
    }
    if (next) {
      dispatch(e);
    } else {
      catchUp();
    }
  }

  private void dispatch(Event e) {
    TopicAt before = topics.put(e.topic(), new TopicAt(e.epoch(), e.seq(), e.log().seq()));
    if (before == null || before.log() <= logAt.seq()) {
      above++;
    }
    if (topics.size() > MAX_REMEMBERED) {
      Iterator<Map.Entry<String, TopicAt>> it = topics.entrySet().iterator();
      Map.Entry<String, TopicAt> eldest = it.next();
      if (eldest.getValue().log() <= logAt.seq()) {
        it.remove();
      }
    }
    if (above > MAX_ABOVE) {
      catchUp();
    }
    if (members.isEmpty()) {
      return;
    }
    EncodedEvent encoded = new EncodedEvent(e);
    int delivered = members.size();
    owner.stats().deliveries += delivered;
    HeraldMetrics.get().delivered(delivered, e.timestamp());
    members.forEach((s, i) -> s.onPatternEvent(i, encoded));
  }

  /** Reads the log after {@code logAt}; one catch-up at a time, asked again if asked meanwhile. */
  void catchUp() {
    if (closed || !ready) {
      return;
    }
    if (catchingUp) {
      again = true;
      return;
    }
    catchingUp = true;
    again = false;
    read(0);
  }

  private void read(int round) {
    HeraldMetrics.get().patternCatchUp();
    owner.gapReplay().readLogKeys(logAt, List.of(key), READ_LIMIT).onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.failed()) {
        LOG.info("pattern {}: catch-up after {} failed: {}", filter.source(), logAt.seq(), ar.cause().getMessage());
        done(true);
        return;
      }
      LogReadResult r = ar.result();
      if (r.reset()) {
        LOG.info("pattern {}: log after {}:{} gone ({}): subscribers get a reset", filter.source(), logAt.epoch(),
          logAt.seq(), r.resetReason());
        logAt = r.head();
        topics.clear();
        above = 0;
        Position at = logAt;
        members.forEach((s, i) -> s.onPatternReset(i, at, r.resetReason()));
        done(false);
        return;
      }
      for (Event e : r.events()) {
        TopicAt at = topics.get(e.topic());
        if (at == null || !at.epoch().equals(e.epoch()) || e.seq() > at.seq()) {
          dispatch(e);
        }
      }
      advance(r.scannedTo());
      if (!r.complete() && round + 1 < MAX_ROUNDS) {
        read(round + 1);
      } else {
        again |= !r.complete();
        done(false);
      }
    });
  }

  private void advance(Position to) {
    if (to.seq() <= logAt.seq()) {
      return;
    }
    logAt = to;
    int still = 0;
    for (TopicAt at : topics.values()) {
      if (at.log() > logAt.seq()) {
        still++;
      }
    }
    above = still;
    Position covered = logAt;
    members.forEach((s, i) -> s.onPatternCovered(i, covered));
  }

  private void done(boolean failed) {
    catchingUp = false;
    if (again && !failed) {
      catchUp();
    } else if (failed) {
      again = true; // tried again by the timer
    }
  }

  /** The catch-up timer: soon while topics stand above {@code logAt} or a catch-up is owed, else rarely. */
  private void schedule() {
    if (closed) {
      return;
    }
    long delay = above > 0 || again ? ABOVE_MILLIS : IDLE_MILLIS;
    timer = owner.vertx().setTimer(delay, id -> {
      timer = -1;
      catchUp();
      schedule();
    });
  }
}
