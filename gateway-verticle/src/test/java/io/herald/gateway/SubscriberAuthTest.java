package io.herald.gateway;

import io.herald.gateway.fanout.Subscriber;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static io.herald.gateway.GatewayHarness.await;
import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Subscriber authentication and topic authorisation, end to end: a real gateway and replay verticle over loopback HTTP.
 * What a valid token lets a subscriber read, where the token may come from, and how long it lasts; which tokens and
 * keys are accepted at all: {@link SubscriberAuthTokenTest}.
 */
@ExtendWith(VertxExtension.class)
class SubscriberAuthTest extends SubscriberAuthFixture {

  @Test
  @DisplayName("A valid HS256 token naming the topic opens the stream and events arrive")
  void validTokenExactTopic(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig());
         SseClient c = h.sse("/events?topic=orders", "Authorization", "Bearer " + hs256(claims("alice", "orders")))) {
      c.await(l -> !l.isEmpty(), WAIT);
      h.publish("orders", "o1");
      assertThat(c.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("o1");
    }
  }

  @Test
  @DisplayName("Patterns match within one segment and {sub} stands for the subject, literally")
  void patternsAndSubject(Vertx vertx) throws Exception {
    String alice = hs256(claims("alice", "news.*", "user:{sub}"));
    try (GatewayHarness h = harness(vertx, jwtConfig());
         SseClient c = h.sse("/events?topic=news.sport&topic=user:alice", "Authorization", "Bearer " + alice)) {
      c.await(l -> !l.isEmpty(), WAIT);
      assertRefused(h, "/events?topic=user:bob", alice, 403, "access_denied", "user:bob");
      assertRefused(h, "/events?topic=news.sport.live", alice, 403, "access_denied", "news.sport.live");
      assertRefused(h, "/events?topic=news", alice, 403, "access_denied", "news");
      // A subject of "*" is the character, not a wildcard.
      String star = hs256(claims("*", "user:{sub}"));
      assertRefused(h, "/events?topic=user:bob", star, 403, "access_denied", "user:bob");
      // No subject: {sub} patterns grant nothing.
      String noSub = hs256(new JsonObject().put("topics", new JsonArray().add("user:{sub}")).put("exp", now() + 600));
      assertRefused(h, "/events?topic=user:", noSub, 403, "access_denied", null);
    }
  }

  @Test
  @DisplayName("A topic outside the claims gets 403 naming the first refused topic, and nothing is subscribed")
  void topicNotInClaims(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig())) {
      String token = hs256(claims("alice", "orders"));
      Answer resp = get(h, "/events?topic=orders&topic=payroll&topic=secrets", "Authorization", "Bearer " + token);
      assertThat(resp.statusCode()).isEqualTo(403);
      JsonObject body = new JsonObject(resp.body());
      assertThat(body.getString("error")).isEqualTo("access_denied");
      assertThat(body.getString("topic")).isEqualTo("payroll");
      assertThat(body.getString("message")).contains("payroll");
      assertThat(h.gateway.sse().connectionCount()).isZero();
      assertThat(h.gateway.sse().heldTopics()).isEmpty();
    }
  }

  @Test
  @DisplayName("The token may come as the access_token query parameter or the herald_token cookie")
  void queryAndCookie(Vertx vertx) throws Exception {
    String token = hs256(claims("alice", "orders"));
    try (GatewayHarness h = harness(vertx, jwtConfig());
         SseClient q = h.sse("/events?topic=orders&access_token=" + token);
         SseClient k = h.sse("/events?topic=orders", "Cookie", "theme=dark; herald_token=" + token)) {
      q.await(l -> !l.isEmpty(), WAIT);
      k.await(l -> !l.isEmpty(), WAIT);
      h.publish("orders", "both");
      assertThat(q.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("both");
      assertThat(k.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("both");
      assertRefused(h, "/events?topic=orders&access_token=" + hs256(claims("alice", "other")), null, 403, "access_denied", "orders");
    }
  }

  @Test
  @DisplayName("Without a token a client may read the public topics only")
  void anonymousPublicTopics(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig().put("publicTopics", new JsonArray().add("status").add("public.*")));
         SseClient c = h.sse("/events?topic=status&topic=public.news")) {
      c.await(l -> !l.isEmpty(), WAIT);
      h.publish("public.news", "hello everyone");
      assertThat(c.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("hello everyone");
      assertRefused(h, "/events?topic=status&topic=orders", null, 401, "unauthorized", null);
      // A token adds to the public topics.
      try (SseClient t = h.sse("/events?topic=status&topic=orders", "Authorization", "Bearer " + hs256(claims("alice", "orders")))) {
        t.await(l -> !l.isEmpty(), WAIT);
      }
    }
  }

  @Test
  @DisplayName("A token that expires while connected ends the stream with herald.expired")
  void expiryEndsTheStream(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig());
         SseClient c = h.sse("/events?topic=orders", "Authorization", "Bearer " + hs256(claims("alice", "orders").put("exp", now() + 2)))) {
      c.await(l -> !l.isEmpty(), WAIT);
      c.awaitEnd(WAIT);
      assertThat(c.events()).extracting(SseEvent::type).contains("herald.expired");
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
      assertThat(h.gateway.sse().heldTopics()).isEmpty();
    }
  }

  @Test
  @DisplayName("Closing the stream before the token expires cancels its expiry timer")
  void closeCancelsExpiry(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig())) {
      SseClient c = h.sse("/events?topic=orders", "Authorization", "Bearer " + hs256(claims("alice", "orders").put("exp", now() + 3600)));
      c.await(l -> !l.isEmpty(), WAIT);
      awaitCondition(() -> h.gateway.sse().connectionCount() == 1);
      java.lang.ref.WeakReference<Connection> conn = new java.lang.ref.WeakReference<>(h.gateway.sse().connections().get(0));
      c.close();
      awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
      // The expiry timer, an hour away, held the connection: once cancelled nothing does.
      awaitCondition(() -> {
        System.gc();
        return conn.get() == null;
      });
    }
  }

  @Test
  @DisplayName("A Last-Event-ID that names other topics cannot read them")
  void replayIsolation(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, jwtConfig())) {
      String lastId;
      try (SseClient both = h.sse("/events?topic=mine&topic=secret", "Authorization", "Bearer " + hs256(claims("admin", "mine", "secret")))) {
        both.await(l -> !l.isEmpty(), WAIT);
        h.publish("mine", "m1");
        h.publish("secret", "s1");
        lastId = both.awaitAppEvents(2, WAIT).get(1).id();
      }
      h.publish("secret", "s2");
      h.publish("mine", "m2");
      String mineOnly = hs256(claims("alice", "mine"));
      assertRefused(h, "/events?topic=mine&topic=secret", mineOnly, 403, "access_denied", "secret");
      try (SseClient c = h.sse("/events?topic=mine", "Authorization", "Bearer " + mineOnly, "Last-Event-ID", lastId)) {
        assertThat(c.awaitAppEvents(1, WAIT)).extracting(SseEvent::data).containsExactly("m2");
        h.publish("secret", "s3");
        h.publish("mine", "m3");
        assertThat(c.awaitAppEvents(2, WAIT)).extracting(SseEvent::data).containsExactly("m2", "m3");
        assertThat(c.raw()).doesNotContain("s1", "s2", "s3");
      }
    }
  }

  @Test
  @DisplayName("With authMode none nothing changes: no token needed, tokens ignored")
  void authModeNone(Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, new JsonObject());
         SseClient c = h.sse("/events?topic=anything"); SseClient t = h.sse("/events?topic=anything&access_token=garbage")) {
      c.await(l -> !l.isEmpty(), WAIT);
      t.await(l -> !l.isEmpty(), WAIT);
      h.publish("anything", "x");
      assertThat(c.awaitAppEvents(1, WAIT)).hasSize(1);
    }
  }
}
