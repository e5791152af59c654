package io.herald.gateway.sockjs;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.Topics;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.ReadResult;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.SseGateway;
import io.herald.gateway.admission.SubscriberAuth;
import io.herald.gateway.fanout.EncodedEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Replays over the bridge: a {@code SEND} to {@value SockJSBridge#REPLAY_ADDRESS} answered with
 * what the store holds after the client's cursor (see {@link SockJSBridge}), and the
 * {@code RECEIVE} of its answer. Confined to the bridge's event loop.
 */
final class BridgeReplay {

  private static final Logger LOG = LoggerFactory.getLogger(SockJSBridge.class);

  private final SockJSBridge bridge;
  private final SseGateway gateway;
  private final GatewayOptions options;
  private final Vertx vertx;
  /** Replay answers handed to their sockets (read by tests off the loop). */
  private final AtomicLong answered = new AtomicLong();

  BridgeReplay(SockJSBridge bridge) {
    this.bridge = bridge;
    this.gateway = bridge.gateway();
    this.options = gateway.options();
    this.vertx = gateway.vertx();
  }

  void send(BridgeEvent event, BridgeSocket bs) {
    JsonObject raw = event.getRawMessage();
    String replyAddress = raw == null ? null : raw.getString("replyAddress");
    if (raw == null || !SockJSBridge.REPLAY_ADDRESS.equals(raw.getString("address")) || replyAddress == null) {
      event.complete(false);
      return;
    }
    if (bs.pendingReplies.size() >= SockJSBridge.MAX_PENDING_REPLAYS) {
      answer(event, bs, Future.failedFuture(new HeraldException(ErrorCode.RATE_LIMITED,
        "at most " + SockJSBridge.MAX_PENDING_REPLAYS + " replays at once per connection")));
      return;
    }
    Future<JsonObject> answer;
    try {
      answer = replay(bs, raw.getValue("body"));
    } catch (HeraldException e) {
      answer = Future.failedFuture(e);
    }
    answer(event, bs, answer);
  }

  long answered() {
    return answered.get();
  }

  /**
   * A {@code RECEIVE}: only the answers to this socket's own replays reach it, written here rather
   * than by the bridge (which is then told no) so that they count towards the socket's bytes in
   * flight: a client that asks for replays and reads nothing is cut off as a slow consumer.
   */
  void received(BridgeEvent event, BridgeSocket bs) {
    JsonObject envelope = event.getRawMessage();
    String address = envelope == null ? null : envelope.getString("address");
    Long timer = address == null ? null : bs.pendingReplies.remove(address);
    if (timer != null) {
      vertx.cancelTimer(timer);
      bs.write(Buffer.buffer(envelope.encode()));
      answered.incrementAndGet();
    }
    event.complete(false);
  }

  /** Puts the answer (or the refusal) in the message the bridge sends on; the echo consumer replies with it. */
  private void answer(BridgeEvent event, BridgeSocket bs, Future<JsonObject> answer) {
    JsonObject raw = event.getRawMessage();
    String replyAddress = raw.getString("replyAddress");
    bs.pendingReplies.put(replyAddress, vertx.setTimer(options.replayTimeoutMillis() + 5000L, id -> bs.pendingReplies.remove(replyAddress)));
    answer.onComplete(ar -> {
      JsonObject body;
      if (ar.succeeded()) {
        body = new JsonObject().put("status", 200).put("answer", ar.result());
      } else {
        HeraldException e = HeraldException.from(ar.cause());
        if (e.code() == ErrorCode.INTERNAL) {
          LOG.warn("connection {}: replay failed: {}", bs.id, ar.cause().toString());
        }
        HeraldMetrics.get().rejected(e.code().code());
        body = new JsonObject().put("status", e.code().status()).put("error", e.code().code());
      }
      raw.put("body", body).remove("headers");
      event.complete(!bs.closed);
    });
  }

  private Future<JsonObject> replay(BridgeSocket bs, Object body) {
    if (body instanceof JsonObject req && req.containsKey("pattern")) {
      return bridge.patterns().replay(bs, req);
    }
    if (!(body instanceof JsonObject req) || !(req.getValue("topic") instanceof String topic)) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "send {\"topic\": NAME, \"lastEventId\": CURSOR}");
    }
    if (!Topics.isValidTopic(topic)) {
      throw new HeraldException(ErrorCode.INVALID_TOPIC, "invalid topic name");
    }
    Object last = req.getValue("lastEventId");
    if (last != null && !(last instanceof String)) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "lastEventId is a string");
    }
    SubscriberAuth auth = gateway.auth();
    if (auth != null && auth.firstRefused(bs.grant, new String[] {topic}) != null) {
      throw bs.grant.anonymous()
        ? new HeraldException(ErrorCode.UNAUTHORIZED, "a token is required to read topic \"" + topic + "\"")
        : new HeraldException(ErrorCode.ACCESS_DENIED, "this token may not read topic \"" + topic + "\"");
    }
    BridgeRegistrations.Registration reg = bs.topics.get(topic);
    Future<Position> bound = reg == null ? Future.succeededFuture() : reg.started.future();
    String lastEventId = (String) last;
    return bound.recover(t -> Future.succeededFuture()).compose(b -> {
      Position from = null;
      boolean unknown = false;
      if (lastEventId != null && !lastEventId.isEmpty()) {
        Cursor c = lastEventId.length() > options.maxLastEventIdLength() ? null
          : Cursor.parse(lastEventId, options.tiers().maxTopicsPerConnection());
        from = c == null ? null : c.position(topic);
        unknown = from == null;
        if (reg != null) {
          reg.given(from); // live events the client has from elsewhere are not written again
        }
      }
      if (from == null) {
        // Nothing to replay: the answer says where the topic stands (and resets an unknown cursor).
        Future<Position> here = b != null ? Future.succeededFuture(b)
          : gateway.replay().heads(List.of(topic)).map(h -> h.get(topic));
        boolean reset = unknown;
        return here.map(p -> page(topic, p, reset ? List.of(resetFrame(topic, p, "unknown_last_event_id")) : List.of(), false));
      }
      return read(topic, from, b, bs.grant.anonymous());
    });
  }

  private Future<JsonObject> read(String topic, Position from, Position bound, boolean anonymous) {
    int max = Math.max(1, options.maxReplayEvents());
    if (bound != null && bound.epoch().equals(from.epoch()) && from.seq() >= bound.seq()) {
      // The client has everything up to where its live events began, or more (given by an
      // instance ahead of this one, which its registration now leaves out): nothing to replay.
      return Future.succeededFuture(page(topic, from, List.of(), false));
    }
    return gateway.replay().read(topic, from, max).transform(ar -> {
      if (ar.failed()) {
        Position at = bound != null ? bound : from;
        return Future.succeededFuture(page(topic, at, List.of(resetFrame(topic, at, "store_unavailable")), false));
      }
      ReadResult r = ar.result();
      HeraldMetrics.get().replayRead(r.events().size());
      if (r.reset() || (bound != null && !bound.epoch().equals(from.epoch()))) {
        Position at = bound != null ? bound : r.head();
        String reason = r.reset() ? r.resetReason() : "history_unavailable";
        return Future.succeededFuture(page(topic, at, List.of(resetFrame(topic, at, reason)), false));
      }
      List<JsonObject> frames = new ArrayList<>();
      Position at = from;
      long bytes = 0;
      boolean more = !r.complete();
      for (Event e : r.events()) {
        if (bound != null && (!e.epoch().equals(bound.epoch()) || e.seq() > bound.seq())) {
          more = false;
          break;
        }
        if (e.privateUpdate() && anonymous) {
          at = e.position(); // a private (Mercure) update: not for an anonymous socket
          continue;
        }
        Buffer frame = new EncodedEvent(e).jsonSingle();
        if (!frames.isEmpty() && bytes + frame.length() > options.maxWriteQueueBytes()) {
          more = true;
          break;
        }
        bytes += frame.length();
        frames.add(new JsonObject(frame));
        at = e.position();
      }
      if (bound != null && at.equals(bound)) {
        more = false;
      }
      return Future.succeededFuture(page(topic, at, frames, more));
    });
  }

  private static JsonObject page(String topic, Position at, List<JsonObject> frames, boolean more) {
    return new JsonObject().put("id", Cursor.single(topic, at.epoch(), at.seq())).put("events", new JsonArray(new ArrayList<>(frames)))
      .put("more", more);
  }

  private static JsonObject resetFrame(String topic, Position at, String reason) {
    return new JsonObject().put("id", Cursor.single(topic, at.epoch(), at.seq())).put("type", "reset")
      .put("data", new JsonObject().put("topic", topic).put("reason", reason));
  }
}
