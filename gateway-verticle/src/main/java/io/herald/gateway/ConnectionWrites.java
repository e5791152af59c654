package io.herald.gateway;

import io.herald.common.admin.HeraldMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write side of a {@link Connection}: when it last wrote, in the gateway's ticks, from which
 * its heartbeats follow ({@link SseGateway#tick}), and whether its client keeps up. A stream that
 * lets {@code maxWriteQueueBytes} wait unsent, or too many live events pile up while it resumes,
 * is a slow consumer and is dropped (it resumes by replay); a page is answered as it stands.
 * Confined to the gateway instance's event loop.
 */
final class ConnectionWrites {

  /** Logged under the connection's name, as operators know it. */
  private static final Logger LOG = LoggerFactory.getLogger(Connection.class);

  private final Connection conn;
  /** The heartbeat interval, in the gateway's ticks ({@link SseGateway#TICK_MILLIS}). */
  private int heartbeatTicks;
  /** The gateway's tick when a frame was last written: a field store per write, no clock read. */
  private long lastWriteTick;

  ConnectionWrites(Connection conn) {
    this.conn = conn;
    this.lastWriteTick = conn.gateway.ticks();
  }

  /** Sets the heartbeat interval, seconds. */
  void heartbeat(int seconds) {
    heartbeatTicks = SseGateway.ticks(seconds);
  }

  /** True when nothing was written for longer than the heartbeat interval. */
  boolean due(long now) {
    return now - lastWriteTick > heartbeatTicks;
  }

  /** A heartbeat is written on tick {@code now}. */
  void tick(long now) {
    // Written as the tick begins: counted in the window before it, so that an idle stream's
    // heartbeats come every interval exactly (data written mid-window waits up to a tick more).
    lastWriteTick = now - 1;
  }

  /** A frame was handed to the transport: the connection is cut off if its client does not keep up. */
  void written() {
    lastWriteTick = conn.gateway.ticks();
    if (conn.writeQueueFull()) {
      cutOff("write queue full", conn.gateway.options().maxWriteQueueBytes());
    }
  }

  /** A page is answered as it stands; a stream is a slow consumer and is dropped. */
  void cutOff(String why, int limit) {
    if (conn.pages()) {
      conn.finish("page_full");
      return;
    }
    LOG.atInfo().addKeyValue("connection", conn.id()).addKeyValue("transport", conn.transport()).addKeyValue("limit", limit)
      .log("slow consumer: {}, closing", why);
    conn.gateway.stats().slowConsumersClosed++;
    HeraldMetrics.get().slowConsumerClosed();
    conn.close();
  }
}
