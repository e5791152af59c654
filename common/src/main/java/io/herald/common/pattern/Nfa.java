package io.herald.common.pattern;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * A Thompson automaton run by state sets, never by backtracking: matching a string of length n
 * against an automaton of m states costs O(n × m) whatever the pattern, so no hostile pattern or
 * topic can make a match slow (the reason Herald does not hand patterns to java.util.regex).
 * Immutable once built, so thread-safe.
 */
final class Nfa {

  /** Regular expressions over characters, the few shapes Herald's syntaxes compile to. */
  sealed interface Re permits Chars, Seq, Alt, Rep {
  }

  /**
   * One character: {@code literal} when it is at least 0, else one accepted by {@code test};
   * {@code label} is for debugging.
   */
  record Chars(IntPredicate test, String label, int literal) implements Re {
    Chars(IntPredicate test, String label) {
      this(test, label, -1);
    }
  }

  record Seq(List<Re> items) implements Re {
  }

  record Alt(List<Re> items) implements Re {
  }

  /** {@code item} repeated min (0 or 1) to max (1 or unbounded) times. */
  record Rep(Re item, int min, boolean unbounded) implements Re {
  }

  static Re literal(char c) {
    return new Chars(null, null, c);
  }

  static Re literal(String s) {
    List<Re> items = new ArrayList<>(s.length());
    for (int i = 0; i < s.length(); i++) {
      items.add(literal(s.charAt(i)));
    }
    return new Seq(items);
  }

  static Re seq(Re... items) {
    return new Seq(List.of(items));
  }

  static Re optional(Re item) {
    return new Rep(item, 0, false);
  }

  static Re star(Re item) {
    return new Rep(item, 0, true);
  }

  static Re plus(Re item) {
    return new Rep(item, 1, true);
  }

  /** Automata larger than this are refused (a pattern is at most 256 characters; this is slack). */
  static final int MAX_STATES = 20_000;

  // State i: on the character lit[i] (if >= 0), or on a character pred[i] accepts (if not null),
  // go to out1[i]; otherwise epsilon edges to out1[i] and out2[i] (-1: none). The accepting
  // state has neither.
  private final int[] lit;
  private final IntPredicate[] pred;
  private final int[] out1;
  private final int[] out2;
  private final int start;
  private final int accept;
  /**
   * For automata of at most 64 states (nearly all: a URL component, a segment glob): the epsilon
   * closure of each state as a bit mask, so that matching runs on longs without allocating.
   */
  private final long[] closureMask;

  private Nfa(int[] lit, IntPredicate[] pred, int[] out1, int[] out2, int start, int accept) {
    this.lit = lit;
    this.pred = pred;
    this.out1 = out1;
    this.out2 = out2;
    this.start = start;
    this.accept = accept;
    if (pred.length <= 64) {
      closureMask = new long[pred.length];
      int[] stack = new int[pred.length];
      for (int st = 0; st < pred.length; st++) {
        BitSet set = new BitSet(pred.length);
        addClosure(set, st, stack);
        closureMask[st] = set.toLongArray().length == 0 ? 0 : set.toLongArray()[0];
      }
    } else {
      closureMask = null;
    }
  }

  static Nfa compile(Re re) {
    Builder b = new Builder();
    int accept = b.add(-1, null, -1, -1);
    int start = b.compile(re, accept);
    return new Nfa(b.ints(b.lit), b.pred.toArray(new IntPredicate[0]), b.ints(b.out1), b.ints(b.out2), start, accept);
  }

  private static final class Builder {
    final List<Integer> lit = new ArrayList<>();
    final List<IntPredicate> pred = new ArrayList<>();
    final List<Integer> out1 = new ArrayList<>();
    final List<Integer> out2 = new ArrayList<>();

    int add(int l, IntPredicate p, int o1, int o2) {
      if (pred.size() >= MAX_STATES) {
        throw new IllegalArgumentException("pattern too complex");
      }
      lit.add(l);
      pred.add(p);
      out1.add(o1);
      out2.add(o2);
      return pred.size() - 1;
    }

