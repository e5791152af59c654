package io.herald.notifier;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * JSON data that is already compact is kept as the publisher's own characters, everything else
 * is written again through a generator: both ways must give the same text. Random documents
 * (nested objects and arrays, numbers as written, strings with quotes, backslashes, controls,
 * U+2028, non-ASCII and supplementary characters) are parsed in their canonical form (what a
 * Jackson generator writes), spread with whitespace, and with characters escaped as
 * {@code \\uXXXX}; all three must come back as the canonical text.
 */
class PublishParserCompactTest {

  private static final String[] NUMBERS = {"0", "-0", "1", "-17", "1.0", "0.10", "-0.0", "2.50E+10", "1e999999", "1e-7",
    "123456789012345678901234567890", "3.141592653589793238462643383279502884"};
  private static final String CHARS = "ab Z09\"\\/\u00e9\u2028\n\t\u0001\u007f\ud83d\ude00<>{}[],:";

  private record Num(String text) {
  }

  private final Random random = new Random(20261208);

  private String string() {
    StringBuilder b = new StringBuilder();
    int n = random.nextInt(6);
    for (int i = 0; i < n; i++) {
      int k = random.nextInt(CHARS.length());
      char c = CHARS.charAt(k);
      if (Character.isHighSurrogate(c)) {
        b.append(c).append(CHARS.charAt(k + 1));
      } else if (!Character.isLowSurrogate(c)) {
        b.append(c);
      }
    }
    return b.toString();
  }

  private Object value(int depth) {
    int kind = random.nextInt(depth >= 3 ? 4 : 6);
    switch (kind) {
      case 0:
        return string();
      case 1:
        return new Num(NUMBERS[random.nextInt(NUMBERS.length)]);
      case 2:
        return random.nextBoolean();
      case 3:
        return null;
      case 4: {
        Map<String, Object> o = new LinkedHashMap<>();
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
          o.put(string() + i, value(depth + 1));
        }
        return o;
      }
      default: {
        List<Object> a = new ArrayList<>();
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
          a.add(value(depth + 1));
        }
        return a;
      }
    }
  }

  private static String canonical(Object value) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
      generate(g, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static void generate(JsonGenerator g, Object v) throws IOException {
    if (v instanceof String s) {
      g.writeString(s);
    } else if (v instanceof Num n) {
      g.writeNumber(n.text());
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (v == null) {
      g.writeNull();
    } else if (v instanceof Map<?, ?> m) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        g.writeFieldName((String) e.getKey());
        generate(g, e.getValue());
      }
      g.writeEndObject();
    } else {
      g.writeStartArray();
      for (Object o : (List<?>) v) {
        generate(g, o);
      }
      g.writeEndArray();
    }
  }

  /** The same value by hand: whitespace between tokens when {@code spaced}, some characters as {@code \\uXXXX} when {@code escaped}. */
  private void write(StringBuilder b, Object v, boolean spaced, boolean escaped) {
    if (v instanceof String s) {
      b.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c == '"' || c == '\\' || c < 0x20 || (escaped && random.nextInt(3) == 0)) {
          b.append(String.format("\\u%04x", (int) c));
        } else {
          b.append(c);
        }
      }
      b.append('"');
    } else if (v instanceof Num n) {
      b.append(n.text());
    } else if (v instanceof Boolean || v == null) {
      b.append(v);
    } else if (v instanceof Map<?, ?> m) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          space(b, spaced).append(',');
        }
        first = false;
        space(b, spaced);
        write(b, e.getKey(), spaced, escaped);
        space(b, spaced).append(':');
        space(b, spaced);
        write(b, e.getValue(), spaced, escaped);
      }
      space(b, spaced).append('}');
    } else {
      b.append('[');
      boolean first = true;
      for (Object o : (List<?>) v) {
        if (!first) {
          b.append(',');
        }
        first = false;
        space(b, spaced);
        write(b, o, spaced, escaped);
        space(b, spaced);
      }
      b.append(']');
    }
  }

  private StringBuilder space(StringBuilder b, boolean spaced) {
    if (spaced) {
      b.append(" \n\t\r".charAt(random.nextInt(4)));
    }
    return b;
  }

  private static String data(String json) {
    Object d = PublishParser.data(json);
    assertThat(d).as(json).isInstanceOf(JsonText.class);
    return ((JsonText) d).text();
  }

  @Test
  @DisplayName("compact, spread with whitespace, or with characters escaped: the same canonical text")
  void everyFormGivesTheCanonicalText() {
    int kept = 0;
    for (int i = 0; i < 3000; i++) {
      Object value = random.nextBoolean() ? value(0) : java.util.Collections.singletonList(value(1));
      if (!(value instanceof Map) && !(value instanceof List)) {
        continue;
      }
      String canonical = canonical(value);
      StringBuilder spaced = new StringBuilder();
      write(spaced, value, true, false);
      StringBuilder escaped = new StringBuilder();
      write(escaped, value, false, true);

      assertThat(data(canonical)).as("canonical %s", canonical).isEqualTo(canonical);
      assertThat(data(spaced.toString())).as("spaced %s", spaced).isEqualTo(canonical);
      assertThat(data(escaped.toString())).as("escaped %s", escaped).isEqualTo(canonical);
      // Also as the data of a publish body, where the value sits inside the body's text.
      byte[] body = ("{\"topic\":\"t\", \"data\" : " + spaced + " ,\"type\":\"x\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
      assertThat(PublishParser.object(body).getValue("data")).isEqualTo(new JsonText(canonical));
      if (PublishParser.compact(canonical)) {
        kept++;
      }
    }
    assertThat(kept).as("documents taken the verbatim way").isGreaterThan(100);
  }

  @Test
  @DisplayName("what counts as compact: no whitespace or comment between tokens, no escape")
  void compactIsStrict() {
    assertThat(PublishParser.compact("{\"a\":[1,2.50,-0,true,null,\"x y/z \u00e9\ud83d\ude00\"]}")).isTrue();
    assertThat(PublishParser.compact("{\"a\": 1}")).isFalse();
    assertThat(PublishParser.compact("[1\n]")).isFalse();
    assertThat(PublishParser.compact("[1/*c*/]")).isFalse();
    assertThat(PublishParser.compact("[\"a\\\"b\"]")).isFalse();
    assertThat(PublishParser.compact("[\"a\\u0041\"]")).isFalse();
  }
}
