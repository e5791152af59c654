package io.herald.gateway.sse;

import io.herald.gateway.fanout.EncodedEvent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.FastThreadLocal;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.impl.ConnectionBase;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;

/**
 * The body of a chunked HTTP/1.1 response written straight to its channel, below Vert.x's HTTP
 * encoder: each write is one ready-made chunk ({@code <hex length>CRLF<frame>CRLF}) in a direct
 * buffer, written with a void promise, and the connections written to in one turn of the event
 * loop are flushed once each at the end of it ({@link Flusher}): events that arrive together
 * leave in one system call per connection, not one per event.
 *
 * <p>Why: a frame written through {@code HttpServerResponse.write} costs, per stream and per
 * event, a Vert.x promise and its channel promise, a slice of the buffer, the encoder's chunk
 * header (a buffer of its own and three messages in the outbound buffer) and a copy of the heap
 * frame into a direct buffer by the NIO transport. Here the chunk of an event that several streams
 * receive is built once, in a direct buffer the streams share ({@link EncodedEvent#sseChunk}),
 * and a write is a duplicate of it: no copy, no allocation beyond the duplicate.
 *
 * <p>Sound because: the response head and the first chunk ({@code retry:}) go through Vert.x, so
 * the encoder is in its chunked state and stays there (it only tracks the state of the message
 * it encodes); the last chunk ({@code response.end()}) goes through Vert.x again. Every write
 * happens on the connection's event loop (the server runs in strict thread mode), so writes
 * through either path reach the socket in the order they were made. TLS and writability (hence
 * {@code writeQueueFull}) sit below the encoder and see every write. The idle timeout does not
 * always (without TLS, Vert.x puts its {@link IdleStateHandler} above the encoder, where writes
 * made below it never pass), and a stream has no use for a timer of its own: its heartbeats are
 * the gateway's one tick. So the stream takes the handler out of its pipeline once it is open
 * ({@link #detachIdle}; the stream's connection then applies the timeout to its writes on that
 * tick) and puts one back when its response ends on a connection that stays open
 * ({@link #reattachIdle}). Not for
 * HTTP/1.0 (no chunks) or HTTP/2 (other framing), nor when Vert.x compresses responses, nor for a
 * response that is not chunked: {@link #of} returns null (or is not asked) and the
 * connection writes through Vert.x. Vert.x's bytes-written counters do not see these bytes.
 */
public final class RawChunks {

  private static final byte[] CRLF = {'\r', '\n'};

  /** {@code :} heartbeat comment as a chunk, shared by every stream and never released. */
  private static final ByteBuf HEARTBEAT = shared(SseFrames.HEARTBEAT);

  /** One per event-loop thread: every connection of a loop is written on that loop. */
  private static final FastThreadLocal<Flusher> FLUSHERS = new FastThreadLocal<>() {
    @Override
    protected Flusher initialValue() {
      return new Flusher();
    }
  };

  private final ChannelHandlerContext encoder;
  private final ChannelPromise voidPromise;
  /**
   * While the idle handler is out of the pipeline ({@link #detachIdle}): the name of the handler
   * it stood before, to put one back there ({@link #reattachIdle}); null otherwise.
   */
  private String idleBefore;
  /** Written to since the last flush, hence in its loop's {@link Flusher}. */
  private boolean unflushed;

  private RawChunks(ChannelHandlerContext encoder) {
    this.encoder = encoder;
    // The channel's own void promise that does not fire write failures down the pipeline (like
    // Vert.x's: the close handler runs), shared rather than one more per connection.
    this.voidPromise = encoder.channel().unsafe().voidPromise();
  }

  /**
   * The raw path for a chunked HTTP/1.1 response whose head has been written, or null when the
   * response must be written through Vert.x (HTTP/1.0, HTTP/2, compression, an unknown pipeline).
   */
  public static RawChunks of(HttpConnection connection, HttpVersion version) {
    // HTTP/1.0 has no chunked encoding: Vert.x sends its body as is, delimited by the close.
    if (version != HttpVersion.HTTP_1_1) {
      return null;
    }
    if (!(connection instanceof ConnectionBase base)) {
      return null;
    }
    var pipeline = base.channelHandlerContext().pipeline();
    ChannelHandlerContext encoder = pipeline.context("httpEncoder");
    if (encoder == null || pipeline.get("deflater") != null) {
      return null;
    }
    return new RawChunks(encoder);
  }

