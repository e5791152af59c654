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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;

import static io.herald.standalone.MercurePublishTest.HTTP;
import static io.herald.standalone.MercurePublishTest.WAIT;
import static io.herald.standalone.MercurePublishTest.await;
import static io.herald.standalone.MercurePublishTest.enc;
import static io.herald.standalone.MercurePublishTest.form;
import static io.herald.standalone.MercurePublishTest.publisherToken;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cross-site request forgery on the Mercure publish side: a publish authenticated by the cookie
 * is accepted from the hub's own origin and from {@code gateway.mercurePublishOrigins} only, and
 * refused without an {@code Origin} or {@code Referer}; a refused publish stores nothing (a later
 * marker is the first thing the subscriber gets). A publish with an {@code Authorization} header
 * is not concerned.
 */
class MercureCsrfTest {

  private static Vertx vertx;
  private static int port;
  private static String token;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    EventCodec.register(vertx);
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions(new JsonObject()))));
    await(vertx.deployVerticle(new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)))));
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1)
      .put("mercureEnabled", true).put("mercurePublisherJwtKey", MercurePublishTest.PUBLISHER_SECRET)
      .put("mercureAnonymous", true).put("mercurePublishOrigins", "https://admin.example.com")));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
    token = publisherToken(new JsonArray().add("*"));
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  private HttpResponse<String> post(String topic, String data, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/.well-known/mercure"))
      .timeout(WAIT).header("Content-Type", "application/x-www-form-urlencoded")
      .POST(HttpRequest.BodyPublishers.ofString(form("topic", topic, "data", data)));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String cookie() {
    return "mercureAuthorization=" + token;
  }

  @Test
  @DisplayName("a cookie publish from a foreign origin, or with neither Origin nor Referer, is refused with 403 and stores nothing")
  void foreignOrNoOriginRefused() throws Exception {
    String topic = "https://example.com/csrf/" + UUID.randomUUID();
    SseClient live = SseClient.open(vertx.createHttpClient(), port, "/.well-known/mercure?topic=" + enc(topic));
    HttpResponse<String> foreign = post(topic, "forged", "Cookie", cookie(), "Origin", "https://evil.example.net");
    assertThat(foreign.statusCode()).as(foreign.body()).isEqualTo(403);
    assertThat(foreign.body()).contains("https://evil.example.net").contains("gateway.mercurePublishOrigins");
    HttpResponse<String> foreignReferer = post(topic, "forged", "Cookie", cookie(), "Referer", "https://evil.example.net/page");
    assertThat(foreignReferer.statusCode()).as(foreignReferer.body()).isEqualTo(403);
    HttpResponse<String> none = post(topic, "forged", "Cookie", cookie());
    assertThat(none.statusCode()).as(none.body()).isEqualTo(403);
    assertThat(none.body()).contains("Origin or Referer");
    HttpResponse<String> otherPort = post(topic, "forged", "Cookie", cookie(), "Origin", "http://127.0.0.1:" + (port == 1 ? 2 : port - 1));
    assertThat(otherPort.statusCode()).as("same host, another port: another origin").isEqualTo(403);

    HttpResponse<String> marker = post(topic, "marker", "Authorization", "Bearer " + token);
    assertThat(marker.statusCode()).isEqualTo(200);
    List<SseEvent> got = live.awaitAppEvents(1, WAIT);
    live.close();
    assertThat(got).extracting(SseEvent::data).containsExactly("marker");
  }

  @Test
  @DisplayName("a cookie publish from the hub's own origin, its Referer, or an origin of gateway.mercurePublishOrigins is accepted")
  void ownAndListedOriginsAccepted() throws Exception {
    String topic = "https://example.com/csrf/" + UUID.randomUUID();
    SseClient live = SseClient.open(vertx.createHttpClient(), port, "/.well-known/mercure?topic=" + enc(topic));
    assertThat(post(topic, "own", "Cookie", cookie(), "Origin", "http://127.0.0.1:" + port).statusCode()).isEqualTo(200);
    assertThat(post(topic, "referer", "Cookie", cookie(), "Referer", "http://127.0.0.1:" + port + "/admin?x=1").statusCode())
      .isEqualTo(200);
    assertThat(post(topic, "listed", "Cookie", cookie(), "Origin", "https://admin.example.com").statusCode()).isEqualTo(200);
    assertThat(post(topic, "header", "Authorization", "Bearer " + token, "Origin", "https://evil.example.net").statusCode())
      .as("a token in the Authorization header cannot be forged by a foreign page").isEqualTo(200);
    List<SseEvent> got = live.awaitAppEvents(4, WAIT);
    live.close();
    assertThat(got).extracting(SseEvent::data).containsExactly("own", "referer", "listed", "header");
  }
}
