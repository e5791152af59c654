package io.herald.common;

import java.util.ArrayList;
import java.util.List;

/**
 * A topic name or pattern a subscriber may read, from a token's topics claim or from
 * {@code gateway.publicTopics}. The syntax is deliberately small (no regular expressions from
 * tokens):
 * <ul>
 *   <li>{@code *} matches one or more characters within one segment: never {@code .}, {@code :}
 *       or {@code /}. {@code news.*} matches {@code news.sport} but not {@code news.sport.live}
 *       nor {@code news}.</li>
 *   <li>{@code {sub}} stands for the token's subject, taken literally (a subject {@code *} is
 *       the character {@code *}, not a wildcard); without a subject the pattern matches nothing.</li>
 *   <li>Everything else matches itself.</li>
 * </ul>
 * Immutable and thread-safe.
 */
public final class TopicPattern {

  /** Longest pattern accepted. */
  public static final int MAX_LENGTH = 256;
  public static final String SUBJECT = "{sub}";

  /** Parts: a String is literal text, {@link #STAR} and {@link #SUB} are placeholders. */
  private static final Object STAR = new Object();
  private static final Object SUB = new Object();

  private final String source;
  private final Object[] parts;

  private TopicPattern(String source, Object[] parts) {
    this.source = source;
    this.parts = parts;
  }

  /** The characters of a pattern's literal parts besides letters and digits: a topic's ({@link Topics#isValidTopic}). */
  private static final String LITERAL_CHARS = "-._~:/?#[]@!$&'()+,;=%";

  /** Parses a pattern; throws {@link IllegalArgumentException} saying why it is not one. */
  public static TopicPattern compile(String pattern) {
    if (pattern == null || pattern.isEmpty() || pattern.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("a topic pattern has 1 to " + MAX_LENGTH + " characters, got \"" + pattern + "\"");
    }
    List<Object> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    int i = 0;
    while (i < pattern.length()) {
      char c = pattern.charAt(i);
      if (c == '*' || pattern.startsWith(SUBJECT, i)) {
        if (literal.length() > 0) {
          parts.add(literal.toString());
          literal.setLength(0);
        }
        parts.add(c == '*' ? STAR : SUB);
        i += c == '*' ? 1 : SUBJECT.length();
      } else if (c < 128 && (Character.isLetterOrDigit(c) || LITERAL_CHARS.indexOf(c) >= 0)) {
        literal.append(c);
        i++;
      } else {
        throw new IllegalArgumentException("invalid character '" + c + "' in topic pattern \"" + pattern
          + "\" (topic characters, * and {sub} only)");
      }
    }
    if (literal.length() > 0) {
      parts.add(literal.toString());
    }
    return new TopicPattern(pattern, parts.toArray());
  }

  /** Does {@code topic} match, with {@code {sub}} standing for {@code subject} (null: no subject)? */
  public boolean matches(String topic, String subject) {
    Object[] bound = parts;
    for (int i = 0; i < parts.length; i++) {
      if (parts[i] == SUB) {
        if (subject == null || subject.isEmpty()) {
          return false;
        }
        if (bound == parts) {
          bound = parts.clone();
        }
        bound[i] = subject;
      }
    }
    return match(bound, 0, topic, 0, new byte[(bound.length + 1) * (topic.length() + 1)]);
  }

  /** Memoised (0 unknown, 1 no, 2 yes): at most parts × length states, so no blow-up on many stars. */
  private static boolean match(Object[] parts, int pi, String topic, int pos, byte[] memo) {
    int key = pi * (topic.length() + 1) + pos;
    if (memo[key] != 0) {
      return memo[key] == 2;
    }
    boolean result;
    if (pi == parts.length) {
      result = pos == topic.length();
    } else if (parts[pi] == STAR) {
      result = false;
      for (int end = pos + 1; end <= topic.length() && !isSeparator(topic.charAt(end - 1)); end++) {
        if (match(parts, pi + 1, topic, end, memo)) {
          result = true;
          break;
        }
      }
    } else {
      String lit = (String) parts[pi];
      result = topic.startsWith(lit, pos) && match(parts, pi + 1, topic, pos + lit.length(), memo);
    }
    memo[key] = (byte) (result ? 2 : 1);
    return result;
  }

  private static boolean isSeparator(char c) {
    return c == '.' || c == ':' || c == '/';
  }

  @Override
  public String toString() {
    return source;
  }
}
