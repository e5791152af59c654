package io.herald.standalone;

import io.herald.common.EventCodec;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.GatewayVerticle;
import io.herald.notifier.NotifierOptions;
import io.herald.notifier.NotifierVerticle;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static io.herald.standalone.MercurePublishTest.HTTP;
import static io.herald.standalone.MercurePublishTest.PUBLISHER_SECRET;
import static io.herald.standalone.MercurePublishTest.SUBSCRIBER_SECRET;
import static io.herald.standalone.MercurePublishTest.WAIT;
import static io.herald.standalone.MercurePublishTest.await;
import static io.herald.standalone.MercurePublishTest.enc;
import static io.herald.standalone.MercurePublishTest.form;
import static io.herald.standalone.MercurePublishTest.sign;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /.well-known/mercure} on a real all-in-one node over real HTTP: the matchers of both
 * protocol versions, public and private updates (live and on resume), resume by the
 * {@code Last-Event-ID} header, the {@code lastEventID} parameter and {@code earliest} on the
 * memory store, Redis and PostgreSQL, the {@code Last-Event-ID} answer header, token errors and
 * CORS. Updates are published with the form POST Mercure's documentation shows.
 */
class MercureSubscribeTest {

  static final String AUD = "https://hub.example.com/.well-known/mercure";

  private Vertx vertx;
  private HttpClient client;
  private final List<SseClient> streams = new ArrayList<>();
  int port;
  /** A prefix that makes this run's topics its own (Redis and PostgreSQL keep earlier runs'). */
  final String base = "https://example.com/" + UUID.randomUUID();

