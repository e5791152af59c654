package io.herald.common;

import io.vertx.core.MultiMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which address a request behind reverse proxies comes from: the parsing of X-Forwarded-For and Forwarded. */
class ClientAddressTest {

  private static final ClientAddress PROXIES = ClientAddress.trusting(List.of("127.0.0.1", "10.0.0.0/8", "fd00::/8"));

  private static String xff(String peer, String... lines) {
    return PROXIES.resolve(peer, List.of(lines), List.of());
  }

  private static String fwd(String peer, String... lines) {
    return PROXIES.resolve(peer, List.of(), List.of(lines));
  }

  @Test
  @DisplayName("From an untrusted peer the forwarding headers are ignored, however they look")
  void spoofedFromUntrustedPeer() {
    assertThat(xff("203.0.113.9", "198.51.100.1")).isEqualTo("203.0.113.9");
    assertThat(fwd("203.0.113.9", "for=198.51.100.1")).isEqualTo("203.0.113.9");
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("X-Forwarded-For", "198.51.100.1").add("Forwarded", "for=198.51.100.2");
    assertThat(PROXIES.resolve("203.0.113.9", headers)).isEqualTo("203.0.113.9");
    // With no trusted proxy at all nothing is read, even from loopback.
    assertThat(ClientAddress.trusting(List.of()).resolve("127.0.0.1", List.of("198.51.100.1"), List.of())).isEqualTo("127.0.0.1");
  }

  @Test
  @DisplayName("From a trusted peer the client is the rightmost address that is not a trusted proxy")
  void rightmostUntrusted() {
    assertThat(xff("127.0.0.1", "198.51.100.1")).isEqualTo("198.51.100.1");
    // The client put a spoofed address first; the proxies appended the real one: the spoof is never reached.
    assertThat(xff("127.0.0.1", "6.6.6.6, 198.51.100.1")).isEqualTo("198.51.100.1");
    // A chain of trusted proxies (10.1.2.3 saw the client, 127.0.0.1 is the last hop) is walked through.
    assertThat(xff("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3, 10.9.9.9")).isEqualTo("198.51.100.1");
    // Several header lines are one list, in order.
    assertThat(xff("127.0.0.1", "6.6.6.6, 198.51.100.1", "10.1.2.3")).isEqualTo("198.51.100.1");
    // Every hop trusted: the leftmost is the best we know.
    assertThat(xff("127.0.0.1", "10.0.0.5, 10.0.0.6")).isEqualTo("10.0.0.5");
    // No header: the peer itself.
    assertThat(xff("127.0.0.1")).isEqualTo("127.0.0.1");
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("x-forwarded-for", "198.51.100.7");
    assertThat(PROXIES.resolve("127.0.0.1", headers)).isEqualTo("198.51.100.7");
  }

  @Test
  @DisplayName("IPv6 peers, proxies and clients, bracketed or not, with ports, and IPv4-mapped addresses")
  void ipv6() {
    assertThat(xff("fd00::1", "2001:db8::1")).isEqualTo("2001:db8::1");
    assertThat(xff("fd00::1", "2001:DB8:0::1, fd12::7")).isEqualTo("2001:db8::1");
    assertThat(fwd("fd00::1", "for=\"[2001:db8::1]:4711\"")).isEqualTo("2001:db8::1");
    assertThat(fwd("::ffff:127.0.0.1", "for=198.51.100.1")).isEqualTo("198.51.100.1");
    assertThat(xff("127.0.0.1", "::ffff:198.51.100.4")).isEqualTo("198.51.100.4");
    assertThat(xff("127.0.0.1", "198.51.100.4:5555")).isEqualTo("198.51.100.4");
  }

  @Test
  @DisplayName("Forwarded (RFC 7239): for= of each element, quoted or not, case-insensitive, with other parameters; it wins over X-Forwarded-For")
  void forwarded() {
    assertThat(fwd("127.0.0.1", "for=198.51.100.1;proto=https;by=10.0.0.1")).isEqualTo("198.51.100.1");
    assertThat(fwd("127.0.0.1", "For=\"6.6.6.6\", for=198.51.100.1, for=10.2.2.2")).isEqualTo("198.51.100.1");
    assertThat(fwd("127.0.0.1", "for=6.6.6.6", "proto=http;for=198.51.100.2")).isEqualTo("198.51.100.2");
    assertThat(PROXIES.resolve("127.0.0.1", List.of("6.6.6.6"), List.of("for=198.51.100.3"))).isEqualTo("198.51.100.3");
  }

  @Test
  @DisplayName("A malformed or hidden hop stops the walk at the last trusted hop: nothing left of it is believed")
  void malformed() {
    assertThat(xff("127.0.0.1", "garbage")).isEqualTo("127.0.0.1");
    assertThat(xff("127.0.0.1", "")).isEqualTo("127.0.0.1");
    assertThat(xff("127.0.0.1", "198.51.100.1, evil.example.com")).isEqualTo("127.0.0.1");
    assertThat(xff("127.0.0.1", "198.51.100.1, not-an-ip, 10.0.0.7")).isEqualTo("10.0.0.7");
    assertThat(xff("127.0.0.1", "999.1.1.1")).isEqualTo("127.0.0.1");
    assertThat(xff("127.0.0.1", "198.51.100.1:port")).isEqualTo("127.0.0.1");
    assertThat(xff("127.0.0.1", "[2001:db8::1")).isEqualTo("127.0.0.1");
    assertThat(xff("127.0.0.1", "fe80::1%eth0")).isEqualTo("127.0.0.1");
    assertThat(fwd("127.0.0.1", "for=unknown")).isEqualTo("127.0.0.1");
    assertThat(fwd("127.0.0.1", "for=_hidden, for=198.51.100.1")).isEqualTo("198.51.100.1");
    assertThat(fwd("127.0.0.1", "proto=https")).isEqualTo("127.0.0.1");
    assertThat(fwd("127.0.0.1", "for=\"198.51.100.1")).isEqualTo("127.0.0.1");
  }

  @Test
  @DisplayName("A long chain of trusted hops is walked only MAX_HOPS deep")
  void boundedWalk() {
    String chain = "198.51.100.1, " + String.join(", ", java.util.Collections.nCopies(ClientAddress.MAX_HOPS + 5, "10.0.0.1"));
    assertThat(xff("127.0.0.1", chain)).isEqualTo("10.0.0.1");
  }

  @Test
  @DisplayName("A bad entry in the trusted list is an error that names it")
  void badEntries() {
    assertThatThrownBy(() -> ClientAddress.trusting(List.of("proxy.internal"))).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("proxy.internal");
    assertThatThrownBy(() -> ClientAddress.trusting(List.of("10.0.0.1/8"))).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("10.0.0.1/8");
  }
}
