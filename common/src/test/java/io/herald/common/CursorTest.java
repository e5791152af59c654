package io.herald.common;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CursorTest {

  @Test
  @DisplayName("A single-topic cursor parses back to the topic's position")
  void singleRoundTrip() {
    String text = Cursor.single("orders/eu", "e1", 42);
    Cursor c = Cursor.parse(text, 32);
    assertThat(c).isNotNull();
    assertThat(c.size()).isEqualTo(1);
    assertThat(c.position("orders/eu")).isEqualTo(new Position("e1", 42));
    assertThat(c.position("orders/us")).isNull();
  }

  @Test
  @DisplayName("A single cursor is the same text as one entry, and joining one entry changes nothing")
  void singleIsOneEntry() {
    String entry = Cursor.entry("demo", "A1", 7);
    assertThat(Cursor.single("demo", "A1", 7)).isEqualTo(entry);
    assertThat(Cursor.join(new String[] {entry})).isEqualTo(entry);
  }

  @Test
  @DisplayName("Joined entries of several topics parse back to each topic's own position")
  void joinRoundTrip() {
    List<String> topics = List.of("a", "user:42", "orders/eu", "x.y-z_w@q");
    String[] entries = new String[topics.size()];
    for (int i = 0; i < topics.size(); i++) {
      entries[i] = Cursor.entry(topics.get(i), "ep" + i, i * 1000L);
    }
    String text = Cursor.join(entries);
    assertThat(text.split("\\.")).hasSize(topics.size());
    Cursor c = Cursor.parse(text, 32);
    assertThat(c).isNotNull();
    assertThat(c.size()).isEqualTo(topics.size());
    for (int i = 0; i < topics.size(); i++) {
      assertThat(c.position(topics.get(i))).isEqualTo(new Position("ep" + i, i * 1000L));
    }
  }

  @Test
  @DisplayName("The text uses only characters that are safe in a header, a query parameter and an SSE field")
  void safeCharacters() {
    String text = Cursor.join(new String[] {
      Cursor.entry("user:42", "Zz09", Long.MAX_VALUE), Cursor.entry("orders/eu", "e", 0)});
    assertThat(text).matches("[0-9A-Za-z.\\-]+");
  }

  @Test
  @DisplayName("A topic's tag is stable: FNV-1a of its UTF-8 bytes in base 36, the same on every call")
  void tagStability() {
    // FNV-1a 32-bit reference values: "" -> 0x811c9dc5, "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
    assertThat(Cursor.tag("")).isEqualTo(Long.toString(0x811c9dc5L, 36));
    assertThat(Cursor.tag("a")).isEqualTo(Long.toString(0xe40c292cL, 36));
    assertThat(Cursor.tag("foobar")).isEqualTo(Long.toString(0xbf9cf968L, 36));
    assertThat(Cursor.tag("demo")).isEqualTo(Cursor.tag(new String("demo".toCharArray())));
    assertThat(Cursor.tag("demo")).isNotEqualTo(Cursor.tag("demo2"));
    assertThat(Cursor.tag("user:42")).matches("[0-9a-z]{1,7}");
  }

  @Test
  @DisplayName("Sequence numbers are written in base 36")
  void seqBase36() {
    assertThat(Cursor.entry("t", "e", 0)).endsWith("-e-0");
    assertThat(Cursor.entry("t", "e", 35)).endsWith("-e-z");
    assertThat(Cursor.entry("t", "e", 36)).endsWith("-e-10");
    assertThat(Cursor.entry("t", "e", Long.MAX_VALUE)).endsWith("-e-" + Long.toString(Long.MAX_VALUE, 36));
  }

  @ParameterizedTest(name = "seq {0}")
  @ValueSource(longs = {0, 1, 35, 36, 1_000_000, 4_738_381_338_321_616_895L /* 36^12 - 1: 12 digits */})
  @DisplayName("Sequence numbers survive the round trip")
  void seqRoundTrip(long seq) {
    Cursor c = Cursor.parse(Cursor.single("t", "e", seq), 32);
    assertThat(c).as("cursor %s", Cursor.single("t", "e", seq)).isNotNull();
    assertThat(c.position("t")).isEqualTo(new Position("e", seq));
  }

  @ParameterizedTest(name = "seq {0}")
  @ValueSource(longs = {4_738_381_338_321_616_896L /* 36^12: 13 digits */, Long.MAX_VALUE - 1, Long.MAX_VALUE})
  @DisplayName("Sequence numbers up to Long.MAX_VALUE survive the round trip; 13 digits that overflow a long are rejected")
  void seqRoundTripUpToLongMax(long seq) {
    Cursor c = Cursor.parse(Cursor.single("t", "e", seq), 32);
    assertThat(c).as("cursor %s", Cursor.single("t", "e", seq)).isNotNull();
    assertThat(c.position("t")).isEqualTo(new Position("e", seq));
    assertThat(Cursor.parse("abc-e-zzzzzzzzzzzzz", 32)).isNull();
  }

  @Test
  @DisplayName("Epochs of 1 to 16 letters and digits are accepted, others are not")
  void epochs() {
    assertThat(Cursor.isValidEpoch("a")).isTrue();
    assertThat(Cursor.isValidEpoch("AbC0123456789xyz")).isTrue();
    assertThat(Cursor.isValidEpoch("AbC0123456789xyzQ")).isFalse();
    assertThat(Cursor.isValidEpoch("")).isFalse();
    assertThat(Cursor.isValidEpoch(null)).isFalse();
    assertThat(Cursor.isValidEpoch("a-b")).isFalse();
    assertThat(Cursor.isValidEpoch("a.b")).isFalse();
    assertThat(Cursor.isValidEpoch("é")).isFalse();
    assertThat(Cursor.parse(Cursor.single("t", "AbC0123456789xyz", 1), 1).position("t"))
      .isEqualTo(new Position("AbC0123456789xyz", 1));
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {
    "",
    "garbage",
    "abc",
    "-",
    "--",
    "abc-",
    "abc-e",
    "abc-e-",
    "abc--1",
    "-e-1",
    "abc-e-1.",
    ".abc-e-1",
    "abc-e-1..abd-e-2",
    "abc-e-1-2",
    "ABC-e-1",
    "abc-e-Z",
    "abc-e-1 ",
    " abc-e-1",
    "abc-e_1-1",
    "abc-é-1",
    "abc-e-+1",
    "abc-e--1",
    "12345678-e-1",
    "abc-12345678901234567-1",
    "abc-e-zzzzzzzzzzzzzz",
    "abc-e-1\n",
    "abc-e-1\u0000",
    "1z141z3-e-1.1z141z3-f-2",
  })
  @DisplayName("Garbage, truncated, oversized and duplicated cursors parse to null")
  void invalidParsesToNull(String text) {
    assertThat(Cursor.parse(text, 32)).isNull();
  }

  @Test
  @DisplayName("A null cursor parses to null")
  void nullText() {
    assertThat(Cursor.parse(null, 32)).isNull();
  }

  @Test
  @DisplayName("A cursor cut off before the sequence of its last entry parses to null")
  void truncated() {
    String full = Cursor.join(new String[] {Cursor.entry("a", "e1", 12345), Cursor.entry("b", "e2", 99999)});
    for (int cut = 0; cut < full.length(); cut++) {
      String prefix = full.substring(0, cut);
      String last = prefix.substring(prefix.lastIndexOf('.') + 1);
      boolean seqStarted = last.chars().filter(ch -> ch == '-').count() == 2 && !last.endsWith("-");
      if (!seqStarted) {
        assertThat(Cursor.parse(prefix, 32)).as("cursor cut to \"%s\"", prefix).isNull();
      }
    }
  }

  @Test
  @DisplayName("A cursor naming the same topic twice is rejected")
  void duplicatedTag() {
    String text = Cursor.join(new String[] {Cursor.entry("demo", "e", 1), Cursor.entry("demo", "e", 2)});
    assertThat(Cursor.parse(text, 32)).isNull();
  }

  @Test
  @DisplayName("An over-long epoch is rejected")
  void badEpoch() {
    assertThat(Cursor.parse(Cursor.entry("t", "e".repeat(17), 1), 32)).isNull();
    assertThat(Cursor.parse(Cursor.entry("t", "e-1", 1), 32)).isNull();
  }

  @Test
  @DisplayName("More entries than allowed make the whole cursor unknown; exactly the limit is fine")
  void tooManyEntries() {
    List<String> entries = new ArrayList<>();
    for (int i = 0; i < 33; i++) {
      entries.add(Cursor.entry("topic-" + i, "e", i));
    }
    String thirtyTwo = Cursor.join(entries.subList(0, 32).toArray(String[]::new));
    String thirtyThree = Cursor.join(entries.toArray(String[]::new));
    assertThat(Cursor.parse(thirtyTwo, 32)).isNotNull().extracting(Cursor::size).isEqualTo(32);
    assertThat(Cursor.parse(thirtyThree, 32)).isNull();
    assertThat(Cursor.parse(Cursor.single("t", "e", 1), 0)).isNull();
  }
}
