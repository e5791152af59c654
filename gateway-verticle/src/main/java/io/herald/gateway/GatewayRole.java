package io.herald.gateway;

import io.herald.common.Role;
import io.vertx.core.json.JsonObject;

/** The gateway as the launcher sees it: section {@code gateway}, one instance per core by default. */
public final class GatewayRole implements Role {

  @Override
  public String name() {
    return "gateway";
  }

  @Override
  public Deployment prepare(JsonObject section) {
    GatewayOptions options = new GatewayOptions(section);
    return new Deployment(() -> new GatewayVerticle(options), options.effectiveInstances());
  }
}
