package io.herald.common;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class TopicsTest {

  static Stream<Arguments> topics() {
    return Stream.of(
      arguments("demo", true),
      arguments("a", true),
      arguments("7", true),
      arguments("user:42", true),
      arguments("orders/eu", true),
      arguments("a_b-c.d:e@f/g", true),
      arguments("Z" + "x".repeat(Topics.MAX_TOPIC_LENGTH - 1), true),
      arguments("Z" + "x".repeat(Topics.MAX_TOPIC_LENGTH), false),
      arguments(Topics.HUB_SUBSCRIPTIONS_PREFIX + "x".repeat(Topics.MAX_HUB_TOPIC_LENGTH - Topics.HUB_SUBSCRIPTIONS_PREFIX.length()), true),
      arguments(Topics.HUB_SUBSCRIPTIONS_PREFIX + "x".repeat(Topics.MAX_HUB_TOPIC_LENGTH), false),
      arguments("/.well-known/mercure/other" + "x".repeat(Topics.MAX_TOPIC_LENGTH), false),
      arguments(null, false),
      arguments("", false),
      arguments("_private", false),
      arguments("-x", false),
      arguments(".x", false),
      arguments(":x", false),
      arguments("/x", true),
      arguments("@x", false),
      arguments("a b", false),
      arguments(" a", false),
      arguments("a ", false),
      arguments("a\tb", false),
      arguments("a\rb", false),
      arguments("a\nb", false),
      arguments("a\u0000b", false),
      arguments("a*", false),
      arguments("a>", false),
      arguments("a#b", true),
      arguments("a?b", true),
      arguments("a&b", true),
      arguments("a%20b", true),
      arguments("a,b", true),
      arguments("a\"b", false),
      arguments("café", false),
      arguments("é", false),
      arguments("日本", false),
      arguments("a\u00a0b", false),
      arguments("emoji\uD83D\uDE00", false),
      arguments("https://example.com/books/1?lang=fr&x=%20", true),
      arguments("/.well-known/mercure/subscriptions/Exact/a%2Fb/urn:uuid:1", true),
      arguments("urn:uuid:e1ee88e2-532a-4d6f-ba70-f0f8bd584022", true),
      arguments("a~b[0]!$'()+,;=#frag", true),
      arguments("http://[::1]:8080/x", true),
      arguments("a%2", false),
      arguments("a%", false),
      arguments("a%zz", false),
      arguments("a%2g", false),
      arguments("a<b", false),
      arguments("a{b}", false),
      arguments("a|b", false),
      arguments("a\\b", false),
      arguments("a^b", false),
      arguments("a`b", false),
      arguments("a\u007fb", false),
      arguments("a\u0085b", false),
      arguments("?x", false),
      arguments("#x", false),
      arguments("%41", false),
      arguments("https://example.com/*", false));
  }

  @ParameterizedTest(name = "\"{0}\" -> {1}")
  @MethodSource("topics")
  @DisplayName("Topic names are the characters of a URI but *, with valid %-escapes, start with a letter, digit or /, 1 to 128 long")
  void topic(String topic, boolean valid) {
    assertThat(Topics.isValidTopic(topic)).isEqualTo(valid);
  }

  static Stream<Arguments> types() {
    return Stream.of(
      arguments("message", true),
      arguments("greeting", true),
      arguments("order.created", true),
      arguments("a:b_c-d.e", true),
      arguments("X1", true),
      arguments("a".repeat(Topics.MAX_TYPE_LENGTH), true),
      arguments("a".repeat(Topics.MAX_TYPE_LENGTH + 1), false),
      arguments(null, false),
      arguments("", false),
      arguments("1abc", false),
      arguments("_abc", false),
      arguments("-abc", false),
      arguments("a b", false),
      arguments("a\nb", false),
      arguments("a\rb", false),
      arguments("a\u0000", false),
      arguments("a/b", false),
      arguments("a@b", false),
      arguments("ünicode", false),
      arguments("aé", false));
  }

  @ParameterizedTest(name = "\"{0}\" -> {1}")
  @MethodSource("types")
  @DisplayName("Event types start with a letter, then letters, digits and _ - . :, 1 to 64 long")
  void type(String type, boolean valid) {
    assertThat(Topics.isValidType(type)).isEqualTo(valid);
  }

  static Stream<Arguments> keys() {
    return Stream.of(
      arguments("order-1", true),
      arguments("!", true),
      arguments("~", true),
      arguments("a/b?c=d&e#f", true),
      arguments("{\"json\":1}", true),
      arguments("k".repeat(Topics.MAX_KEY_LENGTH), true),
      arguments("k".repeat(Topics.MAX_KEY_LENGTH + 1), false),
      arguments(null, false),
      arguments("", false),
      arguments(" ", false),
      arguments("a b", false),
      arguments("a\rb", false),
      arguments("a\nb", false),
      arguments("a\r\nb", false),
      arguments("a\u0000b", false),
      arguments("a\tb", false),
      arguments("a\u007fb", false),
      arguments("é", false),
      arguments("id\u2028", false),
      arguments("\uD83D\uDE00", false));
  }

  @ParameterizedTest(name = "\"{0}\" -> {1}")
  @MethodSource("keys")
  @DisplayName("Publisher ids are 1 to 128 printable ASCII characters: no spaces, CR, LF, NUL or Unicode")
  void key(String key, boolean valid) {
    assertThat(Topics.isValidKey(key)).isEqualTo(valid);
  }

  @Test
  @DisplayName("Every valid topic is safe to use as an event-bus address part and an SSE field")
  void validTopicsAreLineSafe() {
    topics().map(a -> a.get()).filter(a -> (Boolean) a[1]).forEach(a -> {
      String t = (String) a[0];
      assertThat(t).doesNotContain("\n", "\r", "\u0000", " ");
    });
  }
}
