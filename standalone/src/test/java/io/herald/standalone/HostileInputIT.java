package io.herald.standalone;

import io.herald.testsupport.SseEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hostile-input table, against the real jar with subscriber JWT on: each row is a request an
 * attacker or a broken client could send, its expected status, and (where there is one) what it
 * must or must not do. After every row the hub still serves: alice's canary stream receives a
 * fresh event of her own topic, and bob's stream never receives anything of alice's. Hostile
 * connections are in {@link HostileConnectionsIT}.
 */
class HostileInputIT extends HostileInputFixture {

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("Hostile input")
  void hostile(Case c) throws Exception {
    HttpResponse<String> r = send(c);
    assertThat(r.statusCode()).as(c.name() + ": " + abbreviate(r.body())).isEqualTo(c.status());
    if (c.status() >= 400) {
      JsonObject body = new JsonObject(r.body());
      assertThat(body.getString("error")).as(c.name() + ": JSON error body").isNotBlank();
    }
    c.check().accept(r);
    // The hub still serves, and nothing crosses users.
    String data = "canary-" + canary.incrementAndGet();
    herald.publish("{\"topic\":\"user:alice\",\"data\":\"" + data + "\"}");
    alice.await(l -> l.stream().anyMatch(e -> data.equals(e.data())), WAIT);
    assertThat(bob.events()).extracting(SseEvent::data).noneMatch(d -> d != null && d.startsWith("canary-"));
    assertThat(alice.failure()).isNull();
  }

