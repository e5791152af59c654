package io.herald.notifier;

import io.herald.common.Addresses;
import io.herald.common.Event;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the TCP event-bus bridge lets through: credentials (keys, restricted keys, publisher JWTs),
 * the only address a frame may go to, the shared publish rate, and trustedProducers.
 */
class TcpBridgeAccessTest extends TcpBridgeFixture {

  @Test
  @DisplayName("A missing or wrong credential gets an err frame (401) and stores nothing")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void unauthorized() throws Exception {
    double before = counter("herald_rejections", "reason", "unauthorized");
    try (Bridge b = connect()) {
      b.send(new JsonObject().put("type", "send").put("address", Addresses.PUBLISH)
        .put("body", publish("secret", 1)).put("replyAddress", "r1"));
      assertUnauthorized(b.read(), "r1");
      b.send(send(Addresses.PUBLISH, "wrong-key-0000", publish("secret", 2), "r2"));
      assertUnauthorized(b.read(), "r2");
      b.send(new JsonObject().put("type", "send").put("address", Addresses.PUBLISH)
        .put("headers", new JsonObject().put("Authorization", "Basic " + KEY)).put("body", publish("secret", 3)).put("replyAddress", "r3"));
      assertUnauthorized(b.read(), "r3");
      // without a reply address the refusal is still told
      b.send(send(Addresses.PUBLISH, "wrong-key-0000", publish("secret", 4), null));
      JsonObject noReply = b.read();
      assertThat(noReply.getString("type")).isEqualTo("err");
      assertThat(noReply.getInteger("failureCode")).isEqualTo(401);
      assertThat(b.ping()).as("the connection stays usable").isTrue();
    }
    assertThat(head("secret")).as("nothing stored").isZero();
    assertThat(counter("herald_rejections", "reason", "unauthorized")).isEqualTo(before + 4);
  }

  @Test
  @DisplayName("A key restricted to orders.* publishes orders.eu but not billing (403), and the answer is the reply")
  void restrictedKey() throws Exception {
    try (Bridge b = connect()) {
      b.send(send(Addresses.PUBLISH, ORDERS_KEY, publish("orders.eu", 1), "ok"));
      JsonObject ok = b.read();
      assertThat(ok.getString("type")).as(ok.encode()).isEqualTo("message");
      assertThat(ok.getString("address")).isEqualTo("ok");
      assertThat(ok.getJsonObject("body").getJsonArray("events").getJsonObject(0).getLong("seq")).isEqualTo(1);

      b.send(send(Addresses.PUBLISH, ORDERS_KEY, publish("billing", 1), "denied"));
      JsonObject denied = b.read();
      assertThat(denied.getString("type")).isEqualTo("err");
      assertThat(denied.getString("address")).isEqualTo("denied");
      assertThat(denied.getInteger("failureCode")).isEqualTo(403);
      JsonObject error = new JsonObject(denied.getString("message"));
      assertThat(error.getString("error")).isEqualTo("access_denied");
      assertThat(error.getString("message")).contains("billing");

      // a batch with one topic outside the grant stores none of it
      b.send(send(Addresses.PUBLISH, ORDERS_KEY, new JsonObject().put("events", new JsonArray()
        .add(publish("orders.us", 1)).add(publish("billing", 2))), "batch"));
      assertThat(b.read().getInteger("failureCode")).isEqualTo(403);
    }
    assertThat(head("billing")).isZero();
    assertThat(head("orders.us")).isZero();
    assertThat(head("orders.eu")).isEqualTo(1);
  }

  @Test
  @DisplayName("Registering for a topic (or anything) is refused: nothing goes out but replies")
  void registerRefused() throws Exception {
    try (Bridge b = connect()) {
      b.send(new JsonObject().put("type", "register").put("address", Addresses.topic("news")));
      assertBlocked(b.read());
      b.send(new JsonObject().put("type", "register").put("address", Addresses.PUBLISH));
      assertBlocked(b.read());
      b.send(new JsonObject().put("type", "unregister").put("address", Addresses.topic("news")));
      assertBlocked(b.read());
      // an event on the topic does not reach this connection
      await(vertx.eventBus().request(Addresses.PUBLISH, publish("news", 1)));
      assertThat(b.ping()).as("next frame is the pong, not the topic's event").isTrue();
    }
  }

