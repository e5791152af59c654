package io.herald.common.replay;

import io.herald.common.Event;
import io.herald.common.Position;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The answer of {@link ReplayStore#read}: the topic's head when the read was served, whether
 * the asked position could not be served ({@code reset}), the events after it, and for a reset
 * the reason clients are given when the store knows one more precise than
 * {@code history_unavailable} (null otherwise).
 */
public record ReadResult(Position head, boolean reset, List<Event> events, String reason) {

  /** Reason of a reset because missed events were evicted to keep the store within its memory budget. */
  public static final String HISTORY_EVICTED = "history_evicted";

  /** A result without a specific reset reason. */
  public ReadResult(Position head, boolean reset, List<Event> events) {
    this(head, reset, events, null);
  }

  public static ReadResult reset(Position head) {
    return new ReadResult(head, true, List.of());
  }

  /** A reset whose clients are told {@code reason}. */
  public static ReadResult reset(Position head, String reason) {
    return new ReadResult(head, true, List.of(), reason);
  }

  /** The reason a client of this reset is given: the store's, or {@code history_unavailable}. */
  public String resetReason() {
    return reason != null ? reason : "history_unavailable";
  }

  /** True when the events end at the head: nothing more to read. */
  public boolean complete() {
    return reset || events.isEmpty() || events.get(events.size() - 1).seq() >= head.seq();
  }

  public JsonObject toJson() {
    JsonArray arr = new JsonArray();
    for (Event e : events) {
      arr.add(e.toJson());
    }
    JsonObject o = new JsonObject()
      .put("head", new JsonObject().put("epoch", head.epoch()).put("seq", head.seq()))
      .put("reset", reset)
      .put("events", arr);
    if (reason != null) {
      o.put("reason", reason);
    }
    return o;
  }

  public static ReadResult fromJson(JsonObject o) {
    JsonObject h = o.getJsonObject("head");
    JsonArray arr = o.getJsonArray("events");
    List<Event> events = new ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      events.add(Event.fromJson(arr.getJsonObject(i)));
    }
    return new ReadResult(new Position(h.getString("epoch"), h.getLong("seq")), o.getBoolean("reset"), events,
      o.getString("reason"));
  }
}
