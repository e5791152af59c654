package io.herald.common.pattern;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * The WHATWG URL Pattern standard's tokenizer, constructor-string parser and pattern-string parser
 * (https://urlpattern.spec.whatwg.org/), followed step by step, producing per component a list of
 * {@link Part}s that {@link UrlPatternFilter} compiles to automata instead of JavaScript regular
 * expressions. Only what Herald needs: a pattern given as one absolute constructor string, no
 * base URL, no {@code ignoreCase}.
 */
final class UrlPatternParser {

  private UrlPatternParser() {
  }

  static final String[] COMPONENTS = {"protocol", "username", "password", "hostname", "port", "pathname", "search", "hash"};
  static final int PROTOCOL = 0, USERNAME = 1, PASSWORD = 2, HOSTNAME = 3, PORT = 4, PATHNAME = 5, SEARCH = 6, HASH = 7;
  /** Not a component: the host name when it is an IPv6 address pattern (its own encoding callback). */
  static final int IPV6_HOSTNAME = 8;
  static final List<String> SPECIAL_SCHEMES = List.of("ftp", "file", "http", "https", "ws", "wss");

  static String defaultPort(String scheme) {
    return switch (scheme) {
      case "ftp" -> "21";
      case "http", "ws" -> "80";
      case "https", "wss" -> "443";
      default -> null;
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Tokenizer (spec section 2.1)

  enum TokenType { OPEN, CLOSE, REGEXP, NAME, CHAR, ESCAPED_CHAR, OTHER_MODIFIER, ASTERISK, END, INVALID_CHAR }

  record Token(TokenType type, int index, String value) {
  }

  static List<Token> tokenize(String input, boolean strict) {
    List<Token> tokens = new ArrayList<>();
    int i = 0;
    int n = input.length();
    while (i < n) {
      char c = input.charAt(i);
      if (c == '*') {
        tokens.add(new Token(TokenType.ASTERISK, i, "*"));
        i++;
      } else if (c == '+' || c == '?') {
        tokens.add(new Token(TokenType.OTHER_MODIFIER, i, String.valueOf(c)));
        i++;
      } else if (c == '\\') {
        if (i == n - 1) {
          i = error(tokens, strict, input, i, n, "a \\ at the end escapes nothing");
          continue;
        }
        tokens.add(new Token(TokenType.ESCAPED_CHAR, i, String.valueOf(input.charAt(i + 1))));
        i += 2;
      } else if (c == '{') {
        tokens.add(new Token(TokenType.OPEN, i, "{"));
        i++;
      } else if (c == '}') {
        tokens.add(new Token(TokenType.CLOSE, i, "}"));
        i++;
      } else if (c == ':') {
        int j = i + 1;
        while (j < n && isNameChar(input.charAt(j), j == i + 1)) {
          j++;
        }
        if (j == i + 1) {
          i = error(tokens, strict, input, i, i + 1, "':' at " + i + " starts no group name");
          continue;
        }
        tokens.add(new Token(TokenType.NAME, i, input.substring(i + 1, j)));
        i = j;
      } else if (c == '(') {
        int depth = 1;
        int j = i + 1;
        StringBuilder regexp = new StringBuilder();
        String problem = null;
        if (j < n && input.charAt(j) == '?') {
          problem = "a regexp group may not start with '?' (at " + j + ")";
        }
        while (problem == null && j < n) {
          char r = input.charAt(j);
          if (r > 0x7f) {
            problem = "non-ASCII character in a regexp group (at " + j + ")";
            break;
          }
          if (r == '\\') {
            if (j == n - 1 || input.charAt(j + 1) > 0x7f) {
              problem = "bad escape in a regexp group (at " + j + ")";
              break;
            }
            regexp.append(r).append(input.charAt(j + 1));
            j += 2;
            continue;
          }
          if (r == ')') {
            depth--;
            if (depth == 0) {
              j++;
              break;
            }
          } else if (r == '(') {
            depth++;
            if (j == n - 1) {
              problem = "unclosed regexp group";
              break;
            }
            if (input.charAt(j + 1) != '?') {
              problem = "capturing groups inside a regexp group are not allowed (at " + j + ")";
              break;
            }
          }
          regexp.append(r);
          j++;
        }
        if (problem == null && depth != 0) {
          problem = "unclosed regexp group (at " + i + ")";
        }
        if (problem == null && regexp.length() == 0) {
          problem = "empty regexp group (at " + i + ")";
        }
        if (problem != null) {
          i = error(tokens, strict, input, i, i + 1, problem);
          continue;
        }
        tokens.add(new Token(TokenType.REGEXP, i, regexp.toString()));
        i = j;
      } else {
        tokens.add(new Token(TokenType.CHAR, i, String.valueOf(c)));
        i++;
      }
    }
    tokens.add(new Token(TokenType.END, n, ""));
    return tokens;
  }

  private static int error(List<Token> tokens, boolean strict, String input, int start, int next, String why) {
    if (strict) {
      throw new IllegalArgumentException(why);
    }
    tokens.add(new Token(TokenType.INVALID_CHAR, start, input.substring(start, next)));
    return next;
  }

  /** Group names: ASCII identifier characters only (the spec allows any Unicode identifier). */
  private static boolean isNameChar(char c, boolean first) {
    return c == '$' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
  }

  // ---------------------------------------------------------------------------------------------
  // Constructor string parser (spec section 1.4 "parse a constructor string")

  private enum State { INIT, PROTOCOL, AUTHORITY, USERNAME, PASSWORD, HOSTNAME, PORT, PATHNAME, SEARCH, HASH, DONE }

  private static final class CtorParser {
    final String input;
    final List<Token> tokens;
    final String[] result = new String[8];
    int componentStart;
    int tokenIndex;
    int tokenIncrement = 1;
    int groupDepth;
    int ipv6Depth;
    boolean protocolSpecial;
    State state = State.INIT;

    CtorParser(String input) {
      this.input = input;
      this.tokens = tokenize(input, false);
    }

    String[] parse() {
      while (tokenIndex < tokens.size()) {
        tokenIncrement = 1;
        if (tokens.get(tokenIndex).type() == TokenType.END) {
          if (state == State.INIT) {
            rewind();
            if (isHashPrefix()) {
              changeState(State.HASH, 1);
            } else if (isSearchPrefix()) {
              changeState(State.SEARCH, 1);
            } else {
              changeState(State.PATHNAME, 0);
            }
            tokenIndex += tokenIncrement;
            continue;
          }
          if (state == State.AUTHORITY) {
            rewindAndSetState(State.HOSTNAME);
            tokenIndex += tokenIncrement;
            continue;
          }
          changeState(State.DONE, 0);
          break;
        }
        if (groupDepth > 0) {
          if (isGroupClose()) {
            groupDepth--;
          } else {
            tokenIndex += tokenIncrement;
            continue;
          }
        }
        if (isGroupOpen()) {
          groupDepth++;
          tokenIndex += tokenIncrement;
          continue;
        }
        switch (state) {
          case INIT -> {
            if (isProtocolSuffix()) {
              rewindAndSetState(State.PROTOCOL);
            }
          }
          case PROTOCOL -> {
            if (isProtocolSuffix()) {
              computeProtocolMatchesSpecialScheme();
              State next = State.PATHNAME;
              int skip = 1;
              if (nextIsAuthoritySlashes()) {
                next = State.AUTHORITY;
                skip = 3;
              } else if (protocolSpecial) {
                next = State.AUTHORITY;
              }
              changeState(next, skip);
            }
          }
          case AUTHORITY -> {
            if (isIdentityTerminator()) {
              rewindAndSetState(State.USERNAME);
            } else if (isPathnameStart() || isSearchPrefix() || isHashPrefix()) {
              rewindAndSetState(State.HOSTNAME);
            }
          }
          case USERNAME -> {
            if (isPasswordPrefix()) {
              changeState(State.PASSWORD, 1);
            } else if (isIdentityTerminator()) {
              changeState(State.HOSTNAME, 1);
            }
          }
          case PASSWORD -> {
            if (isIdentityTerminator()) {
              changeState(State.HOSTNAME, 1);
            }
          }
          case HOSTNAME -> {
            if (isNonSpecial(tokenIndex, "[")) {
              ipv6Depth++;
            } else if (isNonSpecial(tokenIndex, "]")) {
              ipv6Depth--;
            } else if (isNonSpecial(tokenIndex, ":") && ipv6Depth == 0) {
              changeState(State.PORT, 1);
            } else if (isPathnameStart()) {
              changeState(State.PATHNAME, 0);
            } else if (isSearchPrefix()) {
              changeState(State.SEARCH, 1);
            } else if (isHashPrefix()) {
              changeState(State.HASH, 1);
            }
          }
          case PORT -> {
            if (isPathnameStart()) {
              changeState(State.PATHNAME, 0);
            } else if (isSearchPrefix()) {
              changeState(State.SEARCH, 1);
            } else if (isHashPrefix()) {
              changeState(State.HASH, 1);
            }
          }
          case PATHNAME -> {
            if (isSearchPrefix()) {
              changeState(State.SEARCH, 1);
            } else if (isHashPrefix()) {
              changeState(State.HASH, 1);
            }
          }
          case SEARCH -> {
            if (isHashPrefix()) {
              changeState(State.HASH, 1);
            }
          }
          default -> {
          }
        }
        tokenIndex += tokenIncrement;
      }
      if (result[HOSTNAME] != null && result[PORT] == null) {
        result[PORT] = "";
      }
      return result;
    }

    private void changeState(State next, int skip) {
      if (state != State.INIT && state != State.AUTHORITY && state != State.DONE) {
        result[componentIndex(state)] = makeComponentString();
      }
      if (state != State.INIT && next != State.DONE) {
        boolean early = state == State.PROTOCOL || state == State.AUTHORITY || state == State.USERNAME || state == State.PASSWORD;
        if (early && (next == State.PORT || next == State.PATHNAME || next == State.SEARCH || next == State.HASH)
          && result[HOSTNAME] == null) {
          result[HOSTNAME] = "";
        }
        if ((early || state == State.HOSTNAME || state == State.PORT) && (next == State.SEARCH || next == State.HASH)
          && result[PATHNAME] == null) {
          result[PATHNAME] = protocolSpecial ? "/" : "";
        }
        if ((early || state == State.HOSTNAME || state == State.PORT || state == State.PATHNAME) && next == State.HASH
          && result[SEARCH] == null) {
          result[SEARCH] = "";
        }
      }
      state = next;
      tokenIndex += skip;
      componentStart = tokenIndex;
      tokenIncrement = 0;
    }

    private static int componentIndex(State s) {
      return switch (s) {
        case PROTOCOL -> PROTOCOL;
        case USERNAME -> USERNAME;
        case PASSWORD -> PASSWORD;
        case HOSTNAME -> HOSTNAME;
        case PORT -> PORT;
        case PATHNAME -> PATHNAME;
        case SEARCH -> SEARCH;
        case HASH -> HASH;
        default -> throw new IllegalStateException(s.name());
      };
    }

    private void rewind() {
      tokenIndex = componentStart;
      tokenIncrement = 0;
    }

    private void rewindAndSetState(State s) {
      rewind();
      state = s;
    }

    private Token safeToken(int index) {
      return index < tokens.size() ? tokens.get(index) : tokens.get(tokens.size() - 1);
    }

    private String makeComponentString() {
      int start = safeToken(componentStart).index();
      int end = tokens.get(tokenIndex).index();
      return input.substring(start, end);
    }

    private boolean isNonSpecial(int index, String value) {
      Token t = safeToken(index);
      if (!t.value().equals(value)) {
        return false;
      }
      return t.type() == TokenType.CHAR || t.type() == TokenType.ESCAPED_CHAR || t.type() == TokenType.INVALID_CHAR;
    }

    private boolean isProtocolSuffix() {
      return isNonSpecial(tokenIndex, ":");
    }

    private boolean nextIsAuthoritySlashes() {
      return isNonSpecial(tokenIndex + 1, "/") && isNonSpecial(tokenIndex + 2, "/");
    }

    private boolean isIdentityTerminator() {
      return isNonSpecial(tokenIndex, "@");
    }

    private boolean isPasswordPrefix() {
      return isNonSpecial(tokenIndex, ":");
    }

    private boolean isPathnameStart() {
      return isNonSpecial(tokenIndex, "/");
    }

    private boolean isSearchPrefix() {
      if (isNonSpecial(tokenIndex, "?")) {
        return true;
      }
      if (!tokens.get(tokenIndex).value().equals("?")) {
        return false;
      }
      int previous = tokenIndex - 1;
      if (previous < 0) {
        return true;
      }
      TokenType t = safeToken(previous).type();
      return !(t == TokenType.NAME || t == TokenType.REGEXP || t == TokenType.CLOSE || t == TokenType.ASTERISK);
    }

    private boolean isHashPrefix() {
      return isNonSpecial(tokenIndex, "#");
    }

    private boolean isGroupOpen() {
      return tokens.get(tokenIndex).type() == TokenType.OPEN;
    }

    private boolean isGroupClose() {
      return tokens.get(tokenIndex).type() == TokenType.CLOSE;
    }

    private void computeProtocolMatchesSpecialScheme() {
      String protocol = makeComponentString();
      List<Part> parts = parsePattern(protocol, Options.DEFAULT, PROTOCOL, false);
      Nfa nfa = Nfa.compile(UrlPatternFilter.toRe(parts, Options.DEFAULT));
      protocolSpecial = SPECIAL_SCHEMES.stream().anyMatch(nfa::matches);
    }
  }

  /** The eight component pattern strings of a constructor string; absent ones are null. */
  static String[] parseConstructorString(String input) {
    return new CtorParser(input).parse();
  }

  // ---------------------------------------------------------------------------------------------
  // Pattern parser (spec section 2.2 "parse a pattern string")

  enum PartType { FIXED, REGEXP, SEGMENT_WILDCARD, FULL_WILDCARD }

  enum Modifier { NONE, OPTIONAL, ZERO_OR_MORE, ONE_OR_MORE }

  record Part(PartType type, String value, Modifier modifier, String name, String prefix, String suffix) {
  }

  /** Delimiter and prefix code point of a component ("" when none). */
  record Options(String delimiter, String prefix) {
    static final Options DEFAULT = new Options("", "");
    static final Options HOSTNAME = new Options(".", "");
    static final Options PATHNAME = new Options("/", "/");

    String segmentWildcardRegexp() {
      return "[^" + escapeRegexp(delimiter) + "]+?";
    }
  }

  static String escapeRegexp(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (".+*?^${}()[]|/\\".indexOf(c) >= 0) {
        b.append('\\');
      }
      b.append(c);
    }
    return b.toString();
  }

  /**
   * Parses one component's pattern string. {@code component} picks the encoding callback applied
   * to fixed text; {@code opaquePath} says the pathname is not a special-scheme path.
   */
  static List<Part> parsePattern(String input, Options options, int component, boolean opaquePath) {
    List<Token> tokens = tokenize(input, true);
    List<Part> parts = new ArrayList<>();
    StringBuilder pending = new StringBuilder();
    Set<String> names = new HashSet<>();
    int[] index = {0};
    int[] nextNumeric = {0};
    while (index[0] < tokens.size()) {
      Token charToken = tryConsume(tokens, index, TokenType.CHAR);
      Token nameToken = tryConsume(tokens, index, TokenType.NAME);
      Token regexpOrWildcard = tryConsumeRegexpOrWildcard(tokens, index, nameToken);
      if (nameToken != null || regexpOrWildcard != null) {
        String prefix = charToken == null ? "" : charToken.value();
        if (!prefix.isEmpty() && !prefix.equals(options.prefix())) {
          pending.append(prefix);
          prefix = "";
        }
        flushPending(pending, parts, component, opaquePath);
        Token modifier = tryConsumeModifier(tokens, index);
        addPart(parts, pending, names, nextNumeric, options, component, opaquePath, prefix, nameToken, regexpOrWildcard, "", modifier);
        continue;
      }
      Token fixed = charToken != null ? charToken : tryConsume(tokens, index, TokenType.ESCAPED_CHAR);
      if (fixed != null) {
        pending.append(fixed.value());
        continue;
      }
      Token open = tryConsume(tokens, index, TokenType.OPEN);
      if (open != null) {
        String prefix = consumeText(tokens, index);
        Token name = tryConsume(tokens, index, TokenType.NAME);
        Token regexp = tryConsumeRegexpOrWildcard(tokens, index, name);
        String suffix = consumeText(tokens, index);
        consumeRequired(tokens, index, TokenType.CLOSE, "a '{' group is not closed by '}'");
        Token modifier = tryConsumeModifier(tokens, index);
        addPart(parts, pending, names, nextNumeric, options, component, opaquePath, prefix, name, regexp, suffix, modifier);
        continue;
      }
      flushPending(pending, parts, component, opaquePath);
      consumeRequired(tokens, index, TokenType.END, "unexpected '" + tokens.get(index[0]).value() + "' at " + tokens.get(index[0]).index());
    }
    return parts;
  }

  private static Token tryConsume(List<Token> tokens, int[] index, TokenType type) {
    Token t = tokens.get(index[0]);
    if (t.type() != type) {
      return null;
    }
    index[0]++;
    return t;
  }

  private static Token tryConsumeModifier(List<Token> tokens, int[] index) {
    Token t = tryConsume(tokens, index, TokenType.OTHER_MODIFIER);
    return t != null ? t : tryConsume(tokens, index, TokenType.ASTERISK);
  }

  private static Token tryConsumeRegexpOrWildcard(List<Token> tokens, int[] index, Token name) {
    Token t = tryConsume(tokens, index, TokenType.REGEXP);
    if (name == null && t == null) {
      t = tryConsume(tokens, index, TokenType.ASTERISK);
    }
    return t;
  }

  private static void consumeRequired(List<Token> tokens, int[] index, TokenType type, String why) {
    if (tryConsume(tokens, index, type) == null) {
      throw new IllegalArgumentException(why);
    }
  }

  private static String consumeText(List<Token> tokens, int[] index) {
    StringBuilder b = new StringBuilder();
    while (true) {
      Token t = tryConsume(tokens, index, TokenType.CHAR);
      if (t == null) {
        t = tryConsume(tokens, index, TokenType.ESCAPED_CHAR);
      }
      if (t == null) {
        return b.toString();
      }
      b.append(t.value());
    }
  }

  private static void flushPending(StringBuilder pending, List<Part> parts, int component, boolean opaquePath) {
    if (pending.length() == 0) {
      return;
    }
    parts.add(new Part(PartType.FIXED, encode(pending.toString(), component, opaquePath), Modifier.NONE, "", "", ""));
    pending.setLength(0);
  }

  private static void addPart(List<Part> parts, StringBuilder pending, Set<String> names, int[] nextNumeric, Options options,
                              int component, boolean opaquePath, String prefix, Token nameToken, Token regexpOrWildcard,
                              String suffix, Token modifierToken) {
    Modifier modifier = Modifier.NONE;
    if (modifierToken != null) {
      modifier = switch (modifierToken.value()) {
        case "?" -> Modifier.OPTIONAL;
        case "*" -> Modifier.ZERO_OR_MORE;
        default -> Modifier.ONE_OR_MORE;
      };
    }
    if (nameToken == null && regexpOrWildcard == null && modifier == Modifier.NONE) {
      pending.append(prefix);
      return;
    }
    flushPending(pending, parts, component, opaquePath);
    if (nameToken == null && regexpOrWildcard == null) {
      if (prefix.isEmpty()) {
        return;
      }
      parts.add(new Part(PartType.FIXED, encode(prefix, component, opaquePath), modifier, "", "", ""));
      return;
    }
    String regexp;
    if (regexpOrWildcard == null) {
      regexp = options.segmentWildcardRegexp();
    } else if (regexpOrWildcard.type() == TokenType.ASTERISK) {
      regexp = ".*";
    } else {
      regexp = regexpOrWildcard.value();
    }
    PartType type = PartType.REGEXP;
    if (regexp.equals(options.segmentWildcardRegexp())) {
      type = PartType.SEGMENT_WILDCARD;
      regexp = "";
    } else if (regexp.equals(".*")) {
      type = PartType.FULL_WILDCARD;
      regexp = "";
    }
    String name = nameToken != null ? nameToken.value() : String.valueOf(nextNumeric[0]++);
    if (!names.add(name)) {
      throw new IllegalArgumentException("group name '" + name + "' is used twice");
    }
    parts.add(new Part(type, regexp, modifier, name, encode(prefix, component, opaquePath), encode(suffix, component, opaquePath)));
  }

  // ---------------------------------------------------------------------------------------------
  // Encoding callbacks for fixed text (spec section 3 "canonicalize ..."), for ASCII input.

  static String encode(String value, int component, boolean opaquePath) {
    if (value.isEmpty()) {
      return value;
    }
    return switch (component) {
      case PROTOCOL -> {
        for (int i = 0; i < value.length(); i++) {
          char c = value.charAt(i);
          boolean ok = isAsciiAlpha(c) || (i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'));
          if (!ok) {
            throw new IllegalArgumentException("invalid URL scheme \"" + value + "\"");
          }
        }
        yield value.toLowerCase(Locale.ROOT);
      }
      case USERNAME, PASSWORD -> percentEncode(value, UrlPatternParser::inUserinfoSet);
      case IPV6_HOSTNAME -> {
        {
          for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!(isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '[' || c == ']' || c == ':')) {
              throw new IllegalArgumentException("invalid character '" + c + "' in IPv6 host name \"" + value + "\"");
            }
          }
          yield value.toLowerCase(Locale.ROOT);
        }
      }
      case HOSTNAME -> {
        for (int i = 0; i < value.length(); i++) {
          char c = value.charAt(i);
          if (c > 0x7e) {
            throw new IllegalArgumentException("non-ASCII host names are not supported (write the punycode form): \"" + value + "\"");
          }
          if (c <= 0x20 || "#/:<>?@[\\]^|".indexOf(c) >= 0) {
            throw new IllegalArgumentException("invalid character '" + c + "' in host name \"" + value + "\"");
          }
        }
        yield value.toLowerCase(Locale.ROOT);
      }
      case PORT -> {
        for (int i = 0; i < value.length(); i++) {
          if (!isDigit(value.charAt(i))) {
            throw new IllegalArgumentException("invalid port \"" + value + "\"");
          }
        }
        if (value.length() > 5 || Integer.parseInt(value) > 65535) {
          throw new IllegalArgumentException("invalid port \"" + value + "\"");
        }
        yield value;
      }
      case PATHNAME -> opaquePath ? percentEncode(value, UrlPatternParser::inC0Set) : percentEncode(value, UrlPatternParser::inPathSet);
      case SEARCH -> percentEncode(value, UrlPatternParser::inSpecialQuerySet);
      default -> percentEncode(value, UrlPatternParser::inFragmentSet);
    };
  }

  static boolean isAsciiAlpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  static boolean inC0Set(int c) {
    return c < 0x20 || c > 0x7e;
  }

  static boolean inFragmentSet(int c) {
    return inC0Set(c) || c == ' ' || c == '"' || c == '<' || c == '>' || c == '`';
  }

  static boolean inQuerySet(int c) {
    return inC0Set(c) || c == ' ' || c == '"' || c == '#' || c == '<' || c == '>';
  }

  static boolean inSpecialQuerySet(int c) {
    return inQuerySet(c) || c == '\'';
  }

  static boolean inPathSet(int c) {
    return inQuerySet(c) || c == '?' || c == '^' || c == '`' || c == '{' || c == '}';
  }

  static boolean inUserinfoSet(int c) {
    return inPathSet(c) || c == '/' || c == ':' || c == ';' || c == '=' || c == '@' || (c >= '[' && c <= '^') || c == '|';
  }

  static String percentEncode(String value, IntPredicate set) {
    StringBuilder b = null;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (set.test(c)) {
        if (b == null) {
          b = new StringBuilder(value.substring(0, i));
        }
        int end = Character.isHighSurrogate(c) && i + 1 < value.length() ? i + 2 : i + 1;
        for (byte x : value.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
          b.append('%').append(Character.toUpperCase(Character.forDigit((x >> 4) & 0xf, 16)))
            .append(Character.toUpperCase(Character.forDigit(x & 0xf, 16)));
        }
        i = end - 1;
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? value : b.toString();
  }
}
