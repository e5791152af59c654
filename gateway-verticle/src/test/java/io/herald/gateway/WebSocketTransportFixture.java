package io.herald.gateway;

import java.time.Duration;

/** What the WebSocket transport tests share: the wait bound and the headers of a raw upgrade request. */
abstract class WebSocketTransportFixture {

  static final Duration WAIT = Duration.ofSeconds(10);
  static final String[] UPGRADE = {"Upgrade: websocket", "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"};
}
