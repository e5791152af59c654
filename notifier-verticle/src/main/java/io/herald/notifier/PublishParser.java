package io.herald.notifier;

import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.Topics;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The one place publish rules live: turns a publish body into drafts, or fails with a
 * {@link HeraldException} from the catalogue. Every event is checked before anything is
 * stored, so a bad request changes nothing.
 *
 * <p>Single form: {@code {"topic": "a" | "topics": ["a","b"], "type": "...", "data": <json or
 * string>, "id": "..."}}. Batch form: {@code {"events": [single, ...]}}.
 */
public final class PublishParser {

  private static final Set<String> FIELDS = Set.of("topic", "topics", "type", "data", "id");

  private final NotifierOptions options;

  public PublishParser(NotifierOptions options) {
    this.options = options;
  }

  /** Parses a body's text (malformed JSON is {@code malformed_json}). */
  public static JsonObject object(String text) {
    Object value;
    try {
      value = Json.decodeValue(text);
    } catch (RuntimeException e) {
      throw new HeraldException(ErrorCode.MALFORMED_JSON, "the body is not valid JSON");
    }
    if (!(value instanceof JsonObject o)) {
      throw new HeraldException(ErrorCode.MALFORMED_JSON, "the body must be a JSON object");
    }
    return o;
  }

  /** True when the body is the batch form. */
  public static boolean isBatch(JsonObject body) {
    return body.containsKey("events");
  }

  /** The drafts of one single-form event: one per topic. */
  public List<EventDraft> single(JsonObject body) {
    return single(body, "");
  }

  /** The drafts of a batch, one list per entry, in order. */
  public List<List<EventDraft>> batch(JsonObject body) {
    for (String f : body.fieldNames()) {
      if (!f.equals("events")) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, "unknown field \"" + f + "\" in a batch (only \"events\")");
      }
    }
    if (!(body.getValue("events") instanceof JsonArray events)) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "events must be an array of events");
    }
    if (events.isEmpty()) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "events must not be empty");
    }
    if (events.size() > options.maxBatchSize()) {
      throw new HeraldException(ErrorCode.BATCH_TOO_LARGE, "at most " + options.maxBatchSize() + " events per batch, got " + events.size());
    }
    List<List<EventDraft>> out = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      if (!(events.getValue(i) instanceof JsonObject entry)) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, "events[" + i + "]: must be an object");
      }
      out.add(single(entry, "events[" + i + "]."));
    }
    return out;
  }

  private List<EventDraft> single(JsonObject body, String where) {
    for (String f : body.fieldNames()) {
      if (!FIELDS.contains(f)) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, where + f + ": unknown field (known: topic, topics, type, data, id)");
      }
    }
    List<String> topics = topics(body, where);
    Object typeValue = body.getValue("type");
    String type = Event.DEFAULT_TYPE;
    if (typeValue != null) {
      if (!(typeValue instanceof String t) || !Topics.isValidType(t)) {
        throw new HeraldException(ErrorCode.INVALID_TYPE, where + "type: 1 to " + Topics.MAX_TYPE_LENGTH
          + " characters from A-Z a-z 0-9 _ - . :, starting with a letter");
      }
      type = t;
    }
    Object idValue = body.getValue("id");
    String key = null;
    if (idValue != null) {
      if (!(idValue instanceof String k) || !Topics.isValidKey(k)) {
        throw new HeraldException(ErrorCode.INVALID_ID, where + "id: 1 to " + Topics.MAX_KEY_LENGTH
          + " printable ASCII characters, no spaces or control characters");
      }
      key = k;
    }
    if (!body.containsKey("data")) {
      throw new HeraldException(ErrorCode.INVALID_DATA, where + "data: required (a JSON value or a string)");
    }
    Object data = body.getValue("data");
    String text;
    boolean json;
    if (data instanceof String s) {
      text = s;
      json = false;
    } else {
      text = Json.encode(data);
      json = true;
    }
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > options.maxEventBytes()) {
      throw new HeraldException(ErrorCode.PAYLOAD_TOO_LARGE, where + "data: " + bytes + " bytes, at most "
        + options.maxEventBytes());
    }
    List<EventDraft> drafts = new ArrayList<>(topics.size());
    for (String t : topics) {
      drafts.add(new EventDraft(t, type, text, json, key));
    }
    return drafts;
  }

  private List<String> topics(JsonObject body, String where) {
    boolean one = body.containsKey("topic");
    boolean many = body.containsKey("topics");
    if (one == many) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, where + "topic: give exactly one of \"topic\" or \"topics\"");
    }
    List<Object> raw;
    if (one) {
      raw = List.of(body.getValue("topic") == null ? "" : body.getValue("topic"));
    } else {
      if (!(body.getValue("topics") instanceof JsonArray arr) || arr.isEmpty()) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, where + "topics: must be a non-empty array of topic names");
      }
      raw = arr.getList();
    }
    Set<String> unique = new LinkedHashSet<>();
    for (Object o : raw) {
      if (!(o instanceof String t) || !Topics.isValidTopic(t)) {
        throw new HeraldException(ErrorCode.INVALID_TOPIC, where + "topic: 1 to " + Topics.MAX_TOPIC_LENGTH
          + " characters from A-Z a-z 0-9 _ - . : @ /, starting with a letter or digit");
      }
      unique.add(t);
    }
    if (unique.size() > options.maxTopicsPerEvent()) {
      throw new HeraldException(ErrorCode.TOO_MANY_TOPICS, where + "topics: at most " + options.maxTopicsPerEvent()
        + " topics per event, got " + unique.size());
    }
    return new ArrayList<>(unique);
  }
}
