package io.herald.notifier;

import io.vertx.core.shareddata.Shareable;

import java.util.Objects;

/**
 * A JSON value (object, array, number, boolean or null) held as compact JSON text whose numbers
 * are written exactly as the publisher wrote them. {@link PublishParser} puts one in place of
 * {@code data} when it reads a body, so the value reaches the store as sent, never through a
 * {@code double}. Immutable.
 */
public record JsonText(String text) implements Shareable {

  public JsonText {
    Objects.requireNonNull(text, "text");
  }

  @Override
  public Shareable copy() {
    return this;
  }
}
