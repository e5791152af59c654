package io.herald.common.json;

import io.vertx.core.spi.JsonFactory;
import io.vertx.core.spi.json.JsonCodec;

/**
 * Makes {@link ExactJsonCodec} the JVM's Vert.x JSON codec ({@code io.vertx.core.json.Json.CODEC}),
 * so numbers survive every {@code JsonObject} decode: TCP bridge frames, {@code JsonObject}
 * messages from other nodes of the clustered event bus, {@code /dev/publish}. Registered in
 * {@code META-INF/services/io.vertx.core.spi.JsonFactory}; Vert.x loads the factories when
 * {@code Json} is first used and takes the one of lowest {@link #order()} (its own Jackson
 * factory is used only when none is registered).
 */
public final class ExactJsonFactory implements JsonFactory {

  /** The codec, one for the JVM. */
  public static final ExactJsonCodec CODEC = new ExactJsonCodec();

  /** Before any factory left at Vert.x's default order ({@code Integer.MAX_VALUE}). */
  @Override
  public int order() {
    return 0;
  }

  @Override
  public JsonCodec codec() {
    return CODEC;
  }
}
