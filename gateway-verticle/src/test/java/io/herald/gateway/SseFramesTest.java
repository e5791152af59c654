package io.herald.gateway;

import io.herald.common.Event;
import io.herald.testsupport.SseEvent;
import io.herald.testsupport.SseParser;
import io.herald.gateway.fanout.EncodedEvent;
import io.herald.gateway.sse.RawChunks;
import io.herald.gateway.sse.SseFrames;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class SseFramesTest {

  static Stream<Arguments> lineBreaks() {
    return Stream.of(
      Arguments.of("LF", "a\nb", "data: a\ndata: b\n"),
      Arguments.of("CRLF", "a\r\nb", "data: a\ndata: b\n"),
      Arguments.of("CR", "a\rb", "data: a\ndata: b\n"),
      Arguments.of("trailing LF", "a\n", "data: a\ndata: \n"),
      Arguments.of("blank line inside", "a\n\nb", "data: a\ndata: \ndata: b\n"),
      Arguments.of("empty", "", "data: \n"));
  }

  @Test
  @DisplayName("A Mercure frame has the publisher's id when it gave one, event: only for a typed update, retry: when it has one, the data as published, and an SSE parser reads them back")
  void mercureFrames() {
    Event typed = new Event("https://example.com/books/1", "e", 3, "book.updated", "line 1\r\nline 2", false, "urn:uuid:1", 1L)
      .withFlags(true, 1500);
    EncodedEvent ev = new EncodedEvent(typed);
    assertThat(ev.mercureBody().toString()).isEqualTo("event: book.updated\nretry: 1500\ndata: line 1\ndata: line 2\n\n");
    assertThat(ev.mercureSingle().toString()).as("a hub id is an IRI: the cursor as a fragment")
      .isEqualTo("id: #" + typed.cursor() + "\n" + ev.mercureBody());
    assertThat(ev.mercureBody()).as("encoded once, shared").isSameAs(ev.mercureBody());
    Event plain = new Event("t", "e", 1, Event.DEFAULT_TYPE, "{\"a\":1}", true, null, 1L);
    assertThat(new EncodedEvent(plain).mercureBody().toString()).isEqualTo("data: {\"a\":1}\n\n");
    SseParser parser = new SseParser();
    List<SseEvent> read = parser.feed(ev.mercureSingle().toString() + SseFrames.idOnly("c2", "reset history_lost") + new EncodedEvent(plain).mercureSingle());
    assertThat(read).extracting(SseEvent::type).containsExactly("book.updated", "message");
    assertThat(read.get(0).data()).isEqualTo("line 1\nline 2");
    assertThat(read.get(0).id()).isEqualTo("#" + typed.cursor());
    assertThat(parser.retry()).isEqualTo(1500);
    assertThat(ev.mercureKeyed().toString()).as("a publisher's id is the frame's id")
      .isEqualTo("id: urn:uuid:1\n" + ev.mercureBody());
    assertThat(ev.mercureKeyed()).as("encoded once, shared").isSameAs(ev.mercureKeyed());
    assertThat(new SseParser().feed(ev.mercureKeyed().toString()).get(0).id()).isEqualTo("urn:uuid:1");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("lineBreaks")
  @DisplayName("Text data is split into one data: line per line, whatever the line breaks")
  void dataLines(String name, String data, String expected) {
    StringBuilder sb = new StringBuilder();
    SseFrames.appendDataLines(sb, data);
    assertThat(sb.toString()).isEqualTo(expected);
  }

  @Test
  @DisplayName("A frame parses back, per the WHATWG rules, to the same id, type and data")
  void roundTripThroughAConformingParser() {
    Event e = new Event("t", "E1", 42, "ticket.updated", "line 1\r\nline 2\n\nline 4", false, null, 0);
    Buffer frame = new EncodedEvent(e).single();
    SseParser p = new SseParser();
    List<SseEvent> out = p.feed(frame.toString());
    assertThat(out).containsExactly(new SseEvent(e.cursor(), "ticket.updated", "line 1\nline 2\n\nline 4"));
  }

  @Test
  @DisplayName("The shared body is encoded once and reused for every frame of the event")
  void bodySharedAcrossFrames() {
    Event e = new Event("t", "E1", 1, "message", "{\"a\":1}", true, null, 0);
    EncodedEvent enc = new EncodedEvent(e);
    assertThat(enc.body()).isSameAs(enc.body());
    assertThat(enc.single()).isSameAs(enc.single());
    Buffer multi = SseFrames.withId("c1.c2", enc.body());
    assertThat(multi.toString()).isEqualTo("id: c1.c2\nevent: message\ndata: {\"a\":1}\n\n");
  }

  @Test
  @DisplayName("A raw chunk is the HTTP/1.1 chunk of the frame: hex length, CRLF, the bytes, CRLF")
  void rawChunkEncoding() {
    Event e = new Event("t", "E1", 7, "message", "h\u00e9llo", false, null, 0);
    Buffer frame = new EncodedEvent(e).single();
    int n = frame.length();
    String expected = Integer.toHexString(n) + "\r\n" + frame.toString(java.nio.charset.StandardCharsets.UTF_8) + "\r\n";
    io.netty.buffer.ByteBuf own = RawChunks.chunk(io.netty.buffer.ByteBufAllocator.DEFAULT, frame);
    try {
      assertThat(own.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(expected);
    } finally {
      own.release();
    }
    // The shared chunk: every write reads its own duplicate; reading one leaves the next whole.
    io.netty.buffer.ByteBuf shared = RawChunks.shared(frame);
    assertThat(shared.isDirect()).isTrue();
    for (int i = 0; i < 3; i++) {
      io.netty.buffer.ByteBuf dup = shared.duplicate();
      byte[] bytes = new byte[dup.readableBytes()];
      dup.readBytes(bytes);
      assertThat(dup.release()).as("a write's release leaves the shared chunk alone").isFalse();
      assertThat(new String(bytes, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(expected);
    }
    assertThat(frame.length()).as("the frame itself is untouched").isEqualTo(n);
  }
}
