package io.herald.gateway.websocket;

import io.herald.gateway.sse.SseGzip;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * WebSocket {@code permessage-deflate} (RFC 7692, {@code gateway.webSocketCompression}) with each
 * event compressed once per gateway instance and no compressor per connection.
 *
 * <p>Vert.x (Netty) negotiates the extension and would compress every message with a deflater of
 * the connection's own (a few hundred KB of zlib state while in use). Instead, messages are
 * written already compressed, with RSV1 set, which Netty's encoder passes through untouched:
 * <ul>
 *   <li>an event's frame is compressed by a fresh compressor and sync-flushed, its final
 *       {@code 00 00 ff ff} removed (RFC 7692 §7.2.1): the same bytes are a valid message on
 *       every connection, whatever it received before, since they refer to nothing earlier;</li>
 *   <li>what belongs to one connection (its cursor, control frames) goes in stored
 *       (uncompressed) DEFLATE blocks, which cost no compressor: an event for a connection of
 *       several topics is its {@code {"id":"<cursor>"} as a stored block followed by the shared
 *       compressed rest of the frame.</li>
 * </ul>
 * The negotiated window is always 15 bits: without JZlib on the classpath Netty declines a
 * client's {@code server_max_window_bits}, which is what this relies on.
 *
 * <p>What clients send is inflated here too ({@link Inflate}), before Netty's decoder, with a
 * bound on the inflated size of a message: Netty's decoder as Vert.x configures it has none, so a
 * 64 KB frame could inflate to 64 MB.
 */
public final class WsDeflate {

  /** Most bytes one client message may inflate to; past it the socket is closed with 1009. */
  static final int MAX_INFLATED_MESSAGE_BYTES = 64 * 1024;
  /** The name of Netty's per-message-deflate decoder in a pipeline that negotiated the extension. */
  private static final String NETTY_DECODER =
    "io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateDecoder";
  private static final String NETTY_ENCODER =
    "io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateEncoder";
  /** The end of a sync flush, left off every compressed message and added back by the reader. */
  private static final byte[] TAIL = {0, 0, (byte) 0xff, (byte) 0xff};

  private WsDeflate() {
  }

  /** The name Vert.x gives the extension negotiation handler in an HTTP/1.x pipeline. */
  private static final String VERTX_EXTENSION_HANDLER = "webSocketExtensionHandler";
  /** Where the SockJS bridge is mounted: it does not negotiate compression. */
  private static final String SOCKJS_PREFIX = "/eventbus/";

  /**
   * For a new HTTP/1.x connection of a server that offers permessage-deflate: puts the bounded
   * inflater ({@link Inflate}) ahead of the extension's handlers, where it sees every frame
   * from the first, even one sent in the same packet as the upgrade request.
   */
  public static void install(io.vertx.core.http.HttpConnection connection) {
    if (connection instanceof io.vertx.core.net.impl.ConnectionBase base) {
      ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
      if (pipeline.get(VERTX_EXTENSION_HANDLER) != null && pipeline.get(Inflate.NAME) == null) {
        pipeline.addBefore(VERTX_EXTENSION_HANDLER, Inflate.NAME, new Inflate());
      }
    }
  }

  /** Whether the upgraded connection negotiated permessage-deflate. */
  public static boolean negotiated(ChannelPipeline pipeline) {
    return pipeline.get(NETTY_ENCODER) != null && pipeline.get(NETTY_DECODER) != null && pipeline.get(Inflate.NAME) != null;
  }

  /** {@code json} compressed on its own, as a message payload any connection can be sent. */
  public static ByteBuf shared(Buffer json) {
    Buffer deflated = SseGzip.deflated(json);
    byte[] bytes = deflated.getBytes(0, deflated.length() - TAIL.length);
    return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(bytes));
  }

  /** {@code json} in stored blocks, as the start of a message payload ({@link #message} ends it). */
  public static ByteBuf stored(Buffer json) {
    return ((BufferInternal) SseGzip.stored(json)).getByteBuf();
  }

  /** A message made of {@code parts}, in order: the last one is compressed or {@link #stored}. */
  public static TextWebSocketFrame message(ByteBuf... parts) {
    return new TextWebSocketFrame(true, WebSocketExtension.RSV1, Unpooled.wrappedBuffer(parts));
  }

  /** A message of {@code json} alone, stored. */
  public static TextWebSocketFrame storedMessage(Buffer json) {
    // A stored block ends on a byte boundary: the empty block whose LEN/NLEN the reader adds
    // back needs its header byte here.
    return message(stored(json), Unpooled.wrappedBuffer(new byte[] {0}));
  }

  /**
   * Inflates the client's compressed messages (RSV1 set) and passes them on uncompressed (RSV1
   * clear), so that Netty's decoder behind it has nothing to do. The inflater is made at the first
   * compressed message and kept, as the client may use its context across messages. Before the
   * upgrade, it takes the extension offer off requests to the SockJS bridge, which Vert.x writes
   * to itself: SockJS over WebSocket is not compressed.
   */
  public static final class Inflate extends ChannelInboundHandlerAdapter {

    static final String NAME = "heraldInflate";

    private Inflater inflater;
    private boolean inMessage;
    private int inflated;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof io.netty.handler.codec.http.HttpRequest request) {
        if (request.uri().startsWith(SOCKJS_PREFIX)) {
          request.headers().remove(io.netty.handler.codec.http.HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS);
        }
        ctx.fireChannelRead(msg);
        return;
      }
      if (!(msg instanceof WebSocketFrame frame)) {
        ctx.fireChannelRead(msg);
        return;
      }
      boolean compressedStart = (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame)
        && (frame.rsv() & WebSocketExtension.RSV1) != 0;
      if (!compressedStart && !(inMessage && frame instanceof ContinuationWebSocketFrame)) {
        ctx.fireChannelRead(msg);
        return;
      }
      try {
        if (compressedStart) {
          inMessage = true;
          inflated = 0;
        }
        ByteBuf out = inflate(ctx, frame.content(), frame.isFinalFragment());
        if (out == null) {
          return;
        }
        int rsv = frame.rsv() & ~WebSocketExtension.RSV1;
        WebSocketFrame plain = frame instanceof TextWebSocketFrame ? new TextWebSocketFrame(frame.isFinalFragment(), rsv, out)
          : frame instanceof BinaryWebSocketFrame ? new BinaryWebSocketFrame(frame.isFinalFragment(), rsv, out)
          : new ContinuationWebSocketFrame(frame.isFinalFragment(), rsv, out);
        if (frame.isFinalFragment()) {
          inMessage = false;
        }
        ctx.fireChannelRead(plain);
      } finally {
        frame.release();
      }
    }

    private ByteBuf inflate(ChannelHandlerContext ctx, ByteBuf in, boolean last) throws DataFormatException {
      if (inflater == null) {
        inflater = new Inflater(true);
      }
      byte[] input = new byte[in.readableBytes() + (last ? TAIL.length : 0)];
      in.getBytes(in.readerIndex(), input, 0, in.readableBytes());
      if (last) {
        System.arraycopy(TAIL, 0, input, in.readableBytes(), TAIL.length);
      }
      inflater.setInput(input);
      ByteBuf out = ctx.alloc().heapBuffer();
      byte[] buf = new byte[8192];
      try {
        while (true) {
          int n = inflater.inflate(buf);
          if (n == 0) {
            if (inflater.needsInput() || inflater.finished() || inflater.needsDictionary()) {
              break;
            }
            continue;
          }
          inflated += n;
          if (inflated > MAX_INFLATED_MESSAGE_BYTES) {
            out.release();
            ctx.writeAndFlush(new CloseWebSocketFrame(1009, "messages are limited to " + MAX_INFLATED_MESSAGE_BYTES
              + " bytes once inflated")).addListener(ChannelFutureListener.CLOSE);
            inMessage = false;
            return null;
          }
          out.writeBytes(buf, 0, n);
        }
      } catch (DataFormatException e) {
        out.release();
        ctx.writeAndFlush(new CloseWebSocketFrame(1007, "invalid compressed data")).addListener(ChannelFutureListener.CLOSE);
        inMessage = false;
        return null;
      }
      return out;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      if (inflater != null) {
        inflater.end();
        inflater = null;
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      handlerRemoved(ctx);
      ctx.fireChannelInactive();
    }
  }
}