  Stream<Case> cases() throws Exception {
    if (rsa == null) {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
      gen.initialize(2048);
      rsa = gen.generateKeyPair();
    }
    List<Case> c = new ArrayList<>();
    String events = "/events?topic=user:alice";
    String good = hs256(claims("alice", "user:{sub}"));
    // ---- subscriber tokens
    c.add(sub("no token on a private topic", events, null, 401));
    c.add(sub("a token that is not a JWT", events, "abc", 401));
    c.add(sub("a truncated JWT (no signature part)", events, good.substring(0, good.lastIndexOf('.')), 401));
    c.add(sub("a JWT with four parts", events, good + ".x", 401));
    c.add(sub("a JWT whose signature is cut short", events, good.substring(0, good.length() - 5), 401));
    c.add(sub("alg none, empty signature", events, unsigned("none", claims("alice", "user:{sub}"), ""), 401));
    c.add(sub("alg none, a copied valid signature", events, unsigned("none", claims("alice", "user:{sub}"), good.substring(good.lastIndexOf('.') + 1)), 401));
    c.add(sub("alg None (case games)", events, unsigned("None", claims("alice", "user:{sub}"), ""), 401));
    c.add(sub("HS256 signed with the wrong secret", events, hs256(claims("alice", "user:{sub}"), "another-secret-that-is-long-enough-0000"), 401));
    c.add(sub("algorithm confusion: HS256 signed with the RSA public key PEM", events, hs256(claims("alice", "user:{sub}"), rsaPem()), 401));
    c.add(sub("RS256 signed by another RSA key", events, rs256(claims("alice", "user:{sub}"), otherRsa()), 401));
    c.add(sub("expired token", events, hs256(claims("alice", "user:{sub}").put("exp", now() - 60)), 401));
    c.add(sub("token not valid yet (nbf in an hour)", events, hs256(claims("alice", "user:{sub}").put("nbf", now() + 3600)), 401));
    c.add(sub("valid token, someone else's topic", "/events?topic=user:bob", good, 403));
    c.add(sub("valid token, one allowed and one foreign topic", "/events?topic=user:alice&topic=user:bob", good, 403));
    c.add(sub("token without a topics claim", events, hs256(new JsonObject().put("sub", "alice").put("exp", now() + 600)), 403));
    c.add(sub("wildcard claim does not cross a segment", "/events?topic=user:bob", hs256(claims("alice", "*")), 403));
    c.add(sub("subject '*' is literal inside {sub}", "/events?topic=user:bob", hs256(claims("*", "user:{sub}")), 403));
    c.add(sub("garbage token in access_token", events + "&access_token=abc.def.ghi", null, 401));
    c.add(new Case("garbage token in the cookie", "GET", events, Map.of("Cookie", "herald_token=abc.def.ghi"), null, 401, r -> { }));
    c.add(new Case("a 20 KB Authorization header", "GET", events, Map.of("Authorization", "Bearer " + "a".repeat(20_000)), null, 431, r -> { }));
    // ---- topics and cursors
    c.add(sub("CR LF in a topic (header/field injection)", "/events?topic=public.x%0D%0Aevent:%20evil", null, 400));
    c.add(sub("a NUL in a topic", "/events?topic=public.x%00", null, 400));
    c.add(sub("non-ASCII letters in a topic", "/events?topic=public.caf%C3%A9", null, 400));
    c.add(sub("a right-to-left override in a topic", "/events?topic=public.%E2%80%AEx", null, 400));
    c.add(sub("fullwidth letters in a topic", "/events?topic=%EF%BD%90ublic.x", null, 400));
    c.add(sub("a 129-character topic", "/events?topic=public." + "x".repeat(122), null, 400));
    c.add(sub("an empty topic", "/events?topic=", null, 400));
    c.add(sub("33 topics on one connection", "/events?" + "topic=public.t&".repeat(0) + topics(33), null, 400));
    c.add(new Case("a 5,000-character Last-Event-ID", "GET", "/events?topic=public.news", Map.of("Last-Event-ID", "x".repeat(5000)), null, 200,
      r -> assertThat(r.body()).contains("event: reset").contains("unknown_last_event_id")));
    c.add(new Case("a malformed Last-Event-ID", "GET", "/events?topic=public.news", Map.of("Last-Event-ID", "----:::---"), null, 200,
      r -> assertThat(r.body()).contains("event: reset")));
    c.add(new Case("a newline smuggled in lastEventId", "GET", "/events?topic=public.news&lastEventId=" + enc("x\nevent: evil\ndata: owned"), Map.of(), null, 200,
      r -> assertThat(r.body()).doesNotContain("event: evil").doesNotContain("data: owned")));
    c.add(new Case("a cursor of bob's topic presented by alice", "GET", events,
      Map.of("Authorization", "Bearer " + good, "Last-Event-ID", "user:bob-AAAAAAAA-1"), null, 200,
      r -> assertThat(r.body()).doesNotContain("user:bob")));
    // ---- publishing
    c.add(pub("a topic with a newline", "{\"topic\":\"public.x\\nevent: evil\",\"data\":1}", 400, "invalid_topic"));
    c.add(pub("a type with CR LF (SSE field injection)", "{\"topic\":\"public.news\",\"type\":\"x\\r\\nevent: evil\",\"data\":1}", 400, "invalid_type"));
    c.add(pub("an id with a newline (SSE id injection)", "{\"topic\":\"public.news\",\"id\":\"a\\nid: evil\",\"data\":1}", 400, "invalid_id"));
    c.add(pub("a Unicode lookalike topic", "{\"topic\":\"ｐublic.news\",\"data\":1}", 400, "invalid_topic"));
    c.add(pub("malformed JSON", "{\"topic\":", 400, "malformed_json"));
    c.add(pub("a JSON array instead of an object", "[1,2,3]", 400, "malformed_json"));
    c.add(pub("JSON nested 5,000 levels deep", "{\"topic\":\"public.news\",\"data\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 400, null));
    c.add(pub("event data over the 64 KB limit", "{\"topic\":\"public.news\",\"data\":\"" + "x".repeat(70_000) + "\"}", 413, "payload_too_large"));
    c.add(pub("a 2 MB body", "{\"topic\":\"public.news\",\"data\":\"" + "x".repeat(2_000_000) + "\"}", 413, "payload_too_large"));
    c.add(new Case("a batch of 101 events", "POST", "notifier:/publish/batch", Map.of("Authorization", KEY, "Content-Type", "application/json"),
      "{\"events\":[" + String.join(",", java.util.Collections.nCopies(101, "{\"topic\":\"public.news\",\"data\":1}")) + "]}", 400,
      r -> assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("batch_too_large")));
    c.add(pub("an unknown field", "{\"topic\":\"public.news\",\"data\":1,\"admin\":true}", 400, "invalid_request"));
    c.add(new Case("publishing with a wrong key", "POST", "notifier:/publish", Map.of("Authorization", "Bearer wrong-key-wrong-key", "Content-Type", "application/json"),
      "{\"topic\":\"public.news\",\"data\":1}", 401, r -> { }));
    c.add(new Case("publishing with alg none JWT", "POST", "notifier:/publish", Map.of("Authorization", "Bearer " + unsigned("none", new JsonObject().put("publish", new JsonArray().add("*")), ""), "Content-Type", "application/json"),
      "{\"topic\":\"public.news\",\"data\":1}", 401, r -> { }));
    c.add(new Case("publishing text/plain", "POST", "notifier:/publish", Map.of("Authorization", KEY, "Content-Type", "text/plain"),
      "{\"topic\":\"public.news\",\"data\":1}", 415, r -> { }));
    c.add(new Case("an SSE frame smuggled in text data stays data", "POST", "notifier:/publish", Map.of("Authorization", KEY, "Content-Type", "application/json"),
      "{\"topic\":\"public.news\",\"data\":\"line\\n\\nevent: evil\\ndata: owned\\r\\nid: 1\"}", 200, r -> assertSmuggledDataStaysData()));
    return c.stream();
  }

  private Case sub(String name, String path, String token, int status) {
    return new Case(name, "GET", path, token == null ? Map.of() : Map.of("Authorization", "Bearer " + token), null, status, r -> { });
  }

  private Case pub(String name, String body, int status, String code) {
    return new Case(name, "POST", "notifier:/publish", Map.of("Authorization", KEY, "Content-Type", "application/json"), body, status,
      r -> {
        if (code != null) {
          assertThat(new JsonObject(r.body()).getString("error")).isEqualTo(code);
        }
      });
  }

  private void assertSmuggledDataStaysData() {
    try {
      List<SseEvent> got = publicStream.await(l -> l.stream().anyMatch(e -> e.data() != null && e.data().startsWith("line")), WAIT);
      SseEvent e = got.stream().filter(x -> x.data() != null && x.data().startsWith("line")).findFirst().orElseThrow();
      assertThat(e.type()).isEqualTo("message");
      assertThat(got).extracting(SseEvent::type).doesNotContain("evil");
      assertThat(publicStream.raw()).doesNotContain("\nevent: evil").doesNotContain("\nid: 1\n");
    } catch (InterruptedException ex) {
      throw new AssertionError(ex);
    }
  }

  private HttpResponse<String> send(Case c) throws Exception {
    boolean notifier = c.path().startsWith("notifier:");
    int port = notifier ? herald.notifierPort : herald.gatewayPort;
    String path = notifier ? c.path().substring("notifier:".length()) : c.path();
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10));
    c.headers().forEach(b::header);
    b.method(c.method(), c.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(c.body()));
    if (!notifier && c.status() == 200) {
      // A stream: read its opening up to herald.ready, the marker that ends it (resets and
      // replays come before it), then let go. No ready in 10 s fails.
      var async = HeraldProcess.HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.ofInputStream());
      HttpResponse<java.io.InputStream> resp = async.get(10, TimeUnit.SECONDS);
      byte[] buf = new byte[65536];
      StringBuilder sb = new StringBuilder();
      long end = System.nanoTime() + WAIT.toNanos();
      try (var in = resp.body()) {
        while (System.nanoTime() < end && !sb.toString().contains("herald.ready")) {
          int n = in.available() > 0 ? in.read(buf) : 0;
          if (n > 0) {
            sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
          } else {
            Thread.sleep(20);
          }
        }
      }
      String text = sb.toString();
      if (resp.statusCode() == 200) {
        assertThat(text).as("the stream's opening, up to herald.ready").contains("herald.ready");
      }
      return new StringResponse(resp, text);
    }
    return HeraldProcess.HTTP.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).get(20, TimeUnit.SECONDS);
  }

  /** A streamed response read for a moment, as a String response. */
  private record StringResponse(HttpResponse<java.io.InputStream> delegate, String body) implements HttpResponse<String> {
    public int statusCode() { return delegate.statusCode(); }
    public HttpRequest request() { return delegate.request(); }
    public java.util.Optional<HttpResponse<String>> previousResponse() { return java.util.Optional.empty(); }
    public java.net.http.HttpHeaders headers() { return delegate.headers(); }
    public java.util.Optional<javax.net.ssl.SSLSession> sslSession() { return delegate.sslSession(); }
    public URI uri() { return delegate.uri(); }
    public java.net.http.HttpClient.Version version() { return delegate.version(); }
  }
}
