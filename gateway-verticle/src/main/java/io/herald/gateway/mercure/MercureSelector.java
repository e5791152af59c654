package io.herald.gateway.mercure;

import io.herald.common.pattern.TopicFilter;
import io.herald.common.pattern.TopicFilters;

/**
 * One topic selector of a Mercure token: what a {@code publish} or {@code subscribe} right
 * applies to. Three forms come from tokens:
 * <ul>
 *   <li>{@code *}: every topic (reserved by Mercure in every version, whatever the match type);</li>
 *   <li>an exact topic, compared byte for byte;</li>
 *   <li>a pattern: a WHATWG URL Pattern (1.0: {@code match_type: urlpattern} in the hub's claim,
 *       {@code matchType: URLPattern} in {@code authorization_details}) or an RFC 6570 URI
 *       template (a 0.x bare string containing {@code {}).</li>
 * </ul>
 * {@link #filter()} is the selector as an {@link io.herald.common.pattern.TopicFilter} for the
 * subscribe side ({@code TopicGrants}); it is null for {@code *} and for an exact string that
 * is not a Herald topic (such a selector can match no stored topic).
 */
public record MercureSelector(String text, Type type, TopicFilter filter) {

  /** How the selector's text is read. */
  public enum Type { ALL, EXACT, URL_PATTERN, URI_TEMPLATE }

  /** The reserved selector matching every topic. */
  public static final String ALL = "*";

  /** Does the selector select {@code topic}? */
  public boolean matches(String topic) {
    return switch (type) {
      case ALL -> true;
      case EXACT -> text.equals(topic);
      case URL_PATTERN, URI_TEMPLATE -> filter.matches(topic);
    };
  }

  /**
   * A 0.x selector: a bare string, {@code *}, an exact topic, or a URI template when it has an
   * expression in braces.
   *
   * @throws IllegalArgumentException saying why the text is not a selector
   */
  public static MercureSelector legacy(String text) {
    checkText(text);
    if (ALL.equals(text)) {
      return new MercureSelector(text, Type.ALL, null);
    }
    if (text.indexOf('{') >= 0) {
      return new MercureSelector(text, Type.URI_TEMPLATE, TopicFilters.parse(text, TopicFilter.Kind.URI_TEMPLATE));
    }
    return exact(text);
  }

  /**
   * A 1.0 matcher: {@code match} with its type, {@code exact}/{@code Exact} (also when
   * {@code type} is null) or {@code urlpattern}/{@code URLPattern}. {@code *} is every topic
   * whatever the type.
   *
   * @throws IllegalArgumentException saying why it is not a matcher
   */
  public static MercureSelector matcher(String text, String type) {
    checkText(text);
    if (ALL.equals(text)) {
      return new MercureSelector(text, Type.ALL, null);
    }
    if (type == null || "exact".equals(type) || "Exact".equals(type)) {
      return exact(text);
    }
    if ("urlpattern".equals(type) || "URLPattern".equals(type)) {
      return new MercureSelector(text, Type.URL_PATTERN, TopicFilters.parse(text, TopicFilter.Kind.URL_PATTERN));
    }
    throw new IllegalArgumentException("unknown match type \"" + type + "\" (Exact or URLPattern)");
  }

  private static MercureSelector exact(String text) {
    TopicFilter filter;
    try {
      filter = TopicFilters.parse(text, TopicFilter.Kind.EXACT);
    } catch (IllegalArgumentException notAHeraldTopic) {
      filter = null;
    }
    return new MercureSelector(text, Type.EXACT, filter);
  }

  private static void checkText(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("a topic selector is a non-empty string");
    }
    if (text.length() > TopicFilters.MAX_LENGTH) {
      throw new IllegalArgumentException("a topic selector has at most " + TopicFilters.MAX_LENGTH + " characters");
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
        throw new IllegalArgumentException("a topic selector has no control characters");
      }
    }
  }
}
