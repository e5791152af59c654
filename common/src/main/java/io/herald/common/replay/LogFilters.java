package io.herald.common.replay;

import io.herald.common.pattern.TopicFilter;
import io.herald.common.pattern.TopicFilters;
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
 * <p>A filter is anything {@link TopicFilters#parse} accepts, or an object {@code {"key": k}} with a
 * {@link TopicFilters#key} (the syntax fixed, as a subscription chose it): an exact topic, Herald's pattern
 * syntax ({@code *} within one segment, a final {@code **} for one or more segments), a WHATWG
 * URL Pattern or an RFC 6570 URI template; a topic passes when it matches any of the filters.
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
    List<TopicFilter> patterns = new ArrayList<>();
    for (int i = 0; i < filters.size(); i++) {
      Object v = filters.getValue(i);
      boolean keyed = v instanceof io.vertx.core.json.JsonObject o && o.getValue("key") instanceof String;
      if (!(v instanceof String) && !keyed) {
        throw new IllegalArgumentException("filters[" + i + "] must be a string or {\"key\": TopicFilters.key}");
      }
      TopicFilter filter;
      try {
        filter = keyed ? TopicFilters.fromKey(((io.vertx.core.json.JsonObject) v).getString("key")) : TopicFilters.parse((String) v);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("filters[" + i + "]: " + e.getMessage(), e);
      }
      if (filter.kind() == TopicFilter.Kind.EXACT) {
        exact.add(filter.source());
      } else {
        patterns.add(filter);
      }
    }
    List<TopicFilter> ps = List.copyOf(patterns);
    return topic -> {
      if (exact.contains(topic)) {
        return true;
      }
      for (TopicFilter p : ps) {
        if (p.matches(topic)) {
          return true;
        }
      }
      return false;
    };
  }
}
