package io.herald.common.pattern;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The (filter, value) pairs a node holds, e.g. (pattern, connection), and for a published topic,
 * the values of the pairs whose filter matches it. Matching is indexed, so its cost depends on
 * the pairs near the topic, not on how many there are:
 * <ul>
 *   <li>exact topics: one hash lookup;</li>
 *   <li>Herald patterns: a trie over the topic's segments (each with the separator before it):
 *       a literal segment is a hash lookup, a segment with {@code *} is one automaton run per
 *       distinct such segment at that node, a final {@code **} is a flag per node and separator;</li>
 *   <li>URL patterns: a trie over their literal prefix cut into path steps ({@code https:},
 *       {@code /}, {@code /example.com}, {@code /users}, ..., user info left out, see
 *       {@link UrlPatternFilter}); the filters on the topic's path through it are checked with
 *       their automata; URI templates likewise, by their literal prefix and on the topic as it
 *       is. Many URL patterns sharing one long prefix and differing only after a
 *       wildcard are all checked one by one: index by what they have in common.</li>
 * </ul>
 *
 * <p>A pair is a filter's {@link TopicFilter#kind() kind} and {@link TopicFilter#source() source}
 * with a value (compared with {@code equals}); adding it twice keeps one. A value held under
 * several filters that match a topic is given once per filter: a caller that wants it once (one
 * delivery per connection) deduplicates, e.g. with a per-publish mark on the connection.
 *
 * <p>Memory grows with the pairs added; bounding them (patterns per connection, connections per
 * node) is the caller's job, as for every map a client can grow.
 *
 * <p><b>Threading:</b> not thread-safe, no internal locking. Confine an index to one thread (the
 * gateway's event loop that owns the connections); a reader on another thread (the replay side)
 * keeps its own index, or filters with {@link TopicFilter#matches}, which is immutable and
 * thread-safe. Do not add or remove from inside {@link #forEachMatch}'s consumer.
 *
 * @param <V> what a filter is held for (a connection, a subscription id)
 */
public final class PatternIndex<V> {

  /** The values held under one filter. */
  private static final class Holder<V> {
    final TopicFilter filter;
    final LinkedHashSet<V> values = new LinkedHashSet<>(2);

    Holder(TopicFilter filter) {
      this.filter = filter;
    }
  }

  private record Key(TopicFilter.Kind kind, String source) {
  }

  /** A node of the Herald trie; fields are null until used. */
  private static final class Node<V> {
    HashMap<String, Node<V>> literal;
    LinkedHashMap<String, GlobChild<V>> globs;
    Holder<V> end;
    /** Holders of {@code ...<sep>**} by separator ({@code 0}: {@code **} alone, at the root). */
    HashMap<Character, Holder<V>> multi;

    boolean isEmpty() {
      return literal == null && globs == null && end == null && multi == null;
    }
  }

  private record GlobChild<V>(Nfa nfa, Node<V> node) {
  }

  /** A node of the URL prefix trie: one edge per path step ({@code /} and what follows up to the next). */
  private static final class UrlNode<V> {
    HashMap<String, UrlNode<V>> children;
    List<Holder<V>> holders;

    boolean isEmpty() {
      return children == null && holders == null;
    }
  }

  private final Map<Key, Holder<V>> holders = new HashMap<>();
  private final HashMap<String, Holder<V>> exact = new HashMap<>();
  private final Node<V> root = new Node<>();
  private final UrlNode<V> urlRoot = new UrlNode<>();
  /** URI templates, by the path steps of their literal prefix, matched on the raw topic. */
  private final UrlNode<V> templateRoot = new UrlNode<>();
  private int templateFilters;
  private int urlFilters;
  private int size;
  /** Automaton runs so far (globs and URL patterns checked), for tests of the indexing. */
  private long checks;

  /** Holds {@code value} under {@code filter}; false if that pair was already held. */
  public boolean add(TopicFilter filter, V value) {
    Objects.requireNonNull(filter, "filter");
    Objects.requireNonNull(value, "value");
    Key key = new Key(filter.kind(), filter.source());
    Holder<V> holder = holders.get(key);
    if (holder == null) {
      holder = new Holder<>(filter);
      holders.put(key, holder);
      link(holder);
    }
    if (!holder.values.add(value)) {
      return false;
    }
    size++;
    return true;
  }

  /** Drops the pair ({@code filter}, {@code value}); false if it was not held. */
  public boolean remove(TopicFilter filter, V value) {
    return remove(new Key(filter.kind(), filter.source()), value);
  }

  /**
   * Drops the pairs of {@code value} with a filter parsed from {@code source} (whatever its
   * kind); false if there was none.
   */
  public boolean remove(String source, V value) {
    boolean removed = false;
    for (TopicFilter.Kind kind : TopicFilter.Kind.values()) {
      removed |= remove(new Key(kind, source), value);
    }
    return removed;
  }

  private boolean remove(Key key, V value) {
    Holder<V> holder = holders.get(key);
    if (holder == null || !holder.values.remove(value)) {
      return false;
    }
    size--;
    if (holder.values.isEmpty()) {
      holders.remove(key);
      unlink(holder);
    }
    return true;
  }

  long checks() {
    return checks;
  }

  /** Number of (filter, value) pairs held. */
  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** Gives {@code sink} the value of every pair whose filter matches {@code topic}, each pair once. */
  public void forEachMatch(String topic, Consumer<? super V> sink) {
    if (topic == null || topic.isEmpty() || size == 0) {
      return;
    }
    Holder<V> e = exact.get(topic);
    if (e != null) {
      emit(e, sink);
    }
    if (!root.isEmpty()) {
      int[] starts = segmentStarts(topic);
      walk(root, topic, starts, 0, sink);
    }
    if (urlFilters > 0 && (topic.indexOf(':') > 0 || UrlTopic.isRelative(topic))) {
      UrlTopic url = UrlTopic.parse(topic);
      if (url != null) {
        walkSteps(urlRoot, url.indexKey(), h -> ((UrlPatternFilter) h.filter).matches(url), sink);
      }
    }
    if (templateFilters > 0) {
      walkSteps(templateRoot, topic, h -> h.filter.matches(topic), sink);
    }
  }

  /** The holders on {@code key}'s path of steps through the trie, checked, then given to the sink. */
  private void walkSteps(UrlNode<V> node, String key, java.util.function.Predicate<Holder<V>> check, Consumer<? super V> sink) {
    int from = 0;
    while (true) {
      if (node.holders != null) {
        for (Holder<V> h : node.holders) {
          checks++;
          if (check.test(h)) {
            emit(h, sink);
          }
        }
      }
      if (from == key.length() || node.children == null) {
        return;
      }
      int to = key.indexOf('/', from + 1);
      to = to < 0 ? key.length() : to;
      node = node.children.get(key.substring(from, to));
      from = to;
      if (node == null) {
        return;
      }
    }
  }

  private static <V> void emit(Holder<V> holder, Consumer<? super V> sink) {
    for (V v : holder.values) {
      sink.accept(v);
    }
  }

  /** Start of each segment (with the separator before it), then the topic's length. */
  private static int[] segmentStarts(String topic) {
    int count = 1;
    for (int i = 1; i < topic.length(); i++) {
      if (HeraldFilter.isSeparator(topic.charAt(i))) {
        count++;
      }
    }
    int[] starts = new int[count + 1];
    int n = 1;
    for (int i = 1; i < topic.length(); i++) {
      if (HeraldFilter.isSeparator(topic.charAt(i))) {
        starts[n++] = i;
      }
    }
    starts[count] = topic.length();
    return starts;
  }

  private void walk(Node<V> node, String topic, int[] starts, int i, Consumer<? super V> sink) {
    int segments = starts.length - 1;
    if (node.multi != null && i < segments) {
      for (Map.Entry<Character, Holder<V>> m : node.multi.entrySet()) {
        char sep = m.getKey();
        // ** is one or more characters: after its separator (or from the start, alone).
        boolean match = sep == 0 ? i == 0 : topic.charAt(starts[i]) == sep && starts[i] + 1 < topic.length();
        if (match) {
          emit(m.getValue(), sink);
        }
      }
    }
    if (i == segments) {
      if (node.end != null) {
        emit(node.end, sink);
      }
      return;
    }
    if (node.literal != null) {
      Node<V> child = node.literal.get(topic.substring(starts[i], starts[i + 1]));
      if (child != null) {
        walk(child, topic, starts, i + 1, sink);
      }
    }
    if (node.globs != null) {
      for (GlobChild<V> g : node.globs.values()) {
        checks++;
        if (g.nfa().matches(topic, starts[i], starts[i + 1])) {
          walk(g.node(), topic, starts, i + 1, sink);
        }
      }
    }
  }

  private void link(Holder<V> holder) {
    TopicFilter filter = holder.filter;
    if (filter instanceof ExactFilter) {
      exact.put(filter.source(), holder);
    } else if (filter instanceof HeraldFilter h) {
      Node<V> node = root;
      for (String token : h.tokens()) {
        node = child(node, token);
      }
      if (h.multiTail()) {
        if (node.multi == null) {
          node.multi = new HashMap<>(2);
        }
        node.multi.put(h.tailSeparator(), holder);
      } else {
        node.end = holder;
      }
    } else {
      boolean template = filter instanceof UriTemplateFilter;
      UrlNode<V> node = template ? templateRoot : urlRoot;
      for (String step : steps(filter)) {
        if (node.children == null) {
          node.children = new HashMap<>(4);
        }
        node = node.children.computeIfAbsent(step, x -> new UrlNode<>());
      }
      if (node.holders == null) {
        node.holders = new ArrayList<>(1);
      }
      node.holders.add(holder);
      if (template) {
        templateFilters++;
      } else {
        urlFilters++;
      }
    }
  }

  private Node<V> child(Node<V> node, String token) {
    if (token.indexOf('*') < 0) {
      if (node.literal == null) {
        node.literal = new HashMap<>(4);
      }
      return node.literal.computeIfAbsent(token, t -> new Node<>());
    }
    if (node.globs == null) {
      node.globs = new LinkedHashMap<>(2);
    }
    return node.globs.computeIfAbsent(token, t -> new GlobChild<>(globNfa(t), new Node<>())).node();
  }

  /** The segments most patterns use ({@code .*} and the like) share one automaton. */
  private static final Map<String, Nfa> COMMON_GLOBS = Map.of(
    "*", Nfa.compile(HeraldFilter.compile("*")),
    ".*", Nfa.compile(HeraldFilter.compile(".*")),
    ":*", Nfa.compile(HeraldFilter.compile(":*")),
    "/*", Nfa.compile(HeraldFilter.compile("/*")));

  private static Nfa globNfa(String token) {
    Nfa common = COMMON_GLOBS.get(token);
    return common != null ? common : Nfa.compile(HeraldFilter.compile(token));
  }

  private void unlink(Holder<V> holder) {
    TopicFilter filter = holder.filter;
    if (filter instanceof ExactFilter) {
      exact.remove(filter.source());
    } else if (filter instanceof HeraldFilter h) {
      unlinkHerald(root, h, 0);
    } else if (filter instanceof UriTemplateFilter) {
      unlinkUrl(templateRoot, steps(filter), 0, holder);
      templateFilters--;
    } else {
      unlinkUrl(urlRoot, steps(filter), 0, holder);
      urlFilters--;
    }
  }

  /** Removes the holder at the end of the filter's path, then the nodes left empty behind it. */
  private void unlinkHerald(Node<V> node, HeraldFilter h, int i) {
    String[] tokens = h.tokens();
    if (i == tokens.length) {
      if (h.multiTail()) {
        node.multi.remove(h.tailSeparator());
        if (node.multi.isEmpty()) {
          node.multi = null;
        }
      } else {
        node.end = null;
      }
      return;
    }
    String token = tokens[i];
    if (token.indexOf('*') < 0) {
      Node<V> child = node.literal.get(token);
      unlinkHerald(child, h, i + 1);
      if (child.isEmpty()) {
        node.literal.remove(token);
        if (node.literal.isEmpty()) {
          node.literal = null;
        }
      }
    } else {
      Node<V> child = node.globs.get(token).node();
      unlinkHerald(child, h, i + 1);
      if (child.isEmpty()) {
        node.globs.remove(token);
        if (node.globs.isEmpty()) {
          node.globs = null;
        }
      }
    }
  }

  /**
   * The complete steps of a URL pattern's index prefix: the prefix up to its last {@code /}, cut
   * before each {@code /} ({@code https://example.com/users/1/} gives {@code https:}, {@code /},
   * {@code /example.com}, {@code /users}, {@code /1}). Every matching topic's index key starts
   * with these same steps.
   */
  private static List<String> steps(TopicFilter filter) {
    String prefix = filter instanceof UrlPatternFilter u ? u.indexPrefix() : filter.literalPrefix();
    int last = prefix.lastIndexOf('/');
    List<String> steps = new ArrayList<>();
    int from = 0;
    while (from < last) {
      int to = prefix.indexOf('/', from + 1);
      steps.add(prefix.substring(from, to));
      from = to;
    }
    return steps;
  }

  private void unlinkUrl(UrlNode<V> node, List<String> steps, int i, Holder<V> holder) {
    if (i == steps.size()) {
      node.holders.remove(holder);
      if (node.holders.isEmpty()) {
        node.holders = null;
      }
      return;
    }
    String step = steps.get(i);
    UrlNode<V> child = node.children.get(step);
    unlinkUrl(child, steps, i + 1, holder);
    if (child.isEmpty()) {
      node.children.remove(step);
      if (node.children.isEmpty()) {
        node.children = null;
      }
    }
  }
}
