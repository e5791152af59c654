package io.herald.standalone;

import io.herald.common.EventCodec;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.GatewayVerticle;
import io.herald.notifier.NotifierOptions;
import io.herald.notifier.NotifierVerticle;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
 * Mercure's active subscriptions on a real all-in-one node over real HTTP: subscription events
 * (live, {@code active} true then false, only to subscribers whose token grants them), the
 * subscription API (JSON-LD, per matcher and per subscriber, {@code lastEventID} to resume the
 * events from, 404, token errors) and the feature being off by default.
 */
class MercureSubscriptionsTest {

  static final String EVENTS = "/.well-known/mercure/subscriptions/:type/:match/:subscriber";

  private Vertx vertx;
  private HttpClient client;
  private final List<SseClient> streams = new ArrayList<>();
  private int port;
  private final String base = "https://example.com/" + UUID.randomUUID();

  void start(boolean subscriptions) throws Exception {
    vertx = Vertx.vertx();
    EventCodec.register(vertx);
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions(new JsonObject().put("store", "memory")))));
    await(vertx.deployVerticle(new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)))));
    JsonObject gateway = new JsonObject().put("port", 0).put("instances", 1)
      .put("mercureEnabled", true).put("mercurePublisherJwtKey", PUBLISHER_SECRET)
      .put("mercureSubscriberJwtKey", SUBSCRIBER_SECRET).put("mercureAudience", MercureSubscribeTest.AUD)
      .put("mercureCorsOrigins", "https://app.example.com");
    if (subscriptions) {
      gateway.put("mercureSubscriptions", true);
    }
    GatewayVerticle verticle = new GatewayVerticle(new GatewayOptions(gateway));
    await(vertx.deployVerticle(verticle));
    port = verticle.actualPort();
    client = vertx.createHttpClient(new io.vertx.core.http.PoolOptions().setHttp1MaxSize(16));
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
  @DisplayName("a subscriber authorized for the subscriptions topics gets each subscription's event, active then inactive; one without the right gets none")
  void events() throws Exception {
    start(true);
    String topic = base + "/doc/1";
    String marker = base + "/marker";
    SseClient watcher = subscribe("match_urlpattern=" + enc(EVENTS) + "&match=" + enc(marker), token(urlPattern(EVENTS)));
    SseClient nosy = subscribe("match_urlpattern=" + enc(EVENTS) + "&match=" + enc(marker), token(new JsonArray().add(base + "/other")));

    SseClient alice = subscribe("match=" + enc(topic), accessToken(topic, new JsonObject().put("name", "alice")));
    JsonObject on = awaitDoc(watcher, topic, true);
    String subscriber = on.getString("subscriber");
    assertThat(subscriber).startsWith("urn:uuid:");
    String id = "/.well-known/mercure/subscriptions/Exact/" + pct(topic) + "/" + pct(subscriber);
    assertThat(on).isEqualTo(new JsonObject().put("@context", "https://mercure.rocks/").put("id", id).put("type", "Subscription")
      .put("matchType", "Exact").put("match", topic).put("subscriber", subscriber).put("active", true)
      .put("payload", new JsonObject().put("name", "alice")));
    SseEvent event = watcher.appEvents().stream().filter(e -> e.data().contains("\"active\":true") && e.data().contains(pct(topic)))
      .findFirst().orElseThrow();
    assertThat(event.type()).isEqualTo("message");

    alice.close();
    JsonObject off = awaitDoc(watcher, topic, false);
    assertThat(off.copy().put("active", true)).isEqualTo(on);

    publish(marker, "marker");
    watcher.await(ev -> ev.stream().anyMatch(e -> "marker".equals(e.data())), WAIT);
    nosy.await(ev -> ev.stream().anyMatch(e -> "marker".equals(e.data())), WAIT);
    assertThat(nosy.appEvents()).extracting(SseEvent::data).containsExactly("marker");
  }

  @Test
  @DisplayName("the API lists the active subscriptions as JSON-LD, per matcher and per subscriber, with a lastEventID the events resume from")
  void api() throws Exception {
    start(true);
    String topic = base + "/doc/2";
    String pattern = base + "/books/:id";
    String all = token(new JsonArray().add("*"));
    HttpResponse<String> empty = get("", all);
    assertThat(empty.statusCode()).isEqualTo(200);
    assertThat(empty.headers().firstValue("Content-Type")).hasValue("application/ld+json");
    assertThat(new JsonObject(empty.body())).isEqualTo(new JsonObject().put("@context", "https://mercure.rocks/")
      .put("id", "/.well-known/mercure/subscriptions").put("type", "Subscriptions").put("lastEventID", "earliest")
      .put("subscriptions", new JsonArray()));

    // A watcher of the events: once it got both, they are in the store, and the list's lastEventID is past them.
    SseClient watcher = subscribe("match_urlpattern=" + enc(EVENTS), all);
    subscribe("match=" + enc(topic) + "&match_urlpattern=" + enc(pattern) + "&match=" + enc(topic),
      accessToken("*", new JsonObject().put("name", "bob")));
    awaitDoc(watcher, topic, true);
    awaitDoc(watcher, pattern, true);
    watcher.close();
    JsonObject list = awaitList("", all, 2);
    assertThat(list.getString("lastEventID")).isNotEqualTo("earliest");
    JsonArray subscriptions = list.getJsonArray("subscriptions");
    String subscriber = subscriptions.getJsonObject(0).getString("subscriber");
    JsonObject exact = doc("Exact", topic, subscriber, "bob");
    JsonObject byPattern = doc("URLPattern", pattern, subscriber, "bob");
    assertThat(subscriptions).containsExactlyInAnyOrder(exact, byPattern);

    String perTopic = "/Exact/" + pct(topic);
    JsonObject one = new JsonObject(get(perTopic, all).body());
    assertThat(one.getString("id")).isEqualTo("/.well-known/mercure/subscriptions" + perTopic);
    assertThat(one.getJsonArray("subscriptions")).containsExactly(exact);
    assertThat(new JsonObject(get("/URLPattern/" + pct(base + "/none"), all).body()).getJsonArray("subscriptions")).isEmpty();

    HttpResponse<String> single = get(perTopic + "/" + pct(subscriber), all);
    assertThat(single.statusCode()).isEqualTo(200);
    JsonObject singleDoc = new JsonObject(single.body());
    assertThat(singleDoc.getString("lastEventID")).isNotEqualTo("earliest");
    singleDoc.remove("lastEventID");
    assertThat(singleDoc).isEqualTo(new JsonObject().put("@context", "https://mercure.rocks/").mergeIn(exact));
    assertThat(get(perTopic + "/" + pct("urn:uuid:" + UUID.randomUUID()), all).statusCode()).isEqualTo(404);
    assertThat(get("/Regex/" + pct(topic), all).statusCode()).isEqualTo(404);

    // The lastEventID of the API resumes a subscription to the events: what happened since arrives.
    String last = new JsonObject(get("", all).body()).getString("lastEventID");
    String later = base + "/doc/3";
    subscribe("match=" + enc(later), accessToken(later, null));
    awaitList("", all, 3);
    SseClient resumed = subscribe("match_urlpattern=" + enc(EVENTS) + "&lastEventID=" + enc(last), all);
    JsonObject replayed = awaitDoc(resumed, later, true);
    assertThat(replayed.getString("match")).isEqualTo(later);
    assertThat(resumed.appEvents()).noneMatch(e -> e.data().contains(pct(topic)));
  }

  @Test
  @DisplayName("the API needs a token granting subscribe on the requested URL: 401 without one, 401 invalid_token, 403 insufficient_scope")
  void apiAuthorization() throws Exception {
    start(true);
    String topic = base + "/doc/4";
    String perTopic = "/Exact/" + pct(topic);
    HttpResponse<String> none = get(perTopic, null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate").orElseThrow()).as("no error code")
      .startsWith("Bearer resource_metadata=").doesNotContain("error=");
    HttpResponse<String> bad = get(perTopic, sign(new JsonObject().put("mercure", new JsonObject()), PUBLISHER_SECRET, "JWT"));
    assertThat(bad.statusCode()).isEqualTo(401);
    assertThat(bad.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("error=\"invalid_token\"");
    String narrow = token(urlPattern("/.well-known/mercure/subscriptions/Exact/" + pct(topic) + "{/:subscriber}?"));
    HttpResponse<String> forbidden = get("", narrow);
    assertThat(forbidden.statusCode()).isEqualTo(403);
    assertThat(forbidden.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("error=\"insufficient_scope\"");
    assertThat(get("/Exact/" + pct(base + "/other"), narrow).statusCode()).isEqualTo(403);
    assertThat(get(perTopic, narrow).statusCode()).isEqualTo(200);
    assertThat(get(perTopic + "/" + pct("urn:uuid:x"), narrow).statusCode()).isEqualTo(404);
    // Browsers of gateway.mercureCorsOrigins may call it, with the Authorization header.
    URI uri = URI.create("http://127.0.0.1:" + port + "/.well-known/mercure/subscriptions" + perTopic);
    HttpResponse<String> preflight = HTTP.send(HttpRequest.newBuilder(uri).timeout(WAIT).method("OPTIONS", HttpRequest.BodyPublishers.noBody())
      .header("Origin", "https://app.example.com").header("Access-Control-Request-Method", "GET")
      .header("Access-Control-Request-Headers", "authorization").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(preflight.statusCode()).isEqualTo(204);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers").orElseThrow()).contains("Authorization");
    HttpResponse<String> cors = HTTP.send(HttpRequest.newBuilder(uri).timeout(WAIT).GET().header("Origin", "https://app.example.com")
      .header("Authorization", "Bearer " + narrow).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(cors.statusCode()).isEqualTo(200);
    assertThat(cors.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://app.example.com");
  }

  @Test
  @DisplayName("off by default: the API answers 404 and no subscription event is published")
  void offByDefault() throws Exception {
    start(false);
    String marker = base + "/marker";
    HttpResponse<String> api = get("", token(new JsonArray().add("*")));
    assertThat(api.statusCode()).isEqualTo(404);
    SseClient watcher = subscribe("match_urlpattern=" + enc(EVENTS) + "&match=" + enc(marker), token(new JsonArray().add("*")));
    SseClient alice = subscribe("match=" + enc(base + "/doc/5"), token(new JsonArray().add("*")));
    alice.close();
    publish(marker, "marker");
    watcher.await(ev -> ev.stream().anyMatch(e -> "marker".equals(e.data())), WAIT);
    assertThat(watcher.appEvents()).extracting(SseEvent::data).containsExactly("marker");
  }

  /** A subscription document as the API lists it (no context). */
  private static JsonObject doc(String type, String match, String subscriber, String name) {
    return new JsonObject().put("id", "/.well-known/mercure/subscriptions/" + type + "/" + pct(match) + "/" + pct(subscriber))
      .put("type", "Subscription").put("matchType", type).put("match", match).put("subscriber", subscriber).put("active", true)
      .put("payload", new JsonObject().put("name", name));
  }

  /** The data of the first subscription event about {@code match} with {@code active}. */
  private static JsonObject awaitDoc(SseClient s, String match, boolean active) throws Exception {
    List<SseEvent> events = s.await(ev -> ev.stream().anyMatch(e -> about(e, match, active)), WAIT);
    return new JsonObject(events.stream().filter(e -> about(e, match, active)).findFirst().orElseThrow().data());
  }

  private static boolean about(SseEvent e, String match, boolean active) {
    if (!e.data().startsWith("{")) {
      return false;
    }
    JsonObject d = new JsonObject(e.data());
    return match.equals(d.getString("match")) && d.getBoolean("active") == active;
  }

  private JsonObject awaitList(String path, String token, int size) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    JsonObject last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = get(path, token);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      last = new JsonObject(r.body());
      if (last.getJsonArray("subscriptions").size() == size) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("never " + size + " subscriptions: " + last);
  }

  /** RFC 3986 percent-encoding of everything but the unreserved characters (RFC 6570 simple expansion). */
  static String pct(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("*", "%2A").replace("%7E", "~");
  }

  private static JsonArray urlPattern(String pattern) {
    return new JsonArray().add(new JsonObject().put("match", pattern).put("match_type", "urlpattern"));
  }

  private static String token(JsonArray subscribe) throws Exception {
    return sign(new JsonObject().put("mercure", new JsonObject().put("subscribe", subscribe)), SUBSCRIBER_SECRET, "JWT");
  }

  /** A 1.0 access token granting subscribe on {@code match} (exact, or * for everything), with a payload. */
  private static String accessToken(String match, JsonObject payload) throws Exception {
    JsonObject detail = new JsonObject().put("type", "mercure").put("actions", new JsonArray().add("subscribe"))
      .put("topics", new JsonArray().add(new JsonObject().put("match", match)));
    if (payload != null) {
      detail.put("payload", payload);
    }
    return sign(new JsonObject().put("aud", MercureSubscribeTest.AUD).put("exp", System.currentTimeMillis() / 1000 + 600)
      .put("authorization_details", new JsonArray().add(detail)), SUBSCRIBER_SECRET, "at+jwt");
  }

  private SseClient subscribe(String query, String token) throws Exception {
    SseClient s = SseClient.open(client, port, "/.well-known/mercure?" + query, "Authorization", "Bearer " + token);
    streams.add(s);
    return s;
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure/subscriptions" + path))
      .timeout(WAIT).GET();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private void publish(String topic, String data) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure"))
      .timeout(WAIT).header("Content-Type", "application/x-www-form-urlencoded")
      .header("Authorization", "Bearer " + MercurePublishTest.publisherToken(new JsonArray().add("*")))
      .POST(HttpRequest.BodyPublishers.ofString(form("topic", topic, "data", data))).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }
}
