package io.herald.common.pattern;

import io.herald.common.TopicPattern;

import java.util.ArrayList;
import java.util.List;

/**
 * A grant: what a token's topics claim (or the public topics) lets a subscriber read. The
 * {@link TopicPattern} syntax ({@code *} = one or more characters within a segment, {@code {sub}}
 * = the token's subject, taken literally) plus, when made by {@link #parse}, a last segment
 * {@code **} = one or more characters of any kind, separators included ({@code news.**} grants
 * {@code news.a} and {@code news.a.b}, not {@code news}). A grant made by {@link #of(TopicPattern)}
 * keeps TopicPattern's meaning exactly ({@code news.**} there is two {@code *} in one segment, so
 * two or more characters without a separator), so that no grant reads wider here than it does at
 * the gateway. Immutable and thread-safe.
 */
public final class Grant {

  private static final Object STAR = new Object();
  private static final Object SUB = new Object();
  private static final Object MULTI = new Object();

  private final String source;
  /** A String is literal text; STAR, SUB and MULTI (last only) are placeholders. */
  private final Object[] parts;

  private Grant(String source, Object[] parts) {
    this.source = source;
    this.parts = parts;
  }

  /** Parses a grant in TopicPattern syntax with a final {@code **} allowed; throws saying why not. */
  public static Grant parse(String text) {
    boolean multi = text != null && text.endsWith("**")
      && (text.length() == 2 || HeraldFilter.isSeparator(text.charAt(text.length() - 3)));
    String head = multi ? text.substring(0, text.length() - 2) : text;
    if (multi && head.isEmpty()) {
      return new Grant(text, new Object[] {MULTI});
    }
    TopicPattern.compile(head);
    if (head.contains("**")) {
      throw new IllegalArgumentException("invalid grant \"" + text + "\": ** must be the whole last segment");
    }
    Object[] parts = split(head);
    if (multi) {
      Object[] withTail = java.util.Arrays.copyOf(parts, parts.length + 1);
      withTail[parts.length] = MULTI;
      parts = withTail;
    }
    return new Grant(text, parts);
  }

  /** The grant a {@link TopicPattern} is, with TopicPattern's meaning. */
  public static Grant of(TopicPattern pattern) {
    String text = pattern.toString();
    return new Grant(text, split(text));
  }

  private static Object[] split(String text) {
    List<Object> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    int i = 0;
    while (i < text.length()) {
      boolean star = text.charAt(i) == '*';
      if (star || text.startsWith(TopicPattern.SUBJECT, i)) {
        if (literal.length() > 0) {
          parts.add(literal.toString());
          literal.setLength(0);
        }
        parts.add(star ? STAR : SUB);
        i += star ? 1 : TopicPattern.SUBJECT.length();
      } else {
        literal.append(text.charAt(i++));
      }
    }
    if (literal.length() > 0) {
      parts.add(literal.toString());
    }
    return parts.toArray();
  }

  /** The text this grant was made from. */
  public String source() {
    return source;
  }

  /** Does this grant, for {@code subject} (null: none), let its holder read {@code topic}? */
  public boolean matches(String topic, String subject) {
    Nfa nfa = nfa(subject);
    return nfa != null && topic != null && nfa.matches(topic);
  }

  /** The automaton of this grant for {@code subject}; null when it grants nothing (no subject for {sub}). */
  Nfa nfa(String subject) {
    Nfa.Re re = re(subject);
    return re == null ? null : Nfa.compile(re);
  }

  Nfa.Re re(String subject) {
    List<Nfa.Re> items = new ArrayList<>();
    for (Object p : parts) {
      if (p == STAR) {
        items.add(Nfa.plus(HeraldFilter.SEGMENT_CHAR));
      } else if (p == MULTI) {
        items.add(Nfa.plus(HeraldFilter.ANY_CHAR));
      } else if (p == SUB) {
        if (subject == null || subject.isEmpty()) {
          return null;
        }
        items.add(Nfa.literal(subject));
      } else {
        items.add(Nfa.literal((String) p));
      }
    }
    return new Nfa.Seq(items);
  }

  /** The literal characters this grant can contain for {@code subject}. */
  String literals(String subject) {
    StringBuilder b = new StringBuilder();
    for (Object p : parts) {
      if (p instanceof String s) {
        b.append(s);
      } else if (p == SUB && subject != null) {
        b.append(subject);
      }
    }
    return b.toString();
  }

  @Override
  public String toString() {
    return source;
  }
}
