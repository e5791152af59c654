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
import java.util.concurrent.atomic.AtomicLong;

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
  /** Bytes handed to {@link SockJSSocket#write} whose future has not completed yet. */
  private final AtomicLong inFlight = new AtomicLong();
  /** The future of the last frame handed to the session: completes once it and those before it are written (or failed). */
  private io.vertx.core.Future<Void> lastWrite = io.vertx.core.Future.succeededFuture();

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

  /** A frame of the bridge's own (an {@code err}, a replay's answer): bounded as events are. */
  @Override
  public void write(Buffer frame) {
    send(frame);
  }

  @Override
  public void deliver(Buffer frame) {
    if (send(frame)) {
      lastWriteTick = bridge.gateway().ticks();
    }
  }

  /**
   * Writes {@code frame} unless the socket already has bytes in flight and this frame would take
   * them over {@code maxWriteQueueBytes}: then the client is not reading, and is cut off. Bytes
   * count from the write until its future completes (flushed to the connection, or failed):
   * {@link SockJSSocket#writeQueueFull()} counts only the session's own queue, which the
   * WebSocket transport empties at once into the socket's unbounded outbound buffer. A frame
   * larger than the limit still goes to a socket with nothing in flight.
   */
  private boolean send(Buffer frame) {
    if (closed) {
      return false;
    }
    int n = frame.length();
    int max = bridge.options().maxWriteQueueBytes();
    long queued = inFlight.get();
    if (queued > 0 && queued + n > max) {
      LOG.atInfo().addKeyValue("connection", id).addKeyValue("transport", SockJSBridge.TRANSPORT)
        .addKeyValue("limit", max).addKeyValue("inFlight", queued).addKeyValue("frame", n).log("slow consumer: write queue full, closing");
      bridge.gateway().stats().slowConsumersClosed++;
      HeraldMetrics.get().slowConsumerClosed();
      bridge.close(this, SockJSBridge.CLOSE_DROPPED, "dropped");
      return false;
    }
    inFlight.addAndGet(n);
    // Completed wherever the session completes it: counted down at once, without another hop
    // to this loop that an event published meanwhile could overtake.
    lastWrite = sock.write(frame);
    lastWrite.onComplete(ar -> inFlight.addAndGet(-n));
    return true;
  }

  /** The write of the last frame sent (a succeeded future when none was). */
  io.vertx.core.Future<Void> lastWrite() {
    return lastWrite;
  }

  /** Bytes written to the socket whose write has not completed yet. */
  long inFlight() {
    return inFlight.get();
  }
}
