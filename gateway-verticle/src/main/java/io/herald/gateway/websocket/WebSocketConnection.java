package io.herald.gateway.websocket;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.gateway.Connection;
import io.herald.gateway.Framing;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.Http;
import io.herald.gateway.JsonFrames;
import io.herald.gateway.SseGateway;
import io.herald.gateway.fanout.EncodedEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;
import io.vertx.core.internal.buffer.BufferInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * One WebSocket subscription ({@code GET /ws}): a {@link Connection} whose frames are JSON text
 * frames ({@link JsonFrames}), kept alive by ping frames, which the client must answer within
 * {@code deadPeerTimeoutSeconds} (browsers do so by themselves). The client sends nothing else: text frames
 * up to {@link #MAX_CLIENT_MESSAGE_BYTES} are ignored, larger messages close the socket with
 * 1009, binary ones with 1003, text that is not UTF-8 with 1007.
 *
 * <p>Close codes: 1001 {@code shutting_down} (reconnect, elsewhere or later), 1008
 * {@code token_expired} (reconnect with a fresh token), 1013 {@code dropped} (too slow, or the
 * resume failed: reconnect and resume) or {@code dead_peer} (no pong), 1009/1003/1007 for what the client sent.
 *
 * <p>Confined to the gateway instance's event loop.
 */
public final class WebSocketConnection extends Connection {

  private static final Logger LOG = LoggerFactory.getLogger(WebSocketConnection.class);

  /** The transport label of WebSocket connections in metrics. */
  static final String TRANSPORT = GatewayOptions.TRANSPORT_WEBSOCKET;
  /** Largest message a client may send (it is ignored); more closes the socket with 1009. */
  static final int MAX_CLIENT_MESSAGE_BYTES = 4096;

  public static final short GOING_AWAY = 1001;
  static final short UNSUPPORTED_DATA = 1003;
  static final short INVALID_PAYLOAD = 1007;
  static final short POLICY_VIOLATION = 1008;
  static final short MESSAGE_TOO_BIG = 1009;
  static final short TRY_AGAIN_LATER = 1013;

  /** The upgrade request's response: answered with an error when the connection ends before the upgrade. */
  private final HttpServerResponse response;
  private ServerWebSocket ws;
  /** The client's text message so far (it is ignored once checked), null between messages. */
  private Buffer message;
  /** Set when the connection negotiated permessage-deflate: messages are written compressed here. */
  private io.netty.channel.ChannelHandlerContext deflate;
  /** The connection's channel, closed outright for a dead peer (no close handshake with nobody); may be null. */
  private io.netty.channel.Channel channel;
  /** The tick of the oldest ping not answered yet (by a pong or any frame); -1 when none is. */
  private long pingSentTick = -1;

  public WebSocketConnection(long id, SseGateway gateway, HttpServerResponse response, String[] topics) {
    super(id, gateway, Framing.JSON, topics);
    this.response = response;
  }

  /**
   * The upgrade is done: frames go to {@code ws} from now on, or straight to {@code channel}
   * compressed when the connection negotiated permessage-deflate ({@link WsDeflate}).
   */
  public void attach(ServerWebSocket ws, io.netty.channel.Channel channel) {
    this.ws = ws;
    this.channel = channel;
    if (channel != null && gateway.options().webSocketCompression() && WsDeflate.negotiated(channel.pipeline())) {
      deflate = channel.pipeline().context("handler");
    }
    ws.setWriteQueueMaxSize(gateway.options().maxWriteQueueBytes());
    ws.frameHandler(this::onClientFrame);
  }

  private void onClientFrame(WebSocketFrame frame) {
    pingSentTick = -1; // the client is there: a pong, or anything else
    if (closed()) {
      return;
    }
    if (frame.isBinary()) {
      closeWith(UNSUPPORTED_DATA, "binary frames are not accepted");
      return;
    }
    if (!frame.isText() && !frame.isContinuation()) {
      return; // ping, pong, close: handled by Vert.x
    }
    Buffer data = frame.binaryData();
    if (frame.isText()) {
      message = null;
    }
    int size = (message == null ? 0 : message.length()) + data.length();
    if (size > MAX_CLIENT_MESSAGE_BYTES) {
      closeWith(MESSAGE_TOO_BIG, "messages are limited to " + MAX_CLIENT_MESSAGE_BYTES + " bytes");
      return;
    }
    // RFC 6455 8.1: a text message must be UTF-8; a code point may straddle fragments, so the
    // whole message (at most MAX_CLIENT_MESSAGE_BYTES) is checked once complete.
    message = message == null ? data.copy() : message.appendBuffer(data);
    if (frame.isFinal()) {
      Buffer whole = message;
      message = null;
      if (!isUtf8(whole)) {
        closeWith(INVALID_PAYLOAD, "text messages must be UTF-8");
      }
    }
  }

  private static boolean isUtf8(Buffer b) {
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b.getBytes()));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private void closeWith(short code, String reason) {
    LOG.atDebug().addKeyValue("connection", id()).addKeyValue("code", code).log("closing WebSocket: {}", reason);
    onClosed();
    if (!ws.isClosed()) {
      ws.close(code, reason);
    }
  }

  @Override
  public String transport() {
    return TRANSPORT;
  }

  @Override
  public void transmit(Buffer frame) {
    if (ws.isClosed()) {
      onClosed(); // closing: its close handler has not run yet
      return;
    }
    if (deflate != null) {
      deflate.writeAndFlush(WsDeflate.storedMessage(frame), deflate.voidPromise());
      return;
    }
    // The frame's bytes are shared with every connection that receives the event: no copy.
    ws.writeFrame(new WebSocketFrameImpl(WebSocketFrameType.TEXT, ((BufferInternal) frame).getByteBuf(), true));
  }

  @Override
  public void transmitEvent(EncodedEvent event, String cursor) {
    if (deflate == null || ws.isClosed()) {
      super.transmitEvent(event, cursor);
      return;
    }
    // Compressed once for every connection; this one's cursor, if it has its own, stored.
    io.netty.handler.codec.http.websocketx.TextWebSocketFrame message = cursor == null
      ? WsDeflate.message(event.deflatedJsonSingle().duplicate())
      : WsDeflate.message(WsDeflate.stored(io.vertx.core.buffer.Buffer.buffer("{\"id\":\"" + cursor + "\"")),
        event.deflatedJsonTail().duplicate());
    deflate.writeAndFlush(message, deflate.voidPromise());
  }

  @Override
  public boolean writeQueueFull() {
    return !ws.isClosed() && ws.writeQueueFull();
  }

  @Override
  public void heartbeat() {
    if (!closed() && ws != null && !ws.isClosed() && !ws.writeQueueFull()) {
      ws.writePing(Buffer.buffer());
      if (pingSentTick < 0) {
        pingSentTick = gateway.ticks();
      }
    }
  }

  /** Also due when a ping went unanswered for {@code deadPeerTimeoutSeconds}. */
  @Override
  public boolean due(long now) {
    return super.due(now) || pongOverdue(now);
  }

  private boolean pongOverdue(long now) {
    int timeout = gateway.options().deadPeerTimeoutSeconds();
    return pingSentTick >= 0 && timeout > 0 && now - pingSentTick > SseGateway.ticks(timeout);
  }

  /**
   * A client that does not answer a ping within {@code deadPeerTimeoutSeconds} is gone (or a
   * proxy in between acknowledges for a client that is): the connection is dropped, on any
   * network transport. Data that keeps flowing is left to {@code TCP_USER_TIMEOUT}.
   */
  @Override
  public void onTick(long now) {
    if (!closed() && pongOverdue(now)) {
      LOG.atInfo().addKeyValue("connection", id()).addKeyValue("transport", TRANSPORT)
        .addKeyValue("timeoutSeconds", gateway.options().deadPeerTimeoutSeconds()).log("no answer to a ping: dead peer, closing");
      close("dead_peer");
      return;
    }
    super.onTick(now);
  }

  @Override
  public void endTransport(String reason) {
    if (ws != null) {
      if (!ws.isClosed()) {
        ws.close("token_expired".equals(reason) ? POLICY_VIOLATION : GOING_AWAY, reason);
      }
    } else if ("token_expired".equals(reason)) {
      Http.error(response, new HeraldException(ErrorCode.UNAUTHORIZED, "the token expired"));
    } else {
      Http.error(response.putHeader("Retry-After", "1"), new HeraldException(ErrorCode.SHUTTING_DOWN, "gateway is shutting down"));
    }
  }

  @Override
  public void abortTransport(String reason) {
    if (ws != null && channel != null && "dead_peer".equals(reason)) {
      // Not channel.close(): Vert.x turns it into a close handshake that waits for the client's
      // close frame (10 s). From the first handler, the close goes straight to the socket.
      io.netty.channel.ChannelHandlerContext first = channel.pipeline().firstContext();
      if (first != null) {
        first.close();
      } else {
        channel.close();
      }
    } else if (ws != null) {
      if (!ws.isClosed()) {
        ws.close(TRY_AGAIN_LATER, reason);
      }
    } else {
      response.reset();
    }
  }
}