    int compile(Re re, int next) {
      if (re instanceof Chars c) {
        return add(c.literal(), c.test(), next, -1);
      }
      if (re instanceof Seq s) {
        int at = next;
        for (int i = s.items().size() - 1; i >= 0; i--) {
          at = compile(s.items().get(i), at);
        }
        return at;
      }
      if (re instanceof Alt a) {
        int at = compile(a.items().get(a.items().size() - 1), next);
        for (int i = a.items().size() - 2; i >= 0; i--) {
          at = add(-1, null, compile(a.items().get(i), next), at);
        }
        return at;
      }
      Rep r = (Rep) re;
      if (!r.unbounded()) {
        int item = compile(r.item(), next);
        return r.min() == 0 ? add(-1, null, item, next) : item;
      }
      int loop = add(-1, null, -1, next);
      int item = compile(r.item(), loop);
      out1.set(loop, item);
      return r.min() == 0 ? loop : item;
    }

    int[] ints(List<Integer> list) {
      int[] a = new int[list.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = list.get(i);
      }
      return a;
    }
  }

  int states() {
    return pred.length;
  }

  /** Does the whole of {@code s} match? */
  boolean matches(CharSequence s) {
    return matches(s, 0, s.length());
  }

  /** Does {@code s[from, to)} match as a whole? */
  boolean matches(CharSequence s, int from, int to) {
    if (closureMask != null) {
      long current = closureMask[start];
      for (int i = from; i < to && current != 0; i++) {
        char c = s.charAt(i);
        long next = 0;
        for (long bits = current; bits != 0; bits &= bits - 1) {
          int st = Long.numberOfTrailingZeros(bits);
          int l = lit[st];
          IntPredicate p = pred[st];
          if (l >= 0 ? l == c : p != null && p.test(c)) {
            next |= closureMask[out1[st]];
          }
        }
        current = next;
      }
      return (current & (1L << accept)) != 0;
    }
    BitSet current = startSet();
    BitSet next = new BitSet(pred.length);
    int[] stack = new int[pred.length];
    for (int i = from; i < to && !current.isEmpty(); i++) {
      step(current, s.charAt(i), next, stack);
      BitSet t = current;
      current = next;
      next = t;
      next.clear();
    }
    return current.get(accept);
  }

  BitSet startSet() {
    BitSet set = new BitSet(pred.length);
    addClosure(set, start, new int[pred.length]);
    return set;
  }

  boolean accepts(BitSet set) {
    return set.get(accept);
  }

  /** The states after reading {@code c} from {@code from}, into {@code into}. */
  void step(BitSet from, int c, BitSet into, int[] stack) {
    for (int st = from.nextSetBit(0); st >= 0; st = from.nextSetBit(st + 1)) {
      int l = lit[st];
      IntPredicate p = pred[st];
      if (l >= 0 ? l == c : p != null && p.test(c)) {
        addClosure(into, out1[st], stack);
      }
    }
  }

  private void addClosure(BitSet set, int state, int[] stack) {
    int top = 0;
    if (set.get(state)) {
      return;
    }
    set.set(state);
    stack[top++] = state;
    while (top > 0) {
      int st = stack[--top];
      if (lit[st] < 0 && pred[st] == null) {
        for (int o : new int[] {out1[st], out2[st]}) {
          if (o >= 0 && !set.get(o)) {
            set.set(o);
            stack[top++] = o;
          }
        }
      }
    }
  }

  /**
   * Is every string {@code small} accepts also accepted by {@code big}? Decided over the
   * alphabet {@code alphabet}, whose characters must together stand for every class of
   * character the two automata tell apart (each literal of either, plus one of each other kind).
   * Explores the product of both subset constructions; beyond {@code maxStates} pairs it answers
   * false, which is the safe answer for authorization.
   */
  static boolean contains(Nfa big, Nfa small, String alphabet, int maxStates) {
    record Pair(BitSet small, BitSet big) {
    }
    Set<Pair> seen = new HashSet<>();
    ArrayDeque<Pair> todo = new ArrayDeque<>();
    Pair first = new Pair(small.startSet(), big.startSet());
    seen.add(first);
    todo.add(first);
    int[] smallStack = new int[small.pred.length];
    int[] bigStack = new int[big.pred.length];
    while (!todo.isEmpty()) {
      Pair p = todo.poll();
      if (small.accepts(p.small()) && !big.accepts(p.big())) {
        return false;
      }
      for (int i = 0; i < alphabet.length(); i++) {
        char c = alphabet.charAt(i);
        BitSet s = new BitSet();
        small.step(p.small(), c, s, smallStack);
        if (s.isEmpty()) {
          continue;
        }
        BitSet b = new BitSet();
        big.step(p.big(), c, b, bigStack);
        Pair q = new Pair(s, b);
        if (seen.add(q)) {
          if (seen.size() > maxStates) {
            return false;
          }
          todo.add(q);
        }
      }
    }
    return true;
  }
}