  @Test
  @DisplayName("Sends to other addresses, and publish frames, are refused even with a valid key")
  void otherAddressesRefused() throws Exception {
    JsonObject append = new JsonObject().put("events", new JsonArray().add(new JsonObject()
      .put("topic", "sneaky").put("type", "message").put("data", "x").put("json", false)));
    try (Bridge b = connect()) {
      b.send(send(Addresses.REPLAY_APPEND, KEY, append, "r1"));
      assertBlocked(b.read());
      b.send(send(Addresses.REPLAY_READ, KEY, new JsonObject().put("topic", "sneaky"), "r2"));
      assertBlocked(b.read());
      b.send(new JsonObject().put("type", "publish").put("address", Addresses.PUBLISH)
        .put("headers", new JsonObject().put("Authorization", "Bearer " + KEY)).put("body", publish("sneaky", 1)));
      assertBlocked(b.read());
      b.send(new JsonObject().put("type", "publish").put("address", Addresses.topic("sneaky")).put("body", "x"));
      assertBlocked(b.read());
      assertThat(b.ping()).isTrue();
    }
    assertThat(head("sneaky")).isZero();
  }

  @Test
  @DisplayName("A publisher JWT works over the bridge with its publish claim; pipelined frames keep their order")
  void jwtPublisher() throws Exception {
    String secret = "an-hs256-secret-of-at-least-32-characters";
    NotifierVerticle withJwt = deploy(new JsonObject().put("publisherJwtSecret", secret));
    long now = System.currentTimeMillis() / 1000;
    String token = hs256(new JsonObject().put("sub", "svc").put("exp", now + 600)
      .put("publish", new JsonArray().add("jobs.{sub}")), secret);
    String expired = hs256(new JsonObject().put("sub", "svc").put("exp", now - 600)
      .put("publish", new JsonArray().add("jobs.{sub}")), secret);
    try (Bridge b = connect(withJwt.tcpBridgePort())) {
      // pipelined: a valid token, an expired one, a denied topic, then valid ones again
      b.send(send(Addresses.PUBLISH, token, publish("jobs.svc", 1), "a"));
      b.send(send(Addresses.PUBLISH, expired, publish("jobs.svc", 99), "b"));
      b.send(send(Addresses.PUBLISH, token, publish("jobs.other", 99), "c"));
      for (int i = 2; i <= 10; i++) {
        b.send(send(Addresses.PUBLISH, token, publish("jobs.svc", i), "d" + i));
      }
      java.util.Map<String, JsonObject> replies = new java.util.HashMap<>();
      for (int i = 0; i < 12; i++) {
        JsonObject r = b.read();
        replies.put(r.getString("address"), r);
      }
      assertThat(replies.get("a").getString("type")).isEqualTo("message");
      assertThat(replies.get("b").getInteger("failureCode")).isEqualTo(401);
      assertThat(replies.get("c").getInteger("failureCode")).isEqualTo(403);
    }
    List<Event> stored = readAll("jobs.svc");
    assertThat(stored).extracting(e -> new JsonObject(e.data()).getInteger("n")).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    assertThat(head("jobs.other")).isZero();
  }

  @Test
  @DisplayName("The publish rate per credential applies to the bridge, sharing the bucket with HTTP")
  void rateLimited() throws Exception {
    NotifierVerticle limited = deploy(new JsonObject().put("publishRatePerKey", 1).put("publishBurst", 3).put("maxBatchSize", 3));
    try (Bridge b = connect(limited.tcpBridgePort())) {
      for (int i = 1; i <= 3; i++) {
        b.send(send(Addresses.PUBLISH, KEY, publish("rated", i), "r" + i));
        assertThat(b.read().getString("type")).isEqualTo("message");
      }
      b.send(send(Addresses.PUBLISH, KEY, publish("rated", 4), "r4"));
      JsonObject refused = b.read();
      assertThat(refused.getInteger("failureCode")).isEqualTo(429);
      assertThat(new JsonObject(refused.getString("message")).getString("error")).isEqualTo("rate_limited");
    }
    assertThat(head("rated")).isEqualTo(3);
  }

  @Test
  @DisplayName("trustedProducers closes a connection from an address outside the list")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void untrustedAddressClosed() throws Exception {
    double before = counter("herald_rejections", "reason", "access_denied");
    NotifierVerticle guarded = deploy(new JsonObject().put("trustedProducers", List.of("10.0.0.0/8")));
    try (Bridge b = connect(guarded.tcpBridgePort())) {
      JsonObject err = b.read();
      assertThat(err.getString("type")).isEqualTo("err");
      assertThat(err.getString("message")).startsWith("access_denied");
      assertThat(b.closed()).isTrue();
    }
    assertThat(counter("herald_rejections", "reason", "access_denied")).isEqualTo(before + 1);
    NotifierVerticle loopback = deploy(new JsonObject().put("trustedProducers", List.of("10.0.0.0/8", "127.0.0.1")));
    try (Bridge b = connect(loopback.tcpBridgePort())) {
      assertThat(b.ping()).isTrue();
    }
  }
}
