package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.gateway.fanout.EncodedEvent;
import io.herald.gateway.fanout.PatternSubscriber;
import io.herald.gateway.fanout.Subscriber;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;


/**
 * One client subscription, whatever its transport (SSE, WebSocket, long-poll). It keeps, per
 * topic, the position of the last event the client was sent; every frame's id is the
 * {@link Cursor} of all of them, so a client that comes back with it says where each topic
 * stood.
 *
 * <p>On start it has joined a channel per topic (live events are queued from that moment); it
 * replays from the store what the client missed, then flushes the queue, dropping what the
 * replay already sent: no gap and no duplicate at the seam. A client that reads too slowly is
 * cut off when {@code maxWriteQueueBytes} wait unsent; it resumes by replay.
 *
 * <p>Subclasses are the transports: they say how frames are encoded ({@link Framing}) and where
 * they go. A <em>paging</em> transport (long-poll) answers with a bounded page instead of a
 * stream: its replay stops at the page's size instead of resetting, and a full page ends it.
 *
 * <p>Its parts: {@link TopicPositions} (where the client stands per topic, and the cursor),
 * {@link ConnectionResume} (the start: positioning, replay, the queue while syncing),
 * {@link ConnectionWrites} (heartbeat pacing, slow consumers) and {@link UpdateFilter} (private
 * updates, one copy of an update stored per topic); patterns are {@link PatternState}'s.
 *
 * <p>Confined to the gateway instance's event loop.
 */
public abstract class Connection implements Subscriber, PatternSubscriber {

  /** Live events that may wait while a resume is replayed; more and the connection is cut off. */
  static final int MAX_QUEUED_WHILE_SYNCING = 10_000;

  private final long id;
  public final SseGateway gateway;
  private final Framing framing;
  private final String[] topics;
  /** Where the client stands in each topic, and the cursor that says so. */
  private final TopicPositions positions;
  /** Pattern subscriptions; their state is in {@link PatternState}. */
  private PatternState patternState;
  /**
   * The start: positioning, replay, and the live events that wait meanwhile; null once synced
   * (a stream lives for hours after it, and holds nothing of its start).
   */
  private ConnectionResume resume;
  private boolean closed;
  private long expiryTimer = -1;
  /** When the connection last wrote (its heartbeats follow) and whether its client keeps up. */
  private final ConnectionWrites writes;
  /** Which updates reach the client: private ones, and one copy of an update stored per topic. */
  private final UpdateFilter filter;

  public Connection(long id, SseGateway gateway, Framing framing, String[] topics) {
    this.id = id;
    this.gateway = gateway;
    this.framing = framing;
    this.topics = topics;
    this.positions = new TopicPositions(topics);
    this.resume = new ConnectionResume(this, positions);
    this.writes = new ConnectionWrites(this);
    this.filter = new UpdateFilter(this);
    heartbeat(gateway.options().heartbeatSeconds());
  }

  // ---- the transport ----

  /** The transport's label in metrics ({@code sse}, {@code websocket}, {@code longpoll}). */
  public abstract String transport();

  /** Hands a frame to the transport. */
  public abstract void transmit(Buffer frame);

  /** Hands an event's frame to the transport; {@code cursor} as in {@link Framing#event}. */
  public void transmitEvent(EncodedEvent event, String cursor) {
    transmit(framing.event(event, cursor));
  }

  /** True when the client is not keeping up (streams) or the page is full (paging). */
  public abstract boolean writeQueueFull();

  /** Keeps an idle transport alive; skipped while the client is not keeping up. */
  public abstract void heartbeat();

  /** Sets the heartbeat interval (the client's {@code heartbeat} parameter, or the default). */
  public void heartbeat(int seconds) {
    writes.heartbeat(seconds);
  }

  /**
   * Whether the gateway's tick has work for this connection: nothing was written for longer than
   * its heartbeat interval. Called for every connection on every tick: reads two fields.
   */
  public boolean due(long now) {
    return writes.due(now);
  }

  /** The tick's work ({@link #due} said so): a heartbeat, which counts as a write. */
  public void onTick(long now) {
    if (closed) {
      return;
    }
    writes.tick(now);
    heartbeat();
  }

  /** Ends the transport cleanly: the client comes back (shutdown, token expiry, an answered poll). */
  public abstract void endTransport(String reason);

  /** Drops the transport (slow consumer, failure). */
  public abstract void abortTransport(String reason);

  /** First bytes, once every topic is positioned (SSE: {@code retry:}). */
  public void begin() {
  }

  /** Whether the stream announces itself with {@code herald.ready} after the replay. */
  public boolean announcesReady(Cursor cursor, boolean unknown) {
    return true;
  }

