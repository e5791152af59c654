package io.herald.gateway;

import io.herald.common.EventDraft;
import io.herald.gateway.ContractClients.Client;
import io.herald.gateway.ContractClients.Transport;
import io.herald.testsupport.Jwt;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static io.herald.gateway.ContractClients.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Guarantee 5 of the contract, "nobody sees what is not theirs", and the token's lifetime, on
 * every transport with {@code gateway.authMode} jwt ({@link TransportContractTest} runs the
 * delivery guarantees without tokens). Absence is proven with a marker published after: once a
 * granted topic's marker is in, anything of the other topic would have been too.
 */
@ExtendWith(VertxExtension.class)
class TransportAuthContractTest {

  static final String SECRET = "transport-auth-contract-secret-of-32-bytes";

  /** No leeway: a stream ends at its token's {@code exp}. Mercure's hub needs a token (not anonymous). */
  private static final JsonObject CONFIG = new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET).put("jwtLeewaySeconds", 0)
    .put("mercureEnabled", true).put("mercurePublisherJwtKey", TransportContractTest.MERCURE_KEY)
    .put("mercureSubscriberJwtKey", TransportContractTest.MERCURE_KEY);

  private static GatewayHarness harness(Vertx vertx) throws Exception {
    return new GatewayHarness(vertx, CONFIG.copy(), new JsonObject());
  }

  private static long now() {
    return System.currentTimeMillis() / 1000;
  }

  /**
   * A token for {@code transport} that may read {@code topics} until {@code exp}: Herald's
   * {@code topics} claim, or for Mercure the {@code mercure} claim's {@code subscribe}.
   */
  static String token(Transport transport, long exp, String... topics) {
    JsonArray granted = new JsonArray(List.of((Object[]) topics));
    if (transport == Transport.MERCURE) {
      return Jwt.hs256(new JsonObject().put("exp", exp).put("mercure", new JsonObject().put("subscribe", granted)),
        TransportContractTest.MERCURE_KEY);
    }
    return Jwt.hs256(new JsonObject().put("sub", "alice").put("exp", exp).put("topics", granted), SECRET);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = Transport.class, names = "MERCURE", mode = EnumSource.Mode.EXCLUDE)
  @DisplayName("A topic the token does not grant is refused with the transport's error, live and by replay; none of its events arrive")
  void ungrantedTopicRefused(Transport transport, Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx)) {
      // A session allowed both topics: its position names the secret one too.
      Object position;
      try (Client admin = transport.open(h, List.of("a", "secret"), null, token(transport, now() + 600, "a", "secret"))) {
        h.publish("a", "a:1");
        h.publish("secret", "secret:1");
        admin.awaitData("a:1");
        admin.awaitData("secret:1");
        position = admin.position();
      }
      h.publish("secret", "secret:2");
      h.publish("a", "a:2");
      String alice = token(transport, now() + 600, "a");
      Client c;
      if (transport.sockJs()) {
        // The bridge refuses the register and the replay of the topic, each with an err; the socket stays.
        c = transport.open(h, List.of("a", "secret"), position, alice);
        assertThat(c.refusals()).containsExactly("secret:403 access_denied", "replay secret:403 access_denied");
      } else {
        Throwable refused = catchThrowable(() -> transport.open(h, List.of("a", "secret"), position, alice).close());
        assertThat(refused).as("asking for the secret topic").isNotNull();
        assertThat(refused.getMessage()).contains("status 403").contains("access_denied");
        // A position naming the secret topic positions only the granted one.
        c = transport.open(h, List.of("a"), position, alice);
      }
      try (c) {
        h.publish("secret", "secret:3");
        h.publish("a", "a:end");
        c.awaitData("a:end");
        assertThat(c.of("a")).containsExactly("a:2", "a:end");
        assertThat(c.of("secret")).as("events of the topic the token does not grant").isEmpty();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  @DisplayName("A token that expires ends the stream with the transport's signal; nothing published after reaches it")
  void expiryEndsDelivery(Transport transport, Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx);
         Client witness = transport.open(h, List.of("a"), null, token(transport, now() + 600, "a"));
         Client c = transport.open(h, List.of("a"), null, token(transport, now() + 3, "a"))) {
      h.publish("a", "a:1");
      c.awaitData("a:1");
      await(c::ended, () -> transport + ": still open after its token expired");
      assertThat(c.expired()).as("%s ended for the token's expiry: %s", transport, c).isTrue();
      h.publish("a", "a:2");
      witness.awaitData("a:2");
      assertThat(c.data()).containsExactly("a:1");
      assertThat(witness.data()).containsExactly("a:1", "a:2");
    }
  }

  /**
   * Mercure delivers the public updates of every topic its matchers select, and a private one
   * only when the token grants {@code subscribe} on its topic: live, and again on resume.
   */
  @Test
  @DisplayName("Mercure: a private update reaches only a token granting its topic, live and on resume")
  void mercurePrivateUpdates(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx)) {
      String onlyA = token(Transport.MERCURE, now() + 600, "a");
      Object position;
      try (Client c = Transport.MERCURE.open(h, List.of("a", "s"), null, onlyA)) {
        publish(h, "s", "s:1", true);
        publish(h, "s", "s:2", false);
        publish(h, "a", "a:1", true);
        publish(h, "a", "a:end", false);
        c.awaitData("a:end");
        assertThat(c.of("s")).as("the private s:1 is not granted").containsExactly("s:2");
        assertThat(c.of("a")).containsExactly("a:1", "a:end");
        position = c.position();
      }
      publish(h, "s", "s:3", true);
      publish(h, "a", "a:2", true);
      publish(h, "s", "s:4", false);
      try (Client again = Transport.MERCURE.open(h, List.of("a", "s"), (String) position, onlyA)) {
        publish(h, "a", "a:mark", false);
        again.awaitData("a:mark");
        again.awaitData("s:4");
        assertThat(again.of("s")).as("replayed: the public s:4, not the private s:3").containsExactly("s:4");
        assertThat(again.of("a")).containsExactly("a:2", "a:mark");
      }
    }
  }

  private static void publish(GatewayHarness h, String topic, String data, boolean privateUpdate) throws Exception {
    GatewayHarness.await(h.replay.append(List.of(new EventDraft(topic, "message", data, false, null, privateUpdate, -1))));
  }
}
