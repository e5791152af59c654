package io.herald.common.json;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.math.BigInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ExactJsonCodecTest {

  @Test
  @DisplayName("Vert.x picks the exact codec for the whole JVM")
  void installed() {
    assertThat(Json.CODEC).isInstanceOf(ExactJsonCodec.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"3.14159265358979323846264338327950288", "1e999999", "1e-999999", "-1E+999999",
    "123456789012345678901234567890", "-123456789012345678901234567890", "-0", "0", "-0.0", "1.0", "1.00", "1E2",
    "1e2", "0.1", "0.1000000000000000055511151231257827", "1.0E10", "9007199254740993", "-7", "2147483648", "1e0",
    "4.9E-324", "1.7976931348623157E308", "1.7976931348623159E308", "100.0", "5e-1"})
  @DisplayName("a number decoded into a JsonObject is encoded again exactly as written, as a string, a buffer or on the wire")
  void numbersAsWritten(String number) {
    String text = "{\"n\":" + number + ",\"a\":[" + number + "]}";
    assertThat(new JsonObject(text).encode()).isEqualTo(text);
    assertThat(new JsonObject(Buffer.buffer(text)).toBuffer().toString()).isEqualTo(text);
    assertThat(new JsonArray("[" + number + "]").encode()).isEqualTo("[" + number + "]");
    assertThat(Json.encode(Json.decodeValue(number))).isEqualTo(number);
    JsonObject copy = new JsonObject(text).copy();
    assertThat(copy.encode()).isEqualTo(text);
  }

  @Test
  @DisplayName("a decimal a double holds as written stays a Double; others are BigDecimals of the same value")
  void types() {
    JsonObject o = new JsonObject("{\"a\":0.5,\"b\":1.0,\"c\":1e999999,\"d\":3.14159265358979323846264338327950288,"
      + "\"e\":-0,\"f\":42,\"g\":12345678901,\"h\":123456789012345678901234567890,\"i\":1.00}");
    assertThat(o.getValue("a")).isEqualTo(0.5);
    assertThat(o.getValue("b")).isEqualTo(1.0);
    assertThat(o.getValue("c")).isInstanceOf(BigDecimal.class).isEqualTo(new BigDecimal("1e999999"));
    assertThat(o.getValue("d")).isEqualTo(new BigDecimal("3.14159265358979323846264338327950288"));
    assertThat(o.getValue("e")).isInstanceOf(BigDecimal.class);
    assertThat(o.getInteger("e")).isZero();
    assertThat(o.getValue("f")).isEqualTo(42);
    assertThat(o.getValue("g")).isEqualTo(12345678901L);
    assertThat(o.getValue("h")).isEqualTo(new BigInteger("123456789012345678901234567890"));
    assertThat(o.getDouble("i")).isEqualTo(1.0);
    assertThat(o.getDouble("c")).isEqualTo(Double.POSITIVE_INFINITY);
  }

  @Test
  @DisplayName("a number no decimal can hold is a DecodeException naming it, not a rounded value")
  void exponentOutOfRange() {
    assertThatThrownBy(() -> new JsonObject("{\"n\":1e99999999999}"))
      .isInstanceOf(DecodeException.class).hasMessageContaining("1e99999999999").hasMessageContaining("exponent");
  }

  @Test
  @DisplayName("everything else decodes as with Vert.x's codec: strings, comments, nesting, trailing tokens, types")
  void restAsVertx() {
    JsonObject o = new JsonObject("{/* c */\"s\":\"\\u00e9\",\"t\":true,\"n\":null,\"o\":{\"x\":[1,{}]}}");
    assertThat(o.encode()).isEqualTo("{\"s\":\"é\",\"t\":true,\"n\":null,\"o\":{\"x\":[1,{}]}}");
    assertThatThrownBy(() -> new JsonObject("{} {}")).isInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> new JsonObject("[1]")).isInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> new JsonObject("{\"a\":")).isInstanceOf(DecodeException.class);
    assertThat(Json.decodeValue("\"x\"", String.class)).isEqualTo("x");
    assertThat(Json.decodeValue("7", Long.class)).isEqualTo(7L);
    assertThat(Json.decodeValue("[1]")).isEqualTo(new JsonArray().add(1));
  }
}
