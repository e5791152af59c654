package io.herald.common.replay;

import io.herald.common.Event;
import io.herald.common.Position;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The answer of {@link ReplayStore#read}: the topic's head when the read was served, whether
 * the asked position could not be served ({@code reset}), and the events after it.
 */
public record ReadResult(Position head, boolean reset, List<Event> events) {

  public static ReadResult reset(Position head) {
    return new ReadResult(head, true, List.of());
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
    return new JsonObject()
      .put("head", new JsonObject().put("epoch", head.epoch()).put("seq", head.seq()))
      .put("reset", reset)
      .put("events", arr);
  }

  public static ReadResult fromJson(JsonObject o) {
    JsonObject h = o.getJsonObject("head");
    JsonArray arr = o.getJsonArray("events");
    List<Event> events = new ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      events.add(Event.fromJson(arr.getJsonObject(i)));
    }
    return new ReadResult(new Position(h.getString("epoch"), h.getLong("seq")), o.getBoolean("reset"), events);
  }
}
