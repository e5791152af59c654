package io.herald.standalone;

import io.herald.testsupport.Jwt;
import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import io.herald.testsupport.SseClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.herald.standalone.MercurePublishTest.PUBLISHER_SECRET;
import static io.herald.standalone.MercurePublishTest.SUBSCRIBER_SECRET;
import static io.herald.standalone.MercurePublishTest.enc;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mercure 1.0 in a real browser against a Herald cluster behind one address: Chromium on the
 * nginx origin (the shipped {@code docker/nginx/herald.conf}, {@link NginxFront}) in front of two
 * gateway processes, a replay and a notifier process. The page subscribes with
 * {@code new EventSource('/.well-known/mercure?match=...&match_urlpattern=...')} and an RFC 9068
 * access token in the {@code mercureAccessToken} cookie, and publishes with {@code fetch} and
 * form bodies, as Mercure's documentation shows. The gateway it streams from is killed with
 * SIGKILL while the browser is offline, updates are published meanwhile, and when the browser is
 * back the {@code EventSource} reconnects by itself, with the {@code Last-Event-ID} header, through
 * nginx to the other gateway: every update it missed arrives once, in order per topic, private
 * ones only where its token grants them, publisher ids as {@code lastEventId}. Token errors are
 * read as a browser sees them.
 */
class MercureClusterBrowserIT {

  private static final Duration STARTUP = Duration.ofSeconds(150);
  private static final String AUD = "https://hub.example.com/.well-known/mercure";

