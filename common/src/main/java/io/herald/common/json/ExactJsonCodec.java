package io.herald.common.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.JsonTokenId;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.impl.JsonUtil;
import io.vertx.core.json.jackson.JacksonCodec;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Vert.x's {@link JacksonCodec} with exact numbers: a decimal number becomes a {@link Double}
 * only when the {@code Double} is written back as the same text ({@code 0.5}, {@code 1.0},
 * {@code 3.14}, {@code -0.0}), any other one ({@code 1e999999}, 36 digits of π, {@code 1.00},
 * {@code 1E2}) a {@link JsonDecimal} that keeps its text, and the integer {@code -0} a
 * JsonDecimal too (an {@code Integer} would say {@code 0}). Other integers are decoded as by
 * Vert.x ({@code Integer}, {@code Long}, {@code BigInteger}, all written back as they came).
 * So a JSON text decoded into a {@link JsonObject} and encoded again has every number as it
 * was written. Everything else (strings, comments allowed, encoding, trailing-token and type
 * checks) is Vert.x's.
 *
 * <p>Installed for the whole JVM by {@link ExactJsonFactory}. Thread-safe.
 */
public class ExactJsonCodec extends JacksonCodec {

  /** Shown in an error about a number, at most this many characters of it. */
  private static final int SHOWN = 40;

  @Override
  public <T> T fromString(String json, Class<T> clazz) throws DecodeException {
    return decode(createParser(json), clazz);
  }

  @Override
  public <T> T fromBuffer(Buffer json, Class<T> clazz) throws DecodeException {
    return decode(createParser(json), clazz);
  }

  @Override
  public Object fromString(String str) throws DecodeException {
    return decode(createParser(str), Object.class);
  }

  @Override
  public Object fromBuffer(Buffer buf) throws DecodeException {
    return decode(createParser(buf), Object.class);
  }

  /** Decodes the one JSON value of {@code parser} (closed after) as {@code type}. */
  public static <T> T decode(JsonParser parser, Class<T> type) throws DecodeException {
    Object res;
    JsonToken remaining;
    try (parser) {
      parser.nextToken();
      res = any(parser);
      remaining = parser.nextToken();
    } catch (IOException e) {
      throw new DecodeException(e.getMessage(), e);
    }
    if (remaining != null) {
      throw new DecodeException("Unexpected trailing token");
    }
    return cast(res, type);
  }

  private static Object any(JsonParser parser) throws IOException {
    switch (parser.currentTokenId()) {
      case JsonTokenId.ID_START_OBJECT:
        return object(parser);
      case JsonTokenId.ID_START_ARRAY:
        return array(parser);
      case JsonTokenId.ID_STRING:
        return parser.getText();
      case JsonTokenId.ID_NUMBER_INT:
        // Only "0" and "-0" are a zero int; Integer 0 would write "-0" as "0".
        if (parser.getNumberType() == JsonParser.NumberType.INT && parser.getIntValue() == 0 && parser.getTextLength() == 2) {
          return new JsonDecimal("-0");
        }
        return parser.getNumberValue();
      case JsonTokenId.ID_NUMBER_FLOAT:
        return decimal(parser);
      case JsonTokenId.ID_TRUE:
        return Boolean.TRUE;
      case JsonTokenId.ID_FALSE:
        return Boolean.FALSE;
      case JsonTokenId.ID_NULL:
        return null;
      default:
        throw new DecodeException("Unexpected token");
    }
  }

  /**
   * A Double when Jackson writes it back as this very text (its {@code writeNumber(double)} is
   * {@link Double#toString(double)}), else the text in a {@link JsonDecimal}.
   */
  private static Object decimal(JsonParser parser) throws IOException {
    String text = parser.getText();
    double d = parser.getDoubleValue();
    if (Double.toString(d).equals(text)) {
      return d;
    }
    try {
      return new JsonDecimal(text);
    } catch (NumberFormatException e) {
      throw new DecodeException("the number " + (text.length() > SHOWN ? text.substring(0, SHOWN) + "..." : text)
        + " has an exponent beyond what a decimal can hold (about ±2147483647)");
    }
  }

  private static Map<String, Object> object(JsonParser parser) throws IOException {
    Map<String, Object> obj = new LinkedHashMap<>();
    String key;
    while ((key = parser.nextFieldName()) != null) {
      parser.nextToken();
      obj.put(key, any(parser));
    }
    return obj;
  }

  private static List<Object> array(JsonParser parser) throws IOException {
    List<Object> array = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      array.add(any(parser));
    }
    return array;
  }

  /** As {@link JacksonCodec}'s: a Map or List becomes a JsonObject or JsonArray for {@code Object}. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static <T> T cast(Object o, Class<T> clazz) {
    if (o instanceof Map) {
      if (!clazz.isAssignableFrom(Map.class)) {
        throw new DecodeException("Failed to decode");
      }
      if (clazz == Object.class) {
        o = new JsonObject((Map) o);
      }
      return clazz.cast(o);
    } else if (o instanceof List) {
      if (!clazz.isAssignableFrom(List.class)) {
        throw new DecodeException("Failed to decode");
      }
      if (clazz == Object.class) {
        o = new JsonArray((List) o);
      }
      return clazz.cast(o);
    } else if (o instanceof String str) {
      Object v = str;
      if (clazz.isEnum()) {
        v = Enum.valueOf((Class<Enum>) clazz, str);
      } else if (clazz == byte[].class) {
        v = JsonUtil.BASE64_DECODER.decode(str);
      } else if (clazz == Buffer.class) {
        v = Buffer.buffer(JsonUtil.BASE64_DECODER.decode(str));
      } else if (clazz == java.time.Instant.class) {
        v = java.time.Instant.from(java.time.format.DateTimeFormatter.ISO_INSTANT.parse(str));
      } else if (!clazz.isAssignableFrom(String.class)) {
        throw new DecodeException("Failed to decode");
      }
      return clazz.cast(v);
    } else if (o instanceof Boolean) {
      if (!clazz.isAssignableFrom(Boolean.class)) {
        throw new DecodeException("Failed to decode");
      }
      return clazz.cast(o);
    } else if (o == null) {
      return null;
    } else {
      Number number = (Number) o;
      Object v;
      if (clazz == Integer.class) {
        v = number.intValue();
      } else if (clazz == Long.class) {
        v = number.longValue();
      } else if (clazz == Float.class) {
        v = number.floatValue();
      } else if (clazz == Double.class) {
        v = number.doubleValue();
      } else if (clazz == Byte.class) {
        v = number.byteValue();
      } else if (clazz == Short.class) {
        v = number.shortValue();
      } else if (clazz == Object.class || clazz.isAssignableFrom(Number.class)) {
        v = number;
      } else {
        throw new DecodeException("Failed to decode");
      }
      return clazz.cast(v);
    }
  }
}
