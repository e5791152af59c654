package io.herald.gateway;

import io.herald.common.HeraldLauncher;

/** {@code java -jar herald-gateway.jar [--config FILE] [--cluster]}: a gateway process. */
public final class GatewayMain {

  private GatewayMain() {
  }

  public static void main(String[] args) {
    HeraldLauncher.main(args, new GatewayRole());
  }
}
