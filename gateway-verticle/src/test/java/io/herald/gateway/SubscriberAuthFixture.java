package io.herald.gateway;

import io.herald.testsupport.Jwt;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the subscriber auth tests share: jwt gateway config, an HTTP getter that does not hang on a stream, refusal checks, claims and HS256 tokens. */
abstract class SubscriberAuthFixture {

  static final Duration WAIT = Duration.ofSeconds(10);
  static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";
  static final HttpClient JDK_HTTP = HttpClient.newBuilder()
    .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  static JsonObject jwtConfig() {
    return new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET);
  }

  static GatewayHarness harness(Vertx vertx, JsonObject gatewayConfig) throws Exception {
    return new GatewayHarness(vertx, gatewayConfig, new JsonObject());
  }


  static void assertRefused(GatewayHarness h, String uri, String token, int status, String code, String topic) throws Exception {
    Answer resp = token == null ? get(h, uri) : get(h, uri, "Authorization", "Bearer " + token);
    assertThat(resp.statusCode()).as(uri + " " + resp.body()).isEqualTo(status);
    assertThat(resp.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject body = new JsonObject(resp.body());
    assertThat(body.getString("error")).isEqualTo(code);
    assertThat(body.getString("message")).isNotBlank();
    if (status == 401) {
      assertThat(resp.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    }
    if (topic != null) {
      assertThat(body.getString("topic")).isEqualTo(topic);
    }
  }

  /** An answer read to its end, except an event stream that opened by mistake: its body is not read (it never ends). */
  record Answer(int statusCode, java.net.http.HttpHeaders headers, String body) { }

  static Answer get(GatewayHarness h, String uri, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.port() + uri)).timeout(Duration.ofSeconds(10)).GET();
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    HttpResponse<java.io.InputStream> resp = JDK_HTTP.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    try (java.io.InputStream in = resp.body()) {
      boolean stream = resp.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream");
      return new Answer(resp.statusCode(), resp.headers(), stream ? "(an open event stream)" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  static JsonObject claims(String sub, String... topics) {
    return new JsonObject().put("sub", sub).put("topics", new JsonArray(List.of((Object[]) topics)))
      .put("iat", now()).put("exp", now() + 600);
  }

  static String b64(String s) {
    return b64(s.getBytes(StandardCharsets.UTF_8));
  }

  static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static String hs256(JsonObject claims) throws Exception {
    return hs256(claims, SECRET);
  }

  static String hs256(JsonObject claims, String secret) throws Exception {
    return hs256(claims, secret.getBytes(StandardCharsets.UTF_8));
  }

  /** A token signed by hand, so that tests control every byte (including the malicious ones). */
  static String hs256(JsonObject claims, byte[] key) throws Exception {
    return Jwt.hs256(claims, key);
  }
}
