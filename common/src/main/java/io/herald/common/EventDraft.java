package io.herald.common;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * An event as a publisher hands it in, validated by the notifier and not yet stored: it has
 * no position. One draft per topic (a publish to several topics yields several drafts).
 * {@code privateUpdate} and {@code retry} are the Mercure delivery flags ({@link Event#privateUpdate()},
 * {@link Event#retry()}; -1: no retry); {@code alternates} the topics of a Mercure update published
 * with several {@code topic} fields, one draft per topic ({@link Event#alternates()}; null: none).
 */
public record EventDraft(String topic, String type, String data, boolean json, String key, boolean privateUpdate, long retry,
                         java.util.List<String> alternates) {

  public EventDraft {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(data, "data");
    retry = retry < 0 ? -1 : retry;
    alternates = alternates == null || alternates.size() < 2 ? null : java.util.List.copyOf(alternates);
  }

  /** A draft with delivery flags, of an update of one topic. */
  public EventDraft(String topic, String type, String data, boolean json, String key, boolean privateUpdate, long retry) {
    this(topic, type, data, json, key, privateUpdate, retry, null);
  }

  /** A draft without delivery flags. */
  public EventDraft(String topic, String type, String data, boolean json, String key) {
    this(topic, type, data, json, key, false, -1);
  }

  public Event toEvent(String epoch, long seq, long timestamp) {
    return new Event(topic, epoch, seq, type, data, json, key, timestamp, null, null, null, privateUpdate, retry, alternates);
  }

  /** The flags as {@link Event#flagsText()} writes them, or null. */
  public String flagsText() {
    return Event.flagsText(privateUpdate, retry, alternates);
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
    if (alternates != null) {
      o.put("alternates", new io.vertx.core.json.JsonArray(new java.util.ArrayList<>(alternates)));
    }
    return o;
  }

  public static EventDraft fromJson(JsonObject o) {
    return new EventDraft(o.getString("topic"), o.getString("type"), o.getString("data"),
      o.getBoolean("json", false), o.getString("key"), o.getBoolean("private", false), o.getLong("retry", -1L),
      o.getJsonArray("alternates") == null ? null : o.getJsonArray("alternates").stream().map(String.class::cast).toList());
  }
}
