package io.herald.gateway.poll;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.gateway.Connection;
import io.herald.gateway.Framing;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.Http;
import io.herald.gateway.JsonFrames;
import io.herald.gateway.SseGateway;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * One long-poll request ({@code GET /poll}): a short-lived {@link Connection} that answers
 * {@code {"id":"<cursor>","events":[...]}} with the JSON frames of the WebSocket transport, then
 * ends. It joins its topics like a stream, so the positioning, replay and reset logic are the
 * streams', and it counts toward the connection limits only while the request is open.
 *
 * <ul>
 *   <li>No cursor: answers at once with {@code herald.ready} and the current position.</li>
 *   <li>A cursor with events after it in the store: answers at once with them, at most
 *       {@code maxReplayEvents} frames or {@code maxWriteQueueBytes} bytes; the client polls
 *       again with the answer's id for the rest.</li>
 *   <li>Otherwise waits up to {@code longPollTimeoutSeconds} for live events and answers with
 *       those that arrived by the end of the event loop's turn, or with none and the same id.
 *       A {@code heartbeat=<seconds>} parameter shortens that wait: the empty answer is the
 *       long-poll's heartbeat.</li>
 * </ul>
 *
 * <p>Confined to the gateway instance's event loop.
 */
public final class PollConnection extends Connection {

  /** The transport label of long-poll requests in metrics. */
  static final String TRANSPORT = GatewayOptions.TRANSPORT_LONGPOLL;

  private final HttpServerResponse response;
  private final List<Buffer> frames = new ArrayList<>();
  private long bytes;
  private long waitTimer = -1;
  private boolean answerScheduled;
  /** The client's {@code heartbeat} parameter, seconds; 0 when it gave none. */
  private int heartbeatSeconds;

  public PollConnection(long id, SseGateway gateway, HttpServerResponse response, String[] topics) {
    super(id, gateway, Framing.JSON, topics);
    this.response = response;
  }

  @Override
  public String transport() {
    return TRANSPORT;
  }

  @Override
  public boolean pages() {
    return true;
  }

  @Override
  public int pageRoom() {
    return pageSize() - frames.size();
  }

  /** Most frames in one answer: {@code maxReplayEvents}, at least one so that a poll always progresses. */
  private int pageSize() {
    return Math.max(1, gateway.options().maxReplayEvents());
  }

  /** Only the first poll, without a cursor, is told that the subscription is ready. */
  @Override
  public boolean announcesReady(Cursor cursor, boolean unknown) {
    return cursor == null && !unknown;
  }

  @Override
  public void synced() {
    if (!frames.isEmpty()) {
      finish("answered");
      return;
    }
    // An empty answer is the long-poll's heartbeat: a client that asks for one sooner gets it.
    int wait = gateway.options().longPollTimeoutSeconds();
    if (heartbeatSeconds > 0) {
      wait = Math.min(wait, heartbeatSeconds);
    }
    waitTimer = gateway.vertx().setTimer(wait * 1000L, id -> {
      waitTimer = -1;
      finish("answered");
    });
  }

  @Override
  public void transmit(Buffer frame) {
    frames.add(frame);
    bytes += frame.length();
    if (!syncing() && !answerScheduled) {
      // Live: answer once the events already on their way in this turn of the loop are in.
      answerScheduled = true;
      gateway.vertx().runOnContext(v -> finish("answered"));
    }
  }

  @Override
  public boolean writeQueueFull() {
    return frames.size() >= pageSize() || bytes >= gateway.options().maxWriteQueueBytes();
  }

  @Override
  public void heartbeat() {
    // Nothing is written before the answer; longPollTimeoutSeconds stays below the idle timeout.
  }

  /** Remembered as the longest wait, not as a tick interval: a poll is never heartbeaten. */
  public void askedHeartbeat(int seconds) {
    heartbeatSeconds = seconds;
  }

  @Override
  public boolean due(long now) {
    return false;
  }

  @Override
  public void endTransport(String reason) {
    if (response.closed() || response.ended()) {
      return;
    }
    if (!positioned()) {
      // Ended while joining its topics: nothing to answer with.
      if ("token_expired".equals(reason)) {
        Http.error(response, ErrorCode.UNAUTHORIZED, "the token expired");
      } else {
        Http.error(response.putHeader("Retry-After", "1"), ErrorCode.SHUTTING_DOWN, "gateway is shutting down");
      }
      return;
    }
    response.setStatusCode(200)
      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
      .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
      .end(JsonFrames.page(cursor(), frames));
  }

  @Override
  public void abortTransport(String reason) {
    if (!response.closed() && !response.ended()) {
      Http.error(response, ErrorCode.INTERNAL, "the poll could not be served; poll again");
    }
  }

  @Override
  public void released() {
    super.released();
    if (waitTimer >= 0) {
      gateway.vertx().cancelTimer(waitTimer);
      waitTimer = -1;
    }
  }
}
