package io.herald.common.pattern;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PatternIndexTest {

  private static List<String> matches(PatternIndex<String> index, String topic) {
    List<String> out = new ArrayList<>();
    index.forEachMatch(topic, out::add);
    return out;
  }

  @Test
  @DisplayName("every kind of filter is found, each pair once, and removed pairs are gone")
  void basics() {
    PatternIndex<String> index = new PatternIndex<>();
    assertThat(index.isEmpty()).isTrue();
    assertThat(index.add(TopicFilters.parse("user.42.orders"), "exact")).isTrue();
    assertThat(index.add(TopicFilters.parse("user.*.orders"), "glob")).isTrue();
    assertThat(index.add(TopicFilters.parse("user.**"), "multi")).isTrue();
    assertThat(index.add(TopicFilters.parse("**"), "all")).isTrue();
    assertThat(index.add(TopicFilters.parse("*.42.*"), "glob2")).isTrue();
    assertThat(index.add(TopicFilters.parse("user.*.orders"), "glob")).isFalse();
    assertThat(index.add(TopicFilters.parse("user.*.orders"), "glob-b")).isTrue();
    assertThat(index.size()).isEqualTo(6);

    assertThat(matches(index, "user.42.orders")).containsExactlyInAnyOrder("exact", "glob", "glob-b", "multi", "all", "glob2");
    assertThat(matches(index, "user.7.orders")).containsExactlyInAnyOrder("glob", "glob-b", "multi", "all");
    assertThat(matches(index, "user")).containsExactlyInAnyOrder("all");
    assertThat(matches(index, "user.")).containsExactlyInAnyOrder("all");
    assertThat(matches(index, "user.x")).containsExactlyInAnyOrder("multi", "all");
    assertThat(matches(index, "")).isEmpty();
    assertThat(matches(index, null)).isEmpty();

    assertThat(index.remove("user.*.orders", "glob")).isTrue();
    assertThat(index.remove("user.*.orders", "glob")).isFalse();
    assertThat(index.remove(TopicFilters.parse("**"), "all")).isTrue();
    assertThat(matches(index, "user.7.orders")).containsExactlyInAnyOrder("glob-b", "multi");
    assertThat(index.size()).isEqualTo(4);
    index.remove("user.42.orders", "exact");
    index.remove("user.*.orders", "glob-b");
    index.remove("user.**", "multi");
    index.remove("*.42.*", "glob2");
    assertThat(index.isEmpty()).isTrue();
    assertThat(matches(index, "user.42.orders")).isEmpty();
  }

  @Test
  @DisplayName("URL patterns are bucketed by literal prefix and verified; the same source in two kinds is two filters")
  void urls() {
    PatternIndex<String> index = new PatternIndex<>();
    index.add(TopicFilters.parse("https://example.com/books/:id"), "book");
    index.add(TopicFilters.parse("https://example.com/books/*"), "books");
    index.add(TopicFilters.parse("https://example.com/authors/:id"), "author");
    index.add(TopicFilters.parse("http{s}?://{*.}?example.com/:a/:b"), "any");
    index.add(TopicFilters.parse("https://example.com/books/1"), "exact");
    index.add(TopicFilters.parse("https://example.com/books/1", TopicFilter.Kind.URL_PATTERN), "url");
    assertThat(matches(index, "https://example.com/books/1")).containsExactlyInAnyOrder("book", "books", "any", "exact", "url");
    assertThat(matches(index, "https://bob@example.com/books/1")).containsExactlyInAnyOrder("book", "books", "any", "url");
    assertThat(matches(index, "https://example.com/books/1?x")).containsExactlyInAnyOrder("book", "books", "any", "url");
    assertThat(matches(index, "https://example.com/authors/1")).containsExactlyInAnyOrder("author", "any");
    assertThat(matches(index, "http://www.example.com/authors/1")).containsExactlyInAnyOrder("any");
    assertThat(matches(index, "https://example.org/books/1")).isEmpty();
    assertThat(index.remove("https://example.com/books/1", "exact")).isTrue();
    assertThat(index.remove("https://example.com/books/1", "url")).isTrue();
    assertThat(matches(index, "https://example.com/books/1")).containsExactlyInAnyOrder("book", "books", "any");
    index.add(TopicFilters.parse("/.well-known/mercure/subscriptions/:t/:m/:s", TopicFilter.Kind.URL_PATTERN), "relative");
    assertThat(matches(index, "/.well-known/mercure/subscriptions/Exact/a/b")).containsExactly("relative");
    assertThat(matches(index, "https://example.com/.well-known/mercure/subscriptions/Exact/a/b")).isEmpty();
  }

  @Test
  @DisplayName("the index finds exactly what checking every filter finds (random filters, topics, adds and removes)")
  void agreesWithBruteForce() {
    Random random = new Random(1818);
    PatternIndex<String> index = new PatternIndex<>();
    Map<String, TopicFilter> held = new HashMap<>();
    List<String> keys = new ArrayList<>();
    String[] urlPatterns = {
      "https://h.io/:a", "https://h.io/a/*", "https://h.io/*", "https://*.h.io/a/:b", "https://h.io/a{/:b}?",
      "https://\\:@h.io/a/:b", "http{s}?://h.io/a/:b", "(.*)://h.io/*", "https://h.io/a/:b(\\d+)",
      "https://h.io/a/{b}", "https://h.io/{+rest}", "https://h.io{/p*}",
    };
    for (int round = 0; round < 3000; round++) {
      if (random.nextInt(3) > 0 || keys.isEmpty()) {
        String text;
        int kind = random.nextInt(10);
        if (kind < 6) {
          text = "a" + TopicFiltersTest.randomString(random, "ab.:*", 5);
          if (text.contains("**") || text.endsWith(".") || text.endsWith(":")) {
            text = text.replace("**", "*");
          }
          if (random.nextInt(4) == 0) {
            text = text + (random.nextBoolean() ? ".**" : ":**");
          }
        } else if (kind < 7) {
          text = "**";
        } else {
          text = urlPatterns[random.nextInt(urlPatterns.length)];
        }
        TopicFilter filter;
        try {
          filter = TopicFilters.parse(text);
        } catch (IllegalArgumentException e) {
          continue;
        }
        String value = "v" + random.nextInt(5);
        String key = filter.kind() + " " + text + " " + value;
        if (index.add(filter, value)) {
          held.put(key, filter);
          keys.add(key);
        }
      } else {
        String key = keys.remove(random.nextInt(keys.size()));
        TopicFilter filter = held.remove(key);
        assertThat(index.remove(filter, key.substring(key.lastIndexOf(' ') + 1))).isTrue();
      }
      assertThat(index.size()).isEqualTo(held.size());
      for (int t = 0; t < 5; t++) {
        String topic = random.nextInt(3) == 0
          ? "https://" + (random.nextBoolean() ? "h.io" : "x.h.io") + "/a" + TopicFiltersTest.randomString(random, "a1/", 4)
          : "a" + TopicFiltersTest.randomString(random, "ab.:", 6);
        List<String> expected = new ArrayList<>();
        for (Map.Entry<String, TopicFilter> e : held.entrySet()) {
          if (e.getValue().matches(topic)) {
            expected.add(e.getKey().substring(e.getKey().lastIndexOf(' ') + 1));
          }
        }
        assertThat(matches(index, topic)).as("topic %s with %s", topic, held.keySet()).containsExactlyInAnyOrderElementsOf(expected);
      }
    }
  }

  @Test
  @DisplayName("with 100,000 filters, a topic that matches few of them costs about what it costs with 100")
  void indexed() {
    PatternIndex<Integer> small = fill(25);
    PatternIndex<Integer> large = fill(25_000);
    assertThat(small.size()).isEqualTo(100);
    assertThat(large.size()).isEqualTo(100_000);
    String topic = "user.12345.orders";
    List<Integer> got = new ArrayList<>();
    large.forEachMatch(topic, got::add);
    assertThat(got).containsExactlyInAnyOrder(12345, 12345 + 1_000_000, 12345 + 2_000_000);
    long smallBefore = small.checks();
    long largeBefore = large.checks();
    small.forEachMatch(topic, x -> { });
    large.forEachMatch(topic, x -> { });
    large.forEachMatch("https://example.com/users/12345/orders", got::add);
    assertThat(got).contains(12345 + 3_000_000);
    // Automaton runs: the same few whatever the number of filters.
    assertThat(large.checks() - largeBefore - 1).isLessThanOrEqualTo(small.checks() - smallBefore + 2);
  }

  /** Four filters per user: exact, one-star, final-**, and a URL pattern. */
  static PatternIndex<Integer> fill(int n) {
    PatternIndex<Integer> index = new PatternIndex<>();
    for (int i = 0; i < n; i++) {
      index.add(TopicFilters.parse("user." + i + ".orders"), i);
      index.add(TopicFilters.parse("user." + i + ".*"), i + 1_000_000);
      index.add(TopicFilters.parse("user." + i + ".**"), i + 2_000_000);
      index.add(TopicFilters.parse("https://\\:@example.com/users/" + i + "/:what", TopicFilter.Kind.URL_PATTERN), i + 3_000_000);
    }
    return index;
  }
}
