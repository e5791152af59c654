package io.herald.common.json;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * A JSON number that a {@code double} (or an {@code int}) would change, held with the text it
 * was read from: {@code 3.14159265358979323846264338327950288}, {@code 1e999999},
 * {@code 1e-999999}, {@code 1.00}, {@code 1E2}, {@code -0}. {@link ExactJsonCodec} decodes such a
 * number to one, so a {@link io.vertx.core.json.JsonObject} read anywhere in the JVM (a TCP bridge
 * frame, a message from another node of the clustered event bus) is written back digit for digit.
 *
 * <p>It is a {@link BigDecimal} of the number's value, so Java code reads it as any decimal
 * ({@code getDouble}, {@code getLong}, arithmetic, {@code compareTo}); only {@link #toString()}
 * differs: it returns the text as written ({@code "1e999999"}, where a plain BigDecimal says
 * {@code "1E+999999"}), and Jackson writes a BigDecimal with {@code toString()}, so every
 * encoder of Vert.x JSON writes the text back. Equality is BigDecimal's (value and scale). Immutable.
 */
public final class JsonDecimal extends BigDecimal {

  private static final long serialVersionUID = 1L;

  private final String text;

  /**
   * @param text a JSON number as written
   * @throws NumberFormatException when {@code text} is not a number, or its exponent is beyond
   *     what a BigDecimal can hold (about ±2,147,483,647)
   */
  public JsonDecimal(String text) {
    super(Objects.requireNonNull(text, "text"));
    this.text = text;
  }

  /** The number as written. */
  @Override
  public String toString() {
    return text;
  }
}
