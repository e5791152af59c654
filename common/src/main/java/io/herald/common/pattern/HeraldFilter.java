package io.herald.common.pattern;

import java.util.ArrayList;
import java.util.List;

/**
 * A Herald-syntax pattern (see {@link TopicFilters}): segments separated by {@code .}, {@code :}
 * or {@code /}; {@code *} is one or more characters within a segment; a last segment {@code **}
 * is one or more characters of any kind, separators included.
 */
final class HeraldFilter implements TopicFilter {

  private final String source;
  /** First segment, then each further segment with the separator before it; without a final **. */
  private final String[] tokens;
  /** The filter ends with {@code **}. */
  private final boolean multiTail;
  /** The separator before the final {@code **}, or 0 when the filter is {@code **} alone. */
  private final char tailSeparator;
  private final String literalPrefix;
  /** Built on first use: the index matches by segments and never needs it. */
  private volatile Nfa nfa;

  HeraldFilter(String source, String[] tokens, boolean multiTail, char tailSeparator) {
    this.source = source;
    this.tokens = tokens;
    this.multiTail = multiTail;
    this.tailSeparator = tailSeparator;
    int star = source.indexOf('*');
    this.literalPrefix = star < 0 ? source : source.substring(0, star);
  }

  /** The automaton of a Herald pattern (also used for grants, see {@link TopicGrants}). */
  static Nfa.Re compile(String pattern) {
    List<Nfa.Re> items = new ArrayList<>();
    boolean multi = pattern.endsWith("**") && (pattern.length() == 2 || isSeparator(pattern.charAt(pattern.length() - 3)));
    int end = multi ? pattern.length() - 2 : pattern.length();
    for (int i = 0; i < end; i++) {
      char c = pattern.charAt(i);
      items.add(c == '*' ? Nfa.plus(SEGMENT_CHAR) : Nfa.literal(c));
    }
    if (multi) {
      items.add(Nfa.plus(ANY_CHAR));
    }
    return new Nfa.Seq(items);
  }

  static final Nfa.Re SEGMENT_CHAR = new Nfa.Chars(c -> !isSeparator((char) c), "[^.:/]");
  static final Nfa.Re ANY_CHAR = new Nfa.Chars(c -> true, "any");

  static boolean isSeparator(char c) {
    return c == '.' || c == ':' || c == '/';
  }

  @Override
  public boolean matches(String topic) {
    return topic != null && nfa().matches(topic);
  }

  Nfa nfa() {
    Nfa n = nfa;
    if (n == null) {
      n = Nfa.compile(compile(source));
      nfa = n;
    }
    return n;
  }

  String[] tokens() {
    return tokens;
  }

  boolean multiTail() {
    return multiTail;
  }

  char tailSeparator() {
    return tailSeparator;
  }

  @Override
  public String source() {
    return source;
  }

  @Override
  public Kind kind() {
    return Kind.HERALD;
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
