package io.herald.gateway.sse;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import io.vertx.core.buffer.Buffer;

import java.util.Arrays;
import java.util.Locale;
import java.util.zip.Deflater;

/**
 * gzip for SSE streams ({@code gateway.sseCompression}), without per-connection compression
 * state and with each event compressed once per gateway instance, its bytes shared by every
 * stream like the uncompressed frame.
 *
 * <p>A stream is one gzip member (RFC 1952) whose DEFLATE data (RFC 1951) is a sequence of
 * non-final blocks: a header, then per frame either
 * <ul>
 *   <li>an event's frame compressed by a fresh compressor (no dictionary from earlier frames)
 *       and ended by a sync flush, so its bytes start and end on a byte boundary and mean the
 *       same whatever came before them on the stream: every stream can be sent the same bytes;
 *       or</li>
 *   <li>a stored (uncompressed) block, for what belongs to one stream only ({@code retry:},
 *       {@code herald.ready}, {@code reset}, heartbeats) and costs no compressor.</li>
 * </ul>
 * The member is never finished: a stream ends with the connection, without the final block and
 * trailer, and clients treat it like any other end of a stream (they reconnect). Browsers do not
 * decode a second gzip member on one response (Chromium stops after the first), which is why
 * events are not sent as members of their own. What this costs: each event is compressed without
 * the history of the stream, so small events gain less than a per-connection compressor would
 * give them (measured in BENCHMARKS.md).
 */
public final class SseGzip {

  /** A gzip member header: deflate, no flags, no time, unknown OS. */
  private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
  /** Largest stored block (its length is 16 bits). */
  private static final int MAX_STORED = 65_535;
  /** Compression level: zlib's default balance of size and speed. */
  private static final int LEVEL = 6;

  /** A heartbeat as a stored block in an HTTP chunk, shared by every gzip stream. */
  static final ByteBuf HEARTBEAT = RawChunks.shared(stored(SseFrames.HEARTBEAT));

  /** One compressor per event-loop thread, reset for every frame. */
  private static final FastThreadLocal<Deflater> DEFLATERS = new FastThreadLocal<>() {
    @Override
    protected Deflater initialValue() {
      return new Deflater(LEVEL, true);
    }

    @Override
    protected void onRemoval(Deflater d) {
      d.end();
    }
  };

  private SseGzip() {
  }

  /** The start of a stream: the gzip header and {@code first} as a stored block. */
  public static Buffer start(Buffer first) {
    return Buffer.buffer(HEADER).appendBuffer(stored(first));
  }

  /** {@code frame} as stored DEFLATE blocks (5 bytes of header per 64 KB). */
  public static Buffer stored(Buffer frame) {
    int n = frame.length();
    Buffer out = Buffer.buffer(n + 5 * (n / MAX_STORED + 1));
    int from = 0;
    do {
      int len = Math.min(MAX_STORED, n - from);
      out.appendByte((byte) 0) // BFINAL 0, BTYPE 00 (stored), padded to the byte boundary
        .appendByte((byte) len).appendByte((byte) (len >>> 8))
        .appendByte((byte) ~len).appendByte((byte) (~len >>> 8))
        .appendBuffer(frame, from, len);
      from += len;
    } while (from < n);
    return out;
  }

  /** {@code frame} compressed on its own and sync-flushed: bytes any stream can carry. */
  public static Buffer deflated(Buffer frame) {
    Deflater d = DEFLATERS.get();
    d.reset();
    d.setInput(frame.getBytes());
    byte[] out = new byte[frame.length() + 64];
    int len = 0;
    while (true) {
      len += d.deflate(out, len, out.length - len, Deflater.SYNC_FLUSH);
      if (len < out.length) {
        return Buffer.buffer(Arrays.copyOf(out, len));
      }
      out = Arrays.copyOf(out, out.length * 2);
    }
  }

  /**
   * Whether an {@code Accept-Encoding} value accepts gzip (RFC 9110 §12.5.3): {@code gzip} (or
   * {@code x-gzip}) or {@code *} with a weight above 0, and gzip not refused by {@code q=0}.
   */
  public static boolean accepts(String acceptEncoding) {
    if (acceptEncoding == null) {
      return false;
    }
    Boolean gzip = null;
    boolean any = false;
    for (String part : acceptEncoding.split(",")) {
      String[] p = part.trim().split(";");
      String coding = p[0].trim().toLowerCase(Locale.ROOT);
      boolean positive = true;
      for (int i = 1; i < p.length; i++) {
        String param = p[i].trim().toLowerCase(Locale.ROOT);
        if (param.startsWith("q=")) {
          try {
            positive = Double.parseDouble(param.substring(2).trim()) > 0;
          } catch (NumberFormatException e) {
            positive = false;
          }
        }
      }
      if (coding.equals("gzip") || coding.equals("x-gzip")) {
        gzip = positive;
      } else if (coding.equals("*")) {
        any = positive;
      }
    }
    return gzip != null ? gzip : any;
  }
}
