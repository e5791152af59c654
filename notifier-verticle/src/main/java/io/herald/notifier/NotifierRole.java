package io.herald.notifier;

import io.herald.common.Role;
import io.vertx.core.json.JsonObject;

/** The notifier as the launcher sees it: section {@code notifier}, one instance. */
public final class NotifierRole implements Role {

  @Override
  public String name() {
    return "notifier";
  }

  @Override
  public Deployment prepare(JsonObject section) {
    NotifierOptions options = new NotifierOptions(section);
    return new Deployment(() -> new NotifierVerticle(options), 1);
  }
}