  void start(String store, boolean anonymous) throws Exception {
    vertx = Vertx.vertx();
    EventCodec.register(vertx);
    JsonObject replay = new JsonObject().put("store", store);
    if (store.equals("redis")) {
      replay.put("redisUrl", System.getenv().getOrDefault("HERALD_TEST_REDIS_URL", "redis://127.0.0.1:6379"))
        .put("redisKeyPrefix", "herald-mercure-test:");
    } else if (store.equals("postgres")) {
      replay.put("postgresUrl", System.getenv().getOrDefault("HERALD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"));
    }
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions(replay))));
    await(vertx.deployVerticle(new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)))));
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1)
      .put("mercureEnabled", true).put("mercurePublisherJwtKey", PUBLISHER_SECRET)
      .put("mercureSubscriberJwtKey", SUBSCRIBER_SECRET).put("mercureAudience", AUD).put("mercureAnonymous", anonymous)
      .put("mercureCorsOrigins", "https://app.example.com")));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
    client = vertx.createHttpClient(new io.vertx.core.http.PoolOptions().setHttp1MaxSize(64)); // one connection per stream
  }

  @AfterEach
  void stop() throws Exception {
    for (SseClient s : streams) {
      s.close();
    }
    if (vertx != null) {
      await(vertx.close());
    }
  }

  @Test
  @DisplayName("1.0 match (exact), match_exact, match_urlpattern and 0.x topic (exact, URI template) and * select their topics, several in one stream, in publish order")
  void matchers() throws Exception {
    start("memory", true);
    String exact = base + "/exact?x=1&y=%20";
    SseClient one = subscribe("match=" + enc(exact) + "&match_urlpattern=" + enc(base + "/books/:id")
      + "&match_exact=" + enc(base + "/other"));
    SseClient legacy = subscribe("topic=" + enc(base + "/authors/{id}") + "&topic=" + enc(exact));
    SseClient camel = subscribe("matchURLPattern=" + enc(base + "/authors/:id") + "&matchExact=" + enc(base + "/other"));
    SseClient all = subscribe("topic=*");
    SseClient allMatch = subscribe("match=*");

    publish(base + "/books/1", "b1");
    publish(exact, "e1", "type", "exact.updated", "retry", "1500");
    publish(base + "/authors/7", "a7");
    publish(base + "/books/1/chapters/2", "not a book");
    publish(base + "/other", "o1");
    publish(base + "/books/2", "b2");

    assertThat(data(one, 4)).containsExactly("b1", "e1", "o1", "b2");
    assertThat(data(legacy, 2)).containsExactly("e1", "a7");
    assertThat(data(camel, 2)).containsExactly("a7", "o1");
    assertThat(data(all, 6)).containsExactly("b1", "e1", "a7", "not a book", "o1", "b2");
    assertThat(data(allMatch, 6)).containsExactly("b1", "e1", "a7", "not a book", "o1", "b2");
    SseEvent typed = one.appEvents().get(1);
    assertThat(typed.type()).isEqualTo("exact.updated");
    assertThat(one.appEvents().get(0).type()).as("no type: a plain message").isEqualTo("message");
    assertThat(one.raw()).contains("retry: 1500\ndata: e1\n").doesNotContain("event: message");
    assertThat(one.appEvents()).extracting(SseEvent::id).doesNotContainNull().doesNotHaveDuplicates();
    // A stream of one exact topic carries the update's own id: the one the publish answered.
    SseClient single = subscribe("match=" + enc(exact));
    String id = publish(exact, "line 1\nline 2");
    List<SseEvent> got = single.awaitAppEvents(1, WAIT);
    assertThat(got.get(0).id()).isEqualTo(id);
    assertThat(got.get(0).data()).isEqualTo("line 1\nline 2");
    assertThat(single.raw()).contains("data: line 1\ndata: line 2\n\n");
  }

  @Test
  @DisplayName("a private update reaches only subscribers whose token grants subscribe on its topic, live and on resume; public ones reach everyone")
  void privateUpdates() throws Exception {
    start("memory", true);
    String book1 = base + "/books/1";
    String book2 = base + "/books/2";
    String pattern = "match_urlpattern=" + enc(base + "/books/:id");
    String legacyToken = subscriberToken(new JsonArray().add(book1));
    String accessToken = accessToken(base + "/books/1");
    SseClient anonymous = subscribe(pattern);
    SseClient legacy = subscribe(pattern, "Authorization", "Bearer " + legacyToken);
    SseClient modern = subscribe(pattern, "Cookie", "mercureAccessToken=" + accessToken);
    SseClient everything = subscribe(pattern + "&access_token=" + subscriberToken(new JsonArray().add("*")));
    // Herald's own /events, anonymous here (authMode none): public updates only.
    SseClient herald = SseClient.open(client, port, "/events?topic=" + enc(book1));
    streams.add(herald);

    publish(book1, "public 1");
    publish(book1, "private 1", "private", "on");
    publish(book2, "private 2", "private", "");
    publish(book2, "public 2");

    assertThat(data(everything, 4)).containsExactly("public 1", "private 1", "private 2", "public 2");
    assertThat(data(legacy, 3)).containsExactly("public 1", "private 1", "public 2");
    assertThat(data(modern, 3)).containsExactly("public 1", "private 1", "public 2");
    assertThat(data(anonymous, 2)).containsExactly("public 1", "public 2");

    // The same on replay: from the start of the history, and from the first update's id.
    assertThat(data(subscribe(pattern + "&lastEventID=earliest"), 2)).containsExactly("public 1", "public 2");
    assertThat(data(subscribe(pattern + "&lastEventID=earliest", "Authorization", "Bearer " + legacyToken), 3))
      .containsExactly("public 1", "private 1", "public 2");
    String first = anonymous.appEvents().get(0).id();
    assertThat(data(subscribe(pattern, "Last-Event-ID", first), 1)).containsExactly("public 2");
    assertThat(data(subscribe(pattern, "Last-Event-ID", first, "Authorization", "Bearer " + legacyToken), 2))
      .containsExactly("private 1", "public 2");
    // Nothing of what was skipped arrives later: a last public update closes each stream's list.
    publish(book2, "public 3");
    assertThat(data(anonymous, 3)).containsExactly("public 1", "public 2", "public 3");
    assertThat(data(legacy, 4)).containsExactly("public 1", "private 1", "public 2", "public 3");
    publish(book1, "public 4");
    assertThat(data(herald, 2)).containsExactly("public 1", "public 4");
    assertThat(data(SseClient.open(client, port, "/events?topic=" + enc(book1), "Last-Event-ID", herald.appEvents().get(0).id()), 1))
      .as("nor on resume").containsExactly("public 4");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"memory", "redis", "postgres"})
  @DisplayName("resume with the Last-Event-ID header, the lastEventID parameter and earliest gives exactly the missed updates; the answer's Last-Event-ID is the latest id")
  void resume(String store) throws Exception {
    start(store, true);
    String a = base + "/a";
    String b = base + "/b";
    String both = "match=" + enc(a) + "&topic=" + enc(b);
    // A fresh history: the answer says earliest, and resuming from it gives everything.
    SseClient fresh = subscribe(both + "&lastEventID=earliest");
    assertThat(fresh.response().getHeader("Last-Event-ID")).isEqualTo("earliest");
    publish(a, "a1");
    publish(b, "b1");
    List<SseEvent> seen = fresh.awaitAppEvents(2, WAIT);
    assertThat(seen).extracting(SseEvent::data).containsExactly("a1", "b1");
    fresh.close();

    publish(b, "b2");
    publish(a, "a2");
    String last = seen.get(1).id();
    // Updates of several topics come in publish order per topic (a replay reads one topic after the other).
    SseClient byHeader = subscribe(both, "Last-Event-ID", last);
    assertThat(data(byHeader, 2)).containsExactlyInAnyOrder("b2", "a2");
    String latest = byHeader.response().getHeader("Last-Event-ID");
    assertThat(latest).as("the latest event at subscription time").isNotNull().isNotEqualTo("earliest");
    SseClient byParam = subscribe(both + "&lastEventID=" + enc(last));
    assertThat(data(byParam, 2)).containsExactlyInAnyOrder("b2", "a2");
    SseClient bySnake = subscribe(both + "&last_event_id=" + enc(last));
    assertThat(data(bySnake, 2)).containsExactlyInAnyOrder("b2", "a2");
    SseClient headerWins = subscribe(both + "&lastEventID=earliest", "Last-Event-ID", last);
    assertThat(data(headerWins, 2)).containsExactlyInAnyOrder("b2", "a2");
    SseClient earliest = subscribe(both + "&lastEventID=earliest");
    List<String> all = data(earliest, 4);
    assertThat(all).containsExactlyInAnyOrder("a1", "b1", "b2", "a2");
    assertThat(all.indexOf("a1")).isLessThan(all.indexOf("a2"));
    assertThat(all.indexOf("b1")).isLessThan(all.indexOf("b2"));

    // From the answer header: nothing before it, then what came after.
    publish(b, "b3");
    SseClient fromLatest = subscribe(both, "Last-Event-ID", latest);
    assertThat(data(fromLatest, 1)).containsExactly("b3");
    // An id that is not a resume point: live from now, and the answer says earliest.
    SseClient unknown = subscribe(both, "Last-Event-ID", "urn:uuid:" + UUID.randomUUID());
    assertThat(unknown.response().getHeader("Last-Event-ID")).isEqualTo("earliest");
    publish(a, "a3");
    assertThat(data(unknown, 1)).containsExactly("a3");
    assertThat(data(fromLatest, 2)).containsExactly("b3", "a3");
    assertThat(subscribe(both).response().getHeader("Last-Event-ID")).as("only answered to a request that sent one").isNull();

    // Private updates: skipped live for a subscriber without the right, and on its resume; replayed to a token that grants the topic.
    SseClient before = subscribe(both);
    publish(b, "b-private", "private", "on");
    publish(a, "a-public");
    assertThat(data(before, 1)).containsExactly("a-public");
    String mark = before.appEvents().get(0).id();
    before.close();
    publish(b, "b-private-2", "private", "");
    publish(a, "a-last");
    String reader = "Bearer " + subscriberToken(new JsonArray().add(b));
    assertThat(data(subscribe(both, "Last-Event-ID", mark), 1)).containsExactly("a-last");
    assertThat(data(subscribe(both, "Last-Event-ID", mark, "Authorization", reader), 2)).containsExactlyInAnyOrder("b-private-2", "a-last");
    assertThat(data(subscribe(both + "&lastEventID=earliest"), 8)).doesNotContain("b-private", "b-private-2");
    assertThat(data(subscribe(both + "&lastEventID=earliest", "Authorization", reader), 10)).contains("b-private", "b-private-2");

    // The id a publish answers (discovery) resumes a stream of that exact topic.
    String answered = publish(a, "a-discovered");
    publish(a, "a-after");
    assertThat(data(subscribe("match=" + enc(a) + "&lastEventID=" + enc(answered)), 1)).containsExactly("a-after");

    // A pattern stream resumes from its own ids as well.
    SseClient pattern = subscribe("match_urlpattern=" + enc(base + "/:x"));
    publish(a, "a4");
    String patternMark = pattern.awaitAppEvents(1, WAIT).get(0).id();
    publish(b, "b4");
    publish(a, "a5");
    assertThat(data(subscribe("match_urlpattern=" + enc(base + "/:x"), "Last-Event-ID", patternMark), 2)).containsExactly("b4", "a5");
  }

  @Test
  @DisplayName("token and request errors: 401 without a token when anonymous is off, 401 invalid_token, 400 invalid_request for an unknown match parameter")
  void errors() throws Exception {
    start("memory", false);
    String topic = "match=" + enc(base + "/a");
    HttpResponse<String> none = get(topic);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).as("no error code, the metadata named (RFC 9728)")
      .hasValue("Bearer resource_metadata=\"http://127.0.0.1:" + port + "/.well-known/oauth-protected-resource/.well-known/mercure\"");
    HttpResponse<String> forged = get(topic, "Authorization", "Bearer " + sign(new JsonObject()
      .put("mercure", new JsonObject().put("subscribe", new JsonArray().add("*"))), PUBLISHER_SECRET, "JWT"));
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(forged.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer error=\"invalid_token\"");
    HttpResponse<String> garbage = get(topic, "Cookie", "mercureAuthorization=not.a.token");
    assertThat(garbage.statusCode()).isEqualTo(401);
    assertThat(garbage.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer error=\"invalid_token\"");
    String token = subscriberToken(new JsonArray().add("*"));
    for (String bad : List.of("match_regex=x", "matchRegExp=x", "MATCH=x", "Match_Exact=x", "matchurlpattern=x")) {
      HttpResponse<String> r = get(topic + "&" + bad, "Authorization", "Bearer " + token);
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).as(bad).startsWith("Bearer error=\"invalid_request\"");
    }
    assertThat(get("", "Authorization", "Bearer " + token).statusCode()).as("no matcher").isEqualTo(400);
    assertThat(get("match=" + enc("a\u0001b"), "Authorization", "Bearer " + token).statusCode()).as("a control character").isEqualTo(400);
    assertThat(get("match_urlpattern=" + enc("https://example.com/(["), "Authorization", "Bearer " + token).statusCode())
      .as("a bad URL pattern").isEqualTo(400);
    // With a valid token the stream opens (an unrelated parameter is ignored).
    SseClient ok = subscribe(topic + "&other=1", "Authorization", "Bearer " + token);
    assertThat(ok.response().getHeader("Content-Type")).startsWith("text/event-stream");
  }

  @Test
  @DisplayName("a stream ends no later than its token's exp, as the specification requires")
  void endsAtExpiry() throws Exception {
    start("memory", false);
    long exp = System.currentTimeMillis() / 1000 + 3;
    String token = sign(new JsonObject().put("exp", exp).put("mercure", new JsonObject().put("subscribe", new JsonArray().add("*"))),
      SUBSCRIBER_SECRET, "JWT");
    SseClient s = subscribe("match=" + enc(base + "/a"), "Authorization", "Bearer " + token);
    s.awaitEnd(WAIT);
    long endedAt = System.currentTimeMillis();
    assertThat(endedAt).as("ended at or just after exp (ms), never later than a second").isBetween(exp * 1000 - 1000, exp * 1000 + 1000);
  }

  @Test
  @DisplayName("a subscription from an allowed origin gets CORS headers with credentials; another origin gets none")
  void cors() throws Exception {
    start("memory", true);
    SseClient allowed = subscribe("match=" + enc(base + "/a"), "Origin", "https://app.example.com");
    assertThat(allowed.response().getHeader("Access-Control-Allow-Origin")).isEqualTo("https://app.example.com");
    assertThat(allowed.response().getHeader("Access-Control-Allow-Credentials")).isEqualTo("true");
    SseClient other = subscribe("match=" + enc(base + "/a"), "Origin", "https://evil.example.com");
    assertThat(other.response().getHeader("Access-Control-Allow-Origin")).isNull();
    HttpResponse<String> preflight = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure"))
      .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://app.example.com")
      .header("Access-Control-Request-Method", "GET").header("Access-Control-Request-Headers", "last-event-id").build(),
      HttpResponse.BodyHandlers.ofString());
    assertThat(preflight.statusCode()).isEqualTo(204);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods").orElseThrow()).contains("GET");
  }

  // ---------------------------------------------------------------- helpers

  SseClient subscribe(String query, String... headers) throws Exception {
    SseClient s = SseClient.open(client, port, "/.well-known/mercure" + (query.isEmpty() ? "" : "?" + query), headers);
    streams.add(s);
    return s;
  }

  /** The data of a stream's updates once it has {@code n} (all of them: more is a failure of the caller's containsExactly). */
  static List<String> data(SseClient s, int n) throws Exception {
    List<SseEvent> events = s.awaitAppEvents(n, WAIT);
    return events.stream().map(SseEvent::data).toList();
  }

  HttpResponse<String> get(String query, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure"
      + (query.isEmpty() ? "" : "?" + query))).timeout(WAIT).GET();
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Publishes as Mercure's documentation shows (form POST, Bearer token); the hub's answer: the update's id. */
  String publish(String topic, String data, String... fields) throws Exception {
    String[] pairs = new String[4 + fields.length];
    pairs[0] = "topic";
    pairs[1] = topic;
    pairs[2] = "data";
    pairs[3] = data;
    System.arraycopy(fields, 0, pairs, 4, fields.length);
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure"))
      .timeout(WAIT).header("Content-Type", "application/x-www-form-urlencoded")
      .header("Authorization", "Bearer " + MercurePublishTest.publisherToken(new JsonArray().add("*")))
      .POST(HttpRequest.BodyPublishers.ofString(form(pairs))).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  /** A 0.x subscriber token: the mercure claim's subscribe selectors. */
  static String subscriberToken(JsonArray subscribe) throws Exception {
    return sign(new JsonObject().put("mercure", new JsonObject().put("subscribe", subscribe)), SUBSCRIBER_SECRET, "JWT");
  }

  /** A 1.0 access token (RFC 9068) granting subscribe on one exact topic. */
  static String accessToken(String topic) throws Exception {
    return sign(new JsonObject().put("aud", AUD).put("exp", System.currentTimeMillis() / 1000 + 600).put("sub", "alice")
      .put("authorization_details", new JsonArray().add(new JsonObject().put("type", "mercure")
        .put("actions", new JsonArray().add("subscribe"))
        .put("topics", new JsonArray().add(new JsonObject().put("match", topic))))), SUBSCRIBER_SECRET, "at+jwt");
  }
}
