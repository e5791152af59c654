package io.herald.standalone;

import io.herald.gateway.GatewayRole;
import io.herald.common.HeraldLauncher;
import io.herald.notifier.NotifierRole;
import io.herald.replay.ReplayRole;

/**
 * {@code java -jar herald.jar [--config FILE] [--cluster]}: every role in one JVM, the embedded
 * default (in-memory replay store, no external service). The roles still talk only over the
 * event bus, exactly as they do in separate processes; the replay and notifier roles share an
 * event loop ({@link io.herald.common.SharedLoop}).
 */
public final class HeraldMain {

  private HeraldMain() {
  }

  public static void main(String[] args) {
    HeraldLauncher.main(args, new ReplayRole(), new NotifierRole(), new GatewayRole());
  }
}
