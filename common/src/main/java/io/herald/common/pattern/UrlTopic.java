package io.herald.common.pattern;

import java.util.Locale;

import static io.herald.common.pattern.UrlPatternParser.SPECIAL_SCHEMES;

/**
 * A topic read as a URL: its eight URL Pattern components. Only topics in canonical form are
 * read, that is, topics a WHATWG URL parser would serialize back unchanged (lower-case scheme and
 * host, no default port, nothing to percent-encode, no dot segments, {@code //} after a special
 * scheme, a path of at least {@code /}); {@link #parse} gives null for any other string, so such a
 * topic matches no URL pattern. This keeps {@link TopicFilter#literalPrefix()} a prefix of the
 * topic string itself, which the index and {@link TopicGrants} rely on.
 */
record UrlTopic(String protocol, String username, String password, String hostname, String port,
                String pathname, String search, String hash) {

  String component(int i) {
    return switch (i) {
      case 0 -> protocol;
      case 1 -> username;
      case 2 -> password;
      case 3 -> hostname;
      case 4 -> port;
      case 5 -> pathname;
      case 6 -> search;
      default -> hash;
    };
  }

  /**
   * {@code scheme://host[:port]path} (the topic without user info, search and hash) for special
   * schemes; {@code scheme:} otherwise.
   */
  String indexKey() {
    if (!SPECIAL_SCHEMES.contains(protocol)) {
      return protocol + ":";
    }
    return protocol + "://" + hostname + (port.isEmpty() ? "" : ":" + port) + pathname;
  }

  /**
   * The base URL a relative topic or URL pattern (one that starts with a single {@code /}, such as
   * the hub's own {@code /.well-known/mercure/subscriptions/...}) is resolved against, standing for
   * the hub's URL, which Herald does not know: relative patterns match relative topics (and
   * absolute ones on this reserved, never resolvable host), absolute patterns do not match
   * relative topics.
   */
  static final String RELATIVE_BASE = "https://hub.mercure.invalid";

  /** Does {@code text} start with a single {@code /} (a relative topic or pattern)? */
  static boolean isRelative(String text) {
    return text.startsWith("/") && !text.startsWith("//");
  }

  /** The topic as a URL (a relative one resolved against {@link #RELATIVE_BASE}), or null when it is not a URL in canonical form. */
  static UrlTopic parse(String topic) {
    String absolute = isRelative(topic) ? RELATIVE_BASE + topic : topic;
    UrlTopic url = read(absolute);
    return url != null && url.serialized(absolute) ? url : null;
  }

  /** Is {@code topic} exactly this URL's serialization? */
  private boolean serialized(String topic) {
    StringBuilder b = new StringBuilder(topic.length()).append(protocol).append(':');
    if (topic.startsWith("//", protocol.length() + 1)) {
      b.append("//");
      if (!username.isEmpty() || !password.isEmpty()) {
        b.append(username);
        if (!password.isEmpty()) {
          b.append(':').append(password);
        }
        b.append('@');
      }
      b.append(hostname);
      if (!port.isEmpty()) {
        b.append(':').append(port);
      }
    }
    b.append(pathname);
    int q = topic.indexOf('?');
    int h = topic.indexOf('#');
    if (q >= 0 && (h < 0 || q < h)) {
      b.append('?').append(search);
    }
    if (h >= 0) {
      b.append('#').append(hash);
    }
    return b.toString().equals(topic);
  }

  private static UrlTopic read(String topic) {
    int colon = topic.indexOf(':');
    if (colon <= 0 || !UrlPatternParser.isAsciiAlpha(topic.charAt(0))) {
      return null;
    }
    for (int i = 1; i < colon; i++) {
      char c = topic.charAt(i);
      if (!(UrlPatternParser.isAsciiAlpha(c) || UrlPatternParser.isDigit(c) || c == '+' || c == '-' || c == '.')) {
        return null;
      }
    }
    String scheme = topic.substring(0, colon).toLowerCase(Locale.ROOT);
    boolean special = SPECIAL_SCHEMES.contains(scheme);
    String rest = topic.substring(colon + 1);
    String hash = "";
    int h = rest.indexOf('#');
    if (h >= 0) {
      hash = UrlPatternParser.percentEncode(rest.substring(h + 1), UrlPatternParser::inFragmentSet);
      rest = rest.substring(0, h);
    }
    String search = "";
    int q = rest.indexOf('?');
    if (q >= 0) {
      search = UrlPatternParser.percentEncode(rest.substring(q + 1),
        special ? UrlPatternParser::inSpecialQuerySet : UrlPatternParser::inQuerySet);
      rest = rest.substring(0, q);
    }
    if (special && rest.indexOf('\\') >= 0) {
      return null;
    }
    if (!rest.startsWith("//")) {
      if (special) {
        return null;
      }
      return new UrlTopic(scheme, "", "", "", "", UrlPatternParser.percentEncode(rest, UrlPatternParser::inC0Set), search, hash);
    }
    int slash = rest.indexOf('/', 2);
    String authority = slash < 0 ? rest.substring(2) : rest.substring(2, slash);
    String path = slash < 0 ? "" : rest.substring(slash);
    String username = "";
    String password = "";
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      String userinfo = authority.substring(0, at);
      int c = userinfo.indexOf(':');
      username = UrlPatternParser.percentEncode(c < 0 ? userinfo : userinfo.substring(0, c), UrlPatternParser::inUserinfoSet);
      password = c < 0 ? "" : UrlPatternParser.percentEncode(userinfo.substring(c + 1), UrlPatternParser::inUserinfoSet);
      authority = authority.substring(at + 1);
    }
    String host;
    String port = "";
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) {
        return null;
      }
      host = authority.substring(0, close + 1);
      String after = authority.substring(close + 1);
      if (!after.isEmpty()) {
        if (after.charAt(0) != ':') {
          return null;
        }
        port = after.substring(1);
      }
    } else {
      int c = authority.lastIndexOf(':');
      host = c < 0 ? authority : authority.substring(0, c);
      port = c < 0 ? "" : authority.substring(c + 1);
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c <= 0x20 || c > 0x7e || "#%/<>?@\\^|".indexOf(c) >= 0) {
        return null;
      }
    }
    host = host.toLowerCase(Locale.ROOT);
    if (special && !scheme.equals("file") && host.isEmpty()) {
      return null;
    }
    if (!port.isEmpty()) {
      if (port.length() > 5 || !port.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
        return null;
      }
      int number = Integer.parseInt(port);
      if (number > 65535) {
        return null;
      }
      port = String.valueOf(number).equals(UrlPatternParser.defaultPort(scheme)) ? "" : String.valueOf(number);
    }
    if (special && path.isEmpty()) {
      path = "/";
    }
    for (String segment : path.split("/", -1)) {
      String s = segment.toLowerCase(Locale.ROOT);
      if (s.equals(".") || s.equals("..") || s.equals("%2e") || s.equals(".%2e") || s.equals("%2e.") || s.equals("%2e%2e")) {
        return null;
      }
    }
    path = UrlPatternParser.percentEncode(path, UrlPatternParser::inPathSet);
    return new UrlTopic(scheme, username, password, host, port, path, search, hash);
  }
}
