package io.herald.replay;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.Position;
import io.herald.common.Topics;
import io.herald.common.replay.LogFilters;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Parses the request bodies of the replay addresses (shapes in {@link io.herald.common.Addresses}).
 * The addresses are internal, so validation is minimal: what the store relies on (valid topic
 * names and types, well-typed fields). Anything else fails with {@code invalid_request}.
 */
final class ReplayRequests {

  /** Most topics one Mercure update may name (its alternates): the notifier caps them lower. */
  static final int MAX_ALTERNATES = 1024;

  /** A parsed read request. */
  record Read(String topic, Position after, int limit) {
  }

  /** A parsed log read request: its filters as given and compiled. */
  record LogRead(Position after, JsonArray filters, Predicate<String> filter, int limit) {
  }

  private ReplayRequests() {
  }

  /** {@code {"events": [EventDraft JSON, ...]}}, at least one. */
  static List<EventDraft> append(Object body) {
    if (body instanceof io.herald.common.replay.LocalAppend.Request local) {
      return append(local);
    }
    JsonObject o = object(body);
    JsonArray arr = array(o, "events");
    if (arr.isEmpty()) {
      throw invalid("events must not be empty");
    }
    List<EventDraft> drafts = new ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      if (!(arr.getValue(i) instanceof JsonObject d)) {
        throw invalid("events[" + i + "] must be an object");
      }
      String where = "events[" + i + "].";
      String topic = topic(d.getValue("topic"), where + "topic");
      Object type = d.getValue("type");
      if (!(type instanceof String t) || !Topics.isValidType(t)) {
        throw invalid(where + "type is not a valid event type");
      }
      if (!(d.getValue("data") instanceof String data)) {
        throw invalid(where + "data must be a string");
      }
      Object json = d.getValue("json");
      if (json != null && !(json instanceof Boolean)) {
        throw invalid(where + "json must be a boolean");
      }
      Object key = d.getValue("key");
      if (key != null && !(key instanceof String k && Topics.isValidKey(k))) {
        throw invalid(where + "key is not a valid id");
      }
      Object priv = d.getValue("private");
      if (priv != null && !(priv instanceof Boolean)) {
        throw invalid(where + "private must be a boolean");
      }
      Object retry = d.getValue("retry");
      long retryMillis = retry == null ? -1 : integer(retry, where + "retry", 0, Long.MAX_VALUE);
      Object alts = d.getValue("alternates");
      List<String> alternates = null;
      if (alts != null) {
        if (!(alts instanceof JsonArray a) || a.size() > MAX_ALTERNATES) {
          throw invalid(where + "alternates must be an array of at most " + MAX_ALTERNATES + " topics");
        }
        alternates = new ArrayList<>(a.size());
        for (Object alt : a) {
          if (!(alt instanceof String at) || !Topics.isValidTopic(at)) {
            throw invalid(where + "alternates must be topics");
          }
          alternates.add(at);
        }
      }
      drafts.add(new EventDraft(topic, (String) type, data, Boolean.TRUE.equals(json), (String) key, Boolean.TRUE.equals(priv),
        retryMillis, alternates));
    }
    return drafts;
  }

  /** The same checks as for the JSON form, on drafts handed over as objects by a notifier of this process. */
  private static List<EventDraft> append(io.herald.common.replay.LocalAppend.Request request) {
    List<EventDraft> drafts = request.drafts();
    if (drafts.isEmpty()) {
      throw invalid("events must not be empty");
    }
    for (int i = 0; i < drafts.size(); i++) {
      EventDraft d = drafts.get(i);
      if (!Topics.isValidTopic(d.topic())) {
        throw invalid(where(i) + "topic is not a valid topic");
      }
      if (!Topics.isValidType(d.type())) {
        throw invalid(where(i) + "type is not a valid event type");
      }
      if (d.key() != null && !Topics.isValidKey(d.key())) {
        throw invalid(where(i) + "key is not a valid id");
      }
      if (d.alternates() != null) {
        if (d.alternates().size() > MAX_ALTERNATES) {
          throw invalid(where(i) + "alternates must be an array of at most " + MAX_ALTERNATES + " topics");
        }
        for (String alt : d.alternates()) {
          if (!Topics.isValidTopic(alt)) {
            throw invalid(where(i) + "alternates must be topics");
          }
        }
      }
    }
    return drafts;
  }

  private static String where(int i) {
    return "events[" + i + "].";
  }

  /** {@code {"topic", "epoch", "after", "limit"}}; a missing limit means {@code defaultLimit}. */
  static Read read(Object body, int defaultLimit) {
    JsonObject o = object(body);
    String topic = topic(o.getValue("topic"), "topic");
    Object epoch = o.getValue("epoch");
    if (!(epoch instanceof String e) || !isEpoch(e)) {
      throw invalid("epoch must be 1 to " + Cursor.MAX_EPOCH_LENGTH + " ASCII letters and digits");
    }
    long after = integer(o.getValue("after"), "after", 0, Long.MAX_VALUE);
    Object limitValue = o.getValue("limit");
    int limit = limitValue == null ? defaultLimit : (int) integer(limitValue, "limit", 1, Integer.MAX_VALUE);
    return new Read(topic, new Position(e, after), limit);
  }

  /**
   * {@code {"epoch", "after", "filters": [...], "limit"?}}: filters compiled by
   * {@link LogFilters#compile} (at most {@link LogFilters#MAX_FILTERS}); a missing limit means
   * {@code defaultLimit}, a larger one is capped by the store.
   */
  static LogRead logRead(Object body, int defaultLimit) {
    JsonObject o = object(body);
    Object epoch = o.getValue("epoch");
    if (!(epoch instanceof String e) || !isEpoch(e)) {
      throw invalid("epoch must be 1 to " + Cursor.MAX_EPOCH_LENGTH + " ASCII letters and digits");
    }
    long after = integer(o.getValue("after"), "after", 0, Long.MAX_VALUE);
    JsonArray filters = array(o, "filters");
    Predicate<String> filter;
    try {
      filter = LogFilters.compile(filters);
    } catch (IllegalArgumentException bad) {
      throw invalid(bad.getMessage());
    }
    Object limitValue = o.getValue("limit");
    int limit = limitValue == null ? defaultLimit : (int) integer(limitValue, "limit", 1, Integer.MAX_VALUE);
    return new LogRead(new Position(e, after), filters, filter, limit);
  }

  /** {@code {"topics": [...]}}. */
  static List<String> heads(Object body) {
    JsonArray arr = array(object(body), "topics");
    List<String> topics = new ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      topics.add(topic(arr.getValue(i), "topics[" + i + "]"));
    }
    return topics;
  }

  private static JsonObject object(Object body) {
    if (!(body instanceof JsonObject o)) {
      throw invalid("request body must be a JSON object");
    }
    return o;
  }

  private static JsonArray array(JsonObject o, String name) {
    if (!(o.getValue(name) instanceof JsonArray arr)) {
      throw invalid(name + " must be an array");
    }
    return arr;
  }

  private static String topic(Object value, String name) {
    if (!(value instanceof String t) || !Topics.isValidTopic(t)) {
      throw invalid(name + " is not a valid topic");
    }
    return t;
  }

  private static long integer(Object value, String name, long min, long max) {
    if (!(value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte)) {
      throw invalid(name + " must be an integer");
    }
    long v = ((Number) value).longValue();
    if (v < min || v > max) {
      throw invalid(name + " must be between " + min + " and " + max);
    }
    return v;
  }

  private static boolean isEpoch(String e) {
    if (e.isEmpty() || e.length() > Cursor.MAX_EPOCH_LENGTH) {
      return false;
    }
    for (int i = 0; i < e.length(); i++) {
      char c = e.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
        return false;
      }
    }
    return true;
  }

  private static HeraldException invalid(String message) {
    return new HeraldException(ErrorCode.INVALID_REQUEST, message);
  }
}
