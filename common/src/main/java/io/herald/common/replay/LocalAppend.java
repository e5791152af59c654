package io.herald.common.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.tracing.TraceContext;
import io.vertx.core.Completable;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageCodec;

import java.util.List;

/**
 * The append request of {@link ReplayClient} and its answer as objects, for a replay role in the
 * same process. As a {@code JsonObject} the request is built from the drafts, deep-copied by the
 * event bus on a local send and read back into drafts by the replay role, and the answer goes
 * the same way back: per publish six object graphs built and walked for nothing. These records
 * are handed over as they are (their drafts and events are immutable lists of immutable values).
 * They never leave the process: their codec refuses to write them to the wire, and the client
 * sends them only to a replay role of its own process. The replay role checks a request's drafts
 * exactly as it checks the JSON form's.
 *
 * <p>A request may carry its own {@link Request#answer() answer}, which the replay role completes
 * (or fails with the {@link HeraldException} it would have replied) instead of replying; the
 * client's answer hands the result to the sender's event loop, where answers are taken in the
 * order they were given, as replies are. The client then sends it with a plain send rather than a
 * request: no reply consumer registered, timed and unregistered per append, which was a tenth of
 * the event loop's work on a targeted publish (BENCHMARKS.md, run 38). A request without one is
 * answered with a {@link Reply}, as the JSON form is answered in JSON.
 */
public final class LocalAppend {

  private LocalAppend() {
  }

  /**
   * {@code {"events": [draft, ...]}} of {@link io.herald.common.Addresses#REPLAY_APPEND}, as objects.
   *
   * @param drafts the events to append, in order
   * @param trace  the publish's trace context (what the JSON form carries in message headers), or null
   * @param answer where the replay role answers (from its own thread), or null: then it replies with a {@link Reply}
   */
  public record Request(List<EventDraft> drafts, TraceContext trace, Completable<List<Event>> answer) {
    public Request {
      drafts = List.copyOf(drafts);
    }

    /** A request answered by a {@link Reply}. */
    public Request(List<EventDraft> drafts) {
      this(drafts, null, null);
    }

    /** Answers with the events as stored: completes {@link #answer()}, or replies to {@code msg}. */
    public void succeed(Message<?> msg, List<Event> events) {
      if (answer != null) {
        answer.complete(List.copyOf(events), null);
      } else {
        msg.reply(new Reply(events));
      }
    }

    /** Answers with a failure: fails {@link #answer()}, or fails {@code msg} as the JSON form is failed. */
    public void fail(Message<?> msg, HeraldException e) {
      if (answer != null) {
        answer.complete(null, e);
      } else {
        msg.fail(e.code().status(), e.toJson().encode());
      }
    }
  }

  /** The answer to a {@link Request}: the events as stored (or found stored), in the request's order. */
  public record Reply(List<Event> events) {
    public Reply {
      events = List.copyOf(events);
    }
  }

  /** Registers the codecs of {@link Request} and {@link Reply}; safe to call more than once. */
  public static void register(Vertx vertx) {
    try {
      vertx.eventBus().registerDefaultCodec(Request.class, new Codec<Request>("herald-local-append-request"));
    } catch (IllegalStateException alreadyRegistered) {
      // another verticle of this Vert.x instance did it
    }
    try {
      vertx.eventBus().registerDefaultCodec(Reply.class, new Codec<Reply>("herald-local-append-reply"));
    } catch (IllegalStateException alreadyRegistered) {
      // the same
    }
  }

  /** Passes the immutable instance as it is; refuses the wire. */
  private static final class Codec<T> implements MessageCodec<T, T> {

    private final String name;

    Codec(String name) {
      this.name = name;
    }

    @Override
    public void encodeToWire(Buffer buffer, T value) {
      throw new IllegalStateException(name + " is for a replay role in the same process only");
    }

    @Override
    public T decodeFromWire(int pos, Buffer buffer) {
      throw new IllegalStateException(name + " is for a replay role in the same process only");
    }

    @Override
    public T transform(T value) {
      return value;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }
}
