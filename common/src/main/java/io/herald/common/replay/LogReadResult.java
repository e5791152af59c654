package io.herald.common.replay;

import io.herald.common.Event;
import io.herald.common.Position;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The answer of {@link ReplayStore#readLog}: the log's head when the read was served, whether
 * the asked position could not be served ({@code reset}, with a reason for clients), the
 * matching events in log order, and {@code scannedTo}, the log position up to which the store
 * looked. A caller that continues from {@code scannedTo} (not from its last event) advances even
 * when nothing matched; it has read everything up to the head when {@code scannedTo} equals
 * {@code head}. On a reset there are no events and {@code scannedTo} is the head: the caller
 * signals the reset to its client and follows the log from there.
 */
public record LogReadResult(Position head, boolean reset, List<Event> events, Position scannedTo, String reason) {

  public LogReadResult {
    Objects.requireNonNull(head, "head");
    Objects.requireNonNull(scannedTo, "scannedTo");
    events = List.copyOf(events);
  }

  /** A served read. */
  public static LogReadResult of(Position head, List<Event> events, Position scannedTo) {
    return new LogReadResult(head, false, events, scannedTo, null);
  }

  /** A reset whose clients are told {@code reason} (null: {@code history_unavailable}). */
  public static LogReadResult reset(Position head, String reason) {
    return new LogReadResult(head, true, List.of(), head, reason);
  }

  /** The reason a client of this reset is given: the store's, or {@code history_unavailable}. */
  public String resetReason() {
    return reason != null ? reason : "history_unavailable";
  }

  /** True when the scan reached the head: nothing more to read now. */
  public boolean complete() {
    return reset || scannedTo.seq() >= head.seq();
  }

  /**
   * Wire form: {@code {"head": {"epoch","seq"}, "reset": bool, "scannedTo": seq, "events": [Event
   * JSON with "log"], "reason"?}} ({@code scannedTo} is in the head's epoch).
   */
  public JsonObject toJson() {
    JsonArray arr = new JsonArray();
    for (Event e : events) {
      arr.add(e.toJson());
    }
    JsonObject o = new JsonObject()
      .put("head", new JsonObject().put("epoch", head.epoch()).put("seq", head.seq()))
      .put("reset", reset)
      .put("scannedTo", scannedTo.seq())
      .put("events", arr);
    if (reason != null) {
      o.put("reason", reason);
    }
    return o;
  }

  public static LogReadResult fromJson(JsonObject o) {
    JsonObject h = o.getJsonObject("head");
    Position head = new Position(h.getString("epoch"), h.getLong("seq"));
    JsonArray arr = o.getJsonArray("events");
    List<Event> events = new ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      events.add(Event.fromJson(arr.getJsonObject(i)));
    }
    return new LogReadResult(head, o.getBoolean("reset"), events, new Position(head.epoch(), o.getLong("scannedTo")),
      o.getString("reason"));
  }
}
