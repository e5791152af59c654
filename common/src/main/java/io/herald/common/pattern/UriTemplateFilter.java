package io.herald.common.pattern;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * An RFC 6570 URI template ({@code https://example.com/books/{id}}, levels 1 to 4) used as a
 * topic selector, as Mercure's older protocol does: a topic matches when some values of the
 * variables expand the template to it. Each expression is compiled to the regular language of
 * its expansions (the operator's first string and separator, named {@code name=value} pairs for
 * {@code ; ? &}, values from the operator's allowed characters or percent-encoded triplets,
 * {@code :n} prefixes, lists and exploded lists and maps), so matching runs on an automaton,
 * without backtracking.
 *
 * <p>Approximations, all toward matching more: a variable that appears twice is not required to
 * have the same value both times, and a {@code ;} parameter with an empty value may also appear
 * as {@code ;name=}. The operators RFC 6570 reserves for future use
 * ({@code = , ! @ |}) are refused.
 */
final class UriTemplateFilter implements TopicFilter {

  private final String source;
  private final String literalPrefix;
  private final Nfa nfa;

  private UriTemplateFilter(String source, String literalPrefix, Nfa nfa) {
    this.source = source;
    this.literalPrefix = literalPrefix;
    this.nfa = nfa;
  }

  /** An operator's expansion rules (RFC 6570 appendix A). */
  private record Operator(String first, String sep, boolean named, String ifEmpty, boolean reserved) {
  }

  private static Operator operator(char c) {
    return switch (c) {
      case '+' -> new Operator("", ",", false, "", true);
      case '#' -> new Operator("#", ",", false, "", true);
      case '.' -> new Operator(".", ".", false, "", false);
      case '/' -> new Operator("/", "/", false, "", false);
      case ';' -> new Operator(";", ";", true, "", false);
      case '?' -> new Operator("?", "&", true, "=", false);
      case '&' -> new Operator("&", "&", true, "=", false);
      default -> null;
    };
  }

  private static boolean isUnreserved(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
  }

  private static boolean isReserved(int c) {
    return ":/?#[]@!$&'()*+,;=".indexOf(c) >= 0;
  }

  private static final Nfa.Re HEX = new Nfa.Chars(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'), "hex");

  /** Does {@code text} parse as a template with at least one expression? */
  static boolean isTemplate(String text) {
    try {
      return text.indexOf('{') >= 0 && parse(text) != null;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  static UriTemplateFilter parse(String source) {
    List<Nfa.Re> items = new ArrayList<>();
    StringBuilder prefix = null;
    int i = 0;
    while (i < source.length()) {
      char c = source.charAt(i);
      if (c == '{') {
        int close = source.indexOf('}', i);
        if (close < 0) {
          throw new IllegalArgumentException("a '{' at " + i + " is not closed");
        }
        if (prefix == null) {
          prefix = new StringBuilder(source.substring(0, i));
        }
        items.add(expression(source.substring(i + 1, close)));
        i = close + 1;
      } else if (c == '}') {
        throw new IllegalArgumentException("a '}' at " + i + " closes nothing");
      } else if (c <= ' ' || c > 0x7e || "\"'<>\\^`|".indexOf(c) >= 0) {
        throw new IllegalArgumentException("invalid character '" + c + "' in a URI template");
      } else {
        items.add(Nfa.literal(c));
        i++;
      }
    }
    String literal = prefix == null ? source : prefix.toString();
    return new UriTemplateFilter(source, literal, Nfa.compile(new Nfa.Seq(items)));
  }

  private static Nfa.Re expression(String body) {
    if (body.isEmpty()) {
      throw new IllegalArgumentException("empty expression {}");
    }
    Operator op = operator(body.charAt(0));
    if (op == null && "=,!@|".indexOf(body.charAt(0)) >= 0) {
      throw new IllegalArgumentException("operator '" + body.charAt(0) + "' is reserved by RFC 6570");
    }
    if (op == null) {
      op = new Operator("", ",", false, "", false);
    } else {
      body = body.substring(1);
    }
    IntPredicate allowedChar = op.reserved() ? c -> isUnreserved(c) || isReserved(c) : UriTemplateFilter::isUnreserved;
    Nfa.Re valueChar = new Nfa.Alt(List.of(new Nfa.Chars(allowedChar, "allowed"), Nfa.seq(Nfa.literal('%'), HEX, HEX)));
    List<Nfa.Re> vars = new ArrayList<>();
    for (String spec : body.split(",", -1)) {
      vars.add(varspec(spec, op, valueChar));
    }
    // One or more of the variables, in order, joined by the separator; or none at all.
    List<Nfa.Re> choices = new ArrayList<>();
    for (int first = 0; first < vars.size(); first++) {
      List<Nfa.Re> seq = new ArrayList<>();
      seq.add(vars.get(first));
      for (int next = first + 1; next < vars.size(); next++) {
        seq.add(Nfa.optional(Nfa.seq(Nfa.literal(op.sep()), vars.get(next))));
      }
      choices.add(new Nfa.Seq(seq));
    }
    return Nfa.optional(Nfa.seq(Nfa.literal(op.first()), new Nfa.Alt(choices)));
  }

  private static Nfa.Re varspec(String spec, Operator op, Nfa.Re valueChar) {
    boolean explode = spec.endsWith("*");
    int maxLength = 0;
    String name = explode ? spec.substring(0, spec.length() - 1) : spec;
    int colon = name.indexOf(':');
    if (colon >= 0) {
      String n = name.substring(colon + 1);
      if (n.isEmpty() || n.length() > 4 || !n.chars().allMatch(ch -> ch >= '0' && ch <= '9') || n.charAt(0) == '0') {
        throw new IllegalArgumentException("invalid prefix modifier in {" + spec + "} (1 to 9999)");
      }
      maxLength = Integer.parseInt(n);
      name = name.substring(0, colon);
      if (explode) {
        throw new IllegalArgumentException("{" + spec + "} has both a prefix and an explode modifier");
      }
    }
    if (!validName(name)) {
      throw new IllegalArgumentException("invalid variable name in {" + spec + "}");
    }
    Nfa.Re string;
    if (maxLength > 0) {
      List<Nfa.Re> upTo = new ArrayList<>();
      for (int k = 0; k < maxLength; k++) {
        upTo.add(Nfa.optional(valueChar));
      }
      string = new Nfa.Seq(upTo);
    } else {
      string = Nfa.star(valueChar);
    }
    Nfa.Re item = maxLength > 0 ? string : Nfa.plus(valueChar);
    // A list joins items with ','; a map, keys and values with ','.
    Nfa.Re list = Nfa.seq(item, Nfa.star(Nfa.seq(Nfa.literal(','), item)));
    Nfa.Re value = maxLength > 0 ? string : new Nfa.Alt(List.of(string, list));
    if (!explode) {
      if (!op.named()) {
        return value;
      }
      return Nfa.seq(Nfa.literal(name), new Nfa.Alt(List.of(Nfa.literal(op.ifEmpty()), Nfa.seq(Nfa.literal('='), value))));
    }
    // Exploded: list items or map pairs joined by the operator's separator; named operators
    // write name=item for a list and key=value for a map.
    Nfa.Re explodedItem = op.named()
      ? new Nfa.Alt(List.of(
          Nfa.seq(Nfa.literal(name), new Nfa.Alt(List.of(Nfa.literal(op.ifEmpty()), Nfa.seq(Nfa.literal('='), Nfa.star(valueChar))))),
          Nfa.seq(Nfa.plus(valueChar), Nfa.literal('='), Nfa.star(valueChar))))
      : new Nfa.Alt(List.of(Nfa.star(valueChar), Nfa.seq(Nfa.plus(valueChar), Nfa.literal('='), Nfa.star(valueChar))));
    return Nfa.seq(explodedItem, Nfa.star(Nfa.seq(Nfa.literal(op.sep()), explodedItem)));
  }

  private static boolean validName(String name) {
    if (name.isEmpty() || name.startsWith(".") || name.endsWith(".") || name.contains("..")) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '%' && i + 2 < name.length()) {
        i += 2;
        continue;
      }
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean matches(String topic) {
    return topic != null && nfa.matches(topic);
  }

  @Override
  public String source() {
    return source;
  }

  @Override
  public Kind kind() {
    return Kind.URI_TEMPLATE;
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
