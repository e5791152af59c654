package io.herald.common;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * An event as a publisher hands it in, validated by the notifier and not yet stored: it has
 * no position. One draft per topic (a publish to several topics yields several drafts).
 * {@code privateUpdate} and {@code retry} are the Mercure delivery flags ({@link Event#privateUpdate()},
 * {@link Event#retry()}; -1: no retry).
 */
public record EventDraft(String topic, String type, String data, boolean json, String key, boolean privateUpdate, long retry) {

  public EventDraft {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(data, "data");
    retry = retry < 0 ? -1 : retry;
  }

  /** A draft without delivery flags. */
  public EventDraft(String topic, String type, String data, boolean json, String key) {
    this(topic, type, data, json, key, false, -1);
  }

  public Event toEvent(String epoch, long seq, long timestamp) {
    return new Event(topic, epoch, seq, type, data, json, key, timestamp, null, null, null, privateUpdate, retry);
  }

  /** The flags as {@link Event#flagsText()} writes them, or null. */
  public String flagsText() {
    return Event.flagsText(privateUpdate, retry);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("topic", topic).put("type", type).put("data", data).put("json", json);
    if (key != null) {
      o.put("key", key);
    }
    if (privateUpdate) {
      o.put("private", true);
    }
    if (retry >= 0) {
      o.put("retry", retry);
    }
    return o;
  }

  public static EventDraft fromJson(JsonObject o) {
    return new EventDraft(o.getString("topic"), o.getString("type"), o.getString("data"),
      o.getBoolean("json", false), o.getString("key"), o.getBoolean("private", false), o.getLong("retry", -1L));
  }
}
