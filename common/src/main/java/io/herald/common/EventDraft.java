package io.herald.common;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * An event as a publisher hands it in, validated by the notifier and not yet stored: it has
 * no position. One draft per topic (a publish to several topics yields several drafts).
 */
public record EventDraft(String topic, String type, String data, boolean json, String key) {

  public EventDraft {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(data, "data");
  }

  public Event toEvent(String epoch, long seq, long timestamp) {
    return new Event(topic, epoch, seq, type, data, json, key, timestamp);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("topic", topic).put("type", type).put("data", data).put("json", json);
    if (key != null) {
      o.put("key", key);
    }
    return o;
  }

  public static EventDraft fromJson(JsonObject o) {
    return new EventDraft(o.getString("topic"), o.getString("type"), o.getString("data"),
      o.getBoolean("json", false), o.getString("key"));
  }
}
