package io.herald.common;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopicPatternTest {

  @ParameterizedTest(name = "{0} vs {1} (sub {2}): {3}")
  @CsvSource(delimiter = '|', nullValues = "null", value = {
    "orders|orders|alice|true",
    "orders|orders2|alice|false",
    "news.*|news.sport|alice|true",
    "news.*|news.sport.live|alice|false",
    "news.*|news.|alice|false",
    "news.*|news|alice|false",
    "*.live|news.live|alice|true",
    "*|news|alice|true",
    "*|news:live|alice|false",
    "*|a/b|alice|false",
    "room-*|room-42|alice|true",
    "room-*|room-|alice|false",
    "user:{sub}|user:alice|alice|true",
    "user:{sub}|user:bob|alice|false",
    "user:{sub}|user:x|*|false",
    "user:{sub}|user:*|*|true",
    "user:{sub}|user:alice|null|false",
    "user:{sub}:*|user:alice:inbox|alice|true",
    "user:{sub}:*|user:alice:inbox|ali|false",
    "*.*.*.*.*.*.*.*.*.*.*.*.*.*.*.*|a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p|x|true",
    "*a*a*a*a*a*a*a*a*a*a*a*b|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|x|false",
  })
  @DisplayName("* matches within one segment, {sub} is the literal subject")
  void matches(String pattern, String topic, String sub, boolean expected) {
    assertThat(TopicPattern.compile(pattern).matches(topic, sub)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "has space", "a<b>", "a^b", "{subject}", "caf\u00e9"})
  @DisplayName("Anything but topic characters, * and {sub} is not a pattern")
  void rejects(String pattern) {
    assertThatThrownBy(() -> TopicPattern.compile(pattern)).isInstanceOf(IllegalArgumentException.class);
  }
}