  /** Paging transports answer with at most a page; see the class comment. */
  public boolean pages() {
    return false;
  }

  /** Paging only: how many more frames the page takes. */
  public int pageRoom() {
    return Integer.MAX_VALUE;
  }

  /** The replay is done (and {@code herald.ready} sent, if any); live events follow. */
  public void synced() {
  }

  /** The connection left the gateway: cancel what the transport armed. */
  public void released() {
    if (expiryTimer >= 0) {
      gateway.vertx().cancelTimer(expiryTimer);
      expiryTimer = -1;
    }
  }

  /**
   * Whether the subscriber may read private updates of its topics: true when a token granted
   * them (jwt mode), false for anonymous subscribers (authMode none, public topics).
   */
  public void readsPrivate(boolean readsPrivate) {
    filter.readsPrivate(readsPrivate);
  }

  /**
   * Whether a private update of {@code topic} reaches this subscriber ({@link #readsPrivate} for
   * Herald's transports; a Mercure stream asks its token). Asked per connection, after the
   * cursor moved past the update and before any frame is written, so shared frames stay shared.
   */
  protected boolean readsPrivateOf(String topic) {
    return filter.readsPrivate();
  }

  // ---- the subscription ----

  public long id() {
    return id;
  }

  public String[] topics() {
    return topics;
  }

  /** The connection's pattern state, null without patterns. */
  PatternState patternState() {
    return patternState;
  }

  /** Sets the connection's pattern subscriptions, before it joins anything. */
  public void patterns(io.herald.common.pattern.TopicFilter[] filters) {
    this.patternState = filters.length == 0 ? null : new PatternState(this, filters);
  }

  /** The connection's pattern subscriptions (none: an empty array). */
  public io.herald.common.pattern.TopicFilter[] patterns() {
    return patternState == null ? PatternState.NONE : patternState.filters();
  }

  public boolean closed() {
    return closed;
  }

  public boolean syncing() {
    return resume != null && resume.syncing();
  }

  /** True once {@link #start} has positioned every topic: {@link #cursor()} means something. */
  public boolean positioned() {
    return resume == null || resume.positioned();
  }

  /** The replay is done and live events flow: the start's state goes. */
  void resumed() {
    resume = null;
  }

  public void expiryTimer(long id) {
    expiryTimer = id;
  }

  /**
   * The token expired: a {@code herald.expired} frame, then the end of the connection. The
   * client reconnects with a fresh token.
   */
  public void expire() {
    if (closed) {
      return;
    }
    if (!syncing()) {
      send(framing.control(cursor(), "herald.expired", new JsonObject().put("reason", "token_expired")));
    }
    finish("token_expired");
  }

  /**
   * Starts once every topic is positioned: {@link #begin()}, the replay of what the cursor says
   * was missed (or a reset per topic when it cannot be served), a {@code herald.ready} frame,
   * then live events.
   *
   * @param cursor  the parsed Last-Event-ID, or null
   * @param unknown true when a Last-Event-ID was sent but is not a cursor: every topic gets reset
   */
  public void start(Cursor cursor, boolean unknown) {
    resume.start(cursor, unknown);
  }

  @Override
  public void onPatternPosition(int index, Position logAt, java.util.Map<String, io.herald.gateway.fanout.TopicAt> above) {
    patternState.live(index, logAt, above);
  }

  @Override
  public void onPatternEvent(int index, EncodedEvent event) {
    if (closed) {
      return;
    }
    if (syncing()) {
      resume.enqueue(new Object[] {-index - 1, event});
      return;
    }
    patternState.write(index, event);
  }

  @Override
  public void onPatternCovered(int index, Position logAt) {
    if (!closed && !syncing()) {
      patternState.covered(index, logAt);
    }
  }

  @Override
  public void onPatternReset(int index, Position logAt, String reason) {
    if (closed) {
      return;
    }
    if (syncing()) {
      resume.enqueue(new Object[] {-index - 1, logAt, reason});
      return;
    }
    patternState.reset(index, logAt, reason);
  }

  @Override
  public void onPosition(int index, Position position) {
    positions.live(index, position);
  }

  @Override
  public void onEvent(int index, EncodedEvent event) {
    if (closed) {
      return;
    }
    if (syncing()) {
      resume.enqueue(new Object[] {index, event});
      return;
    }
    write(index, event);
  }

  @Override
  public void onReset(int index, Position position, String reason) {
    if (closed) {
      return;
    }
    if (syncing()) {
      resume.enqueue(new Object[] {index, position, reason});
      return;
    }
    doReset(index, position, reason);
  }

