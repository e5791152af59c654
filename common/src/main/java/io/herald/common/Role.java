package io.herald.common;

import io.vertx.core.Deployable;
import io.vertx.core.json.JsonObject;

import java.util.function.Supplier;

/**
 * One of Herald's roles as the launcher sees it: a configuration section and how to deploy the
 * role's verticle from it. {@link #prepare} validates the section (throwing a
 * {@link io.herald.common.config.ConfigException} that names the key) before anything starts.
 */
public interface Role {

  /** The configuration section and the role's name: {@code gateway}, {@code notifier}, {@code replay}. */
  String name();

  /** Validates {@code section} and returns what to deploy. */
  Deployment prepare(JsonObject section);

  /** A verticle factory and how many instances of it to deploy (each on its own event loop). */
  record Deployment(Supplier<? extends Deployable> verticle, int instances) {
  }
}
