package io.herald.standalone;

import io.herald.common.EventCodec;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.GatewayVerticle;
import io.herald.notifier.NotifierOptions;
import io.herald.notifier.NotifierVerticle;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static io.herald.standalone.MercurePublishTest.HTTP;
import static io.herald.standalone.MercurePublishTest.WAIT;
import static io.herald.standalone.MercurePublishTest.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hub's OAuth 2.0 Protected Resource Metadata (RFC 9728) at
 * {@code /.well-known/oauth-protected-resource/.well-known/mercure}, and the
 * {@code resource_metadata} every Bearer challenge of the hub carries.
 */
class MercureMetadataTest {

  private Vertx vertx;
  private int port;

  private void start(JsonObject mercure) throws Exception {
    vertx = Vertx.vertx();
    EventCodec.register(vertx);
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions(new JsonObject()))));
    await(vertx.deployVerticle(new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)))));
    GatewayVerticle gateway = new GatewayVerticle(new GatewayOptions(new JsonObject().put("port", 0).put("instances", 1)
      .put("mercureEnabled", true).put("mercurePublisherJwtKey", MercurePublishTest.PUBLISHER_SECRET)
      .put("mercureSubscriberJwtKey", MercurePublishTest.SUBSCRIBER_SECRET).mergeIn(mercure)));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
  }

  @AfterEach
  void stop() throws Exception {
    if (vertx != null) {
      await(vertx.close());
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(WAIT).build(),
      HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @DisplayName("without an audience the resource is the hub's URL as reached; header and query bearer methods, the cookie, revision 8, no authorization server")
  void selfIssued() throws Exception {
    start(new JsonObject());
    HttpResponse<String> r = get("/.well-known/oauth-protected-resource/.well-known/mercure");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject doc = new JsonObject(r.body());
    assertThat(doc.getString("resource")).isEqualTo("http://127.0.0.1:" + port + "/.well-known/mercure");
    assertThat(doc.getJsonArray("bearer_methods_supported").getList()).containsExactly("header", "query");
    assertThat(doc.getBoolean("mercure_cookie")).isTrue();
    assertThat(doc.getInteger("mercure_version")).isEqualTo(8);
    assertThat(doc.containsKey("authorization_servers")).isFalse();
  }

  @Test
  @DisplayName("with gateway.mercureAudience and mercureIssuer: the resource is the audience, the issuer the authorization server; a 401 challenge names the document")
  void configured() throws Exception {
    start(new JsonObject().put("mercureAudience", "https://hub.example.com/.well-known/mercure")
      .put("mercureIssuer", "https://auth.example.com"));
    JsonObject doc = new JsonObject(get("/.well-known/oauth-protected-resource/.well-known/mercure").body());
    assertThat(doc.getString("resource")).isEqualTo("https://hub.example.com/.well-known/mercure");
    assertThat(doc.getJsonArray("authorization_servers").getList()).containsExactly("https://auth.example.com");
    HttpResponse<String> refused = get("/.well-known/mercure?match=x&access_token=not.a.token");
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(refused.headers().firstValue("WWW-Authenticate").orElseThrow())
      .startsWith("Bearer error=\"invalid_token\"")
      .endsWith(", resource_metadata=\"http://127.0.0.1:" + port + "/.well-known/oauth-protected-resource/.well-known/mercure\"");
  }
}
