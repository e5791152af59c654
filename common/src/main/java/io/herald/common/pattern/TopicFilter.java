package io.herald.common.pattern;

/**
 * What a subscriber asks for: an exact topic or a pattern over topics. Made by
 * {@link TopicFilters#parse(String)}; immutable and thread-safe, so one instance may be shared by
 * the gateway's event loop and the replay side.
 *
 * <p>Kinds:
 * <ul>
 *   <li>{@link Kind#EXACT}: one topic, compared as a string.</li>
 *   <li>{@link Kind#HERALD}: Herald's own syntax, {@code *} within one segment and a trailing
 *       {@code **} over any number of segments (see {@link TopicFilters}).</li>
 *   <li>{@link Kind#URL_PATTERN}: a WHATWG URL Pattern constructor string, for topics that are URLs
 *       (the syntax Mercure's {@code match_urlpattern} uses).</li>
 *   <li>{@link Kind#URI_TEMPLATE}: an RFC 6570 URI template, for topics that are URLs (Mercure's
 *       older topic selectors).</li>
 * </ul>
 */
public sealed interface TopicFilter permits ExactFilter, HeraldFilter, UrlPatternFilter, UriTemplateFilter {

  /** The syntax a filter was parsed from. */
  enum Kind { EXACT, HERALD, URL_PATTERN, URI_TEMPLATE }

  /** Does this filter select {@code topic}? Never throws; a null or unparsable topic gives false. */
  boolean matches(String topic);

  /** The text this filter was parsed from, unchanged. */
  String source();

  Kind kind();

  /**
   * The longest string every topic this filter matches starts with ({@code ""} when there is
   * none, e.g. for {@code *.news}). For an exact filter, the topic itself. Sound: a topic that
   * does not start with it is never matched.
   */
  String literalPrefix();
}
