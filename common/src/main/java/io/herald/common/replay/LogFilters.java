package io.herald.common.replay;

import io.herald.common.TopicPattern;
import io.herald.common.Topics;
import io.vertx.core.json.JsonArray;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Turns the topic filters of a log read request ({@code herald.replay.log.read}) into the
 * predicate {@link ReplayStore#readLog} applies: THE one place that knows the filter syntax, so
 * that a richer pattern language plugs in here and nowhere else.
 *
 * <p>For now a filter is an exact topic name or a {@link TopicPattern} without {@code {sub}}
 * ({@code *} within one segment); a topic passes when it matches any of the filters.
 */
public final class LogFilters {

  /** Most filters one log read request may carry. */
  public static final int MAX_FILTERS = 64;

  private LogFilters() {
  }

  /**
   * Compiles the filters (a JSON array of strings, 1 to {@value #MAX_FILTERS}); throws
   * {@link IllegalArgumentException} saying which one is bad and why.
   */
  public static Predicate<String> compile(JsonArray filters) {
    if (filters == null || filters.isEmpty() || filters.size() > MAX_FILTERS) {
      throw new IllegalArgumentException("filters must be an array of 1 to " + MAX_FILTERS + " topic filters");
    }
    Set<String> exact = new HashSet<>();
    List<TopicPattern> patterns = new ArrayList<>();
    for (int i = 0; i < filters.size(); i++) {
      if (!(filters.getValue(i) instanceof String f)) {
        throw new IllegalArgumentException("filters[" + i + "] must be a string");
      }
      if (f.contains(TopicPattern.SUBJECT)) {
        throw new IllegalArgumentException("filters[" + i + "] must not contain " + TopicPattern.SUBJECT);
      }
      if (f.indexOf('*') < 0) {
        if (!Topics.isValidTopic(f)) {
          throw new IllegalArgumentException("filters[" + i + "] is not a valid topic: \"" + f + "\"");
        }
        exact.add(f);
      } else {
        try {
          patterns.add(TopicPattern.compile(f));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("filters[" + i + "]: " + e.getMessage(), e);
        }
      }
    }
    List<TopicPattern> ps = List.copyOf(patterns);
    return topic -> {
      if (exact.contains(topic)) {
        return true;
      }
      for (TopicPattern p : ps) {
        if (p.matches(topic, null)) {
          return true;
        }
      }
      return false;
    };
  }
}
