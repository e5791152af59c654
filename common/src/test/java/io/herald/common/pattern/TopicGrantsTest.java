package io.herald.common.pattern;

import io.herald.common.TopicPattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopicGrantsTest {

  private static List<TopicPattern> patterns(String grants) {
    return Arrays.stream(grants.split(" ")).map(TopicPattern::compile).toList();
  }

  private static List<Grant> grants(String grants) {
    return Arrays.stream(grants.split(" ")).map(Grant::parse).toList();
  }

  @ParameterizedTest(name = "{0} under [{1}] as {2}: {3}")
  @CsvSource(delimiter = '|', nullValues = "null", value = {
    // Exact topics: what TopicPattern.matches says.
    "orders|orders|alice|true",
    "orders|order*|alice|true",
    "orders|news.*|alice|false",
    "user:alice|user:{sub}|alice|true",
    "user:bob|user:{sub}|alice|false",
    "user:alice|user:{sub}|null|false",
    // Patterns: one grant must contain every topic the pattern matches.
    "a*|ab*|alice|false",
    "ab*|a*|alice|true",
    "user-*|user-*|alice|true",
    "user-*|user-1*|alice|false",
    "news.*|news.*|alice|true",
    "news.*|*.*|alice|true",
    "news.*|news.s*|alice|false",
    "news.*|*|alice|false",
    "news.*.live|news.*.*|alice|true",
    "news.*.live|news.*|alice|false",
    "a*b|a*|alice|true",
    "a*|a*b|alice|false",
    "*a*|*|alice|true",
    "a*a|a*|alice|true",
    "*-*|*|alice|true",
    "x*y*z|x*z|alice|true",
    "x*z|x*y*z|alice|false",
    "a*|a* b*|alice|true",
    "a*|b* c*|alice|false",
    // A TopicPattern grant keeps its meaning: ** there is two stars in one segment.
    "news.**|news.**|alice|false",
    "news.**|news.*|alice|false",
    // {sub} is literal: a subject '*' is the character, not a wildcard.
    "user:*|user:{sub}|*|false",
    "user:alice.*|user:{sub}.*|alice|true",
    "user:alice.*|user:{sub}.*|bob|false",
    "user:alice.*|user:{sub}.*|null|false",
    "user:ali*|user:{sub}*|ali|true",
    "user:a*|user:{sub}*|ali|false",
  })
  @DisplayName("TopicPattern grants cover a filter only when each of them it matches is granted")
  void topicPatternGrants(String requested, String grantList, String subject, boolean expected) {
    assertThat(TopicGrants.covers(patterns(grantList), TopicFilters.parse(requested), subject)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} under [{1}] as {2}: {3}")
  @CsvSource(delimiter = '|', nullValues = "null", value = {
    "news.*|news.**|alice|true",
    "news.**|news.**|alice|true",
    "news.*.live|news.**|alice|true",
    "news.**|news.*|alice|false",
    "news.**|news.*.**|alice|false",
    "news.*.**|news.**|alice|true",
    "**|**|alice|true",
    "**|*|alice|false",
    "*.**|**|alice|true",
    "news/**|news.**|alice|false",
    "news.a|news.**|alice|true",
    "news|news.**|alice|false",
    "user:alice:**|user:{sub}:**|alice|true",
    "user:**|user:{sub}:**|alice|false",
    // URL patterns: covered when the grant covers everything after the literal prefix.
    "https://\\:@example.com/books/:id|https://example.com/books/**|alice|true",
    "https://\\:@example.com/books/:id|https://example.com/**|alice|true",
    "https://\\:@example.com/books/:id|https://example.com/books/*|alice|false",
    "https://\\:@example.com/books/:id|https://example.com/authors/**|alice|false",
    "https://example.com/books/:id|https://example.com/books/**|alice|false",
    "https://example.com/books/:id|https://**|alice|true",
    "https://example.com/books/:id|**|alice|true",
    "(.*)://example.com/:id|https://**|alice|false",
    "https://\\:@example.com/u/{sub}/:x|https://example.com/u/{sub}/**|alice|false",
  })
  @DisplayName("grants with a final ** cover what they contain, URL patterns by their literal prefix")
  void multiSegmentGrants(String requested, String grantList, String subject, boolean expected) {
    TopicFilter filter = requested.contains("://")
      ? TopicFilters.parse(requested, TopicFilter.Kind.URL_PATTERN)
      : TopicFilters.parse(requested);
    assertThat(TopicGrants.coversGrants(grants(grantList), filter, subject)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(delimiter = '|', value = {
    "news.*|true",
    "news.s*|true",
    "news.**|false",
    "*.sport|false",
    "user:alice:*|true",
    "user:*:inbox|false",
  })
  @DisplayName("the table in docs/security.md is what covers() says")
  void securityDocTable(String requested, boolean expected) {
    assertThat(TopicGrants.covers(patterns("news.* user:{sub}:*"), TopicFilters.parse(requested), "alice")).isEqualTo(expected);
  }

  @Test
  @DisplayName("a grant's final ** must be the whole last segment")
  void grantSyntax() {
    assertThat(Grant.parse("news.**").matches("news.a.b", null)).isTrue();
    assertThat(Grant.parse("news.**").matches("news", null)).isFalse();
    assertThat(Grant.parse("**").matches("anything.at/all", null)).isTrue();
    assertThat(Grant.parse("user:{sub}:**").matches("user:alice:x.y", "alice")).isTrue();
    assertThat(Grant.of(TopicPattern.compile("news.**")).matches("news.a.b", null)).isFalse();
    assertThat(Grant.of(TopicPattern.compile("news.**")).matches("news.ab", null)).isTrue();
    assertThatThrownBy(() -> Grant.parse("news.**.live")).hasMessageContaining("** must be the whole last segment");
    assertThatThrownBy(() -> Grant.parse("news<")).hasMessageContaining("invalid character");
  }

  @Test
  @DisplayName("a grant made of a TopicPattern matches exactly what the TopicPattern matches")
  void grantOfTopicPatternAgrees() {
    Random random = new Random(42);
    String[] subjects = {"s", "*", "a.b", null};
    for (int n = 0; n < 20_000; n++) {
      String text = "a" + TopicFiltersTest.randomString(random, "ab.:*", 5) + (random.nextInt(4) == 0 ? "{sub}" : "");
      TopicPattern pattern = TopicPattern.compile(text);
      String topic = "a" + TopicFiltersTest.randomString(random, "ab.:*s", 7);
      String subject = subjects[random.nextInt(subjects.length)];
      assertThat(Grant.of(pattern).matches(topic, subject)).as("%s vs %s as %s", text, topic, subject)
        .isEqualTo(pattern.matches(topic, subject));
    }
  }

  @Test
  @DisplayName("covers with TopicPattern grants is sound too (random search)")
  void soundWithTopicPatterns() {
    Random random = new Random(4242);
    int yes = 0;
    for (int n = 0; n < 4000; n++) {
      String requestedText = "a" + TopicFiltersTest.randomString(random, "ab.*", 4);
      if (requestedText.contains("**")) {
        continue;
      }
      TopicFilter requested = TopicFilters.parse(requestedText);
      List<TopicPattern> grantList = new ArrayList<>();
      for (int g = 0; g < 2; g++) {
        grantList.add(TopicPattern.compile("a" + TopicFiltersTest.randomString(random, "ab.*", 4)));
      }
      if (!TopicGrants.covers(grantList, requested, "s")) {
        continue;
      }
      yes++;
      for (int t = 0; t < 300; t++) {
        String topic = "a" + TopicFiltersTest.randomString(random, "ab.", 8);
        if (requested.matches(topic)) {
          assertThat(grantList.stream().anyMatch(g -> g.matches(topic, "s")))
            .as("%s covered by %s but %s is not granted", requestedText, grantList, topic).isTrue();
        }
      }
    }
    assertThat(yes).as("the search found covered cases").isGreaterThan(100);
  }

  @Test
  @DisplayName("covers is sound: when it says yes, every topic the filter matches is granted (random search)")
  void sound() {
    Random random = new Random(6570);
    int yes = 0;
    for (int n = 0; n < 4000; n++) {
      String requestedText = "a" + TopicFiltersTest.randomString(random, "ab.*", 4) + (random.nextInt(4) == 0 ? ".**" : "");
      if (requestedText.replace(".**", "").contains("**")) {
        continue;
      }
      TopicFilter requested;
      try {
        requested = TopicFilters.parse(requestedText);
      } catch (IllegalArgumentException e) {
        continue;
      }
      List<Grant> grantList = new ArrayList<>();
      for (int g = 0; g < 2; g++) {
        String text = TopicFiltersTest.randomString(random, "ab.*", 4) + (random.nextInt(3) == 0 ? ".**" : "");
        try {
          grantList.add(Grant.parse(text.isEmpty() ? "a" : text));
        } catch (IllegalArgumentException e) {
          // not a grant
        }
      }
      if (!TopicGrants.coversGrants(grantList, requested, "s")) {
        continue;
      }
      yes++;
      for (int t = 0; t < 300; t++) {
        String topic = "a" + TopicFiltersTest.randomString(random, "ab.", 8);
        if (requested.matches(topic)) {
          assertThat(grantList.stream().anyMatch(g -> g.matches(topic, "s")))
            .as("%s covered by %s but %s is not granted", requestedText, grantList, topic).isTrue();
        }
      }
    }
    assertThat(yes).as("the search found covered cases").isGreaterThan(100);
  }
}
