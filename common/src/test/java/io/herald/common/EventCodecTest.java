package io.herald.common;

import io.herald.common.tracing.TraceContext;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class EventCodecTest {

  private final EventCodec codec = new EventCodec();

  static Stream<Event> events() {
    return Stream.of(
      new Event("demo", "e1", 1, "greeting", "{\"hello\":\"world\"}", true, "order-1", 1_700_000_000_000L),
      new Event("demo", "e1", 2, "message", "plain", false, null, 0L),
      new Event("user:42", "AbC0123456789xyz", Long.MAX_VALUE, "note", "line1\nline2\r\nline3\n", false, "k", -1L),
      new Event("orders/eu", "z", 7, "t", "héllo wörld 日本 \uD83D\uDE00 \u0000 end", false, "!~", Long.MIN_VALUE),
      new Event("t", "e", 3, "t", "", false, null, 42L),
      new Event("t", "e", 4, "t", "x".repeat(70_000), false, null, 42L),
      new Event("t", "outage01", 1, "t", "first of an epoch", false, null, 42L, new Position("durable1", 17)),
      new Event("t", "e", 5, "t", "logged", false, null, 42L).withLog(new Position("LogEp0ch", 123_456_789_012L)),
      new Event("t", "e", 1, "t", "logged, prev", false, "k", 42L, new Position("p", 9)).withLog(new Position("L", 1)),
      new Event("https://example.com/books/1?lang=fr&x=%20", "e", 1, "t", "private", false, "urn:uuid:1", 42L).withFlags(true, -1),
      new Event("t", "e", 2, "t", "retry", false, null, 42L).withFlags(false, 0),
      new Event("t", "e", 3, "t", "both, logged", false, null, 42L, new Position("p", 1)).withLog(new Position("L", 2)).withFlags(true, 5000));
  }

  @Test
  @DisplayName("Mercure flags (private, retry) travel in the extended form with any trace, prev and log; unflagged events are written as before")
  void flagsOnTheWire() {
    TraceContext tc = new TraceContext("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", null);
    Event plain = new Event("t", "e", 3, "t", "d", false, "k", 42L, new Position("p", 2));
    for (Event base : List.of(plain, plain.withTrace(tc), plain.withLog(new Position("L", 7)), plain.withPrev(null).withTrace(tc).withLog(new Position("L", 8)))) {
      for (Event flagged : List.of(base.withFlags(true, -1), base.withFlags(false, 3000), base.withFlags(true, Long.MAX_VALUE))) {
        Buffer buf = Buffer.buffer().appendString("HEADER");
        codec.encodeToWire(buf, flagged);
        Event back = codec.decodeFromWire(6, buf);
        assertThat(back.privateUpdate()).isEqualTo(flagged.privateUpdate());
        assertThat(back.retry()).isEqualTo(flagged.retry());
        assertThat(back.trace()).isEqualTo(flagged.trace());
        assertThat(back.log()).isEqualTo(flagged.log());
        assertThat(back.prev()).isEqualTo(flagged.prev());
        assertThat(back).isEqualTo(flagged).isNotEqualTo(base);
        assertThat(Event.fromJson(flagged.toJson())).isEqualTo(flagged);
        assertThat(new Event("x", "e", 1, "t", "", false, null, 0L).withFlagsText(flagged.flagsText()).flagsText())
          .isEqualTo(flagged.flagsText());
      }
      Buffer before = Buffer.buffer();
      codec.encodeToWire(before, base);
      Buffer unflagged = Buffer.buffer();
      codec.encodeToWire(unflagged, base.withFlags(true, 1).withFlags(false, -1));
      assertThat(unflagged).isEqualTo(before);
    }
    assertThat(plain.flagsText()).isNull();
    assertThat(plain.toJson().containsKey("private")).isFalse();
  }

  @ParameterizedTest
  @MethodSource("events")
  @DisplayName("An event encoded for the wire decodes to an equal event, every field included")
  void wireRoundTrip(Event e) {
    Buffer buf = Buffer.buffer();
    codec.encodeToWire(buf, e);
    Event back = codec.decodeFromWire(0, buf);
    assertThat(back).isEqualTo(e);
    assertThat(back.key()).isEqualTo(e.key());
    assertThat(back.timestamp()).isEqualTo(e.timestamp());
    assertThat(back.json()).isEqualTo(e.json());
    assertThat(back.data()).isEqualTo(e.data());
    assertThat(back.prev()).isEqualTo(e.prev());
    assertThat(back.log()).isEqualTo(e.log());
    assertThat(Event.fromJson(e.toJson()).prev()).as("and the JSON form keeps prev too").isEqualTo(e.prev());
    assertThat(Event.fromJson(e.toJson()).log()).as("and the JSON form keeps log too").isEqualTo(e.log());
  }

  @Test
  @DisplayName("An event with a log position keeps it, with its trace and prev, inside a frame; one without is written exactly as before")
  void logOnTheWire() {
    TraceContext tc = new TraceContext("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "vendor=abc");
    Event plain = new Event("t", "e", 3, "t", "d", false, "k", 42L, new Position("p", 2));
    Position log = new Position("LOG1", 77);
    for (Event logged : List.of(plain.withLog(log), plain.withTrace(tc).withLog(log), plain.withPrev(null).withLog(log),
      plain.withPrev(null).withTrace(tc).withLog(log))) {
      Buffer buf = Buffer.buffer().appendString("HEADER");
      codec.encodeToWire(buf, logged);
      buf.appendString("TRAILER");
      Event back = codec.decodeFromWire(6, buf);
      assertThat(back.log()).isEqualTo(log);
      assertThat(back.prev()).isEqualTo(logged.prev());
      assertThat(back.trace()).isEqualTo(logged.trace());
      assertThat(back).isEqualTo(logged);
    }
    Buffer before = Buffer.buffer();
    codec.encodeToWire(before, plain.withTrace(tc));
    Buffer now = Buffer.buffer();
    codec.encodeToWire(now, plain.withTrace(tc).withLog(null));
    assertThat(now).isEqualTo(before);
  }

  @Test
  @DisplayName("A traced event keeps its trace context (and prev) on the wire; an untraced one is written exactly as before tracing")
  void traceOnTheWire() {
    TraceContext tc = new TraceContext("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "vendor=abc");
    Event plain = new Event("t", "e", 3, "t", "d", false, "k", 42L, new Position("p", 2));
    for (Event traced : List.of(plain.withTrace(tc), plain.withPrev(null).withTrace(tc),
      plain.withTrace(new TraceContext(tc.traceparent(), null)))) {
      Buffer buf = Buffer.buffer().appendString("HEADER");
      codec.encodeToWire(buf, traced);
      buf.appendString("TRAILER");
      Event back = codec.decodeFromWire(6, buf);
      assertThat(back).isEqualTo(traced);
      assertThat(back.trace()).isEqualTo(traced.trace());
      assertThat(back.prev()).isEqualTo(traced.prev());
    }
    // The form of a node before tracing, written out by hand: it still decodes, without a trace.
    Buffer old = Buffer.buffer();
    for (String s : new String[]{"t", "e"}) {
      old.appendInt(s.length()).appendString(s);
    }
    old.appendLong(3).appendInt(1).appendString("t").appendInt(1).appendString("d").appendByte((byte) 0)
      .appendInt(1).appendString("k").appendLong(42L).appendInt(1).appendString("p").appendLong(2);
    Buffer now = Buffer.buffer();
    codec.encodeToWire(now, plain);
    assertThat(now.getBytes()).as("untraced: byte for byte the older form").isEqualTo(old.getBytes());
    Event back = codec.decodeFromWire(0, old);
    assertThat(back.trace()).isNull();
    assertThat(back.prev()).isEqualTo(new Position("p", 2));
    assertThat(Event.fromJson(plain.withTrace(tc).toJson()).trace()).as("the JSON form (stores) has no trace").isNull();
  }

  @Test
  @DisplayName("The topics of a Mercure update with alternates survive the wire, the JSON form and the stores' flags text, alone or with the other flags")
  void alternatesRoundTrip() {
    List<String> topics = List.of("https://example.com/books/1", "https://example.com/b?x=1&y=[2]");
    Event plain = new Event("https://example.com/books/1", "e", 3, "message", "l1\n\nl3", false, "urn:uuid:1", 42L);
    for (Event e : List.of(plain.withAlternates(topics), plain.withAlternates(topics).withFlags(true, 100),
      plain.withAlternates(topics).withLog(new Position("L", 9)))) {
      Buffer buf = Buffer.buffer().appendString("HEADER");
      codec.encodeToWire(buf, e);
      Event back = codec.decodeFromWire(6, buf);
      assertThat(back).isEqualTo(e);
      assertThat(back.alternates()).isEqualTo(topics);
      assertThat(back.log()).isEqualTo(e.log());
      assertThat(Event.fromJson(e.toJson())).isEqualTo(e);
      assertThat(plain.withFlagsText(e.flagsText())).isEqualTo(e.withLog(null));
    }
    assertThat(plain.withAlternates(topics).flagsText()).isEqualTo(" " + String.join(" ", topics));
    assertThat(plain.withAlternates(List.of("one")).alternates()).as("one topic: no alternates").isNull();
    assertThat(plain.withAlternates(topics)).isNotEqualTo(plain);
  }

  @Test
  @DisplayName("Decoding starts at the given position, as the event bus hands it over after its own header")
  void decodeAtOffset() {
    Event e = new Event("demo", "e1", 9, "greeting", "multi\nline", false, null, 5L, new Position("e0", 3));
    Buffer buf = Buffer.buffer().appendString("HEADER");
    codec.encodeToWire(buf, e);
    buf.appendString("TRAILER");
    assertThat(codec.decodeFromWire(6, buf)).isEqualTo(e);
  }

  @Test
  @DisplayName("Inside one JVM the codec passes the very same instance")
  void localTransformIsIdentity() {
    Event e = new Event("demo", "e1", 1, "greeting", "{}", true, null, 1L);
    assertThat(codec.transform(e)).isSameAs(e);
    assertThat(codec.name()).isEqualTo(EventCodec.NAME);
    assertThat(codec.systemCodecID()).isEqualTo((byte) -1);
  }

  @Test
  @DisplayName("Once registered (twice is harmless), events sent on the local event bus arrive as the same instance")
  void registeredCodecPassesInstance(Vertx vertx, VertxTestContext ctx) {
    EventCodec.register(vertx);
    EventCodec.register(vertx);
    Event e = new Event("demo", "e1", 1, "greeting", "{}", true, null, 1L);
    vertx.eventBus().<Event>consumer("test.events", msg -> ctx.verify(() -> {
      assertThat(msg.body()).isSameAs(e);
      ctx.completeNow();
    })).completion().onComplete(ctx.succeeding(v -> vertx.eventBus().send("test.events", e)));
  }
}
