package io.herald.standalone;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the Mercure project's own conformance run checks, against the real jar configured exactly as
 * docs/mercure.md ("Running the Mercure conformance suite") says: a page on the hub's own origin
 * ({@code GET /}) opens an anonymous {@code EventSource} on {@code /.well-known/mercure?topic=...},
 * then {@code fetch}-publishes a form ({@code topic} once or several times, {@code id}, a
 * multi-line {@code data}, {@code private=on}) with the HS256 token of the official hub's default
 * key. The update must arrive with {@code lastEventId} equal to the publisher's {@code id} and
 * {@code data} unchanged, and the publish answers {@code 200 text/plain} with that id; a private
 * update, or one whose topics the selectors do not match, must not arrive.
 *
 * <p>Written from the suite's published scenarios, not copied. Where the suite waits two seconds to
 * call an update "not received", this test publishes a marker the subscriber does match after it
 * and asserts once the marker arrived: a late delivery fails it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MercureConformanceIT {

  /** The official hub's default key, as in docs/mercure.md. */
  static final String KEY = "!ChangeThisMercureHubJWTSecretKey!";
  /** {"mercure":{"publish":["*"],"subscribe":["*"]}} signed with {@link #KEY}, no exp: the token the suite sends. */
  static final String TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJtZXJjdXJlIjp7InB1Ymxpc2giOlsiKiJdLCJzdWJzY3JpYmUiOlsiKiJdfX0"
    + ".bVXdlWXwfw9ySx7-iV5OpUSHo34RkjUdVzDLBcc6l_g";

  private HeraldProcess herald;
  private DemoBrowserIT.Browser browser;

  @BeforeAll
  void start() throws Exception {
    DemoBrowserIT.browserInstalled();
    herald = HeraldProcess.start("MercureConformanceIT", Map.of(
      "HERALD_GATEWAY_MERCURE_ENABLED", "true",
      "HERALD_GATEWAY_MERCURE_PUBLISHER_JWT_KEY", KEY,
      "HERALD_GATEWAY_MERCURE_SUBSCRIBER_JWT_KEY", KEY,
      "HERALD_GATEWAY_MERCURE_ANONYMOUS", "true",
      "HERALD_GATEWAY_MERCURE_CORS_ORIGINS", "*"));
    String origin = "http://127.0.0.1:" + herald.gatewayPort;
    browser = DemoBrowserIT.Browser.start(origin);
    browser.call(new JsonObject().put("cmd", "goto").put("url", origin + "/"));
    browser.eval(HELPERS);
  }

  @AfterAll
  void stop() throws Exception {
    if (browser != null) {
      browser.close();
    }
    if (herald != null) {
      herald.destroy();
    }
  }

  private static String random() {
    return UUID.randomUUID().toString().replace("-", "");
  }

  @Test
  @DisplayName("raw string topic: received with the publisher's id as lastEventId and the data unchanged; the publish answers 200 text/plain with that id")
  void rawString() throws Exception {
    String t = random();
    received(List.of(t), List.of(t));
  }

  @Test
  @DisplayName("several topic fields: a subscriber of the alternate topic receives the update, once")
  void multipleTopics() throws Exception {
    String t = random();
    received(List.of(random(), t), List.of(t));
  }

  @Test
  @DisplayName("several topic fields, subscribed to both: the update arrives once")
  void multipleTopicsBothSubscribed() throws Exception {
    String a = random();
    String b = "https://example.net/foo/" + random();
    received(List.of(a, b), List.of(a, b));
  }

  @Test
  @DisplayName("several topic selectors: the one that matches delivers")
  void multipleSelectors() throws Exception {
    String t = random();
    received(List.of(t), List.of("foo", t));
  }

  @Test
  @DisplayName("URI topic, exact selector")
  void uri() throws Exception {
    String t = "https://example.net/foo/" + random();
    received(List.of(t), List.of(t));
  }

  @Test
  @DisplayName("URI topic, URI template selector")
  void uriTemplate() throws Exception {
    received(List.of("https://example.net/foo/" + random()), List.of("https://example.net/foo/{random}"));
  }

  @Test
  @DisplayName("non-matching raw string, URI and URI template: not received")
  void nonMatching() throws Exception {
    notReceived(List.of("will-not-match-" + random()), List.of("another-name-" + random()), false);
    notReceived(List.of("https://example.net/foo/will-not-match-" + random()), List.of("https://example.net/foo/another-name-" + random()), false);
    notReceived(List.of("https://example.net/foo/will-not-match-" + random()), List.of("https://example.net/bar/{var}"), false);
  }

  @Test
  @DisplayName("private raw string, URI and URI template: an anonymous subscriber does not receive them")
  void privateUpdates() throws Exception {
    String t = random();
    notReceived(List.of(t), List.of(t), true);
    String u = "https://example.net/foo/" + random();
    notReceived(List.of(u), List.of(u), true);
    notReceived(List.of("https://example.net/foo/" + random()), List.of("https://example.net/foo/{random}"), true);
  }

  /** Subscribes with {@code selectors}, publishes to {@code topics}, asserts the update arrived as the suite expects. */
  private void received(List<String> topics, List<String> selectors) throws Exception {
    String id = "id-" + new JsonArray(topics).encode();
    String data = "data for\n\n        " + id;
    JsonObject r = new JsonObject(String.valueOf(browser.eval("conformance(" + new JsonObject()
      .put("topics", new JsonArray(topics)).put("selectors", new JsonArray(selectors))
      .put("id", id).put("data", data).put("marker", (String) null).encode() + ")")));
    assertThat(r.getInteger("status")).as(r.encode()).isEqualTo(200);
    assertThat(r.getString("contentType")).matches("^text/plain(?:$|;.*)");
    assertThat(r.getString("body")).isEqualTo(id);
    JsonArray got = r.getJsonArray("received");
    assertThat(got.size()).as("the update, once, then the end marker: " + got.encode()).isEqualTo(2);
    assertThat(got.getJsonObject(0).getString("lastEventId")).isEqualTo(id);
    assertThat(got.getJsonObject(0).getString("data")).isEqualTo(data);
    assertThat(got.getJsonObject(0).getString("type")).isEqualTo("message");
  }

  /** As {@link #received} for an update that must not arrive: a marker on a matching topic proves it did not. */
  private void notReceived(List<String> topics, List<String> selectors, boolean isPrivate) throws Exception {
    String marker = "marker-" + random();
    List<String> withMarker = new java.util.ArrayList<>(selectors);
    withMarker.add(marker);
    String id = "id-" + new JsonArray(topics).encode() + (isPrivate ? "-private" : "");
    JsonObject r = new JsonObject(String.valueOf(browser.eval("conformance(" + new JsonObject()
      .put("topics", new JsonArray(topics)).put("selectors", new JsonArray(withMarker))
      .put("id", id).put("data", "data for " + id).put("private", isPrivate).put("marker", marker).encode() + ")")));
    assertThat(r.getInteger("status")).as(r.encode()).isEqualTo(200);
    JsonArray got = r.getJsonArray("received");
    assertThat(got.getList()).as("nothing before the marker").isEmpty();
  }

  /**
   * In the page: open the EventSource, wait for open, publish the update (and the marker, or an end
   * marker on a fresh topic that the subscription also holds), collect every message until the
   * marker arrives, close.
   */
  private static final String HELPERS = """
    window.conformance = async (d) => {
      const end = d.marker || ('end-' + Math.random().toString(16).slice(2));
      const url = new URL('/.well-known/mercure', window.origin);
      d.selectors.forEach(s => url.searchParams.append('topic', s));
      url.searchParams.append('topic', end);
      const received = [];
      const es = new EventSource(url);
      let markerSeen;
      const done = new Promise(resolve => markerSeen = resolve);
      es.onmessage = e => {
        if (e.data === 'marker') { markerSeen(); return; }
        received.push({type: e.type, lastEventId: e.lastEventId, data: e.data});
      };
      await new Promise((resolve, reject) => { es.onopen = resolve; setTimeout(() => reject(new Error('no open')), 15000); });
      const body = new URLSearchParams();
      d.topics.forEach(t => body.append('topic', t));
      body.set('id', d.id);
      body.set('data', d.data);
      if (d.private) body.set('private', 'on');
      const auth = {Authorization: 'Bearer %s'};
      const resp = await fetch('/.well-known/mercure', {method: 'POST', headers: auth, body});
      const text = await resp.text();
      const marker = new URLSearchParams({topic: end, data: 'marker'});
      await fetch('/.well-known/mercure', {method: 'POST', headers: auth, body: marker});
      await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('no marker')), 15000))]);
      es.close();
      if (!d.marker) received.push({type: 'end'});
      return JSON.stringify({status: resp.status, contentType: resp.headers.get('Content-Type'), body: text, received});
    };
    true
    """.formatted(TOKEN);
}
