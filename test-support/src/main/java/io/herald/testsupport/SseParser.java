package io.herald.testsupport;

import java.util.ArrayList;
import java.util.List;

/**
 * An SSE stream parser that follows the WHATWG "event stream interpretation" rules: lines end
 * in CRLF, LF or CR; a comment starts with ':'; {@code data} lines join with LF; {@code id}
 * updates the last event id even when no event is dispatched; {@code retry} takes digits only;
 * an event with an empty data buffer is not dispatched. Also counts comments (heartbeats).
 */
public final class SseParser {

  private final StringBuilder pending = new StringBuilder();
  private final StringBuilder data = new StringBuilder();
  private boolean hasData;
  private String type = "";
  private String idBuffer = "";
  private String lastEventId = "";
  private long retry = -1;
  private int comments;
  private int heartbeats;
  private final List<SseEvent> events = new ArrayList<>();
  private final List<String> rawLines = new ArrayList<>();

  /** Feeds a chunk of the stream; returns the events dispatched by it. */
  public synchronized List<SseEvent> feed(String chunk) {
    List<SseEvent> out = new ArrayList<>();
    pending.append(chunk);
    int start = 0;
    for (int i = 0; i < pending.length(); i++) {
      char c = pending.charAt(i);
      if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 >= pending.length()) {
          break; // wait to see whether LF follows
        }
        String line = pending.substring(start, i);
        if (c == '\r' && pending.charAt(i + 1) == '\n') {
          i++;
        }
        start = i + 1;
        line(line, out);
      }
    }
    pending.delete(0, start);
    events.addAll(out);
    return out;
  }

  private void line(String line, List<SseEvent> out) {
    rawLines.add(line);
    if (line.isEmpty()) {
      dispatch(out);
      return;
    }
    if (line.charAt(0) == ':') {
      comments++;
      if (line.length() == 1) {
        heartbeats++;
      }
      return;
    }
    int colon = line.indexOf(':');
    String field = colon < 0 ? line : line.substring(0, colon);
    String value = colon < 0 ? "" : line.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "event" -> type = value;
      case "data" -> {
        data.append(value).append('\n');
        hasData = true;
      }
      case "id" -> {
        if (value.indexOf('\0') < 0) {
          idBuffer = value;
        }
      }
      case "retry" -> {
        if (!value.isEmpty() && value.chars().allMatch(Character::isDigit)) {
          retry = Long.parseLong(value);
        }
      }
      default -> {
        // ignored, as the spec says
      }
    }
  }

  private void dispatch(List<SseEvent> out) {
    lastEventId = idBuffer;
    if (!hasData) {
      type = "";
      return;
    }
    String d = data.toString();
    if (d.endsWith("\n")) {
      d = d.substring(0, d.length() - 1);
    }
    out.add(new SseEvent(lastEventId, type.isEmpty() ? "message" : type, d));
    data.setLength(0);
    hasData = false;
    type = "";
  }

  public synchronized List<SseEvent> events() {
    return new ArrayList<>(events);
  }

  public synchronized String lastEventId() {
    return lastEventId;
  }

  public synchronized long retry() {
    return retry;
  }

  public synchronized int comments() {
    return comments;
  }

  /** Empty comment lines ({@code :}), the gateway's heartbeats; the opening {@code :ok} is not one. */
  public synchronized int heartbeats() {
    return heartbeats;
  }

  public synchronized List<String> rawLines() {
    return new ArrayList<>(rawLines);
  }
}
