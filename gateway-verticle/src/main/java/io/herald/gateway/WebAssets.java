package io.herald.gateway;

import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/**
 * The browser-facing files the gateway serves: the JavaScript client {@code /herald.js} and the
 * demo page at {@code /}. (Being written: this is the mount point.)
 */
final class WebAssets {

  private WebAssets() {
  }

  static void mount(Vertx vertx, Router router, GatewayOptions options) {
    // Routes for /herald.js and / go here.
  }
}
