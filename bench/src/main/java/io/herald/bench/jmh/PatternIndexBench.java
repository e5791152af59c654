package io.herald.bench.jmh;

import io.herald.common.pattern.PatternIndex;
import io.herald.common.pattern.TopicFilter;
import io.herald.common.pattern.TopicFilters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The cost of finding the pattern subscriptions a published topic matches (issue 18), with 100
 * and with 100,000 (filter, subscriber) pairs: a fifth each of exact topics
 * ({@code user.N.orders}), {@code user.N.*}, {@code user.N.**}, {@code *.N.orders} and URL
 * patterns ({@code https://example.com/users/N/:what}). A published topic matches four Herald
 * filters ({@code matchHerald}), one URL pattern ({@code matchUrl}) or none ({@code matchNone}).
 * {@code scan} checks every filter one by one, what the index saves.
 *
 * <p>The cost per publish stays a handful of hash lookups and automaton runs whatever the number
 * of pairs; what grows with 100,000 pairs and {@code spread=all} is cache misses.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PatternIndexBench {

  /** (filter, subscriber) pairs in the index. */
  @Param({"100", "100000"})
  public int patterns;

  /**
   * Which users the published topics belong to: {@code hot}, 20 of them (the index's nodes for
   * them stay in the CPU caches), or {@code all} (each publish touches nodes no recent one did:
   * with 100,000 pairs, cache misses).
   */
  @Param({"hot", "all"})
  public String spread;

  private PatternIndex<Integer> index;
  private final List<TopicFilter> all = new ArrayList<>();
  private String[] heraldTopics;
  private String[] urlTopics;
  private String[] missTopics;
  private int next;
  private int found;

  @Setup
  public void setup() {
    index = new PatternIndex<>();
    int users = patterns / 5;
    for (int i = 0; i < users; i++) {
      add(TopicFilters.parse("user." + i + ".orders"), i);
      add(TopicFilters.parse("user." + i + ".*"), i);
      add(TopicFilters.parse("user." + i + ".**"), i);
      add(TopicFilters.parse("*." + i + ".orders"), i);
      add(TopicFilters.parse("https://example.com/users/" + i + "/:what", TopicFilter.Kind.URL_PATTERN), i);
    }
    Random random = new Random(18);
    heraldTopics = new String[1024];
    urlTopics = new String[1024];
    missTopics = new String[1024];
    for (int t = 0; t < 1024; t++) {
      int user = random.nextInt(spread.equals("hot") ? Math.min(20, users) : users);
      heraldTopics[t] = "user." + user + ".orders";
      urlTopics[t] = "https://example.com/users/" + user + "/orders";
      missTopics[t] = "user." + (users + user) + ".orders";
    }
  }

  private void add(TopicFilter filter, int value) {
    index.add(filter, value);
    all.add(filter);
  }

  private int count(String topic) {
    found = 0;
    index.forEachMatch(topic, v -> found++);
    return found;
  }

  @Benchmark
  public int matchHerald() {
    return count(heraldTopics[next++ & 1023]);
  }

  @Benchmark
  public int matchUrl() {
    return count(urlTopics[next++ & 1023]);
  }

  @Benchmark
  public int matchNone() {
    return count(missTopics[next++ & 1023]);
  }

  /** Every filter checked one by one: what publishing would cost without the index. */
  @Benchmark
  public int scan() {
    String topic = heraldTopics[next++ & 1023];
    int n = 0;
    for (TopicFilter f : all) {
      if (f.matches(topic)) {
        n++;
      }
    }
    return n;
  }
}
