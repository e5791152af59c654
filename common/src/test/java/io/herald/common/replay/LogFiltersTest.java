package io.herald.common.replay;

import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LogFiltersTest {

  @Test
  @DisplayName("a topic passes when it equals an exact filter or matches a pattern filter")
  void exactAndPatterns() {
    Predicate<String> f = LogFilters.compile(new JsonArray().add("orders").add("news.*").add("user:*:inbox"));
    assertThat(f.test("orders")).isTrue();
    assertThat(f.test("orders.eu")).isFalse();
    assertThat(f.test("news.sport")).isTrue();
    assertThat(f.test("news.sport.live")).isFalse();
    assertThat(f.test("news")).isFalse();
    assertThat(f.test("user:42:inbox")).isTrue();
    assertThat(f.test("user:42:outbox")).isFalse();
  }

  @Test
  @DisplayName("the pattern library's syntax: a final ** spans segments, URL patterns and URI templates match URL topics")
  void patternLibrary() {
    Predicate<String> f = LogFilters.compile(new JsonArray().add("news.**").add("https://example.com/books/:id")
      .add("https://example.com/users/{id}/inbox"));
    assertThat(f.test("news.sport")).isTrue();
    assertThat(f.test("news.sport.live")).isTrue();
    assertThat(f.test("news")).isFalse();
    assertThat(f.test("https://example.com/books/1")).isTrue();
    assertThat(f.test("https://example.com/books/1/reviews")).isFalse();
    assertThat(f.test("https://example.com/users/7/inbox")).isTrue();
    assertThat(f.test("https://example.com/users/7/outbox")).isFalse();
  }

  @Test
  @DisplayName("bad filters are refused with a message naming the filter")
  void badFilters() {
    assertThatThrownBy(() -> LogFilters.compile(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> LogFilters.compile(new JsonArray())).hasMessageContaining("1 to " + LogFilters.MAX_FILTERS);
    assertThatThrownBy(() -> LogFilters.compile(new JsonArray(Collections.nCopies(LogFilters.MAX_FILTERS + 1, "t"))))
      .hasMessageContaining("1 to " + LogFilters.MAX_FILTERS);
    assertThatThrownBy(() -> LogFilters.compile(new JsonArray().add("ok").add(3))).hasMessageContaining("filters[1]");
    assertThatThrownBy(() -> LogFilters.compile(new JsonArray().add("bad topic"))).hasMessageContaining("filters[0]");
    assertThatThrownBy(() -> LogFilters.compile(new JsonArray().add("inbox.{sub}"))).hasMessageContaining("{sub}");
    assertThatThrownBy(() -> LogFilters.compile(new JsonArray().add("a.*|b"))).hasMessageContaining("filters[0]");
  }
}
