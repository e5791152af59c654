package io.herald.gateway.mercure;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The same-origin test of {@link MercureCsrf}: host and port of the request's Host against the page's origin. */
class MercureCsrfTest {

  @Test
  @DisplayName("default ports are filled in from the origin's scheme; host compared without case; IPv6 literals; another port or host is another origin")
  void sameHost() {
    assertThat(MercureCsrf.sameHost("https://hub.example.com", "hub.example.com", -1)).isTrue();
    assertThat(MercureCsrf.sameHost("https://hub.example.com", "HUB.example.com", 443)).isTrue();
    assertThat(MercureCsrf.sameHost("http://hub.example.com", "hub.example.com", 80)).isTrue();
    assertThat(MercureCsrf.sameHost("https://hub.example.com:8443", "hub.example.com", 8443)).isTrue();
    assertThat(MercureCsrf.sameHost("http://[::1]:8080", "::1", 8080)).isTrue();
    assertThat(MercureCsrf.sameHost("http://[::1]:8080", "[::1]", 8080)).isTrue();
    assertThat(MercureCsrf.sameHost("https://hub.example.com", "hub.example.com", 8080)).isFalse();
    assertThat(MercureCsrf.sameHost("https://hub.example.com.evil.net", "hub.example.com", -1)).isFalse();
    assertThat(MercureCsrf.sameHost("https://evil.net", "hub.example.com", -1)).isFalse();
    assertThat(MercureCsrf.sameHost("not an origin", "hub.example.com", -1)).isFalse();
  }
}
