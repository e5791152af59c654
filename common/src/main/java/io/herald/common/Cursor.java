package io.herald.common;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The opaque resume cursor that Herald puts in the SSE {@code id:} field and reads back from
 * {@code Last-Event-ID}: for every topic of a connection, where that connection stood.
 *
 * <p>Text form: entries joined by {@code '.'}, each {@code <tag>-<epoch>-<seq>} where
 * {@code tag} is a 32-bit FNV-1a hash of the topic name in base 36, {@code epoch} the topic's
 * history epoch ({@code [A-Za-z0-9]{1,16}}) and {@code seq} the last sequence seen, in base 36.
 * Only characters that are safe in a header, a query parameter and an SSE field are used.
 * The tag keeps the cursor short whatever the topic names; a tag shared by two topics of one
 * request makes both unknown (they get a {@code reset}), never a wrong position.
 */
public final class Cursor {

  /**
   * How a cursor is written where it must be an IRI, as the Mercure specification wants of the
   * ids a hub generates: a relative reference made of a fragment ({@code #} and the cursor).
   * {@link #parse} accepts a cursor with or without it, so either form resumes everywhere.
   */
  public static final String HUB_ID_PREFIX = "#";

  /** Longest epoch accepted in a cursor. */
  public static final int MAX_EPOCH_LENGTH = 16;

  private final Map<String, Position> byTag;

  private Cursor(Map<String, Position> byTag) {
    this.byTag = byTag;
  }

  /** Where the cursor says {@code topic} stood, or null when the cursor does not name it. */
  public Position position(String topic) {
    return byTag.get(tag(topic));
  }

  public int size() {
    return byTag.size();
  }

  /** Gives every entry: its tag ({@link #tag}) and position. */
  public void forEachEntry(java.util.function.BiConsumer<String, Position> action) {
    byTag.forEach(action);
  }

  /** An entry for a topic known only by its {@link #tag}. */
  public static String tagEntry(String tag, String epoch, long seq) {
    return tag + '-' + epoch + '-' + Long.toString(seq, 36);
  }

  /** The cursor of a single topic. */
  public static String single(String topic, String epoch, long seq) {
    return entry(topic, epoch, seq);
  }

  /** One entry of a cursor; join several with {@link #join}. */
  public static String entry(String topic, String epoch, long seq) {
    return tag(topic) + '-' + epoch + '-' + Long.toString(seq, 36);
  }

  /** Joins entries made by {@link #entry} into one cursor. */
  public static String join(String[] entries) {
    if (entries.length == 0) {
      throw new IllegalArgumentException("a cursor needs at least one entry");
    }
    if (entries.length == 1) {
      return entries[0];
    }
    int len = entries.length - 1;
    for (String e : entries) {
      len += e.length();
    }
    StringBuilder sb = new StringBuilder(len);
    for (int i = 0; i < entries.length; i++) {
      if (i > 0) sb.append('.');
      sb.append(entries[i]);
    }
    return sb.toString();
  }

  /**
   * Parses a cursor; returns null when {@code text} is not one (garbage, truncated, a tag named
   * twice, more than {@code maxEntries} entries). Callers treat null as "position unknown".
   */
  public static Cursor parse(String text, int maxEntries) {
    if (text != null && text.startsWith(HUB_ID_PREFIX)) {
      text = text.substring(HUB_ID_PREFIX.length());
    }
    if (text == null || text.isEmpty()) {
      return null;
    }
    Map<String, Position> map = new HashMap<>();
    int start = 0;
    int n = text.length();
    while (start <= n) {
      int end = text.indexOf('.', start);
      if (end < 0) end = n;
      if (map.size() >= maxEntries) {
        return null;
      }
      if (!parseEntry(text, start, end, map)) {
        return null;
      }
      start = end + 1;
    }
    return new Cursor(map);
  }

  private static boolean parseEntry(String s, int from, int to, Map<String, Position> into) {
    int d1 = s.indexOf('-', from);
    if (d1 <= from || d1 >= to) return false;
    int d2 = s.indexOf('-', d1 + 1);
    if (d2 <= d1 + 1 || d2 >= to - 1) return false;
    String tag = s.substring(from, d1);
    String epoch = s.substring(d1 + 1, d2);
    String seqText = s.substring(d2 + 1, to);
    if (tag.length() > 7 || !isBase36(tag) || epoch.length() > MAX_EPOCH_LENGTH || !isAlnum(epoch)
      || seqText.length() > 13 || !isBase36(seqText)) {
      return false;
    }
    long seq;
    try {
      seq = Long.parseLong(seqText, 36);
    } catch (NumberFormatException tooLarge) {
      return false;
    }
    if (into.put(tag, new Position(epoch, seq)) != null) {
      return false;
    }
    return true;
  }

  /** The tag of a topic: FNV-1a over its UTF-8 bytes, unsigned, base 36. */
  public static String tag(String topic) {
    int h = 0x811c9dc5;
    for (byte b : topic.getBytes(StandardCharsets.UTF_8)) {
      h ^= (b & 0xff);
      h *= 0x01000193;
    }
    return Long.toString(h & 0xffffffffL, 36);
  }

  /** True for epochs a store may hand out: 1 to 16 ASCII letters and digits. */
  public static boolean isValidEpoch(String epoch) {
    return epoch != null && !epoch.isEmpty() && epoch.length() <= MAX_EPOCH_LENGTH && isAlnum(epoch);
  }

  private static boolean isBase36(String s) {
    if (s.isEmpty()) return false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
    }
    return true;
  }

  private static boolean isAlnum(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
    }
    return true;
  }
}
