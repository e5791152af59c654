package io.herald.common;

/**
 * Rules for names that clients and publishers send: topics, event types and publisher ids.
 * Topic names are plain ASCII so that they are safe in event-bus addresses, URLs, headers, log
 * lines and Redis keys, and compare the same everywhere (no Unicode normalisation questions).
 */
public final class Topics {

  /** Longest topic name, in characters. */
  public static final int MAX_TOPIC_LENGTH = 128;
  /** Longest event type. */
  public static final int MAX_TYPE_LENGTH = 64;
  /** Longest publisher-chosen event id. */
  public static final int MAX_KEY_LENGTH = 128;

  private Topics() {
  }

  /**
   * A topic is 1 to {@value #MAX_TOPIC_LENGTH} characters from {@code A-Z a-z 0-9 _ - . : @ /},
   * starting with a letter or digit. {@code :} and {@code /} make namespaces such as
   * {@code user:42} or {@code orders/eu}.
   */
  public static boolean isValidTopic(String topic) {
    if (topic == null || topic.isEmpty() || topic.length() > MAX_TOPIC_LENGTH) {
      return false;
    }
    if (!isAlnum(topic.charAt(0))) {
      return false;
    }
    for (int i = 1; i < topic.length(); i++) {
      char c = topic.charAt(i);
      if (!(isAlnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '@' || c == '/')) {
        return false;
      }
    }
    return true;
  }

  /**
   * An event type is 1 to {@value #MAX_TYPE_LENGTH} characters from {@code A-Z a-z 0-9 _ - . :},
   * starting with a letter: it becomes the SSE {@code event:} field and a JavaScript listener
   * name, so no spaces, controls or line breaks.
   */
  public static boolean isValidType(String type) {
    if (type == null || type.isEmpty() || type.length() > MAX_TYPE_LENGTH) {
      return false;
    }
    char first = type.charAt(0);
    if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) {
      return false;
    }
    for (int i = 1; i < type.length(); i++) {
      char c = type.charAt(i);
      if (!(isAlnum(c) || c == '_' || c == '-' || c == '.' || c == ':')) {
        return false;
      }
    }
    return true;
  }

  /**
   * A publisher's event id is 1 to {@value #MAX_KEY_LENGTH} printable ASCII characters
   * (no spaces, no controls: no CR, LF or NUL).
   */
  public static boolean isValidKey(String key) {
    if (key == null || key.isEmpty() || key.length() > MAX_KEY_LENGTH) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  private static boolean isAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
}
