package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.Topics;
import io.herald.common.pattern.TopicFilter;
import io.herald.common.pattern.TopicFilters;
import io.herald.gateway.admission.SubscriberTiers;
import io.vertx.core.http.HttpServerResponse;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The parameters of a subscription request, read and checked the same way on every transport
 * ({@code /events}, {@code /ws}, {@code /poll}, the SockJS bridge): its topics and patterns, the
 * topics a tier allows, its {@code heartbeat} interval and its {@code Last-Event-ID} as a resume
 * cursor. A bad value is a {@link HeraldException} the caller answers as an HTTP error. No state
 * but the options: usable from any thread.
 */
final class SubscribeParams {

  private final GatewayOptions options;

  SubscribeParams(GatewayOptions options) {
    this.options = options;
  }

  /**
   * A {@code Last-Event-ID} as a resume cursor for these topics and patterns, or null when it is
   * not one: too long, malformed, or well-formed but about none of them (as good as garbage).
   */
  Cursor resumeCursor(String lastEventId, String[] topics, TopicFilter[] patterns) {
    Cursor cursor = lastEventId.length() > options.maxLastEventIdLength() ? null
      : Cursor.parse(lastEventId, maxCursorEntries(patterns.length));
    return cursor != null && namesAny(cursor, topics, patterns) ? cursor : null;
  }

  private static boolean namesAny(Cursor cursor, String[] topics, TopicFilter[] patterns) {
    for (String t : topics) {
      if (cursor.position(t) != null) {
        return true;
      }
    }
    for (TopicFilter f : patterns) {
      if (PatternState.positionOf(cursor, TopicFilters.key(f)) != null) {
        return true;
      }
    }
    return false;
  }

  /** Entries a cursor may have: one per topic, and per pattern its own and the topics above it. */
  private int maxCursorEntries(int patterns) {
    return options.tiers().maxTopicsPerConnection() + patterns * (1 + PatternState.MAX_ABOVE);
  }

  /**
   * The {@code pattern} parameters, parsed ({@link TopicFilters#parse}); one that is an exact
   * topic joins {@code exact}. A bad one is a 400 {@code invalid_request} saying why.
   */
  static TopicFilter[] patterns(List<String> requested, List<String> exact) {
    if (requested.isEmpty()) {
      return PatternState.NONE;
    }
    java.util.Map<String, TopicFilter> unique = new java.util.LinkedHashMap<>();
    for (String text : requested) {
      TopicFilter f;
      try {
        f = TopicFilters.parse(text);
      } catch (IllegalArgumentException e) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, "invalid pattern: " + e.getMessage());
      }
      if (f.kind() == TopicFilter.Kind.EXACT) {
        exact.add(f.source());
      } else {
        unique.putIfAbsent(TopicFilters.key(f), f);
      }
    }
    return unique.values().toArray(new TopicFilter[0]);
  }

  /** The requested topics, validated; {@code path} is the endpoint asked for, named in the error. */
  String[] topics(String path, List<String> requested, int patterns) {
    if (requested.isEmpty() && patterns > 0) {
      return new String[0];
    }
    if (requested.isEmpty()) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "at least one topic or pattern parameter is required: " + path + "?topic=NAME or ?pattern=news.*");
    }
    Set<String> unique = new LinkedHashSet<>();
    for (String t : requested) {
      if (!Topics.isValidTopic(t)) {
        throw new HeraldException(ErrorCode.INVALID_TOPIC, "invalid topic name: 1 to " + Topics.MAX_TOPIC_LENGTH
          + " characters from A-Z a-z 0-9 _ - . : @ /, starting with a letter or digit");
      }
      unique.add(t);
    }
    // The most any tier allows: the token, and so the tier, is not known yet (topicsWithinTier follows).
    if (unique.size() + patterns > options.tiers().maxTopicsPerConnection()) {
      throw new HeraldException(ErrorCode.TOO_MANY_TOPICS, "at most " + options.tiers().maxTopicsPerConnection()
        + " topics and patterns per connection, got " + (unique.size() + patterns));
    }
    return unique.toArray(new String[0]);
  }

  /** True when {@code topics} fit {@code tier}'s {@code maxTopicsPerConnection}; else answers 400 {@code too_many_topics}. */
  static boolean topicsWithinTier(HttpServerResponse response, int topics, SubscriberTiers.Tier tier) {
    if (topics <= tier.maxTopicsPerConnection()) {
      return true;
    }
    SubscriberTiers.refused(tier, "topics_per_connection");
    Http.error(response, new HeraldException(ErrorCode.TOO_MANY_TOPICS, "at most " + tier.maxTopicsPerConnection()
      + " topics and patterns per connection" + tier.suffix() + ", got " + topics));
    return false;
  }

  /**
   * A {@code heartbeat} parameter: the interval asked for, seconds, or 0 when there is none.
   * A value that is not a whole number of seconds within {@code heartbeatMinSeconds} and
   * {@code heartbeatMaxSeconds} is refused (400 {@code invalid_request}, with {@link #heartbeatBounds}).
   */
  static int heartbeatParam(String value, GatewayOptions options) {
    if (value == null) {
      return 0;
    }
    int min = options.heartbeatMinSeconds();
    int max = options.heartbeatMaxSeconds();
    int seconds;
    try {
      seconds = value.length() > 9 ? -1 : Integer.parseInt(value);
    } catch (NumberFormatException e) {
      seconds = -1;
    }
    if (seconds < min || seconds > max) {
      String shown = value.length() > 20 ? value.substring(0, 20) + "..." : value;
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "heartbeat must be a whole number of seconds from " + min + " to "
        + max + " (gateway.heartbeatMinSeconds, gateway.heartbeatMaxSeconds), got \"" + shown + "\"");
    }
    return seconds;
  }

  /** The fields a refused {@code heartbeat} adds to the error body: the parameter and its bounds. */
  static io.vertx.core.json.JsonObject heartbeatBounds(GatewayOptions options) {
    return new io.vertx.core.json.JsonObject().put("parameter", SseGateway.HEARTBEAT_PARAM)
      .put("min", options.heartbeatMinSeconds()).put("max", options.heartbeatMaxSeconds());
  }
}
