package io.herald.gateway;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Caps the size of each message a client sends on a WebSocket whose frames Vert.x assembles for
 * someone else (the SockJS bridge's WebSocket transports): installed on the connection before
 * the upgrade, it sits between Netty's WebSocket decoder and Vert.x, counts the bytes of each
 * message frame by frame, and at the first byte over the cap drops the message and ends the
 * WebSocket with status 1009. So a message over the cap is never assembled nor processed,
 * whether it comes in one frame or in many.
 *
 * <p>The close is handed to Vert.x as a close frame with 1009 from the client's side: Vert.x
 * answers it with the same frame and ends the connection as a clean close (the socket's close
 * handler runs, no exception). Every frame after it is dropped.
 */
final class WebSocketMessageCap extends ChannelInboundHandlerAdapter {

  static final String NAME = "herald-ws-message-cap";
  static final int MESSAGE_TOO_BIG = 1009;

  private final int maxBytes;
  private long inbound;
  private boolean closing;

  private WebSocketMessageCap(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  /**
   * Installs the cap on the connection of an upgrade request, before Vert.x's handler; false
   * when the connection is not one whose pipeline is known (then nothing is installed).
   */
  static boolean install(HttpConnection connection, int maxBytes) {
    if (!(connection instanceof ConnectionBase base)) {
      return false;
    }
    ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
    if (pipeline.get(NAME) == null) {
      // Netty's handshake puts its WebSocket decoder where the HTTP decoder is, before this.
      pipeline.addBefore(base.channelHandlerContext().name(), NAME, new WebSocketMessageCap(maxBytes));
    }
    return true;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof WebSocketFrame frame)) {
      ctx.fireChannelRead(msg); // HTTP before the upgrade
      return;
    }
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    boolean data = frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame;
    if (!data && !(frame instanceof ContinuationWebSocketFrame)) {
      ctx.fireChannelRead(msg); // ping, pong, close
      return;
    }
    inbound = (data ? 0 : inbound) + frame.content().readableBytes();
    if (inbound > maxBytes) {
      closing = true;
      ReferenceCountUtil.release(msg);
      ctx.fireChannelRead(new CloseWebSocketFrame(MESSAGE_TOO_BIG, "messages are limited to " + maxBytes + " bytes"));
      return;
    }
    if (frame.isFinalFragment()) {
      inbound = 0;
    }
    ctx.fireChannelRead(msg);
  }
}
