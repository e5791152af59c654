package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.Event;
import io.herald.gateway.ContractClients.Client;
import io.herald.gateway.ContractClients.Transport;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.Socket;
import java.util.List;

import static io.herald.gateway.ContractClients.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 3 while a resume replays: the write-queue bound that cuts a client that does not
 * read holds for the replay too, so a long backlog is never piled up in the gateway for it. The
 * streaming transports that resume from a request header or parameter are here; SockJS's
 * replays are answers to its requests ({@link SockJSSlowReplayTest}); a long-poll pages its
 * backlog ({@link TransportContractTest}).
 */
@ExtendWith(VertxExtension.class)
class TransportSlowReplayTest {

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = Transport.class, names = {"SSE", "WEBSOCKET", "MERCURE"})
  @DisplayName("A client that resumes a long backlog and reads nothing is cut off during the replay; a live reader keeps every event")
  void stalledResumeIsCut(Transport transport, Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxWriteQueueBytes", 16 * 1024).put("idleTimeoutSeconds", 60)
      .mergeIn(TransportContractTest.mercure());
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject())) {
      Event first = h.publish("big", "big:0");
      String from = Cursor.single("big", first.epoch(), first.seq());
      // 8 MB missed: more than the socket buffers of both ends hold, so most of it would wait in
      // the gateway for a client that reads nothing.
      String payload = "z".repeat(16 * 1024);
      for (int i = 1; i <= 500; i++) {
        h.publish("big", "big:" + i + ":" + payload);
      }
      try (Client reader = transport.open(h, List.of("big"), null);
           Socket stalled = StalledClients.stalled(h, transport, "big", from)) {
        await(() -> h.gateway.stats().slowConsumersClosed == 1, () -> "the stalled resume not cut off; "
          + h.gateway.sse().connectionCount() + " connections");
        await(() -> h.gateway.sse().connectionCount() == 1, () -> "the stalled client still connected");
        h.publish("big", "big:end");
        reader.awaitData("big:end");
        assertThat(reader.data()).containsExactly("big:end");
        assertThat(reader.ended()).isFalse();
      }
    }
  }
}
