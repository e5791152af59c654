package io.herald.gateway.websocket;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

import java.util.concurrent.TimeUnit;

/**
 * Caps the size of each message a client sends on a WebSocket whose frames Vert.x assembles for
 * someone else (the SockJS bridge's WebSocket transports): installed on the connection before
 * the upgrade, it sits between Netty's WebSocket decoder and Vert.x, counts the bytes of each
 * message frame by frame, and at the first byte over the cap drops the message and ends the
 * WebSocket with status 1009. So a message over the cap is never assembled nor processed,
 * whether it comes in one frame or in many.
 *
 * <p>The close follows RFC 6455 §5.5.1 and §7: the cap sends the close frame (1009) itself,
 * then lets no other frame out (Vert.x may still be writing events to the socket) and drops
 * every data frame the client goes on sending, until the client answers with its close frame.
 * That frame is handed to Vert.x, which ends the connection as a clean close (the socket's
 * close handler runs, no exception; its answering close frame is not sent, ours was). A client
 * that never answers is closed the same way after {@link #CLOSE_WAIT_MILLIS}. Closing the
 * connection at once instead would make the server's kernel answer the client's frames still
 * in flight with a reset, which can take the 1009 frame with it: the client would see a broken
 * connection instead of the status.
 */
public final class WebSocketMessageCap extends ChannelDuplexHandler {

  static final String NAME = "herald-ws-message-cap";
  static final int MESSAGE_TOO_BIG = 1009;
  /** How long the cap waits for the client's close frame after sending its own. */
  static final long CLOSE_WAIT_MILLIS = 5_000;

  private final int maxBytes;
  private long inbound;
  private boolean closing;
  private ScheduledFuture<?> closeWait;

  private WebSocketMessageCap(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  /**
   * Installs the cap on the connection of an upgrade request, before Vert.x's handler; false
   * when the connection is not one whose pipeline is known (then nothing is installed).
   */
  public static boolean install(HttpConnection connection, int maxBytes) {
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
      if (frame instanceof CloseWebSocketFrame) {
        closeWait.cancel(false);
        ctx.fireChannelRead(msg); // the client's answer: Vert.x ends the connection
      } else {
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    boolean data = frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame;
    if (!data && !(frame instanceof ContinuationWebSocketFrame)) {
      ctx.fireChannelRead(msg); // ping, pong, close
      return;
    }
    inbound = (data ? 0 : inbound) + frame.content().readableBytes();
    if (inbound > maxBytes) {
      ReferenceCountUtil.release(msg);
      String reason = "messages are limited to " + maxBytes + " bytes";
      ctx.writeAndFlush(new CloseWebSocketFrame(MESSAGE_TOO_BIG, reason));
      closing = true;
      closeWait = ctx.executor().schedule(
        () -> ctx.fireChannelRead(new CloseWebSocketFrame(MESSAGE_TOO_BIG, reason)), CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
      return;
    }
    if (frame.isFinalFragment()) {
      inbound = 0;
    }
    ctx.fireChannelRead(msg);
  }

  /** After the cap's close frame nothing else goes out (RFC 6455 §5.5.1). */
  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (closing && msg instanceof WebSocketFrame) {
      ReferenceCountUtil.release(msg);
      promise.trySuccess();
      return;
    }
    ctx.write(msg, promise);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (closeWait != null) {
      closeWait.cancel(false);
    }
    super.channelInactive(ctx);
  }
}
