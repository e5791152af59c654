package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.ReadResult;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * One Server-Sent Events stream. It keeps, per topic, the position of the last event the client
 * was sent; every {@code id:} it writes is the {@link Cursor} of all of them, so a browser that
 * reconnects with {@code Last-Event-ID} says where each topic stood.
 *
 * <p>On start it joins a channel per topic (live events are queued from that moment), replays
 * from the store what the client missed, then flushes the queue, dropping what the replay
 * already sent: no gap and no duplicate at the seam. A client that reads too slowly is cut off
 * when {@code maxWriteQueueBytes} wait unsent; it resumes by replay.
 *
 * <p>Confined to the gateway instance's event loop.
 */
final class SseConnection implements Subscriber {

  private static final Logger LOG = LoggerFactory.getLogger(SseConnection.class);

  /** Live events that may wait while a resume is replayed; more and the connection is cut off. */
  static final int MAX_QUEUED_WHILE_SYNCING = 10_000;

  private final long id;
  private final SseGateway gateway;
  private final HttpServerResponse response;
  private final String[] topics;
  private final String[] epochs;
  private final long[] seqs;
  private final Position[] live;
  /** Cursor entry per topic; null for single-topic connections, whose cursor is the event's own. */
  private final String[] entries;
  private boolean syncing = true;
  private ArrayDeque<Object[]> queued = new ArrayDeque<>();
  private boolean closed;
  private long expiryTimer = -1;

  SseConnection(long id, SseGateway gateway, HttpServerResponse response, String[] topics) {
    this.id = id;
    this.gateway = gateway;
    this.response = response;
    this.topics = topics;
    this.epochs = new String[topics.length];
    this.seqs = new long[topics.length];
    this.live = new Position[topics.length];
    this.entries = topics.length == 1 ? null : new String[topics.length];
  }

  long id() {
    return id;
  }

  String[] topics() {
    return topics;
  }

  boolean closed() {
    return closed;
  }

  long expiryTimer() {
    return expiryTimer;
  }

  void expiryTimer(long id) {
    expiryTimer = id;
  }

  /**
   * The token expired: a {@code herald.expired} event, then the end of the stream. The client
   * reconnects with a fresh token (a browser's EventSource retries with its URL, so one with
   * the token in the query gets 401 and should open a new EventSource with a new token).
   */
  void expire() {
    if (closed) {
      return;
    }
    if (!syncing) {
      send(SseFrames.control(cursor(), "herald.expired", new JsonObject().put("reason", "token_expired")));
    }
    closed = true;
    gateway.release(this, "token_expired");
    response.end();
  }

