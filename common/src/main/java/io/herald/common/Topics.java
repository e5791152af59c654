package io.herald.common;

/**
 * Rules for names that clients and publishers send: topics, event types and publisher ids.
 * Topic names are printable ASCII, the characters of a URI, so that they are safe in event-bus
 * addresses, headers, log lines and Redis keys, and compare the same everywhere (no Unicode
 * normalisation questions); an IRI is a topic once its non-ASCII characters are percent-encoded.
 */
public final class Topics {

  /** Longest topic name, in characters. */
  public static final int MAX_TOPIC_LENGTH = 128;
  /**
   * The prefix of the topics of Mercure subscription events, which the hub itself publishes
   * (publishers may not: see the gateway's Mercure publish): they may be up to
   * {@link #MAX_HUB_TOPIC_LENGTH} long, for they carry a percent-encoded matcher and subscriber.
   */
  public static final String HUB_SUBSCRIPTIONS_PREFIX = "/.well-known/mercure/subscriptions/";
  /**
   * Longest topic under {@link #HUB_SUBSCRIPTIONS_PREFIX}: its prefix, a matcher type, a matcher
   * of up to 256 ASCII characters percent-encoded (at most three characters each) and a subscriber.
   */
  public static final int MAX_HUB_TOPIC_LENGTH = 1024;
  /** The Mercure hub's own namespace: relative topics under it are published by the hub only. */
  public static final String HUB_NAMESPACE = "/.well-known/mercure";

  /**
   * Is {@code topic} in the Mercure hub's own namespace ({@link #HUB_NAMESPACE} or under it)?
   * Only the hub publishes there (its subscription events, over the event bus); publishers that
   * come from outside the cluster (HTTP, webhooks, ingests, the TCP bridge, Mercure's publish)
   * are refused, so nobody forges the hub's events.
   */
  public static boolean isHubTopic(String topic) {
    return topic.startsWith(HUB_NAMESPACE) && (topic.length() == HUB_NAMESPACE.length() || topic.charAt(HUB_NAMESPACE.length()) == '/');
  }

  /** Longest event type. */
  public static final int MAX_TYPE_LENGTH = 64;
  /** Longest publisher-chosen event id. */
  public static final int MAX_KEY_LENGTH = 128;

  private Topics() {
  }

  /**
   * What a valid topic is, in words, for error messages: the rule of {@link #isValidTopic}.
   */
  public static final String TOPIC_RULE = "1 to " + MAX_TOPIC_LENGTH + " characters from A-Z a-z 0-9 and"
    + " - . _ ~ : / ? # [ ] @ ! $ & ' ( ) + , ; = and %XX escapes (no *, no spaces), starting with a letter,"
    + " a digit or /";

  /**
   * A topic is 1 to {@value #MAX_TOPIC_LENGTH} characters of a URI (RFC 3986): letters, digits,
   * the unreserved {@code - . _ ~}, the reserved {@code : / ? # [ ] @ ! $ & ' ( ) + , ; =}
   * except {@code *} (kept for patterns), and {@code %} followed by two hexadecimal digits. It
   * starts with a letter, a digit or {@code /}. So Herald names such as {@code user:42} or
   * {@code orders/eu} and Mercure topics such as {@code https://example.com/books/1?lang=fr} or
   * {@code /.well-known/mercure/subscriptions/...} are topics; spaces, controls, quotes,
   * {@code < > \ ^ ` { | }} and non-ASCII characters are not (percent-encode them). Everything
   * built from a topic (event-bus addresses, store keys and rows, SSE frames, cursor tags, log
   * lines) takes these characters as they are. Topics of Mercure subscription events
   * ({@link #HUB_SUBSCRIPTIONS_PREFIX}) may be up to {@value #MAX_HUB_TOPIC_LENGTH} characters long.
   */
  public static boolean isValidTopic(String topic) {
    if (topic == null || topic.isEmpty()
      || topic.length() > (topic.startsWith(HUB_SUBSCRIPTIONS_PREFIX) ? MAX_HUB_TOPIC_LENGTH : MAX_TOPIC_LENGTH)) {
      return false;
    }
    char first = topic.charAt(0);
    if (!(isAlnum(first) || first == '/')) {
      return false;
    }
    int n = topic.length();
    for (int i = 1; i < n; i++) {
      char c = topic.charAt(i);
      if (c == '%') {
        if (i + 2 >= n) {
          return false;
        }
        if (!isHex(topic.charAt(i + 1)) || !isHex(topic.charAt(i + 2))) {
          return false;
        }
        i += 2;
      } else if (!(isAlnum(c) || URI_CHARS.indexOf(c) >= 0)) {
        return false;
      }
    }
    return true;
  }

  /** The characters of a topic besides letters, digits and %-escapes. */
  private static final String URI_CHARS = "-._~:/?#[]@!$&'()+,;=";

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
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
