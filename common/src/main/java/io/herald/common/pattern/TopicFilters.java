package io.herald.common.pattern;

import io.herald.common.TopicPattern;
import io.herald.common.Topics;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses what subscribers send as topic filters. The syntax is chosen from the text:
 * <ul>
 *   <li><b>Herald syntax</b> (text without {@code ://}): segments separated by {@code .},
 *       {@code :} or {@code /}. {@code *} matches one or more characters within one segment
 *       (never a separator), as in {@link io.herald.common.TopicPattern}; a last segment
 *       {@code **} matches one or more characters of any kind, so {@code news.**} matches
 *       {@code news.a} and {@code news.a.b} but not {@code news}, and {@code **} alone matches
 *       every topic. {@code **} anywhere else is an error. Text without {@code *} is an exact
 *       topic ({@link TopicFilter.Kind#EXACT}) and must be a valid topic
 *       ({@link Topics#isValidTopic}). {@code {sub}} is for grants, not filters.</li>
 *   <li><b>URL form</b> (text with {@code ://}): a WHATWG URL Pattern constructor string
 *       ({@link TopicFilter.Kind#URL_PATTERN}, see {@link UrlPatternFilter}) when it uses pattern
 *       syntax ({@code :name}, {@code *}, {@code (...)}, {@code {...}}, {@code ?}, {@code +},
 *       {@code \}); an RFC 6570 URI template ({@link TopicFilter.Kind#URI_TEMPLATE}, see
 *       {@link UriTemplateFilter}) when its braces are all template expressions
 *       ({@code https://example.com/books/{id}}) and it has no other URL Pattern syntax;
 *       otherwise an exact topic. Use {@link #parse(String, TopicFilter.Kind)} to force
 *       the reading, e.g. for Mercure's {@code match_urlpattern}, where even a plain URL is a
 *       pattern (with wildcard search and hash).</li>
 * </ul>
 * Every error is an {@link IllegalArgumentException} whose message says why, fit for a client
 * (it is sent in a 400 body).
 */
public final class TopicFilters {

  /** Longest filter accepted, as for {@link io.herald.common.TopicPattern#MAX_LENGTH}. */
  public static final int MAX_LENGTH = 256;

  private TopicFilters() {
  }

  /** Parses a filter, picking the syntax from the text (see the class comment). */
  public static TopicFilter parse(String text) {
    checkLength(text);
    if (text.contains("://")) {
      if (looksLikeUriTemplate(text)) {
        return parseUriTemplate(text);
      }
      return looksLikeUrlPattern(text) ? parseUrlPattern(text) : exact(text);
    }
    if (text.contains(TopicPattern.SUBJECT)) {
      throw new IllegalArgumentException("invalid topic filter \"" + text + "\": {sub} is for grants, not for filters");
    }
    return text.indexOf('*') < 0 ? exact(text) : parseHerald(text);
  }

  /** Parses a filter in the given syntax. */
  public static TopicFilter parse(String text, TopicFilter.Kind kind) {
    checkLength(text);
    return switch (kind) {
      case EXACT -> exact(text);
      case HERALD -> text.indexOf('*') < 0 ? exact(text) : parseHerald(text);
      case URL_PATTERN -> parseUrlPattern(text);
      case URI_TEMPLATE -> parseUriTemplate(text);
    };
  }

  /**
   * A filter's identity across the cluster: its kind's letter ({@code e h u t}), a colon, its
   * source. Two subscriptions with the same key share one delivery address
   * ({@link io.herald.common.Addresses#pattern}); {@link #fromKey} reads it back.
   */
  public static String key(TopicFilter filter) {
    char k = switch (filter.kind()) {
      case EXACT -> 'e';
      case HERALD -> 'h';
      case URL_PATTERN -> 'u';
      case URI_TEMPLATE -> 't';
    };
    return k + ":" + filter.source();
  }

  /** The filter of a {@link #key}; an {@link IllegalArgumentException} for anything else. */
  public static TopicFilter fromKey(String key) {
    if (key == null || key.length() < 3 || key.charAt(1) != ':') {
      throw new IllegalArgumentException("not a filter key: " + key);
    }
    TopicFilter.Kind kind = switch (key.charAt(0)) {
      case 'e' -> TopicFilter.Kind.EXACT;
      case 'h' -> TopicFilter.Kind.HERALD;
      case 'u' -> TopicFilter.Kind.URL_PATTERN;
      case 't' -> TopicFilter.Kind.URI_TEMPLATE;
      default -> throw new IllegalArgumentException("not a filter key: " + key);
    };
    return parse(key.substring(2), kind);
  }

  private static void checkLength(String text) {
    if (text == null || text.isEmpty() || text.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("a topic filter has 1 to " + MAX_LENGTH + " characters, got "
        + (text == null ? "none" : text.length()));
    }
  }

  private static boolean looksLikeUrlPattern(String text) {
    int afterScheme = text.indexOf("://") + 3;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '*' || c == '(' || c == '{' || c == '}' || c == '\\' || c == '+' || c == '?') {
        return true;
      }
      if (c == ':' && i >= afterScheme && i + 1 < text.length() && !Character.isDigit(text.charAt(i + 1))) {
        return true;
      }
    }
    return false;
  }

  /**
   * A URI template when every {@code {...}} is a template expression, none is followed by a URL
   * Pattern modifier ({@code ? + *}), and outside them there is no URL Pattern syntax
   * ({@code :name} after the scheme, {@code *}, {@code (}, {@code \}).
   */
  private static boolean looksLikeUriTemplate(String text) {
    if (text.indexOf('{') < 0 || !UriTemplateFilter.isTemplate(text)) {
      return false;
    }
    int afterScheme = text.indexOf("://") + 3;
    boolean inside = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '{') {
        inside = true;
      } else if (c == '}') {
        inside = false;
        if (i + 1 < text.length() && "?+*".indexOf(text.charAt(i + 1)) >= 0) {
          return false;
        }
      } else if (!inside && (c == '*' || c == '(' || c == '\\'
        || (c == ':' && i >= afterScheme && i + 1 < text.length() && !Character.isDigit(text.charAt(i + 1))))) {
        return false;
      }
    }
    return true;
  }

  private static TopicFilter parseUriTemplate(String text) {
    try {
      return UriTemplateFilter.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid URI template \"" + text + "\": " + e.getMessage(), e);
    }
  }

  private static TopicFilter exact(String text) {
    if (!Topics.isValidTopic(text)) {
      throw new IllegalArgumentException("\"" + text + "\" is not a valid topic: " + Topics.TOPIC_RULE);
    }
    return new ExactFilter(text);
  }

  private static TopicFilter parseUrlPattern(String text) {
    try {
      return UrlPatternFilter.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid URL pattern \"" + text + "\": " + e.getMessage(), e);
    }
  }

  private static TopicFilter parseHerald(String text) {
    char first = text.charAt(0);
    if (!(isAlnum(first) || first == '*')) {
      throw new IllegalArgumentException("invalid topic filter \"" + text + "\": it starts with a letter, a digit or *");
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '{') {
        throw new IllegalArgumentException("invalid topic filter \"" + text + "\": {sub} is for grants, not for filters");
      }
      if (!(isAlnum(c) || c == '*' || c == '_' || c == '-' || c == '@' || HeraldFilter.isSeparator(c))) {
        throw new IllegalArgumentException("invalid character '" + c + "' in topic filter \"" + text
          + "\" (topic characters, * and a final ** only)");
      }
    }
    List<String> tokens = new ArrayList<>();
    int start = 0;
    for (int i = 1; i <= text.length(); i++) {
      if (i == text.length() || HeraldFilter.isSeparator(text.charAt(i))) {
        tokens.add(text.substring(start, i));
        start = i;
      }
    }
    boolean multi = false;
    char tailSeparator = 0;
    for (int t = 0; t < tokens.size(); t++) {
      String token = tokens.get(t);
      String segment = t == 0 ? token : token.substring(1);
      if (segment.contains("**")) {
        if (!segment.equals("**") || t != tokens.size() - 1) {
          throw new IllegalArgumentException("invalid topic filter \"" + text
            + "\": ** must be the whole last segment (news.**), * matches within one segment");
        }
        multi = true;
        tailSeparator = t == 0 ? 0 : token.charAt(0);
      }
    }
    if (multi) {
      tokens.remove(tokens.size() - 1);
    }
    return new HeraldFilter(text, tokens.toArray(new String[0]), multi, tailSeparator);
  }

  private static boolean isAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
}
