package io.herald.gateway.sockjs;

import io.herald.common.admin.HeraldMetrics;
import io.herald.gateway.admission.ConnectionLimiter;
import io.herald.gateway.admission.SubscriberAuth;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** One admitted SockJS session: its state, and the writes of its events. Confined to the bridge's event loop. */
final class BridgeSocket implements BridgePattern.Socket {

  private static final Logger LOG = LoggerFactory.getLogger(SockJSBridge.class);

  final SockJSBridge bridge;
  final long id;
  final SockJSSocket sock;
  final ConnectionLimiter.Permit permit;
  final SubscriberAuth.Grant grant;
  final Map<String, BridgeRegistrations.Registration> topics = new LinkedHashMap<>();
  /** Reply addresses of this socket's replays still waiting for their answer, with their clean-up timers. */
  final Map<String, Long> pendingReplies = new HashMap<>();
  long expiryTimer = -1;
  boolean closed;
  /** The heartbeat interval, in the gateway's ticks. */
  int heartbeatTicks;
  /** The gateway's tick when a frame was last written to the socket by this bridge. */
  long lastWriteTick;

  BridgeSocket(SockJSBridge bridge, long id, SockJSSocket sock, ConnectionLimiter.Permit permit, SubscriberAuth.Grant grant) {
    this.bridge = bridge;
    this.id = id;
    this.sock = sock;
    this.permit = permit;
    this.grant = grant;
  }

  @Override
  public long id() {
    return id;
  }

  @Override
  public SubscriberAuth.Grant grant() {
    return grant;
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public void write(Buffer frame) {
    sock.write(frame);
  }

  @Override
  public void deliver(Buffer frame) {
    if (closed) {
      return;
    }
    sock.write(frame);
    lastWriteTick = bridge.gateway().ticks();
    if (sock.writeQueueFull()) {
      LOG.atInfo().addKeyValue("connection", id).addKeyValue("transport", SockJSBridge.TRANSPORT)
        .addKeyValue("limit", bridge.options().maxWriteQueueBytes()).log("slow consumer: write queue full, closing");
      bridge.gateway().stats().slowConsumersClosed++;
      HeraldMetrics.get().slowConsumerClosed();
      bridge.close(this, SockJSBridge.CLOSE_DROPPED, "dropped");
    }
  }
}
