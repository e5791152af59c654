package io.herald.common.pattern;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * URI templates as topic selectors: every expansion example of RFC 6570 (section 3.2, with its
 * variables var, hello, path, list, keys, x, y, empty) must match its template, and near misses
 * must not.
 */
class UriTemplateFilterTest {

  @ParameterizedTest(name = "{0} vs {1}: {2}")
  @CsvSource(delimiterString = " => ", value = {
    "{var} => value => true",
    "{hello} => Hello%20World%21 => true",
    "{+path}/here => /foo/bar/here => true",
    "{+hello} => Hello%20World! => true",
    "X{#var} => X#value => true",
    "X{#hello} => X#Hello%20World! => true",
    "map?{x,y} => map?1024,768 => true",
    "{x,hello,y} => 1024,Hello%20World%21,768 => true",
    "{+x,hello,y} => 1024,Hello%20World!,768 => true",
    "{+path,x}/here => /foo/bar,1024/here => true",
    "{#x,hello,y} => #1024,Hello%20World!,768 => true",
    "X{.var} => X.value => true",
    "X{.x,y} => X.1024.768 => true",
    "{/var} => /value => true",
    "{/var,x}/here => /value/1024/here => true",
    "{;x,y} => ;x=1024;y=768 => true",
    "{;x,y,empty} => ;x=1024;y=768;empty => true",
    "{?x,y} => ?x=1024&y=768 => true",
    "{?x,y,empty} => ?x=1024&y=768&empty= => true",
    "?fixed=yes{&x} => ?fixed=yes&x=1024 => true",
    "{var:3} => val => true",
    "{var:30} => value => true",
    "{list} => red,green,blue => true",
    "{list*} => red,green,blue => true",
    "{keys} => semi,%3B,dot,.,comma,%2C => true",
    "{keys*} => semi=%3B,dot=.,comma=%2C => true",
    "{+path:6}/here => /foo/b/here => true",
    "{+list*} => red,green,blue => true",
    "{#keys*} => #semi=;,dot=.,comma=, => true",
    "X{.list*} => X.red.green.blue => true",
    "{/list*,path:4} => /red/green/blue/%2Ffoo => true",
    "{;list*} => ;list=red;list=green;list=blue => true",
    "{;keys*} => ;semi=%3B;dot=.;comma=%2C => true",
    "{?list*} => ?list=red&list=green&list=blue => true",
    "{?keys*} => ?semi=%3B&dot=.&comma=%2C => true",
    "{&keys*} => &semi=%3B&dot=.&comma=%2C => true",
    // Undefined variables expand to nothing.
    "X{.var} => X => true",
    "{?x,y} => ?y=768 => true",
    // Near misses.
    "{var:3} => value => false",
    "{var} => Hello World => false",
    "{hello} => Hello%20World! => false",
    "{/var} => /a/b => false",
    "{?x} => ?y=1 => false",
    "{;x,y} => ;y=768;x=1024 => false",
    "X{#var} => Xvalue => false",
  })
  @DisplayName("RFC 6570's expansion examples match their templates")
  void rfc(String template, String topic, boolean expected) {
    assertThat(TopicFilters.parse(template, TopicFilter.Kind.URI_TEMPLATE).matches(topic)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} vs {1}: {2}")
  @CsvSource(delimiterString = " => ", value = {
    "https://example.com/books/{id} => https://example.com/books/1 => true",
    "https://example.com/books/{id} => https://example.com/books/1/2 => false",
    "https://example.com/books/{id} => https://example.com/books/ => true",
    "https://example.com/books/{id} => https://example.com/authors/1 => false",
    "https://example.com/users/{user}/books{/book} => https://example.com/users/7/books => true",
    "https://example.com/users/{user}/books{/book} => https://example.com/users/7/books/12 => true",
    "https://example.com/{+rest} => https://example.com/a/b/c => true",
  })
  @DisplayName("URL-form text with template expressions is read as a URI template")
  void detected(String template, String topic, boolean expected) {
    TopicFilter filter = TopicFilters.parse(template);
    assertThat(filter.kind()).isEqualTo(TopicFilter.Kind.URI_TEMPLATE);
    assertThat(filter.matches(topic)).isEqualTo(expected);
  }

  @Test
  @DisplayName("URL Pattern syntax beside braces keeps the text a URL pattern")
  void notTemplates() {
    assertThat(TopicFilters.parse("https://{sub.}?example.com/foo").kind()).isEqualTo(TopicFilter.Kind.URL_PATTERN);
    assertThat(TopicFilters.parse("https://example.com/{id}/:page").kind()).isEqualTo(TopicFilter.Kind.URL_PATTERN);
    assertThat(TopicFilters.parse("https://example.com/{id}/*").kind()).isEqualTo(TopicFilter.Kind.URL_PATTERN);
    assertThat(TopicFilters.parse("https://example.com/books/{id}").literalPrefix()).isEqualTo("https://example.com/books/");
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(delimiterString = " => ", value = {
    "https://example.com/{id => is not closed",
    "https://example.com/{} => empty expression",
    "https://example.com/{=x} => reserved by RFC 6570",
    "https://example.com/{x:0} => invalid prefix modifier",
    "https://example.com/{x:3*} => both a prefix and an explode modifier",
    "https://example.com/{a-b} => invalid variable name",
    "https://example.com/a}b => closes nothing",
  })
  @DisplayName("an invalid template is refused with the reason")
  void invalid(String template, String why) {
    assertThatThrownBy(() -> TopicFilters.parse(template, TopicFilter.Kind.URI_TEMPLATE))
      .isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("invalid URI template")
      .hasMessageContaining(why);
  }

  @Test
  @DisplayName("templates are indexed by their literal prefix and covered by a grant of it")
  void indexAndGrants() {
    PatternIndex<String> index = new PatternIndex<>();
    index.add(TopicFilters.parse("https://example.com/books/{id}"), "book");
    index.add(TopicFilters.parse("https://example.com/{+rest}"), "all");
    List<String> got = new ArrayList<>();
    index.forEachMatch("https://example.com/books/1", got::add);
    assertThat(got).containsExactlyInAnyOrder("book", "all");
    assertThat(index.remove("https://example.com/books/{id}", "book")).isTrue();
    got.clear();
    index.forEachMatch("https://example.com/books/1", got::add);
    assertThat(got).containsExactly("all");

    TopicFilter books = TopicFilters.parse("https://example.com/books/{id}");
    assertThat(TopicGrants.coversGrants(List.of(Grant.parse("https://example.com/books/**")), books, null)).isFalse();
    assertThat(TopicGrants.coversGrants(List.of(Grant.parse("https://example.com/books/*")), books, null)).isFalse();
    assertThat(TopicGrants.coversGrants(List.of(Grant.parse("https://example.com/**")), books, null)).isTrue();
  }

  @Test
  @DisplayName("a hostile template against a long topic does not match, and does not hang (no backtracking)")
  void hostile() {
    TopicFilter filter = TopicFilters.parse("https://example.com/" + "{+a}{b}".repeat(20) + "x", TopicFilter.Kind.URI_TEMPLATE);
    String topic = "https://example.com/" + "a".repeat(107) + "y";
    // 20 {+a}{b} pairs: a backtracking matcher tries exponentially many splits, the automaton one
    // pass. The deadline only catches a hang, it is no claim on this machine's speed.
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
      () -> assertThat(filter.matches(topic)).isFalse());
  }
}
