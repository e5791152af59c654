package io.herald.standalone;

import io.herald.common.EventCodec;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.GatewayVerticle;
import io.herald.notifier.NotifierOptions;
import io.herald.notifier.NotifierVerticle;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.Jwt;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code POST /.well-known/mercure} on a real all-in-one node (replay, notifier, gateway in one
 * Vert.x) over real HTTP, with the form bodies Mercure's documentation shows (curl
 * {@code -d topic=... -d data=...}), the token in the {@code Authorization} header, the cookie or
 * the query; the update then arrives on the gateway's SSE stream and resumes from its id, on the
 * memory store and on real Redis and PostgreSQL.
 */
class MercurePublishTest {

  static final String PUBLISHER_SECRET = "!ChangeThisMercureHubJWTSecretKey!";
  static final String SUBSCRIBER_SECRET = "another-secret-for-subscribers-32-bytes!";
  static final Duration WAIT = Duration.ofSeconds(10);
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();

  private Vertx vertx;
  int port;

  void start(String store) throws Exception {
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
      .put("mercureSubscriberJwtKey", SUBSCRIBER_SECRET).put("mercureCorsOrigins", "https://app.example.com")
      .put("mercureAudience", MercureSubscribeTest.AUD)));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
  }

  @AfterEach
  void stop() throws Exception {
    if (vertx != null) {
      await(vertx.close());
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"memory", "redis", "postgres"})
  @DisplayName("a URL topic with ? & = %20 goes publish (form POST) -> store -> SSE delivery -> resume from the update's id, unchanged")
  void roundTrip(String store) throws Exception {
    start(store);
    String topic = "https://example.com/" + UUID.randomUUID() + "/books/1?lang=fr&x=%20";
    String token = publisherToken(new JsonArray().add("*"));
    io.vertx.core.http.HttpClient client = vertx.createHttpClient();
    SseClient live = SseClient.open(client, port, "/events?topic=" + enc(topic));
    HttpResponse<String> first = post(form("topic", topic, "data", "{\"title\":\"Le Petit Prince\"}"), "Authorization", "Bearer " + token);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(first.body()).as("no publisher id: the hub generates an IRI, a fragment").matches("#[0-9A-Za-z._-]+");
    assertThat(first.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    HttpResponse<String> second = post(form("topic", topic, "data", "line 1\nline 2", "type", "book.updated"),
      "Cookie", "mercureAuthorization=" + token, "Origin", "http://127.0.0.1:" + port);
    assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
    List<SseEvent> events = live.awaitAppEvents(2, WAIT);
    live.close();
    assertThat(events).extracting(e -> "#" + e.id()).as("the answer is the id as an IRI: #cursor").containsExactly(first.body(), second.body());
    assertThat(events.get(0).data()).contains("Le Petit Prince");
    assertThat(events.get(1).type()).isEqualTo("book.updated");
    assertThat(events.get(1).data()).contains("line 1").contains("line 2");

    HttpResponse<String> third = post(form("topic", topic, "data", "3", "id", "urn:uuid:" + UUID.randomUUID()),
      "Authorization", "Bearer " + token);
    assertThat(third.statusCode()).as(third.body()).isEqualTo(200);
    assertThat(third.body()).as("a publisher's id is the update's id").startsWith("urn:uuid:");
    SseClient resumed = SseClient.open(client, port, "/events?topic=" + enc(topic), "Last-Event-ID", first.body());
    List<SseEvent> replayed = resumed.awaitAppEvents(2, WAIT);
    resumed.close();
    assertThat(replayed).extracting(SseEvent::data).containsExactly("line 1\nline 2", "3");

    // The Mercure flags are stored with the update: private whatever the field's value, retry as given.
    HttpResponse<String> flagged = post(form("topic", topic, "data", "4", "private", "", "retry", "1500"), "Authorization", "Bearer " + token);
    assertThat(flagged.statusCode()).as(flagged.body()).isEqualTo(200);
    HttpResponse<String> off = post(form("topic", topic, "data", "5", "private", "off"), "Authorization", "Bearer " + token);
    assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
    io.herald.common.Position start = new io.herald.common.Position(
      io.herald.common.Cursor.parse(first.body(), 10).position(topic).epoch(), 0);
    List<io.herald.common.Event> stored = await(new io.herald.common.replay.ReplayClient(vertx, 5000).read(topic, start, 10)).events();
    assertThat(stored).extracting(io.herald.common.Event::data).containsExactly("{\"title\":\"Le Petit Prince\"}", "line 1\nline 2", "3", "4", "5");
    assertThat(stored).extracting(io.herald.common.Event::privateUpdate).containsExactly(false, false, false, true, true);
    assertThat(stored).extracting(io.herald.common.Event::retry).containsExactly(-1L, -1L, -1L, 1500L, -1L);
  }

  @Test
  @DisplayName("token and request errors are RFC 6750 answers: 401 without a token, 401 invalid_token, 403 insufficient_scope, 400 invalid_request")
  void errors() throws Exception {
    start("memory");
    String token = publisherToken(new JsonArray().add("https://example.com/books/{id}"));
    String book = form("topic", "https://example.com/books/1", "data", "x");

    HttpResponse<String> none = post(book);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).as("no error code, the metadata named (RFC 9728)")
      .hasValue("Bearer resource_metadata=\"http://127.0.0.1:" + port + "/.well-known/oauth-protected-resource/.well-known/mercure\"");

    HttpResponse<String> forged = post(book, "Authorization", "Bearer " + sign(new JsonObject()
      .put("mercure", new JsonObject().put("publish", new JsonArray().add("*"))), SUBSCRIBER_SECRET, "JWT"));
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(forged.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer error=\"invalid_token\"");

    HttpResponse<String> scope = post(form("topic", "https://example.com/authors/1", "data", "x"), "Authorization", "Bearer " + token);
    assertThat(scope.statusCode()).isEqualTo(403);
    assertThat(scope.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer error=\"insufficient_scope\"");

    HttpResponse<String> two = post(book + "&" + form("topic", "https://example.com/books/2"), "Authorization", "Bearer " + token);
    assertThat(two.statusCode()).as("an alternate topic the token may publish to").isEqualTo(200);
    HttpResponse<String> outside = post(book + "&" + form("topic", "https://example.com/authors/1"), "Authorization", "Bearer " + token);
    assertThat(outside.statusCode()).as("every topic of the update must be granted").isEqualTo(403);
    assertThat(outside.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer error=\"insufficient_scope\"");
    // Mercure 1.0 (an RFC 9068 access token): exactly one topic field; several are 0.x alternates only.
    String access = sign(new JsonObject().put("aud", MercureSubscribeTest.AUD).put("exp", System.currentTimeMillis() / 1000 + 600)
      .put("authorization_details", new JsonArray().add(new JsonObject().put("type", "mercure")
        .put("actions", new JsonArray().add("publish")).put("topics", new JsonArray().add(new JsonObject().put("match", "*"))))),
      PUBLISHER_SECRET, "at+jwt");
    assertThat(post(book, "Authorization", "Bearer " + access).statusCode()).as("one topic, a 1.0 token").isEqualTo(200);
    HttpResponse<String> twoWith10 = post(book + "&" + form("topic", "https://example.com/books/2"), "Authorization", "Bearer " + access);
    assertThat(twoWith10.statusCode()).as("two topic fields with a 1.0 token").isEqualTo(400);
    assertThat(twoWith10.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer error=\"invalid_request\"");
    assertThat(post(book + "&" + book, "Authorization", "Bearer " + access).statusCode()).as("the same topic twice is two fields too")
      .isEqualTo(400);
    assertThat(post(form("data", "x"), "Authorization", "Bearer " + token).statusCode()).isEqualTo(400);
    assertThat(post(book + "&id=%23frag", "Authorization", "Bearer " + token).statusCode()).isEqualTo(400);
    assertThat(post(book + "&type=a%0Ab", "Authorization", "Bearer " + token).statusCode()).isEqualTo(400);
    HttpResponse<String> badRetry = post(book + "&retry=ten", "Authorization", "Bearer " + token);
    assertThat(badRetry.statusCode()).isEqualTo(400);
    assertThat(badRetry.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer error=\"invalid_request\"");
    assertThat(post(book + "&retry=-1", "Authorization", "Bearer " + token).statusCode()).isEqualTo(400);
    assertThat(post(book + "&private=on", "Authorization", "Bearer " + token).statusCode()).as("a private update").isEqualTo(200);
    assertThat(post(book + "&private=&retry=10", "Authorization", "Bearer " + token).statusCode()).isEqualTo(200);
    assertThat(post(book, "Authorization", "Basic abc").statusCode()).isEqualTo(400);

    String all = publisherToken(new JsonArray().add("*"));
    assertThat(post(form("topic", "/.well-known/mercure/subscriptions/x", "data", "x"), "Authorization", "Bearer " + all).statusCode())
      .isEqualTo(403);
    HttpResponse<String> json = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure"))
      .header("Content-Type", "application/json").header("Authorization", "Bearer " + all)
      .POST(HttpRequest.BodyPublishers.ofString("{\"topic\":\"x\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(json.statusCode()).isEqualTo(400);
    HttpResponse<String> viaQuery = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + "/.well-known/mercure?access_token=" + all))
      .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(book)).build(),
      HttpResponse.BodyHandlers.ofString());
    assertThat(viaQuery.statusCode()).as(viaQuery.body()).isEqualTo(200);
    HttpResponse<String> viaLegacyQuery = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + "/.well-known/mercure?authorization=" + all))
      .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(book)).build(),
      HttpResponse.BodyHandlers.ofString());
    assertThat(viaLegacyQuery.statusCode()).as("the 0.x authorization parameter").isEqualTo(200);
    assertThat(post(book, "Cookie", "mercureAccessToken=" + all, "Origin", "http://127.0.0.1:" + port).statusCode()).as("the 1.0 cookie name").isEqualTo(200);
    assertThat(post(book, "Cookie", "other=" + all).statusCode()).as("another cookie is no token").isEqualTo(401);
    HttpResponse<String> headerFirst = post(book, "Authorization", "Bearer " + token, "Cookie", "mercureAuthorization=" + all);
    assertThat(post(form("topic", "https://example.com/authors/1", "data", "x"), "Authorization", "Bearer " + token,
      "Cookie", "mercureAuthorization=" + all).statusCode()).as("the header wins over the cookie").isEqualTo(403);
    assertThat(headerFirst.statusCode()).isEqualTo(200);
  }

  @Test
  @DisplayName("a CORS preflight from an allowed origin is answered with credentials allowed; another origin is refused")
  void cors() throws Exception {
    start("memory");
    HttpResponse<String> ok = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure"))
      .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://app.example.com")
      .header("Access-Control-Request-Method", "POST").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(ok.statusCode()).isEqualTo(204);
    assertThat(ok.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://app.example.com");
    assertThat(ok.headers().firstValue("Access-Control-Allow-Credentials")).hasValue("true");
    HttpResponse<String> other = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure"))
      .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://evil.example.com").build(),
      HttpResponse.BodyHandlers.ofString());
    assertThat(other.statusCode()).isEqualTo(403);
    assertThat(other.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
  }

  // ---------------------------------------------------------------- helpers

  HttpResponse<String> post(String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure"))
      .timeout(WAIT).header("Content-Type", "application/x-www-form-urlencoded")
      .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A form body as curl's {@code --data-urlencode} (and {@code URLSearchParams}) writes it. */
  static String form(String... pairs) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      sb.append(sb.length() == 0 ? "" : "&").append(enc(pairs[i])).append('=').append(enc(pairs[i + 1]));
    }
    return sb.toString();
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String publisherToken(JsonArray publish) throws Exception {
    return sign(new JsonObject().put("mercure", new JsonObject().put("publish", publish)), PUBLISHER_SECRET, "JWT");
  }

  static String sign(JsonObject claims, String secret, String typ) throws Exception {
    return Jwt.hs256(claims, secret, typ);
  }


  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
