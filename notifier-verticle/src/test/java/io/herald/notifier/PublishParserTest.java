package io.herald.notifier;

import io.herald.common.ErrorCode;
import io.herald.common.EventDraft;
import io.herald.common.HeraldException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PublishParserTest {

  /** 36 digits of pi. */
  static final String PI = "3.14159265358979323846264338327950288";

  private final PublishParser parser = new PublishParser(new NotifierOptions(new JsonObject()));

  /** data as the publisher wrote it (after the {"topic":"t","data": prefix) and the exact text stored. */
  static Stream<Arguments> exact() {
    return Stream.of(
      Arguments.of("36 digits of pi", PI, PI),
      Arguments.of("an exponent beyond double", "1e999999", "1e999999"),
      Arguments.of("a tiny exponent beyond double", "1e-999999", "1e-999999"),
      Arguments.of("a big integer", "123456789012345678901234567890", "123456789012345678901234567890"),
      Arguments.of("minus zero", "-0", "-0"),
      Arguments.of("minus zero point zero", "-0.0", "-0.0"),
      Arguments.of("1.0 stays 1.0", "1.0", "1.0"),
      Arguments.of("1 stays 1", "1", "1"),
      Arguments.of("an upper-case exponent", "2.50E+10", "2.50E+10"),
      Arguments.of("nested arrays", "[[1.0,[-0,[" + PI + "]]],[]]", "[[1.0,[-0,[" + PI + "]]],[]]"),
      Arguments.of("an object, whitespace dropped", "{ \"a\" : 1e400 , \"b\" : [ true , null , 0.10 ] }",
        "{\"a\":1e400,\"b\":[true,null,0.10]}"),
      Arguments.of("a pair of surrogates (escaped)", "{\"e\":\"\\ud83d\\ude00\"}", "{\"e\":\"\ud83d\ude00\"}"),
      Arguments.of("a pair of surrogates (raw)", "[\"\ud83d\ude00 caf\u00e9\"]", "[\"\ud83d\ude00 caf\u00e9\"]"),
      Arguments.of("U+2028 and controls", "[\"a\\u2028b\\u0000\\n\"]", "[\"a\u2028b\\u0000\\n\"]"),
      Arguments.of("a comment is skipped as before", "[1 /* one */]", "[1]"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("exact")
  @DisplayName("JSON data is stored digit for digit as the publisher wrote it")
  void storedExactly(String name, String data, String stored) {
    byte[] body = ("{\"topic\":\"t\",\"data\":" + data + "}").getBytes(StandardCharsets.UTF_8);
    EventDraft d = parser.single(PublishParser.object(body)).get(0);
    assertThat(d.json()).isTrue();
    assertThat(d.data()).as(name).isEqualTo(stored);
  }

  @Test
  @DisplayName("Every entry of a batch keeps its data exactly")
  void batchExact() {
    List<List<EventDraft>> b = parser.batch(PublishParser.object(
      "{\"events\":[{\"topic\":\"a\",\"data\":" + PI + "},{\"topic\":\"b\",\"data\":{\"n\":-0}}]}"));
    assertThat(b.get(0).get(0).data()).isEqualTo(PI);
    assertThat(b.get(1).get(0).data()).isEqualTo("{\"n\":-0}");
  }

  @Test
  @DisplayName("A string data is text: its characters, supplementary ones included, are kept")
  void stringData() {
    EventDraft d = parser.single(PublishParser.object("{\"topic\":\"t\",\"data\":\"1e999999 \\ud83d\\ude00\"}")).get(0);
    assertThat(d.json()).isFalse();
    assertThat(d.data()).isEqualTo("1e999999 \ud83d\ude00");
  }

  @Test
  @DisplayName("The Mercure flags private and retry reach the draft; without them an update is public with no retry")
  void mercureFlags() {
    EventDraft d = parser.single(PublishParser.object("{\"topic\":\"t\",\"data\":\"x\",\"private\":true,\"retry\":2500}")).get(0);
    assertThat(d.privateUpdate()).isTrue();
    assertThat(d.retry()).isEqualTo(2500);
    EventDraft plain = parser.single(PublishParser.object("{\"topic\":\"t\",\"data\":\"x\",\"private\":false}")).get(0);
    assertThat(plain.privateUpdate()).isFalse();
    assertThat(plain.retry()).isEqualTo(-1);
    EventDraft zero = parser.single(new JsonObject().put("topic", "t").put("data", "x").put("retry", 0)).get(0);
    assertThat(zero.retry()).isZero();
    List<List<EventDraft>> batch = parser.batch(PublishParser.object(
      "{\"events\":[{\"topic\":\"a\",\"data\":1,\"private\":true},{\"topic\":\"b\",\"data\":2,\"retry\":7}]}"));
    assertThat(batch.get(0).get(0).privateUpdate()).isTrue();
    assertThat(batch.get(1).get(0).retry()).isEqualTo(7);
  }

  @Test
  @DisplayName("alternates: true makes the topics one Mercure update whose drafts all name them, canonical first; without it the drafts are independent")
  void alternates() {
    List<EventDraft> drafts = parser.single(PublishParser.object(
      "{\"topics\":[\"https://a/1\",\"https://b/1\"],\"data\":\"x\",\"id\":\"urn:uuid:9\",\"alternates\":true}"));
    assertThat(drafts).extracting(EventDraft::topic).containsExactly("https://a/1", "https://b/1");
    assertThat(drafts).extracting(EventDraft::alternates).containsOnly(List.of("https://a/1", "https://b/1"));
    assertThat(drafts).extracting(EventDraft::key).containsOnly("urn:uuid:9");
    assertThat(parser.single(PublishParser.object("{\"topics\":[\"a\",\"b\"],\"data\":1}")))
      .extracting(EventDraft::alternates).containsOnlyNulls();
    assertThat(parser.single(PublishParser.object("{\"topic\":\"a\",\"data\":1,\"alternates\":true}")).get(0).alternates())
      .as("one topic has no alternates").isNull();
    assertThatThrownBy(() -> parser.single(PublishParser.object("{\"topics\":[\"a\",\"b\"],\"data\":1,\"alternates\":\"yes\"}")))
      .isInstanceOfSatisfying(HeraldException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badFlags")
  @DisplayName("A private that is not a boolean and a retry that is not a whole number of ms are 400 invalid_request naming the field")
  void badFlags(String body, String field) {
    assertThatThrownBy(() -> parser.single(PublishParser.object(body)))
      .isInstanceOfSatisfying(HeraldException.class, e -> {
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(e.code().status()).isEqualTo(400);
        assertThat(e.getMessage()).startsWith(field + ":");
      });
  }

  static Stream<Arguments> badFlags() {
    return Stream.of(
      Arguments.of("{\"topic\":\"t\",\"data\":1,\"private\":\"on\"}", "private"),
      Arguments.of("{\"topic\":\"t\",\"data\":1,\"private\":1}", "private"),
      Arguments.of("{\"topic\":\"t\",\"data\":1,\"retry\":-1}", "retry"),
      Arguments.of("{\"topic\":\"t\",\"data\":1,\"retry\":1.5}", "retry"),
      Arguments.of("{\"topic\":\"t\",\"data\":1,\"retry\":\"10\"}", "retry"),
      Arguments.of("{\"topic\":\"t\",\"data\":1,\"retry\":99999999999999999999}", "retry"),
      Arguments.of("{\"topic\":\"t\",\"data\":1,\"retry\":86400001}", "retry"));
  }

  static Stream<Arguments> refused() {
    return Stream.of(
      Arguments.of("invalid UTF-8 in a string", bytes("{\"topic\":\"t\",\"data\":\"a", 0xff, "\"}"), "malformed_json",
        "not valid UTF-8: the sequence at byte offset 22"),
      Arguments.of("a truncated UTF-8 sequence", bytes("{\"topic\":\"t\",\"data\":\"", 0xc3, "\"}"), "malformed_json", "not valid UTF-8"),
      Arguments.of("an overlong UTF-8 encoding", bytes("{\"topic\":\"t\",\"data\":\"", 0xc0, 0xaf, "\"}"), "malformed_json", "not valid UTF-8"),
      Arguments.of("a surrogate encoded in UTF-8", bytes("{\"topic\":\"t\",\"data\":\"", 0xed, 0xa0, 0x80, "\"}"), "malformed_json", "not valid UTF-8"),
      Arguments.of("a lone high surrogate", utf8("{\"topic\":\"t\",\"data\":\"\\ud800\"}"), "invalid_data", "lone surrogate \\ud800"),
      Arguments.of("a lone low surrogate in JSON data", utf8("{\"topic\":\"t\",\"data\":{\"k\":[\"x\\udc00y\"]}}"), "invalid_data", "lone surrogate \\udc00"),
      Arguments.of("a lone surrogate in a field name", utf8("{\"topic\":\"t\",\"data\":{\"\\ud800\":1}}"), "invalid_data", "data: a field name holds a lone surrogate"),
      Arguments.of("swapped surrogates", utf8("{\"topic\":\"t\",\"data\":\"\\ude00\\ud83d\"}"), "invalid_data", "lone surrogate"),
      Arguments.of("a lone surrogate in a batch entry", utf8("{\"events\":[{\"topic\":\"t\",\"data\":[\"\\ud800\"]}]}"), "invalid_data", "lone surrogate"),
      Arguments.of("a number longer than 1000 characters", utf8("{\"topic\":\"t\",\"data\":" + "9".repeat(1001) + "}"), "malformed_json", "JSON limit"),
      Arguments.of("NaN", utf8("{\"topic\":\"t\",\"data\":NaN}"), "malformed_json", "not valid JSON"),
      Arguments.of("a repeated data field", utf8("{\"topic\":\"t\",\"data\":1,\"data\":2}"), "malformed_json", "Duplicate field 'data'"),
      Arguments.of("a repeated field inside data", utf8("{\"topic\":\"t\",\"data\":{\"a\":1,\"a\":2}}"), "malformed_json", "Duplicate field 'a'"),
      Arguments.of("more after the object", utf8("{\"topic\":\"t\",\"data\":1} 2"), "malformed_json", "not valid JSON"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  @DisplayName("What cannot be delivered exactly is refused with a code and a message naming the problem")
  void refusedWithReason(String name, byte[] body, String code, String message) {
    assertThatThrownBy(() -> {
      for (List<EventDraft> g : parseAny(PublishParser.object(body))) {
        assertThat(g).isNotEmpty();
      }
    }).as(name).isInstanceOfSatisfying(HeraldException.class, e -> {
      assertThat(e.code().code()).as(name).isEqualTo(code);
      assertThat(e.getMessage()).as(name).contains(message);
    });
  }

  @Test
  @DisplayName("Values built in Java (the event bus) are refused when JSON cannot carry them, else encoded exactly")
  void javaValues() {
    assertThatThrownBy(() -> parser.single(new JsonObject().put("topic", "t").put("data", new JsonArray().add(Double.POSITIVE_INFINITY))))
      .isInstanceOfSatisfying(HeraldException.class, e -> {
        assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA);
        assertThat(e.getMessage()).contains("Infinity").contains("not finite");
      });
    assertThatThrownBy(() -> parser.single(new JsonObject().put("topic", "t").put("data", Double.NaN)))
      .isInstanceOfSatisfying(HeraldException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA));
    assertThatThrownBy(() -> parser.single(new JsonObject().put("topic", "t").put("data", "a\ud800")))
      .isInstanceOfSatisfying(HeraldException.class, e -> assertThat(e.getMessage()).contains("lone surrogate \\ud800"));
    assertThatThrownBy(() -> parser.single(new JsonObject().put("topic", "t").put("data", new JsonObject().put("x", "\udfff"))))
      .isInstanceOfSatisfying(HeraldException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_DATA));
    EventDraft d = parser.single(new JsonObject().put("topic", "t").put("data",
      new JsonObject().put("pi", new BigDecimal(PI)).put("z", -0.0))).get(0);
    assertThat(d.data()).isEqualTo("{\"pi\":" + PI + ",\"z\":-0.0}");
  }

  private List<List<EventDraft>> parseAny(JsonObject body) {
    return PublishParser.isBatch(body) ? parser.batch(body) : List.of(parser.single(body));
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Strings as UTF-8 and ints as raw bytes, in order. */
  static byte[] bytes(Object... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (Object p : parts) {
      if (p instanceof String s) {
        out.writeBytes(utf8(s));
      } else {
        out.write((Integer) p);
      }
    }
    return out.toByteArray();
  }
}
