package io.herald.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/2: HTTPS with ALPN from PEM files (what browsers use, so they are not held to six
 * streams per host), and cleartext h2c by prior knowledge when {@code gateway.h2c} is on.
 */
@ExtendWith(VertxExtension.class)
class GatewayHttp2Test {

  @Test
  @DisplayName("With tlsCertFile and tlsKeyFile the gateway serves HTTPS; ALPN picks HTTP/2 and two SSE streams share one connection")
  void tlsWithAlpn(Vertx vertx, @TempDir Path dir) throws Exception {
    KeyStore ks = selfSigned(dir);
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Certificate c = ks.getCertificate("herald");
    Files.writeString(cert, pem("CERTIFICATE", c.getEncoded()));
    Files.writeString(key, pem("PRIVATE KEY", ((PrivateKey) ks.getKey("herald", "changeit".toCharArray())).getEncoded()));
    JsonObject config = new JsonObject().put("tlsCertFile", cert.toString()).put("tlsKeyFile", key.toString());
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject())) {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);
      HttpClient client = HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_2)
        .connectTimeout(Duration.ofSeconds(5)).build();
      URI uri = URI.create("https://localhost:" + h.port() + "/events?topic=secure");
      HttpResponse<InputStream> one = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofInputStream());
      HttpResponse<InputStream> two = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofInputStream());
      assertThat(one.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(one.statusCode()).isEqualTo(200);
      assertThat(two.statusCode()).isEqualTo(200);
      assertThat(one.headers().firstValue("content-type")).hasValue("text/event-stream; charset=utf-8");
      CompletableFuture<String> fromOne = io.herald.testsupport.SseStreams.firstAppData(one.body());
      CompletableFuture<String> fromTwo = io.herald.testsupport.SseStreams.firstAppData(two.body());
      SseGatewayTest.awaitCondition(() -> h.gateway.sse().connectionCount() == 2);
      // Two streams, one TCP connection: the kernel's socket table has one accepted connection.
      assertThat(establishedTo(h.port())).as("established connections accepted on the gateway's port").isEqualTo(1);
      h.publish("secure", "over h2");
      assertThat(fromOne.get(10, TimeUnit.SECONDS)).isEqualTo("over h2");
      assertThat(fromTwo.get(10, TimeUnit.SECONDS)).isEqualTo("over h2");
      one.body().close();
      two.body().close();
    }
  }

  @Test
  @DisplayName("With gateway.h2c a client speaking HTTP/2 by prior knowledge gets its stream over cleartext HTTP/2")
  void h2cPriorKnowledge(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("h2c", true), new JsonObject())) {
      var client = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      var resp = GatewayHarness.await(client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
        .setPort(h.port()).setURI("/events?topic=clear")).compose(r -> r.send()));
      assertThat(resp.version()).isEqualTo(HttpVersion.HTTP_2);
      assertThat(resp.statusCode()).isEqualTo(200);
      GatewayHarness.await(client.close());
    }
  }

  @Test
  @DisplayName("Without gateway.h2c, cleartext is HTTP/1.1 only and a half-set TLS pair is a config error naming the key")
  void defaults() {
    assertThat(new GatewayOptions().h2c()).isFalse();
    assertThat(new GatewayOptions().tls()).isFalse();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new GatewayOptions(new JsonObject().put("tlsCertFile", "/x.pem")))
      .hasMessageContaining("gateway.tlsKeyFile");
  }

  /** A self-signed certificate for localhost, made with the JDK's keytool. */
  private static KeyStore selfSigned(Path dir) throws Exception {
    Path store = dir.resolve("herald.p12");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "herald", "-keyalg", "RSA", "-keysize", "2048",
      "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
      "-keystore", store.toString(), "-storepass", "changeit", "-keypass", "changeit")
      .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    return ks;
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
      + "\n-----END " + type + "-----\n";
  }

  /** Connections the kernel lists as established with {@code port} as their local port (the server's side). */
  static long establishedTo(int port) throws java.io.IOException {
    String hexPort = String.format(java.util.Locale.ROOT, "%04X", port);
    long n = 0;
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      java.nio.file.Path path = java.nio.file.Path.of(table);
      if (!Files.exists(path)) {
        continue;
      }
      for (String line : Files.readAllLines(path)) {
        String[] f = line.trim().split("\\s+");
        // sl local_address rem_address st ...; st 01 is ESTABLISHED
        if (f.length > 3 && f[1].contains(":") && f[3].equals("01") && f[1].split(":")[1].equalsIgnoreCase(hexPort)) {
          n++;
        }
      }
    }
    return n;
  }
}
