package io.herald.common.pattern;

import io.herald.common.TopicPattern;

import java.util.ArrayList;
import java.util.List;

/**
 * Does a set of grants allow a subscription? {@link #covers} is true only when every topic the
 * requested filter can match is read-allowed by at least one grant; it never answers true when
 * some matching topic is not granted (sound), and may answer false in rare cases where it is
 * (see below), which the client sees as a 403.
 *
 * <ul>
 *   <li><b>Exact topic</b>: covered when a grant matches it (exactly what the gateway checks
 *       today).</li>
 *   <li><b>Herald pattern</b>: covered when one grant contains it: both are regular languages
 *       (literals, {@code *} = one or more non-separator characters, a final {@code **} = one or
 *       more characters), and containment is decided exactly by exploring the product of the
 *       pattern's automaton and the grant's determinized one. {@code news.*} is covered by
 *       {@code news.*}, {@code news.**} or {@code *.*}, not by {@code news.s*}; {@code a*} is
 *       not covered by {@code ab*} (it matches {@code ac}). Coverage by several grants together
 *       (e.g. {@code a*} by {@code a} + {@code a?*}...) is not looked for: false.</li>
 *   <li><b>URL pattern or URI template</b>: covered when one grant contains everything starting with its
 *       {@link TopicFilter#literalPrefix() literal prefix} P (P plus one or more characters, or P
 *       itself when the pattern matches P). Per the URL Pattern standard a pattern string leaves
 *       user name and password as wildcards, so {@code https://example.com/books/:id} matches
 *       {@code https://bob@example.com/books/1} and its literal prefix is only {@code https://}:
 *       only a grant like {@code https://**} covers it; {@code https://\:@example.com/books/:id}
 *       (user info empty) has the prefix {@code https://example.com/books/} and is covered by the
 *       grant {@code https://example.com/books/**}.</li>
 * </ul>
 * Past {@link #MAX_PAIRS} explored states the answer is false (a guard against hostile sizes; real
 * patterns need tens).
 */
public final class TopicGrants {

  /** States of the containment product explored before answering false. */
  public static final int MAX_PAIRS = 50_000;

  /** Candidates to stand for "any other character" in the containment alphabet. */
  private static final String OTHERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-@~!%?#";

  private TopicGrants() {
  }

  /**
   * Grants as the gateway holds them today ({@link TopicPattern}, read with TopicPattern's meaning,
   * see {@link Grant#of}). {@code subject}: the token's subject, for {@code {sub}} (null: none).
   */
  public static boolean covers(List<TopicPattern> grants, TopicFilter requested, String subject) {
    List<Grant> converted = new ArrayList<>(grants.size());
    for (TopicPattern p : grants) {
      converted.add(Grant.of(p));
    }
    if (requested.kind() == TopicFilter.Kind.EXACT) {
      for (TopicPattern p : grants) {
        if (p.matches(requested.source(), subject)) {
          return true;
        }
      }
      return false;
    }
    return coversGrants(converted, requested, subject);
  }

  /** The same for {@link Grant}s, which may end with {@code **}. */
  public static boolean coversGrants(List<Grant> grants, TopicFilter requested, String subject) {
    if (requested.kind() == TopicFilter.Kind.EXACT) {
      for (Grant g : grants) {
        if (g.matches(requested.source(), subject)) {
          return true;
        }
      }
      return false;
    }
    Nfa.Re wanted;
    String wantedLiterals;
    if (requested instanceof HeraldFilter h) {
      wanted = HeraldFilter.compile(h.source());
      wantedLiterals = h.source();
    } else {
      String prefix = requested.literalPrefix();
      Nfa.Re rest = requested.matches(prefix) ? Nfa.star(HeraldFilter.ANY_CHAR) : Nfa.plus(HeraldFilter.ANY_CHAR);
      wanted = Nfa.seq(Nfa.literal(prefix), rest);
      wantedLiterals = prefix;
    }
    Nfa wantedNfa = Nfa.compile(wanted);
    for (Grant g : grants) {
      Nfa.Re re = g.re(subject);
      if (re == null) {
        continue;
      }
      if (Nfa.contains(Nfa.compile(re), wantedNfa, alphabet(wantedLiterals + g.literals(subject)), MAX_PAIRS)) {
        return true;
      }
    }
    return false;
  }

  /**
   * One character per class the automata tell apart: every literal, the separators (which
   * {@code *} refuses), and one character that is none of those (what {@code *} stands for).
   */
  static String alphabet(String literals) {
    StringBuilder b = new StringBuilder(".:/");
    literals.chars().distinct().filter(c -> b.indexOf(String.valueOf((char) c)) < 0).forEach(c -> b.append((char) c));
    for (char c : OTHERS.toCharArray()) {
      if (b.indexOf(String.valueOf(c)) < 0) {
        return b.append(c).toString();
      }
    }
    for (char c = 0x100; ; c++) {
      if (b.indexOf(String.valueOf(c)) < 0) {
        return b.append(c).toString();
      }
    }
  }
}
