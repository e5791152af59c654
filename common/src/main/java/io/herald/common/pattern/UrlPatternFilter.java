package io.herald.common.pattern;

import io.herald.common.pattern.UrlPatternParser.Modifier;
import io.herald.common.pattern.UrlPatternParser.Options;
import io.herald.common.pattern.UrlPatternParser.Part;
import io.herald.common.pattern.UrlPatternParser.PartType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static io.herald.common.pattern.UrlPatternParser.HOSTNAME;
import static io.herald.common.pattern.UrlPatternParser.PASSWORD;
import static io.herald.common.pattern.UrlPatternParser.PATHNAME;
import static io.herald.common.pattern.UrlPatternParser.PORT;
import static io.herald.common.pattern.UrlPatternParser.PROTOCOL;
import static io.herald.common.pattern.UrlPatternParser.USERNAME;

/**
 * A WHATWG URL Pattern (https://urlpattern.spec.whatwg.org/) built from one absolute constructor
 * string such as {@code https://example.com/books/:id}, matched against topics that are URLs.
 *
 * <p>As the standard says: components the string leaves out are wildcards ({@code *}), except
 * that a pattern with a host name has an empty port unless it gives one; so
 * {@code https://example.com/books/:id} also matches {@code https://example.com/books/1?x#y} and
 * {@code https://bob@example.com/books/1}. A topic matches when it parses as a URL and each of its
 * eight components matches the pattern's component as a whole.
 *
 * <p>Differences from the standard, all of them refusals or non-matches, never wider matching:
 * <ul>
 *   <li>Regexp groups {@code (...)} accept only the subset {@link SafeRegex} documents; others are
 *       refused at parse time. Everything is matched by automata, without backtracking, so matching
 *       costs time linear in the topic for any pattern.</li>
 *   <li>No base URL but the hub's: a pattern starting with a single {@code /} (Mercure's
 *       {@code /.well-known/mercure/subscriptions/:type/:match/:subscriber}) is relative and
 *       matches relative topics, both resolved against {@link UrlTopic#RELATIVE_BASE}; absolute
 *       patterns never match relative topics. No {@code ignoreCase}; group names are ASCII;
 *       non-ASCII host names are refused (write punycode).</li>
 *   <li>Only topics in canonical form match, that is, topics a URL parser would serialize back
 *       unchanged: {@code HTTPS://Example.com/a}, {@code https://example.com:443/a},
 *       {@code https://example.com/a/../b}, {@code https://example.com} (no path),
 *       {@code https://example.com/café} match no URL pattern (see {@link UrlTopic}). Topics are
 *       names, not addresses: the publisher's string is the topic.</li>
 * </ul>
 */
final class UrlPatternFilter implements TopicFilter {

  private final String source;
  private final Nfa[] components = new Nfa[8];
  private final String literalPrefix;
  private final String indexPrefix;

  /** Automata of the components most patterns leave as they are ("*" or ""), shared. */
  private static final Map<String, Nfa> COMMON = new ConcurrentHashMap<>();

  private UrlPatternFilter(String source, boolean relative, String[] init, List<List<Part>> parts, Options[] options) {
    this.source = source;
    for (int i = 0; i < 8; i++) {
      List<Part> p = parts.get(i);
      Options o = options[i];
      components[i] = init[i].equals("*") || init[i].isEmpty()
        ? COMMON.computeIfAbsent(i + " " + o + " " + init[i], k -> Nfa.compile(toRe(p, o)))
        : Nfa.compile(toRe(p, o));
    }
    this.indexPrefix = prefix(parts, false);
    // A relative pattern's topics are relative too (no user info): the index prefix without the base.
    this.literalPrefix = !relative ? prefix(parts, true)
      : indexPrefix.startsWith(UrlTopic.RELATIVE_BASE) ? indexPrefix.substring(UrlTopic.RELATIVE_BASE.length()) : "";
  }