  /**
   * Takes Vert.x's idle handler (and its scheduled task: a timer per connection) out of the
   * pipeline: true when there was one, and the caller now owes the connection its idle timeout.
   * On the channel's event loop.
   */
  public boolean detachIdle() {
    var pipeline = encoder.pipeline();
    ChannelHandlerContext idle = pipeline.context(IdleStateHandler.class);
    if (idle == null) {
      return false;
    }
    java.util.List<String> names = pipeline.names();
    int at = names.indexOf(idle.name());
    // The pipeline's last name is its tail's: a handler stands before the idle one's successor.
    if (at < 0 || at + 1 >= names.size() - 1) {
      return false;
    }
    idleBefore = names.get(at + 1);
    pipeline.remove(idle.handler());
    return true;
  }

  /**
   * Puts an idle handler of {@code seconds} back where {@link #detachIdle} took one (the response
   * ended, the connection may carry more requests). On the channel's event loop.
   */
  public void reattachIdle(int seconds) {
    String before = idleBefore;
    idleBefore = null;
    var pipeline = encoder.pipeline();
    if (before == null || !encoder.channel().isActive() || pipeline.context(before) == null
        || pipeline.get(IdleStateHandler.class) != null) {
      return;
    }
    pipeline.addBefore(before, "idle", new IdleStateHandler(0, 0, seconds));
  }

  /** Writes a shared chunk ({@link #shared}) without copying it. */
  public void writeShared(ByteBuf chunk) {
    send(chunk.duplicate());
  }

  /** Writes a frame of this connection only, as a chunk in a pooled direct buffer. */
  public void write(Buffer frame) {
    send(chunk(encoder.alloc(), frame));
  }

  private void send(ByteBuf chunk) {
    encoder.write(chunk, voidPromise);
    // Unflushed bytes count against the channel's writability like unsent ones. Before the
    // slow-consumer check after this write judges the client, let the kernel take what it can:
    // a client that keeps up is never cut off for bytes that merely await the end of the turn.
    if (!encoder.channel().isWritable()) {
      flush();
      return;
    }
    if (!unflushed) {
      unflushed = true;
      FLUSHERS.get().add(this);
    }
  }

  public void heartbeat() {
    writeShared(HEARTBEAT);
  }

  private void flush() {
    encoder.flush();
  }

  /** A frame as one chunk, in a direct buffer from {@code alloc}; released once written. */
  public static ByteBuf chunk(ByteBufAllocator alloc, Buffer frame) {
    ByteBuf bytes = ((BufferInternal) frame).getByteBuf();
    int length = bytes.readableBytes();
    byte[] header = header(length);
    ByteBuf chunk = alloc.directBuffer(header.length + length + 2);
    chunk.writeBytes(header).writeBytes(bytes, bytes.readerIndex(), length).writeBytes(CRLF);
    return chunk;
  }

  /**
   * A frame as one chunk that any number of connections can write at once: a direct buffer
   * freed by the garbage collector, never by Netty (writes get duplicates of a buffer whose
   * release does nothing).
   */
  public static ByteBuf shared(Buffer frame) {
    ByteBuf bytes = ((BufferInternal) frame).getByteBuf();
    int length = bytes.readableBytes();
    byte[] header = header(length);
    ByteBuffer direct = ByteBuffer.allocateDirect(header.length + length + 2);
    direct.put(header);
    bytes.getBytes(bytes.readerIndex(), direct.slice(header.length, length));
    direct.position(header.length + length).put(CRLF).flip();
    return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(direct));
  }

  /**
   * The connections of one event loop written to in this turn, flushed by one task queued behind
   * the tasks already waiting (the other events of the batch). Holds each connection at most once.
   */
  private static final class Flusher implements Runnable {

    private final ArrayList<RawChunks> pending = new ArrayList<>();

    public void add(RawChunks connection) {
      if (pending.isEmpty()) {
        connection.encoder.executor().execute(this);
      }
      pending.add(connection);
    }

    @Override
    public void run() {
      // By index: a flush can run handlers that write again; those join this round.
      try {
        for (int i = 0; i < pending.size(); i++) {
          RawChunks c = pending.get(i);
          c.unflushed = false;
          c.flush();
        }
      } finally {
        // Whatever happens, the next write schedules a new round (a connection skipped by a
        // failure is flushed by its next write, or by Vert.x when the response ends).
        for (RawChunks c : pending) {
          c.unflushed = false;
        }
        pending.clear();
      }
    }
  }

  private static byte[] header(int length) {
    return (Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
  }
}
