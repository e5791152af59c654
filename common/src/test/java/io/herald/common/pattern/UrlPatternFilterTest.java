package io.herald.common.pattern;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * URL patterns against the expectations of the standard's shared test data
 * (web-platform-tests urlpattern/resources/urlpatterntestdata.json): the cases with one
 * constructor string and one URL string, rewritten here as (pattern, URL, match); and cases of
 * that file given as a pathname, put behind {@code https://example.com} (which changes nothing
 * else: port empty, other components wildcards). Where the data gives a URL a parser would
 * rewrite ({@code /café}, {@code https://foo@example.com} without a path), the canonical URL is
 * used here: Herald matches only topics in canonical form. Patterns are read with
 * {@code Kind.URL_PATTERN}, as Mercure's {@code match_urlpattern} will.
 */
class UrlPatternFilterTest {

  @ParameterizedTest(name = "{0} vs {1}: {2}")
  @CsvSource(delimiterString = " => ", value = {
    // Constructor strings.
    "https://example.com/*?foo => https://example.com/?foo => false",
    "https://example.com/*\\?foo => https://example.com/?foo => true",
    "https://example.com/:name?foo => https://example.com/bar?foo => false",
    "https://example.com/:name\\?foo => https://example.com/bar?foo => true",
    "https://example.com/(bar)?foo => https://example.com/bar?foo => false",
    "https://example.com/(bar)\\?foo => https://example.com/bar?foo => true",
    "https://example.com/{bar}?foo => https://example.com/bar?foo => false",
    "https://example.com/{bar}\\?foo => https://example.com/bar?foo => true",
    "https://example.com/ => https://example.com:8080/ => false",
    "data\\:foobar => data:foobar => true",
    "https://{sub.}?example.com/foo => https://example.com/foo => true",
    "https://{sub.}?example.com/foo => https://sub.example.com/foo => true",
    "https://(sub.)?example.com/foo => https://example.com/foo => true",
    "https://(sub.)?example(.com/)foo => https://example.com/foo => false",
    "https://(sub(?:.))?example.com/foo => https://example.com/foo => true",
    "file:///foo/bar => file:///foo/bar => true",
    "data: => data: => true",
    "foo://bar => foo://bad_url_browser_interop => false",
    "https://foo\\:bar@example.com => https://foo:bar@example.com/ => true",
    "https://foo@example.com => https://foo@example.com/ => true",
    "https://\\:bar@example.com => https://:bar@example.com/ => true",
    "https://:user::pass@example.com => https://foo:bar@example.com/ => true",
    "data\\:foo\\:bar@example.com => data:foo:bar@example.com => true",
    "https://foo{\\:}bar@example.com => https://foo:bar@example.com => false",
    "http://[\\:\\:1]/ => http://[::1]/ => true",
    "http://[\\:\\:1]:8080/ => http://[::1]:8080/ => true",
    "http://[\\:\\:a]/ => http://[::a]/ => true",
    "http://[:address]/ => http://[::1]/ => true",
    "http://[\\:\\:AB\\::num]/ => http://[::ab:1]/ => true",
    "data\\:text/javascript,let x = 100/:tens?5; => data:text/javascript,let x = 100/5; => true",
    "http{s}?://{*.}?example.com/:product/:endpoint => https://sub.example.com/foo/bar => true",
    "https://example.com?foo => https://example.com/?foo => true",
    "https://example.com#foo => https://example.com/#foo => true",
    "https://example.com:8080?foo => https://example.com:8080/?foo => true",
    "https://example.com:8080#foo => https://example.com:8080/#foo => true",
    "https://example.com/?foo => https://example.com/?foo => true",
    "https://example.com/#foo => https://example.com/#foo => true",
    "data\\::number([0-9]+) => data:8675309 => true",
    "about\\:(blank|sourcedoc) => about:blank => true",
    // Pathnames, behind https://example.com.
    "https://example.com/foo/bar => https://example.com/foo/bar => true",
    "https://example.com/foo/bar => https://example.com/foo/ba => false",
    "https://example.com/foo/bar => https://example.com/foo/bar/ => false",
    "https://example.com/foo/bar => https://example.com/foo/bar/baz => false",
    "https://example.com/foo/:bar => https://example.com/foo/bar => true",
    "https://example.com/foo/([^\\/]+?) => https://example.com/foo/bar => true",
    "https://example.com/foo/:bar => https://example.com/foo/index.html => true",
    "https://example.com/foo/:bar => https://example.com/foo/bar/ => false",
    "https://example.com/foo/:bar => https://example.com/foo/ => false",
    "https://example.com/foo/(.*) => https://example.com/foo/bar/baz => true",
    "https://example.com/foo/(.*) => https://example.com/foo/ => true",
    "https://example.com/foo/(.*) => https://example.com/foo => false",
    "https://example.com/foo/* => https://example.com/foo/bar/baz => true",
    "https://example.com/foo/* => https://example.com/foo/ => true",
    "https://example.com/foo/* => https://example.com/foo => false",
    "https://example.com/foo/:bar(.*) => https://example.com/foo/bar/baz => true",
    "https://example.com/foo/:bar(.*) => https://example.com/foo/ => true",
    "https://example.com/foo/:bar(.*) => https://example.com/foo => false",
    "https://example.com/foo/:bar? => https://example.com/foo/bar => true",
    "https://example.com/foo/:bar? => https://example.com/foo => true",
    "https://example.com/foo/:bar? => https://example.com/foo/ => false",
    "https://example.com/foo/:bar? => https://example.com/foobar => false",
    "https://example.com/foo/:bar? => https://example.com/foo/bar/baz => false",
    "https://example.com/foo/:bar+ => https://example.com/foo/bar => true",
    "https://example.com/foo/:bar+ => https://example.com/foo/bar/baz => true",
    "https://example.com/foo/:bar+ => https://example.com/foo => false",
    "https://example.com/foo/:bar+ => https://example.com/foo/ => false",
    "https://example.com/foo/:bar+ => https://example.com/foobar => false",
    "https://example.com/foo/:bar* => https://example.com/foo/bar => true",
    "https://example.com/foo/:bar* => https://example.com/foo/bar/baz => true",
    "https://example.com/foo/:bar* => https://example.com/foo => true",
    "https://example.com/foo/:bar* => https://example.com/foo/ => false",
    "https://example.com/foo/:bar* => https://example.com/foobar => false",
    "https://example.com/foo/*? => https://example.com/foo/bar => true",
    "https://example.com/foo/*? => https://example.com/foo/bar/baz => true",
    "https://example.com/:foo. => https://example.com/bar. => true",
    "https://example.com/:foo.. => https://example.com/bar.. => true",
    "https://example.com/:foo\\bar => https://example.com/bazbar => true",
    "https://example.com/foo! => https://example.com/foo! => true",
    "https://example.com/foo\\: => https://example.com/foo: => true",
    "https://example.com/foo\\{ => https://example.com/foo%7B => true",
    "https://example.com/foo\\( => https://example.com/foo( => true",
    "https://example.com/caf%C3%A9 => https://example.com/caf%C3%A9 => true",
    "https://example.com/café => https://example.com/caf%C3%A9 => true",
    "https://example.com/caf%c3%a9 => https://example.com/caf%C3%A9 => false",
    // Herald's own: the issue's examples, case and default-port canonicalization.
    "https://example.com/books/:id => https://example.com/books/1 => true",
    "https://example.com/books/:id => https://example.com/books/1/2 => false",
    "https://example.com/books/:id => https://example.com/books/1?x=y#z => true",
    "https://example.com/books/:id => https://bob@example.com/books/1 => true",
    "https://example.com/books/:id => https://example.com:8443/books/1 => false",
    "https://example.com/books/:id => HTTPS://EXAMPLE.com/books/1 => false",
    "https://example.com/books/:id => https://example.com:443/books/1 => false",
    "https://example.com/books/:id => https://example.com/books/café => false",
    "https://example.com/* => https://example.com => false",
    "https://example.com/* => https://example.com/ => true",
    "https://example.com:443/books/:id => https://example.com/books/1 => true",
    "https://example.com/books/:id => http://example.com/books/1 => false",
    "https://example.com/books/* => https://example.com/books/a/b => true",
    "https://example.com/books/* => https://example.com/book => false",
    "https://example.com/books/:id(\\d+) => https://example.com/books/42 => true",
    "https://example.com/books/:id(\\d+) => https://example.com/books/4x2 => false",
    "https://example.com/books/:id(\\d+) => https://example.com/books/ => false",
    "https://example.com/books/:id(\\d+)/:page([a-z]+)? => https://example.com/books/42 => true",
    "https://example.com/books/:id(\\d+)/:page([a-z]+)? => https://example.com/books/42/intro => true",
    "https://example.com/books/:id(\\d+)/:page([a-z]+)? => https://example.com/books/42/Intro => false",
    "https://example.com/books{/:id}+ => https://example.com/books/1/2/3 => true",
    "https://example.com/books{/:id}+ => https://example.com/books => false",
    "https://example.com/books{/:id}* => https://example.com/books => true",
    "https://example.com/books/:id => https://example.com/books/../admin => false",
    "https://example.com/books/* => https://example.com/books/../admin => false",
    "https://*.example.com/x => https://a.example.com/x => true",
    "https://*.example.com/x => https://a.b.example.com/x => true",
    "https://:sub.example.com/x => https://a.b.example.com/x => false",
  })
  @DisplayName("constructor strings match URLs as the standard's test data says")
  void spec(String pattern, String url, boolean expected) {
    assertThat(TopicFilters.parse(pattern, TopicFilter.Kind.URL_PATTERN).matches(url)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiterString = " => ", value = {
    "https://{sub.}?example{.com/}foo => ",
    "{https://}example.com/foo => ",
    "(https://)example.com/foo => ",
    "https://{sub{.}}example.com/foo => ",
    "https://foo{{@}}example.com => ",
    "https://foo{@example.com => ",
    "(café)://foo => ",
    "data:foobar => must be absolute",
    "//example.com/foo => must be absolute",
    "example.com/foo => must be absolute",
    "https://example.com/(\\m) => escape \\m",
    "https://example.com/:id/:id => used twice",
    "https://example.com/(a(?=b)) => only non-capturing groups",
    "https://example.com/(a{2}) => counted repetition",
    "https://exa mple.com/ => in the hostname",
    "http://[\\:\\:xY\\::num]/ => IPv6",
  })
  @DisplayName("what the standard refuses, and what Herald does not support, is refused with a reason")
  void errors(String pattern, String why) {
    assertThatThrownBy(() -> TopicFilters.parse(pattern, TopicFilter.Kind.URL_PATTERN))
      .isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("invalid URL pattern")
      .hasMessageContaining(why == null ? "" : why);
  }

  @Test
  @DisplayName("Herald reads no non-canonical URL form: https:host without // matches nothing (the standard would parse it)")
  void nonCanonicalTopics() {
    TopicFilter filter = TopicFilters.parse("https\\:foo\\:bar@example.com", TopicFilter.Kind.URL_PATTERN);
    assertThat(filter.matches("https://foo:bar@example.com/")).isTrue();
    assertThat(filter.matches("https:foo:bar@example.com")).isFalse();
    assertThat(TopicFilters.parse("https://example.com/*").matches("https://example.com\\x")).isFalse();
  }

  @Test
  @DisplayName("a pattern starting with one / is relative to the hub and matches relative topics, as Mercure's subscription events need")
  void relative() {
    TopicFilter filter = TopicFilters.parse("/.well-known/mercure/subscriptions/:type/:match/:subscriber", TopicFilter.Kind.URL_PATTERN);
    String topic = "/.well-known/mercure/subscriptions/Exact/https%3A%2F%2Fexample.com%2Fa/urn%3Auuid%3A1";
    assertThat(filter.matches(topic)).isTrue();
    assertThat(filter.literalPrefix()).isEqualTo("/.well-known/mercure/subscriptions/");
    assertThat(topic).startsWith(filter.literalPrefix());
    assertThat(filter.matches("/.well-known/mercure/subscriptions/Exact/a")).isFalse();
    assertThat(filter.matches("https://example.com/.well-known/mercure/subscriptions/Exact/a/b")).isFalse();
    assertThat(TopicFilters.parse("/.well-known/mercure/subscriptions/Exact/:m/:s", TopicFilter.Kind.URL_PATTERN).matches(topic)).isTrue();
    assertThat(TopicFilters.parse("/.well-known/mercure/subscriptions/URLPattern/:m/:s", TopicFilter.Kind.URL_PATTERN).matches(topic)).isFalse();
    assertThat(TopicFilters.parse("https://example.com/.well-known/mercure/subscriptions/*", TopicFilter.Kind.URL_PATTERN).matches(topic))
      .as("an absolute pattern does not match a relative topic").isFalse();
    assertThat(TopicFilters.parse("/*", TopicFilter.Kind.URL_PATTERN).matches("https://example.com/a")).isFalse();
  }
}