  void write(int i, EncodedEvent ev) {
    Event e = ev.event();
    if (!closed && e.prev() != null && !e.epoch().equals(positions.epoch(i))) {
      // The first event of a new epoch that the channel followed without a reset (a store
      // outage began or ended): seamless for a client standing where the epoch before ended,
      // a reset for any other (one still catching up, or resumed elsewhere).
      if (e.prev().epoch().equals(positions.epoch(i)) && e.prev().seq() == positions.seq(i)) {
        positions.set(i, new Position(e.epoch(), e.seq() - 1));
      } else {
        sendReset(i, new Position(e.epoch(), e.seq() - 1), "history_lost");
      }
    }
    if (closed || !e.epoch().equals(positions.epoch(i)) || e.seq() <= positions.seq(i)) {
      return; // already sent (replay/live seam), or of a history this connection has left
    }
    String cursor = positions.advance(i, e.seq(), patternState);
    if (closed || !filter.delivers(e)) {
      return; // a private update this subscriber may not read: its cursor is past it, no frame
    }
    transmitEvent(ev, cursor);
    writes.written();
  }

  /** A reset from the topic's channel: moot when this connection already replayed past it. */
  void doReset(int i, Position to, String reason) {
    if (to.epoch().equals(positions.epoch(i)) && to.seq() <= positions.seq(i)) {
      return;
    }
    sendReset(i, to, reason);
  }

  /** Sends a control frame ({@code reset}, ...) carrying the connection's cursor. */
  void sendControl(String type, JsonObject data) {
    send(framing.control(cursor(), type, data));
  }

  /** Sends a pattern event's frame (already deduplicated by {@link PatternState}). */
  void transmitPatternEvent(EncodedEvent ev) {
    if (closed || !filter.delivers(ev.event())) {
      return;
    }
    transmitEvent(ev, cursor());
    writes.written();
  }

  void sendReset(int i, Position to, String reason) {
    if (closed) {
      return;
    }
    positions.set(i, to);
    gateway.stats().resets++;
    HeraldMetrics.get().reset(reason);
    JsonObject data = new JsonObject().put("topic", topics[i]).put("reason", reason);
    send(framing.control(cursor(), "reset", data));
  }

  /** Where the client stands in every topic: the id of the last frame it was sent. */
  public String cursor() {
    return positions.cursor(patternState);
  }

  /**
   * The cursor of a subscription that starts now, once every channel has answered (after the
   * join): every topic and pattern where its channel stands; with {@code fromStart}, at the
   * start of each topic's and of the log's history instead (sequence 0 of the current epochs).
   * Null when a channel has not answered.
   */
  public String liveCursor(boolean fromStart) {
    return positions.liveCursor(fromStart, patternState);
  }

  /** True when no topic nor the log had an event when the connection joined: its history is empty. */
  public boolean liveEmpty() {
    return positions.liveEmpty(patternState);
  }

  /** True when {@code topic} is one of this connection's exact topics. */
  boolean holdsTopic(String topic) {
    return positions.holds(topic);
  }

  /**
   * A control frame of {@code type} (presence's {@code join}, {@code leave}) with the cursor as
   * it stands: not stored, not replayed, the cursor unchanged. Dropped before the connection is positioned.
   */
  public void control(String type, JsonObject data) {
    if (positioned() && !closed) {
      send(framing.control(cursor(), type, data));
    }
  }

  /** Sends a frame; a stream that lets too much pile up is cut off (it will resume by replay). */
  public void send(Buffer frame) {
    if (closed) {
      return;
    }
    transmit(frame);
    writes.written();
  }

  /** A page is answered as it stands; a stream is a slow consumer and is dropped. */
  void cutOff(String why, int limit) {
    writes.cutOff(why, limit);
  }

  /** Ends cleanly: leaves the gateway, then ends the transport. */
  public void finish(String reason) {
    if (closed) {
      return;
    }
    closed = true;
    gateway.release(this, reason);
    endTransport(reason);
  }

  /** Ends the connection cleanly (shutdown): the client reconnects, elsewhere or later. */
  public void end() {
    finish("shutdown");
  }

  /** Drops the connection (slow consumer, failure). */
  public void close() {
    close("dropped");
  }

  /** Drops the connection, for {@code reason} ({@code dropped}, {@code dead_peer}). */
  public void close(String reason) {
    if (closed) {
      return;
    }
    closed = true;
    gateway.release(this, reason);
    abortTransport(reason);
  }

  /** The client went away. */
  public void onClosed() {
    if (!closed) {
      closed = true;
      gateway.release(this, "client_closed");
    }
  }
}
