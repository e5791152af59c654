package io.herald.common;

import io.herald.common.tracing.TraceContext;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

import java.nio.charset.StandardCharsets;

/**
 * Event-bus codec for {@link Event}. Across the cluster an event travels in a compact binary
 * form; inside one JVM the immutable instance is passed as it is, so a fan-out to many local
 * consumers copies nothing.
 *
 * <p>An event with a {@link Event#trace()} is written in an extended form: where the older form
 * has the length of {@code prev}'s epoch (-1 for none), a marker -2, then {@code prev} as before,
 * then {@code traceparent} and {@code tracestate}. Frames without a trace are byte for byte the
 * older form, so nodes of both versions read each other's untraced events; a node before
 * tracing reads a traced event as one without {@code prev} and ignores the rest (the body is
 * self-delimiting: nothing depends on where the event bus ends its frame).
 *
 * <p>An event with a {@link Event#log()} is written in a second extended form: in place of that
 * length a marker -3 and an int of flags (1: a trace follows {@code prev}, 2: the log position
 * follows, after the trace if any), then {@code prev}, the trace, the log position (epoch, seq).
 * Events without a log position keep the forms above. A node before this form reads such an
 * event as one without {@code prev} (and a node with tracing but without it, without its trace
 * either) and ignores the rest.
 *
 * <p>An event with Mercure delivery flags ({@link Event#privateUpdate()}, {@link Event#retry()})
 * takes the second extended form too, with flag 4: after the log position (if any) a byte
 * (1: private) and a long (the retry, -1 for none). Events without them are written as before,
 * so older nodes read every frame they read before; a node before this flag reads a flagged
 * event without its flags and ignores the rest. Flag 8: the topics of a Mercure update with
 * alternates ({@link Event#alternates()}), one string, space-separated, after the flags.
 */
public final class EventCodec implements MessageCodec<Event, Event> {

  public static final String NAME = "herald-event";

  /** In place of the length of {@code prev}'s epoch: a trace context follows {@code prev}. */
  private static final int TRACED = -2;
  /** In place of the length of {@code prev}'s epoch: flags follow, then prev, trace and log as flagged. */
  private static final int EXTENDED = -3;
  private static final int HAS_TRACE = 1;
  private static final int HAS_LOG = 2;
  private static final int HAS_FLAGS = 4;
  /** The topics of a Mercure update with alternates ({@link Event#alternates()}), space-separated, after the flags. */
  private static final int HAS_ALTERNATES = 8;

  /** Registers the codec as the default for {@link Event} (and those of {@link io.herald.common.replay.LocalAppend}); safe to call more than once. */
  public static void register(Vertx vertx) {
    try {
      vertx.eventBus().registerDefaultCodec(Event.class, new EventCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // another verticle of this Vert.x instance did it
    }
    io.herald.common.replay.LocalAppend.register(vertx);
  }

  @Override
  public void encodeToWire(Buffer buffer, Event e) {
    TraceContext trace = e.trace();
    putString(buffer, e.topic());
    putString(buffer, e.epoch());
    buffer.appendLong(e.seq());
    putString(buffer, e.type());
    putString(buffer, e.data());
    buffer.appendByte((byte) (e.json() ? 1 : 0));
    putString(buffer, e.key());
    buffer.appendLong(e.timestamp());
    Position log = e.log();
    boolean flagged = e.privateUpdate() || e.retry() >= 0;
    boolean alts = e.alternates() != null;
    if (log != null || flagged || alts) {
      buffer.appendInt(EXTENDED);
      buffer.appendInt((trace != null ? HAS_TRACE : 0) | (log != null ? HAS_LOG : 0) | (flagged ? HAS_FLAGS : 0)
        | (alts ? HAS_ALTERNATES : 0));
    } else if (trace != null) {
      buffer.appendInt(TRACED);
    }
    if (e.prev() != null) {
      putString(buffer, e.prev().epoch());
      buffer.appendLong(e.prev().seq());
    } else {
      putString(buffer, null);
    }
    if (trace != null) {
      putString(buffer, trace.traceparent());
      putString(buffer, trace.tracestate());
    }
    if (log != null) {
      putString(buffer, log.epoch());
      buffer.appendLong(log.seq());
    }
    if (flagged) {
      buffer.appendByte((byte) (e.privateUpdate() ? 1 : 0));
      buffer.appendLong(e.retry());
    }
    if (alts) {
      putString(buffer, String.join(" ", e.alternates()));
    }
  }

  @Override
  public Event decodeFromWire(int pos, Buffer buffer) {
    int[] p = {pos};
    String topic = getString(buffer, p);
    String epoch = getString(buffer, p);
    long seq = buffer.getLong(p[0]);
    p[0] += 8;
    String type = getString(buffer, p);
    String data = getString(buffer, p);
    boolean json = buffer.getByte(p[0]) == 1;
    p[0] += 1;
    String key = getString(buffer, p);
    long ts = buffer.getLong(p[0]);
    p[0] += 8;
    int marker = buffer.getInt(p[0]);
    boolean traced = marker == TRACED;
    boolean logged = false;
    boolean flagged = false;
    boolean alts = false;
    if (traced) {
      p[0] += 4;
    } else if (marker == EXTENDED) {
      int flags = buffer.getInt(p[0] + 4);
      p[0] += 8;
      traced = (flags & HAS_TRACE) != 0;
      logged = (flags & HAS_LOG) != 0;
      flagged = (flags & HAS_FLAGS) != 0;
      alts = (flags & HAS_ALTERNATES) != 0;
    }
    String prevEpoch = getString(buffer, p);
    Position prev = null;
    if (prevEpoch != null) {
      prev = new Position(prevEpoch, buffer.getLong(p[0]));
      p[0] += 8;
    }
    TraceContext trace = null;
    if (traced) {
      String traceparent = getString(buffer, p);
      String tracestate = getString(buffer, p);
      trace = traceparent == null ? null : new TraceContext(traceparent, tracestate);
    }
    Position log = null;
    if (logged) {
      String logEpoch = getString(buffer, p);
      log = new Position(logEpoch, buffer.getLong(p[0]));
      p[0] += 8;
    }
    boolean privateUpdate = false;
    long retry = -1;
    if (flagged) {
      privateUpdate = buffer.getByte(p[0]) == 1;
      retry = buffer.getLong(p[0] + 1);
      p[0] += 9;
    }
    java.util.List<String> alternates = alts ? java.util.List.of(getString(buffer, p).split(" ")) : null;
    return new Event(topic, epoch, seq, type, data, json, key, ts, prev, trace, log, privateUpdate, retry, alternates);
  }

  @Override
  public Event transform(Event event) {
    return event;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }

  private static void putString(Buffer b, String s) {
    if (s == null) {
      b.appendInt(-1);
      return;
    }
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    b.appendInt(bytes.length);
    b.appendBytes(bytes);
  }

  private static String getString(Buffer b, int[] p) {
    int len = b.getInt(p[0]);
    p[0] += 4;
    if (len < 0) {
      return null;
    }
    String s = b.getString(p[0], p[0] + len, "UTF-8");
    p[0] += len;
    return s;
  }
}
