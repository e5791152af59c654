package io.herald.common.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

import java.util.List;

/**
 * The append request of {@link ReplayClient} and its answer as objects, for a Vert.x that is
 * not clustered (the replay role is then in the same process). As a {@code JsonObject} the
 * request is built from the drafts, deep-copied by the event bus on a local send and read back
 * into drafts by the replay role, and the answer goes the same way back: per publish six
 * object graphs built and walked for nothing. These records are handed over as they are
 * (immutable: records of immutable lists of immutable values). They never leave the process:
 * their codec refuses to write them to the wire, and the client sends them only when the event
 * bus has no other node. The replay role checks a request's drafts exactly as it checks the JSON
 * form's, and answers in the form it was asked in.
 */
public final class LocalAppend {

  private LocalAppend() {
  }

  /** {@code {"events": [draft, ...]}} of {@link io.herald.common.Addresses#REPLAY_APPEND}, as objects. */
  public record Request(List<EventDraft> drafts) {
    public Request {
      drafts = List.copyOf(drafts);
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
