package io.herald.gateway.mercure;

import io.herald.common.Cursor;
import io.herald.gateway.Connection;
import io.herald.gateway.Framing;
import io.herald.gateway.SseGateway;
import io.herald.gateway.fanout.EncodedEvent;
import io.herald.gateway.sse.SseFrames;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * One Mercure subscription stream ({@code GET /.well-known/mercure}): a {@link Connection}
 * (heartbeats, write-queue limit, replay, per-topic order and cursors) whose frames are those of a
 * Mercure hub: {@code id:} (the publisher's id when it gave one; else the connection's cursor, or the
 * update's own when the stream holds one exact topic only), {@code event:} when the update has a type, {@code retry:} when it has one,
 * {@code data:} lines. The frame after the id is encoded once per gateway and shared
 * ({@link EncodedEvent#mercureBody()}).
 *
 * <p>Private updates: each one, live or replayed, is checked against this subscriber's token
 * ({@link MercureClaims#canSubscribe}) and skipped when the token does not grant its topic; the
 * shared frames are not touched. Herald's control frames ({@code reset}, token expiry) have no
 * Mercure form: they are sent as an {@code id:} line and a comment, which moves the client's last
 * event id without dispatching an event. Confined to the gateway instance's event loop.
 */
final class MercureConnection extends Connection {

  /** The transport label in metrics and logs. */
  static final String TRANSPORT = "mercure";

  private static final Framing MERCURE = new Framing() {
    @Override
    public Buffer event(EncodedEvent event, String cursor) {
      if (event.event().key() != null) {
        return event.mercureKeyed(); // the publisher's id, as the specification's subscribers expect
      }
      return cursor == null ? event.mercureSingle() : SseFrames.withId(Cursor.HUB_ID_PREFIX + cursor, event.mercureBody());
    }

    @Override
    public Buffer control(String cursor, String type, JsonObject data) {
      String reason = data.getString("reason");
      return SseFrames.idOnly(cursor == null ? null : Cursor.HUB_ID_PREFIX + cursor, reason == null ? type : type + " " + reason);
    }
  };

  private final HttpServerResponse response;
  private final MercureClaims claims;
  private boolean begun;
  private Runnable onRelease;

  MercureConnection(long id, SseGateway gateway, HttpServerResponse response, String[] topics, MercureClaims claims) {
    super(id, gateway, MERCURE, topics);
    this.response = response;
    this.claims = claims;
  }

  @Override
  public String transport() {
    return TRANSPORT;
  }

  @Override
  public void begin() {
    response.write(SseFrames.retry(gateway.options().retryMillis()));
    begun = true;
  }

  @Override
  public boolean announcesReady(Cursor cursor, boolean unknown) {
    return false; // no Mercure client knows herald.ready
  }

  @Override
  protected boolean readsPrivateOf(String topic) {
    return claims.canSubscribe(topic);
  }

  @Override
  public void transmit(Buffer frame) {
    response.write(frame);
  }

  @Override
  public boolean writeQueueFull() {
    return response.writeQueueFull();
  }

  @Override
  public void heartbeat() {
    if (!closed() && begun && !response.writeQueueFull()) {
      response.write(SseFrames.HEARTBEAT);
    }
  }

  /** Runs {@code hook} once when the connection leaves the gateway (its subscriptions end). */
  void onRelease(Runnable hook) {
    this.onRelease = hook;
  }

  @Override
  public void released() {
    super.released();
    Runnable hook = onRelease;
    onRelease = null;
    if (hook != null) {
      hook.run();
    }
  }

  @Override
  public void endTransport(String reason) {
    response.end();
  }

  @Override
  public void abortTransport(String reason) {
    response.reset();
  }
}
