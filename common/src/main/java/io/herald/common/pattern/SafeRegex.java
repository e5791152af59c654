package io.herald.common.pattern;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * The part of JavaScript regular-expression syntax Herald accepts in a URL pattern's
 * {@code (...)} group, compiled to an {@link Nfa} (so matched without backtracking, in time linear
 * in the topic whatever the expression): literal characters and escapes, {@code .},
 * {@code \d \D \w \W \s \S}, character classes {@code [a-z0-9_]} and {@code [^/]}, non-capturing
 * groups {@code (?:...)}, alternation {@code |} and the quantifiers {@code ? * +} (and their lazy
 * forms {@code ?? *? +?}, the same for a yes/no match). Everything else (anchors, lookarounds,
 * back-references, counted repetition {@code {n,m}}, flags) is refused with a message saying so.
 */
final class SafeRegex {

  private final String src;
  private int pos;

  private SafeRegex(String src) {
    this.src = src;
  }

  static Nfa.Re parse(String regexp) {
    SafeRegex p = new SafeRegex(regexp);
    Nfa.Re re = p.alternation();
    if (p.pos != regexp.length()) {
      throw p.unsupported("unexpected '" + regexp.charAt(p.pos) + "'");
    }
    return re;
  }

  private IllegalArgumentException unsupported(String why) {
    return new IllegalArgumentException("regexp group (" + src + ") is not supported: " + why
      + " (Herald accepts literals, ., \\d \\w \\s, [classes], (?:groups), | and ? * +)");
  }

  private Nfa.Re alternation() {
    List<Nfa.Re> alts = new ArrayList<>();
    alts.add(sequence());
    while (pos < src.length() && src.charAt(pos) == '|') {
      pos++;
      alts.add(sequence());
    }
    return alts.size() == 1 ? alts.get(0) : new Nfa.Alt(alts);
  }

  private Nfa.Re sequence() {
    List<Nfa.Re> items = new ArrayList<>();
    while (pos < src.length() && src.charAt(pos) != '|' && src.charAt(pos) != ')') {
      Nfa.Re atom = atom();
      if (pos < src.length()) {
        char q = src.charAt(pos);
        if (q == '?' || q == '*' || q == '+') {
          pos++;
          atom = q == '?' ? Nfa.optional(atom) : q == '*' ? Nfa.star(atom) : Nfa.plus(atom);
          if (pos < src.length() && src.charAt(pos) == '?') {
            pos++;
          }
          if (pos < src.length() && "?*+{".indexOf(src.charAt(pos)) >= 0) {
            throw unsupported("a quantifier after a quantifier");
          }
        } else if (q == '{') {
          throw unsupported("counted repetition {n,m}");
        }
      }
      items.add(atom);
    }
    return new Nfa.Seq(items);
  }

  private Nfa.Re atom() {
    char c = src.charAt(pos);
    switch (c) {
      case '(' -> {
        if (!src.startsWith("(?:", pos)) {
          throw unsupported("only non-capturing groups (?:...) are allowed");
        }
        pos += 3;
        Nfa.Re inner = alternation();
        if (pos >= src.length() || src.charAt(pos) != ')') {
          throw unsupported("unclosed group");
        }
        pos++;
        return inner;
      }
      case '[' -> {
        return charClass();
      }
      case '.' -> {
        pos++;
        return new Nfa.Chars(ch -> ch != '\n' && ch != '\r' && ch != 0x2028 && ch != 0x2029, ".");
      }
      case '\\' -> {
        pos++;
        return new Nfa.Chars(escape(), "\\" + src.charAt(pos - 1));
      }
      case '^', '$' -> throw unsupported("anchors");
      case '*', '+', '?', '{', '}', ']' -> throw unsupported("unexpected '" + c + "'");
      default -> {
        pos++;
        return Nfa.literal(c);
      }
    }
  }

  /** After a backslash: a class escape or an escaped punctuation character. */
  private IntPredicate escape() {
    if (pos >= src.length()) {
      throw unsupported("a \\ at the end");
    }
    char e = src.charAt(pos++);
    return switch (e) {
      case 'd' -> SafeRegex::isDigit;
      case 'D' -> ch -> !isDigit(ch);
      case 'w' -> SafeRegex::isWord;
      case 'W' -> ch -> !isWord(ch);
      case 's' -> SafeRegex::isSpace;
      case 'S' -> ch -> !isSpace(ch);
      case 'n' -> ch -> ch == '\n';
      case 't' -> ch -> ch == '\t';
      default -> {
        if (Character.isLetterOrDigit(e)) {
          throw unsupported("escape \\" + e);
        }
        yield ch -> ch == e;
      }
    };
  }

  private Nfa.Re charClass() {
    int start = pos;
    pos++;
    boolean negated = pos < src.length() && src.charAt(pos) == '^';
    if (negated) {
      pos++;
    }
    List<IntPredicate> members = new ArrayList<>();
    while (true) {
      if (pos >= src.length()) {
        throw unsupported("unclosed [class]");
      }
      char c = src.charAt(pos);
      if (c == ']') {
        pos++;
        break;
      }
      IntPredicate member;
      char low;
      if (c == '\\') {
        pos++;
        char e = pos < src.length() ? src.charAt(pos) : 0;
        member = escape();
        if ("dDwWsS".indexOf(e) >= 0) {
          members.add(member);
          continue;
        }
        low = e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else if (c == '[') {
        throw unsupported("nested [ in a class");
      } else {
        pos++;
        low = c;
      }
      if (pos + 1 < src.length() && src.charAt(pos) == '-' && src.charAt(pos + 1) != ']') {
        pos++;
        char high = src.charAt(pos++);
        if (high == '\\') {
          if (pos >= src.length()) {
            throw unsupported("a \\ at the end");
          }
          high = src.charAt(pos++);
          if (Character.isLetterOrDigit(high)) {
            throw unsupported("a class escape as a range end");
          }
        }
        if (high < low) {
          throw unsupported("range out of order");
        }
        char lo = low;
        char hi = high;
        members.add(ch -> ch >= lo && ch <= hi);
      } else {
        char only = low;
        members.add(ch -> ch == only);
      }
    }
    IntPredicate[] all = members.toArray(new IntPredicate[0]);
    IntPredicate any = ch -> {
      for (IntPredicate m : all) {
        if (m.test(ch)) {
          return true;
        }
      }
      return false;
    };
    return new Nfa.Chars(negated ? any.negate() : any, src.substring(start, pos));
  }

  static boolean isDigit(int c) {
    return c >= '0' && c <= '9';
  }

  static boolean isWord(int c) {
    return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }

  static boolean isSpace(int c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0 || c == 0xfeff || Character.isSpaceChar(c);
  }
}
