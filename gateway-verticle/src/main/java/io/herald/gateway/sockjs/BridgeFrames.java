package io.herald.gateway.sockjs;

import io.herald.common.HeraldException;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/** The bridge's own frames, as the official client reads them: {@code rec} and {@code err}. */
final class BridgeFrames {

  private BridgeFrames() {
  }

  /** {@code {"type":"rec","address":<address>,"body":<frame>}}, sharing the frame's bytes. */
  static Buffer rec(String address, Buffer frame) {
    byte[] head = ("{\"type\":\"rec\",\"address\":" + Json.encode(address) + ",\"body\":").getBytes(StandardCharsets.UTF_8);
    return BufferInternal.buffer(Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(head), ((BufferInternal) frame).getByteBuf(),
      Unpooled.wrappedBuffer(new byte[] {'}'})));
  }

  /** {@code {"type":"err","address":..,"failureCode":<status>,"failureType":"RECIPIENT_FAILURE","message":<code>,"body":<code>,"detail":..}}. */
  static Buffer err(String address, HeraldException e) {
    JsonObject frame = new JsonObject().put("type", "err");
    if (address != null) {
      frame.put("address", address);
    }
    return frame.put("failureCode", e.code().status()).put("failureType", "RECIPIENT_FAILURE")
      .put("message", e.code().code()).put("body", e.code().code()).put("detail", e.getMessage()).toBuffer();
  }
}
