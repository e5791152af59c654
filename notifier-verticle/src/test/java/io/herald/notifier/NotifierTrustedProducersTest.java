package io.herald.notifier;

import io.herald.common.AddressAllowlist;
import io.herald.common.config.ConfigException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The notifier's trusted-producer allowlist over real HTTP on loopback: refused before
 * authentication, allowed ranges, forwarded addresses behind trusted proxies, bad entries and
 * the matching rules.
 */
class NotifierTrustedProducersTest extends NotifierLimitsFixture {

  @Test
  @DisplayName("trustedProducers: 127.0.0.1 outside [10.0.0.0/8] gets 403 access_denied before authentication or the body")
  void untrustedAddressRefused(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("trustedProducers", List.of("10.0.0.0/8", "fd00::/8")));
    Reply r = publish(n, KEY, "tp");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.body().getString("error")).isEqualTo("access_denied");
    Reply noKey = post(n, "/publish", null, "{\"topic\":\"tp\",\"data\":1}");
    assertThat(noKey.status()).as("refused before authentication (not 401)").isEqualTo(403);
    Reply hook = post(n, "/webhook/anything", null, "{}");
    assertThat(hook.status()).as("webhooks too, before looking the name up (not 404)").isEqualTo(403);
    assertThat(post(n, "/publish/batch", KEY, batch("tp", 1)).status()).isEqualTo(403);
    assertThat(seq("tp")).isZero();
    // Headers announcing a body that never comes: answered at once, the body is not awaited.
    try (Socket s = new Socket("127.0.0.1", n.actualPort())) {
      s.setSoTimeout(3000);
      s.getOutputStream().write(("POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: 100\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      assertThat(readStatusLine(s.getInputStream())).startsWith("HTTP/1.1 403");
    }
  }

  @Test
  @DisplayName("trustedProducers: 127.0.0.1 inside [127.0.0.0/8] publishes normally, still with its key")
  void trustedAddressAllowed(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("trustedProducers", List.of("::1", "127.0.0.0/8")));
    assertThat(publish(n, KEY, "ta").status()).isEqualTo(200);
    assertThat(post(n, "/publish", "not-a-valid-key", "{\"topic\":\"ta\",\"data\":1}").status()).isEqualTo(401);
    assertThat(seq("ta")).isEqualTo(1);
  }

  @Test
  @DisplayName("trustedProxies: behind a trusted proxy the forwarded client address is checked against trustedProducers; from another peer the header is ignored")
  void forwardedAddressChecked(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("trustedProducers", List.of("198.51.100.0/24"))
      .put("trustedProxies", List.of("127.0.0.1", "::1")));
    String body = "{\"topic\":\"fw\",\"data\":1}";
    assertThat(postFrom(n, "198.51.100.7", body).status()).isEqualTo(200);
    assertThat(postFrom(n, "198.51.100.7, 203.0.113.5", body).status()).as("the rightmost untrusted hop is the client").isEqualTo(403);
    assertThat(postFrom(n, null, body).status()).as("the proxy itself is not a producer").isEqualTo(403);
    assertThat(seq("fw")).isEqualTo(1);
    NotifierVerticle direct = deploy(vertx, new JsonObject().put("trustedProducers", List.of("198.51.100.0/24")));
    assertThat(postFrom(direct, "198.51.100.7", body).status()).as("no trusted proxy: the header is ignored").isEqualTo(403);
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("trustedProxies", List.of("nginx"))))
      .isInstanceOf(ConfigException.class).hasMessageStartingWith("notifier.trustedProxies:");
  }

  @Test
  @DisplayName("A bad trustedProducers entry fails at start with an error naming notifier.trustedProducers")
  void badTrustedProducer() {
    for (String bad : List.of("10.0.0.0/33", "example.com", "10.0.0.1/8", "fd00::/129", "300.1.1.1", "10.0.0.0/", "::1%lo")) {
      assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("trustedProducers", List.of(bad))))
        .as(bad)
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("notifier.trustedProducers:")
        .hasMessageContaining(bad);
    }
    assertThat(new NotifierOptions(new JsonObject().put("trustedProducers", "10.0.0.0/8, ::1")).trustedProducers())
      .containsExactly("10.0.0.0/8", "::1");
  }

  @Test
  @DisplayName("Allowlist matching: IPv4 and IPv6 ranges, single addresses, IPv4-mapped IPv6, empty allows all")
  void allowlistMatching() {
    AddressAllowlist a = AddressAllowlist.parse(List.of("10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1", "172.16.0.0/12"));
    assertThat(a.allows("10.200.3.4")).isTrue();
    assertThat(a.allows("11.0.0.1")).isFalse();
    assertThat(a.allows("192.168.1.7")).isTrue();
    assertThat(a.allows("192.168.1.8")).isFalse();
    assertThat(a.allows("172.31.255.255")).isTrue();
    assertThat(a.allows("172.32.0.0")).isFalse();
    assertThat(a.allows("fd12:3456::1")).isTrue();
    assertThat(a.allows("fe80::1")).isFalse();
    assertThat(a.allows("0:0:0:0:0:0:0:1")).isTrue();
    assertThat(a.allows("::2")).isFalse();
    assertThat(a.allows("::ffff:10.1.2.3")).as("IPv4-mapped").isTrue();
    assertThat(a.allows("127.0.0.1")).isFalse();
    assertThat(a.allows(null)).isFalse();
    assertThat(a.allows("not-an-ip")).isFalse();
    assertThat(AddressAllowlist.parse(List.of("0.0.0.0/0")).allows("8.8.8.8")).isTrue();
    assertThat(AddressAllowlist.parse(List.of("0.0.0.0/0")).allows("2001:db8::1")).isFalse();
    assertThat(AddressAllowlist.parse(List.of()).allows("8.8.8.8")).isTrue();
  }
}
