package io.herald.notifier;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import io.herald.common.ErrorCode;
import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.herald.common.Topics;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The one place publish rules live: turns a publish body into drafts, or fails with a
 * {@link HeraldException} from the catalogue. Every event is checked before anything is
 * stored, so a bad request changes nothing.
 *
 * <p>Single form: {@code {"topic": "a" | "topics": ["a","b"], "type": "...", "data": <json or
 * string>, "id": "...", "private": true|false, "retry": <ms>}}; {@code private} and {@code retry}
 * are the Mercure delivery flags ({@link EventDraft#privateUpdate()}, {@link EventDraft#retry()});
 * {@code "alternates": true} with {@code topics} makes them one Mercure update under several IRIs,
 * the first canonical ({@link EventDraft#alternates()}).
 * Batch form: {@code {"events": [single, ...]}}.
 */
public final class PublishParser {

  private static final Set<String> FIELDS = Set.of("topic", "topics", "type", "data", "id", "private", "retry", "alternates");
  /** Largest {@code retry}, ms (a day): SSE clients read it as an integer. */
  static final long MAX_RETRY_MILLIS = 86_400_000L;

  /**
   * Comments are skipped as Vert.x's own decoder did; a field given twice is refused (which
   * value would count?). Numbers longer than Jackson's limit (1,000 characters) are refused.
   */
  private static final JsonFactory FACTORY = JsonFactory.builder()
    .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
    .build();

  private final NotifierOptions options;

  public PublishParser(NotifierOptions options) {
    this.options = options;
  }

  /** Parses a body's bytes: strict UTF-8, then {@link #object(String)}. */
  public static JsonObject object(byte[] body) {
    return object(utf8(body, ErrorCode.MALFORMED_JSON, "the body"));
  }

  /**
   * Parses a body's text (malformed JSON is {@code malformed_json}). The {@code data} of the
   * body (and of every entry of a batch's {@code events}) is kept as the publisher wrote it: a
   * string stays a {@link String}, any other value becomes a {@link JsonText} with its numbers
   * digit for digit. A string anywhere that holds a lone UTF-16 surrogate ({@code "\ud800"}) is
   * refused: it is no Unicode text and no transport could deliver it unchanged.
   */
  public static JsonObject object(String text) {
    try (JsonParser p = FACTORY.createParser(text)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new HeraldException(ErrorCode.MALFORMED_JSON, "the body must be a JSON object");
      }
      JsonObject body = readObject(p, text, Place.BODY, "");
      if (p.nextToken() != null) {
        throw new HeraldException(ErrorCode.MALFORMED_JSON, "the body is not valid JSON: more after the object");
      }
      return body;
    } catch (IOException | RuntimeException e) {
      throw malformed(e);
    }
  }

  /**
   * Parses a whole JSON document that is an event's data: a {@link String} for a JSON string,
   * else a {@link JsonText} (numbers as written). Lone surrogates are refused.
   */
  public static Object data(String text) {
    return data(text, null);
  }

  /** Like {@link #data(String)}; {@code envelope[0]} is set when the value is an object with a top-level {@code "data"} field. */
  static Object data(String text, boolean[] envelope) {
    try (JsonParser p = FACTORY.createParser(text)) {
      if (p.nextToken() == null) {
        throw new HeraldException(ErrorCode.MALFORMED_JSON, "no JSON value");
      }
      Object value = capture(p, text, "data: ", envelope);
      if (p.nextToken() != null) {
        throw new HeraldException(ErrorCode.MALFORMED_JSON, "not valid JSON: more after the value");
      }
      return value;
    } catch (IOException | RuntimeException e) {
      throw malformed(e);
    }
  }

  /**
   * {@code bytes} as UTF-8, refusing what is not UTF-8 (the JDK's decoding would replace it with
   * U+FFFD): a {@link HeraldException} with {@code code}, its message starting with {@code what}.
   */
  public static String utf8(byte[] bytes, ErrorCode code, String what) {
    int i = 0;
    while (i < bytes.length && bytes[i] >= 0) {
      i++;
    }
    if (i == bytes.length) {
      return new String(bytes, StandardCharsets.US_ASCII);
    }
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult r = decoder.decode(in, out, true);
    if (!r.isError()) {
      r = decoder.flush(out);
    }
    if (r.isError()) {
      throw new HeraldException(code, String.format(
        "%s is not valid UTF-8: the sequence at byte offset %d (0x%02X) is malformed",
        what, in.position(), bytes[in.position()] & 0xff));
    }
    return out.flip().toString();
  }

  private enum Place { BODY, EVENTS, ENTRY, OTHER }

  private static JsonObject readObject(JsonParser p, String text, Place place, String where) throws IOException {
    JsonObject o = new JsonObject();
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      checkScalars(name, where + "a field name");
      JsonToken v = p.nextToken();
      if ((place == Place.BODY || place == Place.ENTRY) && name.equals("data")) {
        o.put(name, capture(p, text, where + "data: ", null));
      } else {
        o.put(name, read(p, text, v, place == Place.BODY && name.equals("events") ? Place.EVENTS : Place.OTHER, where + name + ": "));
      }
    }
    if (t != JsonToken.END_OBJECT) {
      throw new HeraldException(ErrorCode.MALFORMED_JSON, "the body is not valid JSON");
    }
    return o;
  }

  private static Object read(JsonParser p, String text, JsonToken t, Place place, String where) throws IOException {
    switch (t) {
      case START_OBJECT:
        return readObject(p, text, place == Place.EVENTS ? Place.ENTRY : Place.OTHER, where);
      case START_ARRAY: {
        JsonArray a = new JsonArray();
        JsonToken e;
        int i = 0;
        while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
          a.add(read(p, text, e, place == Place.EVENTS ? Place.EVENTS : Place.OTHER, place == Place.EVENTS ? "events[" + i + "]." : where));
          i++;
        }
        return a;
      }
      case VALUE_STRING: {
        String s = p.getText();
        checkScalars(s, where + "a string");
        return s;
      }
      case VALUE_NUMBER_INT:
        return p.getNumberValue();
      case VALUE_NUMBER_FLOAT:
        return p.getDecimalValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new HeraldException(ErrorCode.MALFORMED_JSON, "the body is not valid JSON");
    }
  }

  /**
   * The value at the parser's current token: a {@link String} for a string, else compact JSON
   * text in which every number is copied as written and strings are re-escaped minimally
   * (the same characters). {@code text} is what the parser reads.
   *
   * <p>The value is first read through for what it must be (no lone surrogate, no field twice,
   * whether it is an envelope); when its text is already that compact form (no whitespace or
   * comment between tokens, no escape in a string: what {@code JSON.stringify} and most
   * serializers write) it is kept as the very characters the publisher sent, without writing it
   * again; otherwise it is written again through a generator.
   */
  private static Object capture(JsonParser p, String text, String where, boolean[] envelope) throws IOException {
    if (p.currentToken() == JsonToken.VALUE_STRING) {
      String s = p.getText();
      checkScalars(s, where + "the string");
      return s;
    }
    long from = p.currentTokenLocation().getCharOffset();
    walk(p, where, envelope, null);
    long to = p.currentLocation().getCharOffset();
    if (from >= 0 && to > from && to <= text.length()) {
      String raw = text.substring((int) from, (int) to);
      if (compact(raw)) {
        return new JsonText(raw);
      }
      StringWriter out = new StringWriter(raw.length());
      try (JsonParser again = FACTORY.createParser(raw); JsonGenerator g = FACTORY.createGenerator(out)) {
        again.nextToken();
        walk(again, where, null, g);
      }
      return new JsonText(out.toString());
    }
    throw new IllegalStateException("the JSON parser gave no character offsets for a value of a text it read");
  }

  /**
   * Reads the value at the parser's current token to its end, checking its strings and names
   * and noting an envelope, and writes it to {@code g} when not null.
   */
  private static void walk(JsonParser p, String where, boolean[] envelope, JsonGenerator g) throws IOException {
    int depth = 0;
    JsonToken t = p.currentToken();
    while (true) {
      switch (t) {
        case START_OBJECT -> {
          if (g != null) {
            g.writeStartObject();
          }
          depth++;
        }
        case START_ARRAY -> {
          if (g != null) {
            g.writeStartArray();
          }
          depth++;
        }
        case END_OBJECT -> {
          if (g != null) {
            g.writeEndObject();
          }
          depth--;
        }
        case END_ARRAY -> {
          if (g != null) {
            g.writeEndArray();
          }
          depth--;
        }
        case FIELD_NAME -> {
          String name = p.currentName();
          checkScalars(name, where + "a field name");
          if (envelope != null && depth == 1 && name.equals("data")) {
            envelope[0] = true;
          }
          if (g != null) {
            g.writeFieldName(name);
          }
        }
        case VALUE_STRING -> {
          checkScalars(p.getTextCharacters(), p.getTextOffset(), p.getTextLength(), where + "a string");
          if (g != null) {
            g.writeString(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
          }
        }
        // The text of the number as it came: no double, no BigDecimal, nothing rounded.
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
          if (g != null) {
            g.writeNumber(p.getText());
          }
        }
        case VALUE_TRUE -> {
          if (g != null) {
            g.writeBoolean(true);
          }
        }
        case VALUE_FALSE -> {
          if (g != null) {
            g.writeBoolean(false);
          }
        }
        case VALUE_NULL -> {
          if (g != null) {
            g.writeNull();
          }
        }
        default -> throw new HeraldException(ErrorCode.MALFORMED_JSON, "not valid JSON");
      }
      if (depth == 0) {
        return;
      }
      t = p.nextToken();
      if (t == null) {
        throw new HeraldException(ErrorCode.MALFORMED_JSON, "not valid JSON: unexpected end");
      }
    }
  }

  /**
   * Whether {@code json}, a value the parser accepted, is already what the generator would
   * write for it: no whitespace or comment outside strings, no escape anywhere (strings then
   * hold no quote, backslash or control character, which is all the generator escapes).
   */
  static boolean compact(String json) {
    boolean inString = false;
    for (int i = 0, n = json.length(); i < n; i++) {
      char c = json.charAt(i);
      if (c == '\\') {
        return false;
      }
      if (c == '"') {
        inString = !inString;
      } else if (!inString && (c <= ' ' || c == '/')) {
        return false;
      }
    }
    return true;
  }

  private static void checkScalars(String s, String what) {
    int i = loneSurrogate(s);
    if (i >= 0) {
      throw loneSurrogate(s.charAt(i), what);
    }
  }

  private static void checkScalars(char[] c, int off, int len, String what) {
    for (int i = off, end = off + len; i < end; i++) {
      char ch = c[i];
      if (Character.isSurrogate(ch)) {
        if (Character.isHighSurrogate(ch) && i + 1 < end && Character.isLowSurrogate(c[i + 1])) {
          i++;
        } else {
          throw loneSurrogate(ch, what);
        }
      }
    }
  }

  /** The index of the first surrogate without its pair in {@code s}, or -1. */
  static int loneSurrogate(CharSequence s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char ch = s.charAt(i);
      if (Character.isSurrogate(ch)) {
        if (Character.isHighSurrogate(ch) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return i;
        }
      }
    }
    return -1;
  }

  private static HeraldException loneSurrogate(char ch, String what) {
    return new HeraldException(ErrorCode.INVALID_DATA, String.format(
      "%s holds a lone surrogate \\u%04x: not a Unicode character, it cannot be delivered as sent", what, (int) ch));
  }

  private static HeraldException malformed(Exception e) {
    if (e instanceof HeraldException h) {
      return h;
    }
    if (e instanceof StreamConstraintsException c) {
      return new HeraldException(ErrorCode.MALFORMED_JSON, "the body is over a JSON limit: " + c.getOriginalMessage());
    }
    if (e instanceof JsonParseException j && j.getOriginalMessage() != null && j.getOriginalMessage().startsWith("Duplicate field")) {
      return new HeraldException(ErrorCode.MALFORMED_JSON, "the body is not valid JSON: " + j.getOriginalMessage()
        + ": a repeated field has no single value");
    }
    return new HeraldException(ErrorCode.MALFORMED_JSON, "the body is not valid JSON");
  }

  /** True when the body is the batch form. */
  public static boolean isBatch(JsonObject body) {
    return body.containsKey("events");
  }

  /** The drafts of one single-form event: one per topic. */
  public List<EventDraft> single(JsonObject body) {
    return single(body, "");
  }

  /** The drafts of a batch, one list per entry, in order. */
  public List<List<EventDraft>> batch(JsonObject body) {
    for (String f : body.fieldNames()) {
      if (!f.equals("events")) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, "unknown field \"" + f + "\" in a batch (only \"events\")");
      }
    }
    if (!(body.getValue("events") instanceof JsonArray events)) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "events must be an array of events");
    }
    if (events.isEmpty()) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "events must not be empty");
    }
    if (events.size() > options.maxBatchSize()) {
      throw new HeraldException(ErrorCode.BATCH_TOO_LARGE, "at most " + options.maxBatchSize() + " events per batch, got " + events.size());
    }
    List<List<EventDraft>> out = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      if (!(events.getValue(i) instanceof JsonObject entry)) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, "events[" + i + "]: must be an object");
      }
      out.add(single(entry, "events[" + i + "]."));
    }
    return out;
  }

  private List<EventDraft> single(JsonObject body, String where) {
    for (String f : body.fieldNames()) {
      if (!FIELDS.contains(f)) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, where + f + ": unknown field (known: topic, topics, type, data, id, private, retry, alternates)");
      }
    }
    List<String> topics = topics(body, where);
    Object typeValue = body.getValue("type");
    String type = Event.DEFAULT_TYPE;
    if (typeValue != null) {
      if (!(typeValue instanceof String t) || !Topics.isValidType(t)) {
        throw new HeraldException(ErrorCode.INVALID_TYPE, where + "type: 1 to " + Topics.MAX_TYPE_LENGTH
          + " characters from A-Z a-z 0-9 _ - . :, starting with a letter");
      }
      type = t;
    }
    Object idValue = body.getValue("id");
    String key = null;
    if (idValue != null) {
      if (!(idValue instanceof String k) || !Topics.isValidKey(k)) {
        throw new HeraldException(ErrorCode.INVALID_ID, where + "id: 1 to " + Topics.MAX_KEY_LENGTH
          + " printable ASCII characters, no spaces or control characters");
      }
      key = k;
    }
    Object privateValue = body.getValue("private");
    if (privateValue != null && !(privateValue instanceof Boolean)) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, where + "private: true or false");
    }
    boolean privateUpdate = Boolean.TRUE.equals(privateValue);
    Object retryValue = body.getValue("retry");
    long retry = -1;
    if (retryValue != null) {
      if (!(retryValue instanceof Integer || retryValue instanceof Long) || ((Number) retryValue).longValue() < 0
        || ((Number) retryValue).longValue() > MAX_RETRY_MILLIS) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, where + "retry: a whole number of milliseconds from 0 to "
          + MAX_RETRY_MILLIS);
      }
      retry = ((Number) retryValue).longValue();
    }
    if (!body.containsKey("data")) {
      throw new HeraldException(ErrorCode.INVALID_DATA, where + "data: required (a JSON value or a string)");
    }
    Object data = body.getValue("data");
    String text;
    boolean json;
    if (data instanceof JsonText t) {
      text = t.text();
      json = true;
    } else if (data instanceof String s) {
      checkScalars(s, where + "data: the string");
      text = s;
      json = false;
    } else {
      // A value built in Java (the event bus): only what JSON can say exactly.
      checkJava(data, where + "data: ");
      text = Json.encode(data);
      json = true;
    }
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > options.maxEventBytes()) {
      throw new HeraldException(ErrorCode.PAYLOAD_TOO_LARGE, where + "data: " + bytes + " bytes, at most "
        + options.maxEventBytes());
    }
    Object alternatesValue = body.getValue("alternates");
    if (alternatesValue != null && !(alternatesValue instanceof Boolean)) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, where + "alternates: true or false");
    }
    // One update under several IRIs (Mercure's alternate topics): every copy names them all, so a
    // subscriber of several gets it once, live and on replay.
    List<String> alternates = Boolean.TRUE.equals(alternatesValue) && topics.size() > 1 ? topics : null;
    List<EventDraft> drafts = new ArrayList<>(topics.size());
    for (String t : topics) {
      drafts.add(new EventDraft(t, type, text, json, key, privateUpdate, retry, alternates));
    }
    return drafts;
  }

  /** Refuses what {@code Json.encode} would change: non-finite numbers, lone surrogates. */
  private static void checkJava(Object v, String where) {
    if (v instanceof JsonObject o) {
      for (java.util.Map.Entry<String, Object> e : o) {
        checkScalars(e.getKey(), where + "a field name");
        checkJava(e.getValue(), where);
      }
    } else if (v instanceof JsonArray a) {
      for (Object e : a) {
        checkJava(e, where);
      }
    } else if (v instanceof String s) {
      checkScalars(s, where + "a string");
    } else if ((v instanceof Double d && !Double.isFinite(d)) || (v instanceof Float f && !Float.isFinite(f))) {
      throw new HeraldException(ErrorCode.INVALID_DATA, where + "the number " + v + " has no JSON form (not finite)");
    }
  }

  private List<String> topics(JsonObject body, String where) {
    boolean one = body.containsKey("topic");
    boolean many = body.containsKey("topics");
    if (one == many) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, where + "topic: give exactly one of \"topic\" or \"topics\"");
    }
    List<Object> raw;
    if (one) {
      raw = List.of(body.getValue("topic") == null ? "" : body.getValue("topic"));
    } else {
      if (!(body.getValue("topics") instanceof JsonArray arr) || arr.isEmpty()) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, where + "topics: must be a non-empty array of topic names");
      }
      raw = arr.getList();
    }
    Set<String> unique = new LinkedHashSet<>();
    for (Object o : raw) {
      if (!(o instanceof String t) || !Topics.isValidTopic(t)) {
        throw new HeraldException(ErrorCode.INVALID_TOPIC, where + "topic: " + Topics.TOPIC_RULE);
      }
      unique.add(t);
    }
    if (unique.size() > options.maxTopicsPerEvent()) {
      throw new HeraldException(ErrorCode.TOO_MANY_TOPICS, where + "topics: at most " + options.maxTopicsPerEvent()
        + " topics per event, got " + unique.size());
    }
    return new ArrayList<>(unique);
  }
}
