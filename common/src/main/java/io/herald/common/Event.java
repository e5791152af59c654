package io.herald.common;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * One stored event of one topic: immutable, created by the replay store when it assigns the
 * event its position. The same instance may be handed to several verticles in one JVM (the
 * event-bus codec passes it by reference locally); nothing in it can change.
 *
 * <p>{@code data} is kept as text: when {@link #json()} is true it is a compact JSON document
 * (one line), otherwise arbitrary UTF-8 text that may span several lines.
 */
public final class Event {

  /** Event type used when a publisher names none; what {@code EventSource.onmessage} receives. */
  public static final String DEFAULT_TYPE = "message";

  private final String topic;
  private final String epoch;
  private final long seq;
  private final String type;
  private final String data;
  private final boolean json;
  private final String key;
  private final long timestamp;

  /**
   * @param topic     the topic, already validated
   * @param epoch     the topic's history epoch in the store that assigned {@code seq}
   * @param seq       position in the topic, from 1, strictly increasing within an epoch
   * @param type      event type, already validated
   * @param data      payload text
   * @param json      whether {@code data} is a JSON document
   * @param key       the publisher's own id for the event (idempotency key), or null
   * @param timestamp when the store accepted it, epoch milliseconds
   */
  public Event(String topic, String epoch, long seq, String type, String data, boolean json, String key, long timestamp) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.epoch = Objects.requireNonNull(epoch, "epoch");
    this.seq = seq;
    this.type = Objects.requireNonNull(type, "type");
    this.data = Objects.requireNonNull(data, "data");
    this.json = json;
    this.key = key;
    this.timestamp = timestamp;
  }

  public String topic() { return topic; }
  public String epoch() { return epoch; }
  public long seq() { return seq; }
  public String type() { return type; }
  public String data() { return data; }
  public boolean json() { return json; }
  public String key() { return key; }
  public long timestamp() { return timestamp; }

  public Position position() {
    return new Position(epoch, seq);
  }

  /** The resume cursor of a client that has seen this event and holds only its topic. */
  public String cursor() {
    return Cursor.single(topic, epoch, seq);
  }

  /** Wire form used on request/reply addresses and by stores that keep JSON. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject()
      .put("topic", topic)
      .put("epoch", epoch)
      .put("seq", seq)
      .put("type", type)
      .put("data", data)
      .put("json", json)
      .put("ts", timestamp);
    if (key != null) {
      o.put("key", key);
    }
    return o;
  }

  public static Event fromJson(JsonObject o) {
    return new Event(o.getString("topic"), o.getString("epoch"), o.getLong("seq"), o.getString("type"),
      o.getString("data"), o.getBoolean("json", false), o.getString("key"), o.getLong("ts", 0L));
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) return true;
    if (!(o instanceof Event)) return false;
    Event e = (Event) o;
    return seq == e.seq && json == e.json && timestamp == e.timestamp && topic.equals(e.topic)
      && epoch.equals(e.epoch) && type.equals(e.type) && data.equals(e.data) && Objects.equals(key, e.key);
  }

  @Override
  public int hashCode() {
    return Objects.hash(topic, epoch, seq);
  }

  @Override
  public String toString() {
    return "Event{" + topic + "@" + epoch + ":" + seq + " " + type + "}";
  }
}
