package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.gateway.ContractClients.Transport;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static io.herald.gateway.ContractClients.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SockJS bridge's write bound holds while a client replays: the answers to its replays count
 * towards its bytes in flight like live events, so a client that keeps asking and reads nothing
 * is cut off instead of piling answers up in the gateway.
 */
@ExtendWith(VertxExtension.class)
class SockJSSlowReplayTest {

  @Test
  @DisplayName("SockJS: a client that asks for replays and reads none of the answers is cut off as a slow consumer")
  void replayingClientThatDoesNotReadIsCut(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxWriteQueueBytes", 16 * 1024).put("idleTimeoutSeconds", 60);
    try (GatewayHarness h = new GatewayHarness(vertx, config, PatternSubscriptionTest.store("memory"))) {
      Event first = h.publish("big", "big:1");
      h.publish("big", "big:2:" + "z".repeat(256 * 1024));
      String from = Cursor.single("big", first.epoch(), first.seq());
      try (Socket stalled = StalledClients.stalled(h, Transport.SOCKJS, "big")) {
        await(() -> h.gateway.sse().bridge().liveRegistrations("big") == 1, () -> "the stalled socket's registration");
        OutputStream out = stalled.getOutputStream();
        // Each answer carries big:2 (256 KB, a page's first frame may exceed the limit): once the
        // connection's buffers are full, the next answer would take the socket over its 16 KB.
        // One replay at a time, each answered before the next is sent.
        // Pings keep the bridge from closing the socket for their absence meanwhile.
        byte[] ping = StalledClients.maskedText(new JsonArray().add(new JsonObject().put("type", "ping").encode()).encode()
          .getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 1000 && h.gateway.sse().connectionCount() == 1; i++) {
          JsonObject send = new JsonObject().put("type", "send").put("address", "herald.browser.replay")
            .put("body", new JsonObject().put("topic", "big").put("lastEventId", from)).put("replyAddress", "r" + i);
          try {
            out.write(StalledClients.maskedText(new JsonArray().add(send.encode()).encode().getBytes(StandardCharsets.UTF_8)));
            out.write(ping);
            out.flush();
          } catch (IOException closed) {
            break; // cut off meanwhile
          }
          long answers = i + 1;
          await(() -> h.gateway.sse().bridge().replayAnswers() >= answers || h.gateway.sse().connectionCount() == 0,
            () -> "no answer to replay " + answers);
        }
        await(() -> h.gateway.sse().connectionCount() == 0, () -> "the replaying client still connected");
        assertThat(h.gateway.stats().slowConsumersClosed).isEqualTo(1);
      }
    }
  }
}
