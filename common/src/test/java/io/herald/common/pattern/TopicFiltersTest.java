package io.herald.common.pattern;

import io.herald.common.TopicPattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopicFiltersTest {

  @ParameterizedTest(name = "{0} vs {1}: {2}")
  @CsvSource(delimiter = '|', value = {
    "orders|orders|true",
    "orders|orders2|false",
    "news.*|news.sport|true",
    "news.*|news.sport.live|false",
    "news.*|news|false",
    "news.*|news.|false",
    "*.live|news.live|true",
    "*|news|true",
    "*|news:live|false",
    "*|a/b|false",
    "room-*|room-42|true",
    "room-*|room-|false",
    "user:*:inbox|user:alice:inbox|true",
    "user:*:inbox|user:alice:outbox|false",
    "news.**|news.a|true",
    "news.**|news.a.b|true",
    "news.**|news.a:b/c|true",
    "news.**|news|false",
    "news.**|news.|false",
    "news.**|newsx.a|false",
    "news/**|news/eu/fr|true",
    "news/**|news.eu|false",
    "**|anything|true",
    "**|a.b:c/d|true",
    "*.**|a.b|true",
    "*.**|a|false",
    "user.*.orders|user.12345.orders|true",
    "user.*.orders|user.12345.orders.eu|false",
    "a*b*c|axxbyyc|true",
    "a*b*c|abc|false",
    "a*b*c|axbxc.d|false",
  })
  @DisplayName("Herald syntax: * within one segment, a final ** over any number of segments")
  void heraldMatches(String filter, String topic, boolean expected) {
    assertThat(TopicFilters.parse(filter).matches(topic)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} is {1} with literal prefix \"{2}\"")
  @CsvSource(delimiter = '|', value = {
    "orders|EXACT|orders",
    "user:42|EXACT|user:42",
    "news.*|HERALD|news.",
    "*.live|HERALD|''",
    "news.**|HERALD|news.",
    "**|HERALD|''",
    "https://example.com/books/1|EXACT|https://example.com/books/1",
    "https://example.com:8080/books/1|EXACT|https://example.com:8080/books/1",
    "https://example.com/books/:id|URL_PATTERN|https://",
    "https://example.com/books/*|URL_PATTERN|https://",
    "https://\\:@example.com/books/:id|URL_PATTERN|https://example.com/books/",
    "http{s}?://example.com/x|URL_PATTERN|http",
  })
  @DisplayName("the syntax is detected from the text, and the literal prefix is sound")
  void kinds(String text, TopicFilter.Kind kind, String prefix) {
    TopicFilter filter = TopicFilters.parse(text);
    assertThat(filter.kind()).isEqualTo(kind);
    assertThat(filter.source()).isEqualTo(text);
    assertThat(filter.literalPrefix()).isEqualTo(prefix);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(delimiter = '|', value = {
    "news.**.live|** must be the whole last segment",
    "news.a**|** must be the whole last segment",
    "**x|** must be the whole last segment",
    "news.***|** must be the whole last segment",
    "user:{sub}|{sub} is for grants",
    "news *|invalid character ' '",
    ".news.*|starts with a letter, a digit or *",
    "-orders|is not a valid topic",
    "news<1|is not a valid topic",
    "news%2|is not a valid topic",
    "https://example.com/:id/:id|group name 'id' is used twice",
    "https://example.com/(\\m)|invalid URL pattern",
    "https://example.com/(a{2})|counted repetition",
    "https://example.com/(^a)|anchors",
    "https://example.com/((a))|capturing groups",
    "https://example.com/{a|a '{' group is not closed",
    "https://ex ample.com/:x|invalid character ' ' in host name",
    "https://exämple.com/:x|non-ASCII host names are not supported",
    "https://example.com:80x/:x|invalid port",
  })
  @DisplayName("an invalid filter is refused with a message saying why")
  void invalid(String text, String why) {
    assertThatThrownBy(() -> TopicFilters.parse(text))
      .isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining(why);
  }

  @Test
  @DisplayName("null, empty and over-long filters are refused")
  void lengths() {
    assertThatThrownBy(() -> TopicFilters.parse(null)).hasMessageContaining("1 to 256 characters");
    assertThatThrownBy(() -> TopicFilters.parse("")).hasMessageContaining("1 to 256 characters");
    assertThatThrownBy(() -> TopicFilters.parse("a".repeat(257))).hasMessageContaining("got 257");
    assertThat(TopicFilters.parse("*".repeat(1) + "a".repeat(255)).kind()).isEqualTo(TopicFilter.Kind.HERALD);
  }

  @Test
  @DisplayName("a filter given a kind is read in that syntax: a plain URL as a URL pattern has wildcard search and hash")
  void forcedKind() {
    TopicFilter pattern = TopicFilters.parse("https://example.com/books/1", TopicFilter.Kind.URL_PATTERN);
    assertThat(pattern.kind()).isEqualTo(TopicFilter.Kind.URL_PATTERN);
    assertThat(pattern.matches("https://example.com/books/1")).isTrue();
    assertThat(pattern.matches("https://example.com/books/1?x=1")).isTrue();
    assertThat(pattern.matches("https://example.com/books/2")).isFalse();
    assertThat(TopicFilters.parse("https://example.com/books/1").matches("https://example.com/books/1?x=1")).isFalse();
    assertThat(TopicFilters.parse("https://example.com/{id}", TopicFilter.Kind.URI_TEMPLATE).kind())
      .isEqualTo(TopicFilter.Kind.URI_TEMPLATE);
    assertThat(TopicFilters.parse("https://example.com/{id}", TopicFilter.Kind.URL_PATTERN).matches("https://example.com/id"))
      .isTrue();
  }

  @Test
  @DisplayName("Herald filters agree with TopicPattern wherever both apply (no ** and no {sub})")
  void agreesWithTopicPattern() {
    Random random = new Random(18);
    String alphabet = "ab.:/*";
    for (int n = 0; n < 20_000; n++) {
      String pattern = "a" + randomString(random, alphabet, 6);
      if (pattern.contains("**") || pattern.contains("://")) {
        continue;
      }
      String topic = "a" + randomString(random, "ab.:/", 6);
      assertThat(TopicFilters.parse(pattern).matches(topic))
        .as("%s vs %s", pattern, topic)
        .isEqualTo(TopicPattern.compile(pattern).matches(topic, "x"));
    }
  }

  static String randomString(Random random, String alphabet, int maxLength) {
    int length = random.nextInt(maxLength + 1);
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < length; i++) {
      b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  @Test
  @DisplayName("hostile patterns against hostile topics of maximum length do not match, and do not hang (no backtracking)")
  void hostileInputIsFast() {
    String topic = "a".repeat(127) + "c";
    String[] hostile = {
      "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
      "https://example.com/" + "*a".repeat(50) + "b",
      "https://example.com/" + java.util.stream.IntStream.range(0, 20).mapToObj(i -> "{:n" + i + "}*")
        .collect(java.util.stream.Collectors.joining()) + "b",
      "https://example.com/" + "(a*)*".repeat(20) + "b",
      "https://example.com/" + "(a|aa)+".repeat(10) + "b",
      "https://example.com/" + "{(a+)}*".repeat(20) + "b",
    };
    String urlTopic = "https://example.com/" + "a".repeat(107) + "c";
    for (String text : hostile) {
      assertThat(text.length()).isLessThanOrEqualTo(TopicFilters.MAX_LENGTH);
      TopicFilter filter = TopicFilters.parse(text);
      // A backtracking engine takes exponentially many steps here, the automaton
      // microseconds: the deadline only catches a hang, it is no claim on this machine's speed.
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
        for (int i = 0; i < 100; i++) {
          assertThat(filter.matches(text.startsWith("https") ? urlTopic : topic)).as(text).isFalse();
        }
      }, text);
    }
  }

  @Test
  @DisplayName("matches never throws: null and non-URL topics are simply not matched")
  void neverThrows() {
    assertThat(TopicFilters.parse("news.*").matches(null)).isFalse();
    assertThat(TopicFilters.parse("orders").matches(null)).isFalse();
    TopicFilter url = TopicFilters.parse("https://example.com/:x");
    assertThat(url.matches(null)).isFalse();
    assertThat(url.matches("orders")).isFalse();
    assertThat(url.matches(":")).isFalse();
    assertThat(url.matches("https://")).isFalse();
    assertThat(url.matches("https://[::1")).isFalse();
    assertThat(url.matches("https://example.com:99999/a")).isFalse();
  }
}