  private final RoleCluster cluster = new RoleCluster(Path.of(".."), Path.of("target", "it-logs"), "mercure-browser",
    List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
  private final String base = "https://example.com/" + UUID.randomUUID();
  private final String book1 = base + "/books/1";
  private final String book2 = base + "/books/2";
  private final String news = base + "/news";
  private NginxFront nginx;
  private DemoBrowserIT.Browser browser;
  private Vertx vertx;
  private boolean offline;

  @AfterEach
  void stopAll() throws Exception {
    if (browser != null) {
      browser.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (nginx != null) {
      nginx.close();
    }
    cluster.close();
  }

  @Test
  @DisplayName("1.0 in Chromium through nginx: match and match_urlpattern with a cookie access token, fetch publishes, kill -9 of the gateway, EventSource resumes by itself on the other one exactly; token errors")
  void browserResumesAcrossGateways() throws Exception {
    DemoBrowserIT.browserInstalled();
    int gw1 = Ports.freePort();
    int gw2 = Ports.freePort();
    cluster.start("replay-verticle/target/herald-replay.jar", "replay", Map.of());
    cluster.start("notifier-verticle/target/herald-notifier.jar", "notifier", Map.of("HERALD_NOTIFIER_PORT", "" + Ports.freePort()));
    // Only gateway 1 at first: nginx finds gateway 2's port closed and sends the stream to gateway 1.
    Process first = cluster.start("gateway-verticle/target/herald-gateway.jar", "gateway1", hub(gw1));
    nginx = NginxFront.start("MercureClusterBrowserIT", gw1, gw2);
    vertx = Vertx.vertx();
    HttpClient http = vertx.createHttpClient();
    awaitServes(http, gw1);
    awaitPublishing();

    String origin = "http://127.0.0.1:" + nginx.port;
    browser = DemoBrowserIT.Browser.start(origin);
    browser.call(new JsonObject().put("cmd", "goto").put("url", origin + "/"));
    browser.eval(PAGE);
    // The subscriber's 1.0 access token, in the cookie the specification names: book 1 and the news, not book 2.
    browser.eval("document.cookie = 'mercureAccessToken=" + subscriberToken(List.of(book1, news)) + "; path=/'; true");
    browser.eval("subscribe(" + new JsonObject().put("q", "match=" + enc(news) + "&match_urlpattern=" + enc(base + "/books/:id"))
      .encode() + ".q)");
    browser.waitFor("window.hub.opened === 1", 30_000);

    String pub = publisherToken();
    publish(pub, book1, "b1 public 1", null, false);
    publish(pub, book1, "b1 private 1", "urn:uuid:" + UUID.randomUUID(), true);
    publish(pub, book2, "b2 private 1", null, true);
    publish(pub, book2, "b2 public 1", null, false);
    String lastBefore = "urn:uuid:" + UUID.randomUUID();
    publish(pub, news, "news 1", lastBefore, false);
    browser.waitFor("window.hub.received.length >= 4 && window.hub.received.some(e => e.data === 'news 1')"
      + " && window.hub.received.some(e => e.data === 'b2 public 1') && window.hub.received.some(e => e.data === 'b1 private 1')", 30_000);

    // Gateway 2 joins; the browser goes offline; gateway 1 dies; updates are published through nginx meanwhile.
    cluster.start("gateway-verticle/target/herald-gateway.jar", "gateway2", hub(gw2));
    awaitServes(http, gw2);
    browser.call(new JsonObject().put("cmd", "offline").put("value", true));
    offline = true;
    cluster.kill(first);
    publishUntilAccepted(pub, book2, "b2 private 2", true);
    publish(pub, book1, "b1 public 2", "urn:uuid:" + UUID.randomUUID(), false);
    publish(pub, book1, "b1 private 2", null, true);
    publish(pub, news, "news 2", null, false);
    publish(pub, book2, "b2 public 2", null, false);
    browser.call(new JsonObject().put("cmd", "offline").put("value", false));
    offline = false;
    browser.waitFor("window.hub.received.some(e => e.data === 'b2 public 2') && window.hub.received.some(e => e.data === 'news 2')"
      + " && window.hub.received.some(e => e.data === 'b1 private 2')", 60_000);

    // Live again, on gateway 2.
    publish(pub, news, "news 3", null, false);
    browser.waitFor("window.hub.received.some(e => e.data === 'news 3')", 30_000);
    JsonArray received = new JsonArray((String) browser.eval("JSON.stringify(window.hub.received)"));
    assertThat(perTopic(received, "b1 ")).containsExactly("b1 public 1", "b1 private 1", "b1 public 2", "b1 private 2");
    assertThat(perTopic(received, "b2 ")).as("book 2's private updates never: the token does not grant it")
      .containsExactly("b2 public 1", "b2 public 2");
    assertThat(perTopic(received, "news ")).containsExactly("news 1", "news 2", "news 3");
    assertThat(received.size()).as("each once: " + received.encode()).isEqualTo(9);
    assertThat(lastEventId(received, "news 1")).as("a publisher's id is the event's lastEventId").isEqualTo(lastBefore);
    assertThat(lastEventId(received, "b1 public 1")).as("else an IRI the hub made").startsWith("#");
    assertThat((Integer) browser.eval("window.hub.opened")).as("the EventSource reopened by itself").isGreaterThanOrEqualTo(2);

    // Token errors, as a browser sees them.
    JsonObject forged = new JsonObject((String) browser.eval("publish(" + new JsonObject()
      .put("topic", news).put("data", "x").encode() + ", 'not.a.token')"));
    assertThat(forged.getInteger("status")).isEqualTo(401);
    assertThat(forged.getString("auth")).startsWith("Bearer error=\"invalid_token\"");
    JsonObject narrow = new JsonObject((String) browser.eval("publish(" + new JsonObject()
      .put("topic", base + "/elsewhere").put("data", "x").encode() + ", '" + publisherToken(news) + "')"));
    assertThat(narrow.getInteger("status")).isEqualTo(403);
    assertThat(narrow.getString("auth")).startsWith("Bearer error=\"insufficient_scope\"");
    browser.eval("document.cookie = 'mercureAccessToken=not.a.token; path=/'; subscribe('match=' + encodeURIComponent('" + news
      + "'), 'refused'); true");
    browser.waitFor("window.hub.refused === 2", 30_000); // EventSource.CLOSED: a 401 is not retried
    cluster.assertAlive();
  }

  /** The data of the received events whose data starts with {@code prefix}, in arrival order. */
  private static List<String> perTopic(JsonArray received, String prefix) {
    return received.stream().map(o -> ((JsonObject) o).getString("data")).filter(d -> d.startsWith(prefix)).toList();
  }

  private static String lastEventId(JsonArray received, String data) {
    return received.stream().map(o -> (JsonObject) o).filter(e -> data.equals(e.getString("data"))).findFirst()
      .orElseThrow().getString("id");
  }

  private static Map<String, String> hub(int port) {
    return Map.of("HERALD_GATEWAY_PORT", "" + port, "HERALD_GATEWAY_MERCURE_ENABLED", "true",
      "HERALD_GATEWAY_MERCURE_PUBLISHER_JWT_KEY", PUBLISHER_SECRET,
      "HERALD_GATEWAY_MERCURE_SUBSCRIBER_JWT_KEY", SUBSCRIBER_SECRET,
      "HERALD_GATEWAY_MERCURE_AUDIENCE", AUD,
      "HERALD_GATEWAY_TRUSTED_PROXIES", "127.0.0.1");
  }

  private static String subscriberToken(List<String> topics) throws Exception {
    return accessToken(SUBSCRIBER_SECRET, "subscribe", topics);
  }

  private static String publisherToken(String... topics) throws Exception {
    return accessToken(PUBLISHER_SECRET, "publish", topics.length == 0 ? List.of("*") : List.of(topics));
  }

  /** An RFC 9068 access token with one mercure authorization detail. */
  private static String accessToken(String secret, String action, List<String> topics) throws Exception {
    JsonArray matchers = new JsonArray();
    topics.forEach(t -> matchers.add(new JsonObject().put("match", t)));
    return Jwt.hs256(new JsonObject().put("aud", AUD).put("exp", System.currentTimeMillis() / 1000 + 3600).put("sub", "reader")
      .put("authorization_details", new JsonArray().add(new JsonObject().put("type", "mercure")
        .put("actions", new JsonArray().add(action)).put("topics", matchers))), secret, "at+jwt");
  }

  /** Publishes from the page with fetch, as Mercure's documentation shows (from this JVM while the browser is offline). */
  private void publish(String token, String topic, String data, String id, boolean isPrivate) throws Exception {
    JsonObject fields = new JsonObject().put("topic", topic).put("data", data);
    if (id != null) {
      fields.put("id", id);
    }
    if (isPrivate) {
      fields.put("private", "on");
    }
    browserOrJava(token, fields);
  }

  private void browserOrJava(String token, JsonObject fields) throws Exception {
    JsonObject r = offline ? javaPublish(token, fields)
      : new JsonObject((String) browser.eval("publish(" + fields.encode() + ", '" + token + "')"));
    assertThat(r.getInteger("status")).as("publish %s: %s", fields.encode(), r.encode()).isEqualTo(200);
    if (fields.containsKey("id")) {
      assertThat(r.getString("body")).isEqualTo(fields.getString("id"));
    }
  }

  /**
   * A form POST through nginx. While the browser is offline its fetch cannot reach nginx, so the
   * updates are published the way a backend does, from this JVM; before and after, the page's own
   * fetch is used for the token errors.
   */
  private JsonObject javaPublish(String token, JsonObject fields) throws Exception {
    StringBuilder form = new StringBuilder();
    for (Map.Entry<String, Object> f : fields) {
      form.append(form.length() == 0 ? "" : "&").append(enc(f.getKey())).append('=').append(enc(String.valueOf(f.getValue())));
    }
    HttpResponse<String> r = MercurePublishTest.HTTP.send(HttpRequest.newBuilder(nginx.uri("/.well-known/mercure"))
      .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/x-www-form-urlencoded")
      .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(form.toString())).build(),
      HttpResponse.BodyHandlers.ofString());
    return new JsonObject().put("status", r.statusCode()).put("body", r.body());
  }

  /** The first publish after the kill: nginx may still try the dead gateway once (a 502), then it is marked down. */
  private void publishUntilAccepted(String token, String topic, String data, boolean isPrivate) throws Exception {
    JsonObject fields = new JsonObject().put("topic", topic).put("data", data);
    if (isPrivate) {
      fields.put("private", "on");
    }
    cluster.retryUntilDone("the first publish after the kill", Duration.ofSeconds(30), () -> {
      JsonObject r = javaPublish(token, fields);
      if (r.getInteger("status") == 200) {
        return null;
      }
      assertThat(r.getInteger("status")).as("only a gateway error may refuse it: " + r.encode()).isIn(502, 503, 504);
      return r.encode();
    });
  }

  /** Waits until the gateway on {@code port} serves a Mercure stream itself (503 until the replay role is in reach). */
  private void awaitServes(HttpClient http, int port) throws Exception {
    cluster.openWhenServed(http, port, "/.well-known/mercure?match=" + enc(base + "/probe"), STARTUP,
      "Authorization", "Bearer " + subscriberToken(List.of(base + "/probe"))).close();
  }

  /** Publishes through nginx until the hub answers 200 (503 while the cluster forms). */
  private void awaitPublishing() throws Exception {
    String token = publisherToken();
    cluster.retryUntilDone("publishing through nginx", STARTUP, () -> {
      JsonObject r = javaPublish(token, new JsonObject().put("topic", base + "/warm-up").put("data", "w"));
      return r.getInteger("status") == 200 ? null : r.encode();
    });
  }

  /** The page's functions: Mercure's documented subscribe and publish snippets, wrapped. */
  private static final String PAGE = """
    window.hub = {received: [], opened: 0, refused: -1};
    window.subscribe = (query, name) => {
      const es = new EventSource('/.well-known/mercure?' + query, {withCredentials: true});
      if (name) {
        es.onerror = () => { window.hub[name] = es.readyState; };
        return true;
      }
      es.onopen = () => { window.hub.opened++; };
      es.onmessage = e => window.hub.received.push({id: e.lastEventId, data: e.data});
      window.es = es;
      return true;
    };
    window.publish = async (fields, token) => {
      const r = await fetch('/.well-known/mercure', {method: 'POST', headers: {Authorization: 'Bearer ' + token},
        body: new URLSearchParams(fields)});
      return JSON.stringify({status: r.status, body: await r.text(), auth: r.headers.get('WWW-Authenticate')});
    };
    true
    """;
}