  static UrlPatternFilter parse(String source) {
    boolean relative = UrlTopic.isRelative(source);
    String[] init = UrlPatternParser.parseConstructorString(relative ? UrlTopic.RELATIVE_BASE + source : source);
    if (init[PROTOCOL] == null) {
      throw new IllegalArgumentException("a URL pattern must be absolute, starting with a scheme such as https://,"
        + " or relative to the hub, starting with /");
    }
    for (int i = 0; i < 8; i++) {
      if (init[i] == null) {
        init[i] = "*";
      }
    }
    String defaultPort = UrlPatternParser.defaultPort(init[PROTOCOL]);
    if (defaultPort != null && defaultPort.equals(init[PORT])) {
      init[PORT] = "";
    }
    Options[] options = new Options[8];
    List<List<Part>> parts = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      options[i] = Options.DEFAULT;
    }
    options[HOSTNAME] = Options.HOSTNAME;
    List<Part> protocol = UrlPatternParser.parsePattern(init[PROTOCOL], Options.DEFAULT, PROTOCOL, false);
    Nfa protocolNfa = Nfa.compile(toRe(protocol, Options.DEFAULT));
    boolean special = UrlPatternParser.SPECIAL_SCHEMES.stream().anyMatch(protocolNfa::matches);
    if (special) {
      options[PATHNAME] = Options.PATHNAME;
    }
    for (int i = 0; i < 8; i++) {
      try {
        int callback = i == HOSTNAME && (init[i].startsWith("[") || init[i].startsWith("{[") || init[i].startsWith("\\["))
          ? UrlPatternParser.IPV6_HOSTNAME : i;
        parts.add(i == PROTOCOL ? protocol : UrlPatternParser.parsePattern(init[i], options[i], callback, i == PATHNAME && !special));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("in the " + UrlPatternParser.COMPONENTS[i] + " \"" + init[i] + "\": " + e.getMessage(), e);
      }
    }
    return new UrlPatternFilter(source, relative, init, parts, options);
  }

  /** The spec's "generate a regular expression and name list", as an automaton expression. */
  static Nfa.Re toRe(List<Part> parts, Options options) {
    List<Nfa.Re> items = new ArrayList<>();
    for (Part part : parts) {
      if (part.type() == PartType.FIXED) {
        items.add(modified(Nfa.literal(part.value()), part.modifier()));
        continue;
      }
      Nfa.Re value = switch (part.type()) {
        case SEGMENT_WILDCARD -> {
          String d = options.delimiter();
          yield Nfa.plus(d.isEmpty() ? HeraldFilter.ANY_CHAR : new Nfa.Chars(c -> c != d.charAt(0), "[^" + d + "]"));
        }
        case FULL_WILDCARD -> Nfa.star(HeraldFilter.ANY_CHAR);
        default -> SafeRegex.parse(part.value());
      };
      if (part.prefix().isEmpty() && part.suffix().isEmpty()) {
        items.add(modified(value, part.modifier()));
        continue;
      }
      Nfa.Re prefix = Nfa.literal(part.prefix());
      Nfa.Re suffix = Nfa.literal(part.suffix());
      if (part.modifier() == Modifier.NONE || part.modifier() == Modifier.OPTIONAL) {
        items.add(modified(Nfa.seq(prefix, value, suffix), part.modifier()));
      } else {
        Nfa.Re repeated = Nfa.seq(prefix, value, Nfa.star(Nfa.seq(suffix, prefix, value)), suffix);
        items.add(part.modifier() == Modifier.ZERO_OR_MORE ? Nfa.optional(repeated) : repeated);
      }
    }
    return new Nfa.Seq(items);
  }

  private static Nfa.Re modified(Nfa.Re re, Modifier modifier) {
    return switch (modifier) {
      case NONE -> re;
      case OPTIONAL -> Nfa.optional(re);
      case ZERO_OR_MORE -> Nfa.star(re);
      case ONE_OR_MORE -> Nfa.plus(re);
    };
  }

  /** The whole component when it is fixed text only, else null. */
  private static String fixedOnly(List<Part> parts) {
    StringBuilder b = new StringBuilder();
    for (Part p : parts) {
      if (p.type() != PartType.FIXED || p.modifier() != Modifier.NONE) {
        return null;
      }
      b.append(p.value());
    }
    return b.toString();
  }

  private static String leadingFixed(List<Part> parts) {
    StringBuilder b = new StringBuilder();
    for (Part p : parts) {
      if (p.type() != PartType.FIXED || p.modifier() != Modifier.NONE) {
        if (p.type() != PartType.FIXED && (p.modifier() == Modifier.NONE || p.modifier() == Modifier.ONE_OR_MORE)) {
          b.append(p.prefix());
        }
        break;
      }
      b.append(p.value());
    }
    return b.toString();
  }

  /**
   * The prefix every matching topic starts with. {@code honest}: of the topic itself; otherwise of
   * the topic's {@link UrlTopic#indexKey() index key}, which leaves out the user info.
   */
  private static String prefix(List<List<Part>> parts, boolean honest) {
    String protocol = fixedOnly(parts.get(PROTOCOL));
    if (protocol == null) {
      return leadingFixed(parts.get(PROTOCOL));
    }
    if (!UrlPatternParser.SPECIAL_SCHEMES.contains(protocol)) {
      return protocol + ":";
    }
    StringBuilder b = new StringBuilder(protocol).append("://");
    if (honest && !(parts.get(USERNAME).isEmpty() && parts.get(PASSWORD).isEmpty())) {
      return b.toString();
    }
    String host = fixedOnly(parts.get(HOSTNAME));
    if (host == null) {
      return b.append(leadingFixed(parts.get(HOSTNAME))).toString();
    }
    b.append(host);
    String port = fixedOnly(parts.get(PORT));
    if (port == null) {
      return b.toString();
    }
    if (!port.isEmpty()) {
      b.append(':').append(port);
    }
    return b.append(leadingFixed(parts.get(PATHNAME))).toString();
  }

  @Override
  public boolean matches(String topic) {
    UrlTopic url = topic == null ? null : UrlTopic.parse(topic);
    return url != null && matches(url);
  }

  boolean matches(UrlTopic url) {
    for (int i = 0; i < 8; i++) {
      if (!components[i].matches(url.component(i))) {
        return false;
      }
    }
    return true;
  }

  /** Prefix of the {@link UrlTopic#indexKey()} of every matching topic. */
  String indexPrefix() {
    return indexPrefix;
  }

  @Override
  public String source() {
    return source;
  }

  @Override
  public Kind kind() {
    return Kind.URL_PATTERN;
  }

  @Override
  public String literalPrefix() {
    return literalPrefix;
  }

  @Override
  public String toString() {
    return source;
  }
}
