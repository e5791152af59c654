package io.herald.common;

import io.herald.common.tracing.TraceContext;
import io.vertx.core.json.JsonObject;

import java.util.List;
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
  private final Position prev;
  private final TraceContext trace;
  private final Position log;
  private final boolean privateUpdate;
  private final long retry;
  private final List<String> alternates;

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
    this(topic, epoch, seq, type, data, json, key, timestamp, null);
  }

  /**
   * An event that opens a new epoch of its topic and says where the topic stood in the epoch
   * before (see {@link #prev()}).
   *
   * @param prev the topic's last position in the epoch this one follows, or null
   */
  public Event(String topic, String epoch, long seq, String type, String data, boolean json, String key, long timestamp,
               Position prev) {
    this(topic, epoch, seq, type, data, json, key, timestamp, prev, null);
  }

  /**
   * An event with its delivery metadata: see {@link #prev()} and {@link #trace()}.
   *
   * @param trace the trace context of its publish, or null
   */
  public Event(String topic, String epoch, long seq, String type, String data, boolean json, String key, long timestamp,
               Position prev, TraceContext trace) {
    this(topic, epoch, seq, type, data, json, key, timestamp, prev, trace, null);
  }

  /**
   * An event with its delivery metadata and its place in the store's log.
   *
   * @param log the event's position in the store's log spanning all topics, or null
   */
  public Event(String topic, String epoch, long seq, String type, String data, boolean json, String key, long timestamp,
               Position prev, TraceContext trace, Position log) {
    this(topic, epoch, seq, type, data, json, key, timestamp, prev, trace, log, false, -1);
  }

  /**
   * An event with every field, its Mercure delivery flags included.
   *
   * @param privateUpdate see {@link #privateUpdate()}
   * @param retry         see {@link #retry()}; -1 for none
   */
  public Event(String topic, String epoch, long seq, String type, String data, boolean json, String key, long timestamp,
               Position prev, TraceContext trace, Position log, boolean privateUpdate, long retry) {
    this(topic, epoch, seq, type, data, json, key, timestamp, prev, trace, log, privateUpdate, retry, null);
  }

  /**
   * An event with every field, the topics of its Mercure update included.
   *
   * @param alternates see {@link #alternates()}; null for none
   */
  public Event(String topic, String epoch, long seq, String type, String data, boolean json, String key, long timestamp,
               Position prev, TraceContext trace, Position log, boolean privateUpdate, long retry, List<String> alternates) {
    this.alternates = alternates == null || alternates.size() < 2 ? null : List.copyOf(alternates);
    this.privateUpdate = privateUpdate;
    this.retry = retry < 0 ? -1 : retry;
    this.topic = Objects.requireNonNull(topic, "topic");
    this.epoch = Objects.requireNonNull(epoch, "epoch");
    this.seq = seq;
    this.type = Objects.requireNonNull(type, "type");
    this.data = Objects.requireNonNull(data, "data");
    this.json = json;
    this.key = key;
    this.timestamp = timestamp;
    this.prev = prev;
    this.trace = trace;
    this.log = log;
  }

  public String topic() { return topic; }
  public String epoch() { return epoch; }
  public long seq() { return seq; }
  public String type() { return type; }
  public String data() { return data; }
  public boolean json() { return json; }
  public String key() { return key; }
  public long timestamp() { return timestamp; }

  /**
   * Set only on the first event of a topic in a new epoch when the store knows the epoch it
   * follows (entering or leaving a store outage): the topic's last position in that epoch, so
   * that a subscriber standing exactly there can follow the new epoch without a {@code reset}
   * (it missed nothing). Null otherwise. Delivery metadata, not part of the event's identity:
   * {@link #equals(Object)} ignores it.
   */
  public Position prev() { return prev; }

  /** This event with {@link #prev()} set to {@code prev}. */
  public Event withPrev(Position prev) {
    return new Event(topic, epoch, seq, type, data, json, key, timestamp, prev, trace, log, privateUpdate, retry, alternates);
  }

  /**
   * The trace context of the publish that stored this event (the notifier's publish span), set
   * by the replay role on the event it publishes live when that publish was traced; null
   * otherwise, and always on events read back from a store. Delivery metadata like
   * {@link #prev()}: not stored, not in {@link #toJson()}, ignored by {@link #equals(Object)}.
   */
  public TraceContext trace() { return trace; }

  /** This event with {@link #trace()} set to {@code trace}. */
  public Event withTrace(TraceContext trace) {
    return new Event(topic, epoch, seq, type, data, json, key, timestamp, prev, trace, log, privateUpdate, retry, alternates);
  }

  /**
   * The event's position in its store's <em>log</em>, the sequence that spans all topics
   * ({@code ReplayStore#readLog}): the log's epoch and the event's log sequence. Set by the store
   * that stored the event (on the appended event, the published one and the events of
   * {@code readLog}); null on events that have none (an older node's, or a per-topic read of a
   * store that does not keep it there: see the store's doc). Carried in {@link #toJson()} and by
   * {@link EventCodec}; like {@link #prev()}, ignored by {@link #equals(Object)}.
   */
  public Position log() { return log; }

  /** This event with {@link #log()} set to {@code log}. */
  public Event withLog(Position log) {
    return new Event(topic, epoch, seq, type, data, json, key, timestamp, prev, trace, log, privateUpdate, retry, alternates);
  }

  /**
   * A private update (Mercure's {@code private} field): it may be delivered, live or replayed,
   * only to subscribers whose token grants reading its topic, never to anonymous ones or to those
   * granted the topic's public updates only. Stored with the event by every store; part of
   * {@link #equals(Object)}.
   */
  public boolean privateUpdate() { return privateUpdate; }

  /**
   * The reconnection delay the publisher set for this event (Mercure's {@code retry}), written as
   * the SSE {@code retry:} field with it, in milliseconds; -1 for none. Stored with the event.
   */
  public long retry() { return retry; }

  /** This event with the Mercure delivery flags {@code privateUpdate} and {@code retry} (-1: none). */
  public Event withFlags(boolean privateUpdate, long retry) {
    return new Event(topic, epoch, seq, type, data, json, key, timestamp, prev, trace, log, privateUpdate, retry, alternates);
  }

  /**
   * The delivery flags as stores keep them in one text column or field: {@code p} for private,
   * {@code r<ms>} for a retry, e.g. {@code pr5000}; null when the event has neither.
   */
  public String flagsText() {
    return flagsText(privateUpdate, retry, alternates);
  }

  /** See {@link #flagsText()}. */
  public static String flagsText(boolean privateUpdate, long retry) {
    return flagsText(privateUpdate, retry, null);
  }

  /**
   * See {@link #flagsText()}; with {@link #alternates()}, they follow, each after a space (a
   * character no topic has): {@code p r5000 https://a https://b} is written {@code pr5000 https://a https://b}.
   */
  public static String flagsText(boolean privateUpdate, long retry, List<String> alternates) {
    boolean alts = alternates != null && alternates.size() > 1;
    if (!privateUpdate && retry < 0 && !alts) {
      return null;
    }
    String base = (privateUpdate ? "p" : "") + (retry >= 0 ? "r" + retry : "");
    return alts ? base + " " + String.join(" ", alternates) : base;
  }

  /** This event with the flags of a {@link #flagsText()} (null or empty: none). */
  public Event withFlagsText(String text) {
    if (text == null || text.isEmpty()) {
      return this;
    }
    int space = text.indexOf(' ');
    List<String> alts = space < 0 ? null : List.of(text.substring(space + 1).split(" "));
    String flags = space < 0 ? text : text.substring(0, space);
    boolean p = flags.startsWith("p");
    int r = flags.indexOf('r');
    return new Event(topic, epoch, seq, type, data, json, key, timestamp, prev, trace, log, p,
      r < 0 ? -1 : Long.parseLong(flags.substring(r + 1)), alts);
  }

  /**
   * The topics of the Mercure update this event is one copy of, canonical topic first, when the
   * update was published with several {@code topic} fields (alternate IRIs): it is stored once per
   * topic with the same key, and a subscriber matching several of them receives only the copy of
   * the first one it may read ({@code Connection}). Null for an update of one topic. Stored with the
   * event (in {@link #flagsText()}); part of {@link #equals(Object)}.
   */
  public List<String> alternates() { return alternates; }

  /** This event with {@link #alternates()} set (null or fewer than two topics: none). */
  public Event withAlternates(List<String> alternates) {
    return new Event(topic, epoch, seq, type, data, json, key, timestamp, prev, trace, log, privateUpdate, retry, alternates);
  }

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
    if (prev != null) {
      o.put("prev", new JsonObject().put("epoch", prev.epoch()).put("seq", prev.seq()));
    }
    if (log != null) {
      o.put("log", new JsonObject().put("epoch", log.epoch()).put("seq", log.seq()));
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

  public static Event fromJson(JsonObject o) {
    JsonObject p = o.getJsonObject("prev");
    JsonObject l = o.getJsonObject("log");
    return new Event(o.getString("topic"), o.getString("epoch"), o.getLong("seq"), o.getString("type"),
      o.getString("data"), o.getBoolean("json", false), o.getString("key"), o.getLong("ts", 0L),
      p == null ? null : new Position(p.getString("epoch"), p.getLong("seq")), null,
      l == null ? null : new Position(l.getString("epoch"), l.getLong("seq")),
      o.getBoolean("private", false), o.getLong("retry", -1L), alternates(o));
  }

  private static List<String> alternates(JsonObject o) {
    io.vertx.core.json.JsonArray a = o.getJsonArray("alternates");
    if (a == null) {
      return null;
    }
    List<String> out = new java.util.ArrayList<>(a.size());
    for (Object t : a) {
      out.add((String) t);
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) return true;
    if (!(o instanceof Event)) return false;
    Event e = (Event) o;
    return seq == e.seq && json == e.json && timestamp == e.timestamp && topic.equals(e.topic)
      && epoch.equals(e.epoch) && type.equals(e.type) && data.equals(e.data) && Objects.equals(key, e.key)
      && privateUpdate == e.privateUpdate && retry == e.retry
      && Objects.equals(alternates, e.alternates);
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