  /**
   * Starts the stream once every topic is positioned: headers and {@code retry:}, the replay of
   * what the cursor says was missed (or a reset per topic when it cannot be served), a
   * {@code herald.ready} event, then live events.
   *
   * @param cursor  the parsed Last-Event-ID, or null
   * @param unknown true when a Last-Event-ID was sent but is not a cursor: every topic gets reset
   */
  void start(Cursor cursor, boolean unknown) {
    response.write(SseFrames.retry(gateway.options().retryMillis()));
    for (int i = 0; i < topics.length; i++) {
      setPosition(i, live[i]);
    }
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < topics.length; i++) {
      int index = i;
      chain = chain.compose(v -> closed ? Future.succeededFuture() : catchUp(index, cursor, unknown));
    }
    chain.onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.failed()) {
        LOG.warn("connection {}: resume failed: {}", id, ar.cause().toString());
        close();
        return;
      }
      JsonObject ready = new JsonObject().put("topics", new JsonArray(java.util.List.of((Object[]) topics)));
      send(SseFrames.control(cursor(), "herald.ready", ready));
      syncing = false;
      ArrayDeque<Object[]> q = queued;
      queued = null;
      for (Object[] item : q) {
        if (closed) {
          return;
        }
        if (item[1] instanceof EncodedEvent ev) {
          write((Integer) item[0], ev);
        } else {
          doReset((Integer) item[0], (Position) item[1], (String) item[2]);
        }
      }
    });
  }

  private Future<Void> catchUp(int i, Cursor cursor, boolean unknown) {
    Position from = cursor == null ? null : cursor.position(topics[i]);
    if (unknown) {
      sendReset(i, live[i], "unknown_last_event_id");
      return Future.succeededFuture();
    }
    if (from == null) {
      // A new subscription (or a topic the cursor does not name): live from now.
      setPosition(i, live[i]);
      return Future.succeededFuture();
    }
    gateway.stats().resumes++;
    HeraldMetrics.get().resumed();
    setPosition(i, from);
    if (from.equals(live[i])) {
      return Future.succeededFuture(); // missed nothing: no store read
    }
    return replay(i, from, gateway.options().maxReplayEvents());
  }

  private Future<Void> replay(int i, Position from, int budget) {
    int limit = Math.min(budget + 1, gateway.options().maxReplayEvents() + 1);
    return gateway.replay().read(topics[i], from, limit).transform(ar -> {
      if (closed) {
        return Future.succeededFuture();
      }
      if (ar.failed()) {
        sendReset(i, live[i], "store_unavailable");
        return Future.succeededFuture();
      }
      ReadResult r = ar.result();
      HeraldMetrics.get().replayRead(r.events().size());
      if (r.reset()) {
        sendReset(i, r.head(), "history_unavailable");
        return Future.succeededFuture();
      }
      if (r.events().size() > budget) {
        sendReset(i, r.head(), "too_many_missed");
        return Future.succeededFuture();
      }
      for (Event e : r.events()) {
        write(i, new EncodedEvent(e));
      }
      if (r.complete() || r.events().isEmpty()) {
        return Future.succeededFuture();
      }
      Event last = r.events().get(r.events().size() - 1);
      return replay(i, last.position(), budget - r.events().size());
    });
  }

  @Override
  public void onPosition(int index, Position position) {
    live[index] = position;
  }

  @Override
  public void onEvent(int index, EncodedEvent event) {
    if (closed) {
      return;
    }
    if (syncing) {
      enqueue(new Object[] {index, event});
      return;
    }
    write(index, event);
  }

  @Override
  public void onReset(int index, Position position, String reason) {
    if (closed) {
      return;
    }
    if (syncing) {
      enqueue(new Object[] {index, position, reason});
      return;
    }
    doReset(index, position, reason);
  }

  private void enqueue(Object[] item) {
    if (queued.size() >= MAX_QUEUED_WHILE_SYNCING) {
      LOG.atInfo().addKeyValue("connection", id).addKeyValue("limit", MAX_QUEUED_WHILE_SYNCING)
        .log("slow consumer: too many live events while resuming, closing");
      gateway.stats().slowConsumersClosed++;
      HeraldMetrics.get().slowConsumerClosed();
      close();
      return;
    }
    queued.add(item);
  }

  private void write(int i, EncodedEvent ev) {
    Event e = ev.event();
    if (!e.epoch().equals(epochs[i]) || e.seq() <= seqs[i]) {
      return; // already sent (replay/live seam), or of a history this connection has left
    }
    seqs[i] = e.seq();
    Buffer frame;
    if (entries == null) {
      frame = ev.single();
    } else {
      entries[i] = Cursor.entry(topics[i], epochs[i], seqs[i]);
      frame = SseFrames.withId(Cursor.join(entries), ev.body());
    }
    send(frame);
  }

  /** A reset from the topic's channel: moot when this connection already replayed past it. */
  private void doReset(int i, Position to, String reason) {
    if (to.epoch().equals(epochs[i]) && to.seq() <= seqs[i]) {
      return;
    }
    sendReset(i, to, reason);
  }

  private void sendReset(int i, Position to, String reason) {
    setPosition(i, to);
    gateway.stats().resets++;
    HeraldMetrics.get().reset(reason);
    JsonObject data = new JsonObject().put("topic", topics[i]).put("reason", reason);
    send(SseFrames.control(cursor(), "reset", data));
  }

  private void setPosition(int i, Position p) {
    epochs[i] = p.epoch();
    seqs[i] = p.seq();
    if (entries != null) {
      entries[i] = Cursor.entry(topics[i], p.epoch(), p.seq());
    }
  }

  private String cursor() {
    return entries == null ? Cursor.single(topics[0], epochs[0], seqs[0]) : Cursor.join(entries);
  }

  /** Writes a frame; a client that lets too much pile up is cut off (it will resume by replay). */
  void send(Buffer frame) {
    if (closed) {
      return;
    }
    response.write(frame);
    if (response.writeQueueFull()) {
      LOG.atInfo().addKeyValue("connection", id).addKeyValue("unsentBytes", gateway.options().maxWriteQueueBytes())
        .log("slow consumer: write queue full, closing");
      gateway.stats().slowConsumersClosed++;
      HeraldMetrics.get().slowConsumerClosed();
      close();
    }
  }

  /** Heartbeat comment, skipped while the client is not keeping up. */
  void heartbeat() {
    if (!closed && !response.writeQueueFull()) {
      response.write(SseFrames.HEARTBEAT);
    }
  }

  /** Ends the stream cleanly (shutdown): the client reconnects, elsewhere or later. */
  void end() {
    if (closed) {
      return;
    }
    closed = true;
    gateway.release(this, "shutdown");
    response.end();
  }

  /** Drops the connection (slow consumer, failure). */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    gateway.release(this, "dropped");
    response.reset();
  }

  /** The client went away. */
  void onClosed() {
    if (!closed) {
      closed = true;
      gateway.release(this, "client_closed");
    }
  }
}
