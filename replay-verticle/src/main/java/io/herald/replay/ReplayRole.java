package io.herald.replay;

import io.herald.common.Role;
import io.vertx.core.json.JsonObject;

/**
 * The {@code replay} role: one {@link ReplayVerticle} configured by the {@code replay} section.
 * Always one instance: the store is the single owner of the positions it hands out.
 */
public final class ReplayRole implements Role {

  @Override
  public String name() {
    return ReplayOptions.SECTION;
  }

  @Override
  public Deployment prepare(JsonObject section) {
    ReplayOptions options = new ReplayOptions(section);
    return new Deployment(() -> new ReplayVerticle(options), 1);
  }
}
