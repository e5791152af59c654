package io.herald.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Abuse limits of the gateway over raw loopback sockets, so that every byte and the client's
 * source address (127.0.0.x) are under the test's control: streams per node and per address,
 * the attempt rate per address, streams per user, CORS, header sizes, slow requests, and a
 * burst of connections from one address.
 */
@ExtendWith(VertxExtension.class)
class GatewayLimitsTest {

  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";

  @Test
  @DisplayName("Streams per node: the one over gateway.maxConnections gets 503 with Retry-After; a closed stream frees its place")
  void perNode(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("maxConnections", 3), new JsonObject());
         Clients c = new Clients()) {
      for (int i = 0; i < 3; i++) {
        assertThat(c.open(h.port(), "127.0.0." + (i + 2), "/events?topic=a").status).isEqualTo(200);
      }
      Reply refused = c.open(h.port(), "127.0.0.9", "/events?topic=a");
      assertThat(refused.status).isEqualTo(503);
      assertThat(refused.headers.get("retry-after")).matches("[1-9][0-9]*");
      assertThat(refused.body).contains("\"error\":\"over_capacity\"");
      c.closeFirst();
      assertThat(awaitStatus(c, h.port(), "127.0.0.9", "/events?topic=a", 200)).isEqualTo(200);
      assertThat(h.gateway.sse().limiter().total()).isEqualTo(3);
    }
  }

  @Test
  @DisplayName("Streams per address: 429 with Retry-After over gateway.maxConnectionsPerIp; other addresses are served")
  void perAddress(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("maxConnectionsPerIp", 2), new JsonObject());
         Clients c = new Clients()) {
      assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=a").status).isEqualTo(200);
      assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=a").status).isEqualTo(200);
      Reply third = c.open(h.port(), "127.0.0.2", "/events?topic=a");
      assertThat(third.status).isEqualTo(429);
      assertThat(third.body).contains("\"error\":\"rate_limited\"");
      assertThat(third.headers).containsKey("retry-after");
      assertThat(c.open(h.port(), "127.0.0.3", "/events?topic=a").status).isEqualTo(200);
    }
  }

  @Test
  @DisplayName("Behind a trusted proxy clients are limited by their forwarded address; from any other peer the headers are ignored")
  void perForwardedAddress(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxConnectionsPerIp", 1).put("trustedProxies", new JsonArray().add("127.0.0.10"));
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject()); Clients c = new Clients()) {
      // Two clients behind the proxy 127.0.0.10 each get their own place.
      assertThat(c.open(h.port(), "127.0.0.10", "/events?topic=a", "X-Forwarded-For: 198.51.100.1").status).isEqualTo(200);
      assertThat(c.open(h.port(), "127.0.0.10", "/events?topic=a", "Forwarded: for=\"[2001:db8::2]:443\"").status).isEqualTo(200);
      // The first one again, with a spoofed address in front that the proxy appended to: still the first one.
      Reply again = c.open(h.port(), "127.0.0.10", "/events?topic=a", "X-Forwarded-For: 203.0.113.77, 198.51.100.1");
      assertThat(again.status).isEqualTo(429);
      assertThat(h.gateway.sse().limiter().openFor("198.51.100.1")).isEqualTo(1);
      assertThat(h.gateway.sse().limiter().openFor("127.0.0.10")).isZero();
      // A client that is not the proxy cannot pick an address: it is limited as itself.
      assertThat(c.open(h.port(), "127.0.0.11", "/events?topic=a", "X-Forwarded-For: 198.51.100.3").status).isEqualTo(200);
      assertThat(c.open(h.port(), "127.0.0.11", "/events?topic=a", "X-Forwarded-For: 198.51.100.4").status).isEqualTo(429);
      assertThat(h.gateway.sse().limiter().openFor("198.51.100.3")).isZero();
    }
  }

  @Test
  @DisplayName("Connection attempts per address in a sliding minute: the one over the rate gets 429 with the seconds to wait")
  void attemptRate(Vertx vertx) throws Exception {
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("connectAttemptsPerIpPerMinute", 5), new JsonObject());
         Clients c = new Clients()) {
      for (int i = 0; i < 5; i++) {
        // Refused requests count too: a client hammering with bad requests is still hammering.
        assertThat(c.request(h.port(), "127.0.0.4", "/events?topic=bad%20topic").status).isEqualTo(400);
      }
      Reply limited = c.request(h.port(), "127.0.0.4", "/events?topic=a");
      assertThat(limited.status).isEqualTo(429);
      int wait = Integer.parseInt(limited.headers.get("retry-after"));
      assertThat(wait).isBetween(1, 60);
      assertThat(c.open(h.port(), "127.0.0.5", "/events?topic=a").status).isEqualTo(200);
    }
  }

  @Test
  @DisplayName("Streams per user: the JWT subject over gateway.maxConnectionsPerUser gets 429, from any address; other users are served")
  void perUser(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET).put("maxConnectionsPerUser", 2);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject()); Clients c = new Clients()) {
      String alice = "Authorization: Bearer " + SubscriberAuthTest.hs256(claims("alice"), SECRET);
      String bob = "Authorization: Bearer " + SubscriberAuthTest.hs256(claims("bob"), SECRET);
      assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=t", alice).status).isEqualTo(200);
      assertThat(c.open(h.port(), "127.0.0.3", "/events?topic=t", alice).status).isEqualTo(200);
      Reply third = c.open(h.port(), "127.0.0.4", "/events?topic=t", alice);
      assertThat(third.status).isEqualTo(429);
      assertThat(third.body).contains("rate_limited", "per user");
      assertThat(c.open(h.port(), "127.0.0.4", "/events?topic=t", bob).status).isEqualTo(200);
      // The refused attempt released its node and address places.
      assertThat(h.gateway.sse().limiter().total()).isEqualTo(3);
    }
  }

  @Test
  @DisplayName("Tokens without sub are limited too: by jti when they carry one, else by the token itself")
  void perUserWithoutSubject(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("authMode", "jwt").put("jwtSecret", SECRET).put("maxConnectionsPerUser", 2);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject()); Clients c = new Clients()) {
      String anon = "Authorization: Bearer " + SubscriberAuthTest.hs256(claims("x").copy().put("sub", null), SECRET);
      assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=t", anon).status).isEqualTo(200);
      assertThat(c.open(h.port(), "127.0.0.3", "/events?topic=t", anon).status).isEqualTo(200);
      Reply third = c.open(h.port(), "127.0.0.4", "/events?topic=t", anon);
      assertThat(third.status).isEqualTo(429);
      assertThat(third.body).contains("rate_limited", "per user");
      // Two tokens with one jti are one user, whatever else differs; another jti is another user.
      JsonObject j1 = claims("x").copy().put("sub", null).put("jti", "session-1");
      String a = "Authorization: Bearer " + SubscriberAuthTest.hs256(j1, SECRET);
      String b = "Authorization: Bearer " + SubscriberAuthTest.hs256(j1.copy().put("iat", 1), SECRET);
      String other = "Authorization: Bearer " + SubscriberAuthTest.hs256(j1.copy().put("jti", "session-2"), SECRET);
      assertThat(c.open(h.port(), "127.0.0.5", "/events?topic=t", a).status).isEqualTo(200);
      assertThat(c.open(h.port(), "127.0.0.6", "/events?topic=t", b).status).isEqualTo(200);
      assertThat(c.open(h.port(), "127.0.0.7", "/events?topic=t", a).status).isEqualTo(429);
      assertThat(c.open(h.port(), "127.0.0.7", "/events?topic=t", other).status).isEqualTo(200);
    }
  }

  @Test
  @DisplayName("CORS: an allowed origin is echoed with credentials, another gets no CORS headers; preflight 204 or 403")
  void cors(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("allowedOrigins", new JsonArray().add("https://app.example"));
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject()); Clients c = new Clients()) {
      Reply allowed = c.open(h.port(), "127.0.0.2", "/events?topic=a", "Origin: https://app.example");
      assertThat(allowed.status).isEqualTo(200);
      assertThat(allowed.headers.get("access-control-allow-origin")).isEqualTo("https://app.example");
      assertThat(allowed.headers.get("access-control-allow-credentials")).isEqualTo("true");
      Reply other = c.open(h.port(), "127.0.0.2", "/events?topic=a", "Origin: https://evil.example");
      assertThat(other.headers).doesNotContainKey("access-control-allow-origin");

      Reply preflight = c.method(h.port(), "127.0.0.3", "OPTIONS", "/events",
        "Origin: https://app.example", "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: last-event-id");
      assertThat(preflight.status).isEqualTo(204);
      assertThat(preflight.headers.get("access-control-allow-headers")).containsIgnoringCase("Last-Event-ID");
      Reply denied = c.method(h.port(), "127.0.0.3", "OPTIONS", "/events",
        "Origin: https://evil.example", "Access-Control-Request-Method: GET");
      assertThat(denied.status).isEqualTo(403);
      assertThat(denied.headers).doesNotContainKey("access-control-allow-origin");
    }
  }

  @Test
  @DisplayName("Oversized request line and headers get 414 and 431 with a JSON body and Connection: close, and the gateway keeps serving")
  void headerSizes(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxHeaderBytes", 2048).put("maxRequestLineBytes", 1024);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject()); Clients c = new Clients()) {
      Reply line = c.request(h.port(), "127.0.0.2", "/events?topic=" + "a".repeat(2000));
      assertThat(line.status).isEqualTo(414);
      assertThat(new JsonObject(line.body).getString("error")).isEqualTo("uri_too_long");
      assertThat(line.headers).containsEntry("connection", "close");
      Reply head = c.request(h.port(), "127.0.0.2", "/events?topic=a", "X-Junk: " + "j".repeat(4000));
      assertThat(head.status).isEqualTo(431);
      assertThat(new JsonObject(head.body).getString("error")).isEqualTo("headers_too_large");
      assertThat(head.headers).containsEntry("connection", "close");
      assertThat(c.open(h.port(), "127.0.0.2", "/events?topic=a").status).isEqualTo(200);
    }
  }

  @Test
  @DisplayName("Slowloris: a connection trickling its headers is closed after gateway.requestTimeoutMillis; others are served meanwhile")
  void slowHeaders(Vertx vertx) throws Exception {
    int requestTimeoutMillis = 800;
    try (GatewayHarness h = new GatewayHarness(vertx, new JsonObject().put("requestTimeoutMillis", requestTimeoutMillis), new JsonObject());
         Clients c = new Clients()) {
      // Taken before the connection exists: the server's timer cannot have started earlier.
      long start = System.nanoTime();
      Socket slow = new Socket();
      slow.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.6"), 0));
      slow.connect(new InetSocketAddress("127.0.0.1", h.port()), 2000);
      OutputStream out = slow.getOutputStream();
      out.write("GET /events?topic=a HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      boolean closed = false;
      Reply meanwhile = null;
      // A byte every 100 ms until the server closes: each one is traffic, none may push the
      // request's deadline back, so a server that extends it keeps the socket open past the
      // (generous) deadline below and fails.
      long deadline = start + TimeUnit.SECONDS.toNanos(30);
      try {
        for (int i = 0; !closed && System.nanoTime() < deadline; i++) {
          out.write('X');
          out.flush();
          if (i == 1) {
            meanwhile = c.open(h.port(), "127.0.0.7", "/events?topic=a");
          }
          Thread.sleep(100);
        }
      } catch (IOException e) {
        closed = true; // the server closed the socket: the write failed
      }
      if (!closed) {
        slow.setSoTimeout(3000);
        closed = slow.getInputStream().read() < 0;
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      slow.close();
      assertThat(closed).as("the trickling connection was closed").isTrue();
      assertThat(millis).as("closed, and not before requestTimeoutMillis").isGreaterThanOrEqualTo(requestTimeoutMillis);
      assertThat(meanwhile.status).isEqualTo(200);
    }
  }

  @Test
  @DisplayName("A burst of 2000 connections from one address: at most maxConnectionsPerIp streams, the rest 429 at once, other addresses served, nothing leaks")
  void burstFromOneAddress(Vertx vertx) throws Exception {
    int perIp = 100;
    int attempts = 2000;
    JsonObject config = new JsonObject().put("maxConnectionsPerIp", perIp).put("connectAttemptsPerIpPerMinute", 100_000);
    try (GatewayHarness h = new GatewayHarness(vertx, config, new JsonObject()); Clients c = new Clients()) {
      Map<Integer, Integer> statuses = new LinkedHashMap<>();
      long start = System.nanoTime();
      for (int i = 0; i < attempts; i++) {
        statuses.merge(c.open(h.port(), "127.0.0.10", "/events?topic=burst").status, 1, Integer::sum);
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      System.out.println("[measure] burst of " + attempts + " connections from one address: " + statuses + " in " + millis + " ms");
      assertThat(statuses).containsOnlyKeys(200, 429);
      assertThat(statuses.get(200)).isEqualTo(perIp);
      assertThat(statuses.get(429)).isEqualTo(attempts - perIp);
      // Another address is served while the burst's streams are open.
      Reply other = c.open(h.port(), "127.0.0.11", "/events?topic=burst");
      assertThat(other.status).isEqualTo(200);
      assertThat(h.gateway.sse().limiter().openFor("127.0.0.10")).isEqualTo(perIp);
      c.closeAll();
      SseGatewayTest.awaitCondition(() -> h.gateway.sse().limiter().total() == 0);
      SseGatewayTest.awaitCondition(() -> h.gateway.sse().connectionCount() == 0);
      assertThat(h.gateway.sse().limiter().openFor("127.0.0.10")).isZero();
    }
  }

  private static JsonObject claims(String sub) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("sub", sub).put("topics", new JsonArray().add("t")).put("iat", now).put("exp", now + 600);
  }

  /** Retries while the server has not yet seen an earlier stream close. */
  private static int awaitStatus(Clients c, int port, String from, String path, int want) throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    int got;
    do {
      Reply r = c.open(port, from, path);
      got = r.status;
      if (got == want) {
        return got;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    return got;
  }

  /** A response head (and a refusal's body) read off a raw socket. */
  record Reply(int status, Map<String, String> headers, String body) {
  }

  /** Raw HTTP/1.1 clients bound to chosen loopback addresses; streams stay open until closed. */
  static final class Clients implements AutoCloseable {
    private final List<Socket> open = new ArrayList<>();

    /** Sends {@code GET path}; a 200 stream stays open, any other answer is read and closed. */
    Reply open(int port, String from, String path, String... headers) throws IOException {
      return send(port, from, "GET", path, true, headers);
    }

    Reply request(int port, String from, String path, String... headers) throws IOException {
      return send(port, from, "GET", path, false, headers);
    }

    Reply method(int port, String from, String method, String path, String... headers) throws IOException {
      return send(port, from, method, path, false, headers);
    }

    private Reply send(int port, String from, String method, String path, boolean keep, String... headers) throws IOException {
      Socket s = new Socket();
      s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      s.setSoTimeout(10_000);
      StringBuilder req = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      for (String h : headers) {
        req.append(h).append("\r\n");
      }
      s.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      Reply r = readHead(s.getInputStream());
      if (keep && r.status == 200) {
        open.add(s);
      } else {
        s.close();
      }
      return r;
    }

    private static Reply readHead(InputStream in) throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      int matched = 0;
      while (matched < 4) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("connection closed before the response head: " + head);
        }
        head.write(b);
        matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.put(lines[i].substring(0, colon).trim().toLowerCase(), lines[i].substring(colon + 1).trim());
        }
      }
      String body = "";
      String length = headers.get("content-length");
      if (status != 200 && length != null) {
        byte[] b = in.readNBytes(Integer.parseInt(length));
        body = new String(b, StandardCharsets.UTF_8);
      }
      return new Reply(status, headers, body);
    }

    void closeFirst() throws IOException {
      open.remove(0).close();
    }

    void closeAll() throws IOException {
      for (Socket s : open) {
        s.close();
      }
      open.clear();
    }

    @Override
    public void close() throws IOException {
      closeAll();
    }
  }
}
