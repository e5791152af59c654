package io.herald.gateway.sockjs;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.pattern.TopicFilter;
import io.herald.common.pattern.TopicFilters;
import io.herald.common.replay.LogReadResult;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.JsonFrames;
import io.herald.gateway.SseGateway;
import io.herald.gateway.fanout.EncodedEvent;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replays of pattern registrations ({@code send("herald.browser.replay", {"pattern": p,
 * "lastEventId": cursor})}, see {@link BridgePattern}): what the store's log holds for the
 * pattern after the cursor, read in rounds and answered in pages. Confined to the gateway
 * instance's event loop.
 */
final class BridgePatternReplay {

  private static final Logger LOG = LoggerFactory.getLogger(BridgePattern.class);

  private final BridgePattern patterns;
  private final SseGateway gateway;
  private final GatewayOptions options;

  BridgePatternReplay(BridgePattern patterns, SseGateway gateway) {
    this.patterns = patterns;
    this.gateway = gateway;
    this.options = gateway.options();
  }

  /**
   * {@code {"pattern": p, "lastEventId": cursor}}: what the log holds for the pattern after the
   * cursor, up to where the socket's registration of the pattern went live (when it registered
   * it; else up to the log's head), as {@code {"id", "events", "more"}}.
   */
  Future<JsonObject> replay(BridgePattern.Socket s, JsonObject req) {
    if (!(req.getValue("pattern") instanceof String text)) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "send {\"pattern\": PATTERN, \"lastEventId\": CURSOR}");
    }
    TopicFilter filter;
    try {
      filter = TopicFilters.parse(text);
    } catch (IllegalArgumentException e) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "invalid pattern: " + e.getMessage());
    }
    Object last = req.getValue("lastEventId");
    if (last != null && !(last instanceof String)) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "lastEventId is a string");
    }
    HeraldException denied = patterns.denied(s.grant(), filter);
    if (denied != null) {
      throw denied;
    }
    String key = TopicFilters.key(filter);
    BridgePattern.Registration reg = patterns.registration(s, key);
    Future<BridgePattern.Start> bound = reg == null ? Future.succeededFuture() : reg.started.future();
    String lastEventId = (String) last;
    return bound.recover(t -> Future.succeededFuture()).compose(b -> {
      Cursor c = null;
      Position from = null;
      boolean unknown = false;
      if (lastEventId != null && !lastEventId.isEmpty()) {
        c = patterns.parse(lastEventId);
        from = c == null ? null : c.position(BridgePattern.entryName(key));
        unknown = from == null;
        if (reg != null) {
          reg.given(c, key); // live events the client has from elsewhere are not written again
        }
      }
      if (from == null) {
        // Nothing to replay: the answer says where the pattern stands (and resets an unknown cursor).
        Future<BridgePattern.Start> here = b != null ? Future.succeededFuture(b)
          : gateway.replay().logHead().map(h -> new BridgePattern.Start(h, Map.of()));
        boolean reset = unknown;
        return here.map(st -> {
          String id = st.cursor(key);
          return page(id, reset ? List.of(resetFrame(id, text, "unknown_last_event_id")) : List.of(), false);
        });
      }
      return new Read(key, text, c, from, b).next(0);
    });
  }

  /**
   * One replay answer being read. {@code at} (the answer's own cursor, {@code carried} and
   * {@code added} its topic entries) only ever says the client has what it has: it moves to an
   * event's log position only where every matching event up to it was given (before or now).
   */
  private final class Read {
    final String key;
    final String source;
    final Cursor cursor;
    final BridgePattern.Start bound;
    /** Where the next log read starts. */
    Position scan;
    Position at;
    /** An event above the bound was left to the registration's live delivery. */
    boolean skipped;
    final LinkedHashMap<String, String> carried = new LinkedHashMap<>();
    final List<JsonObject> frames = new ArrayList<>();
    long bytes;

    Read(String key, String source, Cursor cursor, Position from, BridgePattern.Start bound) {
      this.key = key;
      this.source = source;
      this.cursor = cursor;
      this.bound = bound;
      this.scan = from;
      this.at = from;
      String own = Cursor.tag(BridgePattern.entryName(key));
      cursor.forEachEntry((tag, p) -> {
        if (!tag.equals(own)) {
          carried.put(tag, Cursor.tagEntry(tag, p.epoch(), p.seq()));
        }
      });
    }

    Future<JsonObject> next(int round) {
      if (bound != null && !bound.logAt().epoch().equals(at.epoch())) {
        return Future.succeededFuture(reset(bound.cursor(key), "history_unavailable"));
      }
      if (bound != null && scan.seq() >= bound.maxLog()) {
        return Future.succeededFuture(page(bound.cursor(key), frames, false));
      }
      int limit = Math.max(1, options.maxReplayEvents());
      return gateway.replay().readLogKeys(scan, List.of(key), limit).transform(ar -> {
        if (ar.failed()) {
          if (!frames.isEmpty()) {
            return Future.succeededFuture(page(cursorNow(), frames, true));
          }
          LOG.info("pattern {}: replay cannot be read: {}", source, ar.cause().getMessage());
          return Future.succeededFuture(reset(bound != null ? bound.cursor(key) : cursorNow(), "store_unavailable"));
        }
        LogReadResult r = ar.result();
        HeraldMetrics.get().replayRead(r.events().size());
        if (r.reset()) {
          return Future.succeededFuture(reset(bound != null ? bound.cursor(key) : new BridgePattern.Start(r.head(), Map.of()).cursor(key),
            r.resetReason()));
        }
        for (Event e : r.events()) {
          if (bound != null && e.log().seq() > bound.maxLog()) {
            return Future.succeededFuture(page(bound.cursor(key), frames, false));
          }
          // Up to the first event left to the live registration, the answer's log position may
          // follow every event; past it only topic entries move.
          boolean above = bound != null && e.log().seq() > bound.logAt().seq();
          boolean given = given(e);
          if (!given && above && !bound.covers(e)) {
            skipped = true; // the registration delivers it live
            continue;
          }
          boolean follow = !above || !skipped;
          if (!given) {
            Buffer tail = new EncodedEvent(e).jsonTail();
            if (frames.size() >= options.maxReplayEvents()
              || (!frames.isEmpty() && bytes + tail.length() + 64 > options.maxWriteQueueBytes())) {
              return Future.succeededFuture(page(cursorNow(), frames, true));
            }
            moveTo(e, follow);
            Buffer frame = JsonFrames.withId(cursorNow(), tail);
            bytes += frame.length();
            frames.add(new JsonObject(frame));
          } else if (follow) {
            at = e.log(); // given before: the client has everything up to here
          }
        }
        scan = r.scannedTo();
        if (bound == null || scan.seq() <= bound.logAt().seq() || !skipped) {
          at = scan.seq() > at.seq() ? scan : at;
        } else if (bound.logAt().seq() > at.seq()) {
          at = bound.logAt();
        }
        boolean done = bound != null ? scan.seq() >= bound.maxLog() : r.complete();
        if (done) {
          return Future.succeededFuture(page(bound != null ? bound.cursor(key) : cursorNow(), frames, false));
        }
        if (r.complete() || round + 1 >= BridgePattern.MAX_READS_PER_ANSWER) {
          // The log's head is below the bound only while the store catches up; ask again.
          return Future.succeededFuture(page(cursorNow(), frames, true));
        }
        return next(round + 1);
      });
    }

    /** The client's cursor says it has {@code e}. */
    private boolean given(Event e) {
      Position had = cursor.position(e.topic());
      return had != null && had.epoch().equals(e.epoch()) && e.seq() <= had.seq();
    }

    private void moveTo(Event e, boolean follow) {
      if (follow) {
        at = e.log();
      } else {
        carried.put(Cursor.tag(e.topic()), Cursor.entry(e.topic(), e.epoch(), e.seq()));
      }
    }

    private String cursorNow() {
      List<String> entries = new ArrayList<>(carried.size() + 1);
      entries.add(Cursor.entry(BridgePattern.entryName(key), at.epoch(), at.seq()));
      entries.addAll(carried.values());
      return Cursor.join(entries.toArray(new String[0]));
    }

    private JsonObject reset(String id, String reason) {
      return page(id, List.of(resetFrame(id, source, reason)), false);
    }
  }

  private static JsonObject page(String id, List<JsonObject> frames, boolean more) {
    return new JsonObject().put("id", id).put("events", new JsonArray(new ArrayList<>(frames))).put("more", more);
  }

  private static JsonObject resetFrame(String id, String pattern, String reason) {
    return new JsonObject().put("id", id).put("type", "reset")
      .put("data", new JsonObject().put("pattern", pattern).put("reason", reason));
  }
}
