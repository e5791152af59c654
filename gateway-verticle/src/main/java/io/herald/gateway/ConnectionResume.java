package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.ReadResult;
import io.herald.gateway.fanout.EncodedEvent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * The start of a {@link Connection}, once every topic is positioned: where each topic resumes
 * from its cursor ({@link TopicPositions}), the replay from the store of what the client missed
 * (or a reset per topic when it cannot be served), then the pattern catch-up
 * ({@link PatternState}), {@code herald.ready}, and the live events that waited meanwhile,
 * flushed through the connection, which drops what the replay already sent. Live events that
 * pile up while syncing cut the connection off ({@link Connection#MAX_QUEUED_WHILE_SYNCING}).
 * Confined to the gateway instance's event loop.
 */
final class ConnectionResume {

  /** Logged under the connection's name, as operators know it. */
  private static final Logger LOG = LoggerFactory.getLogger(Connection.class);

  private final Connection conn;
  private final String[] topics;
  private final TopicPositions positions;
  private boolean positioned;
  private boolean syncing = true;
  private ArrayDeque<Object[]> queued = new ArrayDeque<>();

  ConnectionResume(Connection conn, TopicPositions positions) {
    this.conn = conn;
    this.topics = conn.topics();
    this.positions = positions;
  }

  /** True until the replay is done: live events wait ({@link #enqueue}). */
  boolean syncing() {
    return syncing;
  }

  /** True once {@link #start} has positioned every topic. */
  boolean positioned() {
    return positioned;
  }

  /** See {@link Connection#start}. */
  void start(Cursor cursor, boolean unknown) {
    PatternState patternState = conn.patternState();
    conn.begin();
    for (int i = 0; i < topics.length; i++) {
      // Where the client stands until its topic is caught up: a frame sent meanwhile (another
      // topic's replay) carries a cursor that resumes this topic from there, not from now.
      Position from = cursor == null || unknown ? null : cursor.position(topics[i]);
      positions.set(i, from != null ? from : positions.live(i));
    }
    if (patternState != null) {
      patternState.position(cursor, unknown);
    }
    positioned = true;
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < topics.length; i++) {
      int index = i;
      chain = chain.compose(v -> conn.closed() ? Future.succeededFuture() : catchUp(index, cursor, unknown));
    }
    if (patternState != null) {
      chain = chain.compose(v -> conn.closed() ? Future.succeededFuture() : patternState.catchUp(cursor, unknown));
    }
    chain.onComplete(ar -> {
      if (conn.closed()) {
        return;
      }
      if (ar.failed()) {
        LOG.warn("connection {}: resume failed: {}", conn.id(), ar.cause().toString());
        conn.close();
        return;
      }
      if (conn.announcesReady(cursor, unknown)) {
        JsonObject ready = new JsonObject().put("topics", new JsonArray(java.util.List.of((Object[]) topics)));
        if (patternState != null) {
          ready.put("patterns", patternState.sources());
        }
        conn.sendControl("herald.ready", ready);
      }
      syncing = false;
      conn.resumed();
      if (patternState != null) {
        patternState.synced();
      }
      conn.synced();
      ArrayDeque<Object[]> q = queued;
      queued = null;
      for (Object[] item : q) {
        if (conn.closed()) {
          return;
        }
        int index = (Integer) item[0];
        if (index < 0) {
          if (item[1] instanceof EncodedEvent ev) {
            patternState.write(-index - 1, ev);
          } else {
            patternState.reset(-index - 1, (Position) item[1], (String) item[2]);
          }
        } else if (item[1] instanceof EncodedEvent ev) {
          conn.write((Integer) item[0], ev);
        } else {
          conn.doReset((Integer) item[0], (Position) item[1], (String) item[2]);
        }
      }
    });
  }

  private Future<Void> catchUp(int i, Cursor cursor, boolean unknown) {
    Position from = cursor == null ? null : cursor.position(topics[i]);
    if (unknown) {
      conn.sendReset(i, positions.live(i), "unknown_last_event_id");
      return Future.succeededFuture();
    }
    if (from == null) {
      // A new subscription (or a topic the cursor does not name): live from now.
      positions.set(i, positions.live(i));
      return Future.succeededFuture();
    }
    if (!conn.pages()) {
      // A poll names its cursor every time: only stream resumes are counted.
      conn.gateway.stats().resumes++;
      HeraldMetrics.get().resumed();
    }
    positions.set(i, from);
    if (from.equals(positions.live(i))) {
      return Future.succeededFuture(); // missed nothing: no store read
    }
    return replay(i, from, conn.gateway.options().maxReplayEvents());
  }

  private Future<Void> replay(int i, Position from, int budget) {
    int max = conn.gateway.options().maxReplayEvents();
    // A stream reads one more than it may replay, to tell "too many" from "exactly enough";
    // a page reads what fits and leaves the rest to the next poll.
    int limit = conn.pages() ? Math.max(1, Math.min(conn.pageRoom(), max)) : Math.min(budget + 1, max + 1);
    return conn.gateway.replay().read(topics[i], from, limit).transform(ar -> {
      if (conn.closed()) {
        return Future.succeededFuture();
      }
      if (ar.failed()) {
        conn.sendReset(i, positions.live(i), "store_unavailable");
        return Future.succeededFuture();
      }
      ReadResult r = ar.result();
      HeraldMetrics.get().replayRead(r.events().size());
      if (r.reset()) {
        conn.sendReset(i, r.head(), r.resetReason());
        return Future.succeededFuture();
      }
      if (!conn.pages() && r.events().size() > budget) {
        conn.sendReset(i, r.head(), "too_many_missed");
        return Future.succeededFuture();
      }
      for (Event e : r.events()) {
        conn.write(i, new EncodedEvent(e));
      }
      if (conn.closed() || r.complete() || r.events().isEmpty()) {
        return Future.succeededFuture();
      }
      Event last = r.events().get(r.events().size() - 1);
      return replay(i, last.position(), budget - r.events().size());
    });
  }

  /** A live event or reset that arrived while syncing: it waits; too many and the connection is cut off. */
  void enqueue(Object[] item) {
    if (queued.size() >= Connection.MAX_QUEUED_WHILE_SYNCING) {
      conn.cutOff("too many live events while resuming", Connection.MAX_QUEUED_WHILE_SYNCING);
      return;
    }
    queued.add(item);
  }
}
