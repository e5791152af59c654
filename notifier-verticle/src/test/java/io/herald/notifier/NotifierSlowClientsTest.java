package io.herald.notifier;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The notifier's guards against slow and oversized requests over real sockets on loopback:
 * trickled headers and bodies (requestTimeoutMillis), oversized bodies and headers, idle
 * connections.
 */
class NotifierSlowClientsTest extends NotifierLimitsFixture {

  @Test
  @DisplayName("Slowloris: a connection trickling its headers is closed after requestTimeoutMillis while others publish meanwhile")
  void slowHeaders(Vertx vertx) throws Exception {
    int requestTimeoutMillis = 1000;
    NotifierVerticle n = deploy(vertx, new JsonObject().put("requestTimeoutMillis", requestTimeoutMillis));
    // Taken before the connection exists: the notifier's timer cannot have started earlier.
    long start = System.nanoTime();
    try (Socket slow = new Socket("127.0.0.1", n.actualPort())) {
      OutputStream out = slow.getOutputStream();
      out.write("POST /publish HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      slow.setSoTimeout(300);
      boolean closed = false;
      Reply meanwhile = null;
      // Trickle until the notifier closes: no byte may push the deadline back, so a notifier that
      // extends it keeps the socket open past this (generous) deadline and the test fails.
      long deadline = start + TimeUnit.SECONDS.toNanos(30);
      for (int i = 0; !closed && System.nanoTime() < deadline; i++) {
        try {
          out.write('X');
          out.flush();
          if (i == 1) {
            meanwhile = publish(n, KEY, "sl");
          }
          closed = slow.getInputStream().read() < 0; // waits up to 300 ms: the trickle's pace
        } catch (SocketTimeoutException e) {
          // still open: trickle on
        } catch (IOException e) {
          closed = true; // reset by the server
        }
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(closed).as("the trickling connection was closed").isTrue();
      assertThat(millis).as("closed, and not before requestTimeoutMillis").isGreaterThanOrEqualTo(requestTimeoutMillis);
      assertThat(meanwhile).isNotNull();
      assertThat(meanwhile.status()).as("a normal publish on another connection meanwhile").isEqualTo(200);
    }
    assertThat(seq("sl")).isEqualTo(1);
  }

  @Test
  @DisplayName("A body that does not arrive within requestTimeoutMillis after the headers gets 408 request_timeout and a closed connection")
  void slowBody(Vertx vertx) throws Exception {
    int requestTimeoutMillis = 1000;
    NotifierVerticle n = deploy(vertx, new JsonObject().put("requestTimeoutMillis", requestTimeoutMillis));
    long start = System.nanoTime();
    try (Socket s = new Socket("127.0.0.1", n.actualPort())) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(("POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY + "\r\n"
        + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"topic\":\"sb\",").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      String response = readAll(s.getInputStream());
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(response).startsWith("HTTP/1.1 408");
      assertThat(response).contains("\"error\":\"request_timeout\"");
      assertThat(millis).as("answered, and not before requestTimeoutMillis").isGreaterThanOrEqualTo(requestTimeoutMillis);
    }
    // A body that does arrive in time is served as usual on the same notifier.
    assertThat(publish(n, KEY, "sb").status()).isEqualTo(200);
    assertThat(seq("sb")).isEqualTo(1);
  }

  @Test
  @DisplayName("After a 413 for a body over maxBodyBytes, the client's next request (a new connection) is answered at once")
  void nextRequestAfterOversizedBody(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("maxBodyBytes", 4096).put("requestTimeoutMillis", 600_000));
    Reply big = post(n, "/publish", KEY, "{\"topic\":\"big\",\"data\":\"" + "x".repeat(500_000) + "\"}");
    assertThat(big.status()).isEqualTo(413);
    assertThat(big.headers().firstValue("connection")).hasValue("close");
    // The JDK client would reuse a kept-alive connection; the unread rest of the body made that
    // connection unusable, so the notifier closes it and the next request goes through. A request
    // sent on the stale connection would wait for requestTimeoutMillis (here 10 minutes), far
    // past the 5 s publish() waits: an answer at all came on a new connection.
    assertThat(publish(n, KEY, "big").status()).isEqualTo(200);
    assertThat(seq("big")).isEqualTo(1);
  }

  @Test
  @DisplayName("A client that sends its whole oversized body before reading gets the 413, then the close (no reset)")
  void oversizedBodySentWholeGetsItsAnswer(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("maxBodyBytes", 4096).put("requestTimeoutMillis", 600_000));
    // 8 MB: more than the kernel buffers of both ends hold, so the client is still sending well
    // after the 413 is out. Closed at once, the notifier would leave body bytes unread and the
    // kernel would reset the connection: this client's writes (or its read) would fail.
    int length = 8 << 20;
    try (Socket s = new Socket("127.0.0.1", n.actualPort())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY + "\r\n"
        + "Content-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = "x".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII);
      for (int sent = 0; sent < length; sent += chunk.length) {
        out.write(chunk);
      }
      out.flush();
      String response = readAll(s.getInputStream());
      assertThat(response).startsWith("HTTP/1.1 413");
      assertThat(response.toLowerCase()).contains("connection: close").contains("\"error\":\"payload_too_large\"");
    }
    assertThat(publish(n, KEY, "whole").status()).isEqualTo(200);
  }

  @Test
  @DisplayName("A chunked body (no Content-Length) is read to its end within maxBodyBytes, and refused with 413 past it")
  void chunkedBodies(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("maxBodyBytes", 4096).put("requestTimeoutMillis", 600_000));
    // Within the limit, in three chunks: stored once, answered with its seq.
    try (Socket s = new Socket("127.0.0.1", n.actualPort())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY + "\r\nConnection: close\r\n"
        + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      for (String part : new String[] {"{\"topic\":", "\"ch\",\"data\":", "{\"n\":1}}"}) {
        out.write((Integer.toHexString(part.length()) + "\r\n" + part + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String response = readAll(s.getInputStream());
      assertThat(response).startsWith("HTTP/1.1 200");
      assertThat(response).contains("\"topic\":\"ch\"").contains("\"seq\":1");
    }
    assertThat(seq("ch")).isEqualTo(1);
    // Past the limit, with no length declared up front: refused once the limit is crossed, the
    // connection closed after the rest of the body, nothing stored.
    try (Socket s = new Socket("127.0.0.1", n.actualPort())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY + "\r\n"
        + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String head = "{\"topic\":\"ch\",\"data\":\"";
      out.write((Integer.toHexString(head.length()) + "\r\n" + head + "\r\n").getBytes(StandardCharsets.US_ASCII));
      String part = "x".repeat(1000);
      for (int i = 0; i < 10; i++) {
        out.write((Integer.toHexString(part.length()) + "\r\n" + part + "\r\n").getBytes(StandardCharsets.US_ASCII));
      }
      out.write(("3\r\n\"}\n\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String response = readAll(s.getInputStream());
      assertThat(response).startsWith("HTTP/1.1 413");
      assertThat(response.toLowerCase()).contains("connection: close").contains("\"error\":\"payload_too_large\"");
    }
    assertThat(seq("ch")).as("the refused body stored nothing").isEqualTo(1);
  }

  @Test
  @DisplayName("POST /publish with a query string and POST /publish/ (trailing slash) publish as POST /publish does")
  void publishPathVariants(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject());
    assertThat(post(n, "/publish?source=x", KEY, "{\"topic\":\"pv\",\"data\":1}").status()).isEqualTo(200);
    assertThat(post(n, "/publish/", KEY, "{\"topic\":\"pv\",\"data\":2}").status()).isEqualTo(200);
    assertThat(seq("pv")).isEqualTo(2);
    assertThat(post(n, "/publish/batch?x=1", KEY, "{\"events\":[{\"topic\":\"pv\",\"data\":3}]}").status()).isEqualTo(200);
    assertThat(seq("pv")).isEqualTo(3);
    // And without a key, on either path, nothing is stored.
    assertThat(post(n, "/publish?x=1", null, "{\"topic\":\"pv\",\"data\":4}").status()).isEqualTo(401);
    assertThat(post(n, "/publish/", null, "{\"topic\":\"pv\",\"data\":4}").status()).isEqualTo(401);
    assertThat(seq("pv")).isEqualTo(3);
  }

  @Test
  @DisplayName("Headers above maxHeaderBytes get 431 and the notifier keeps serving")
  void headerSize(Vertx vertx) throws Exception {
    NotifierVerticle n = deploy(vertx, new JsonObject().put("maxHeaderBytes", 2048));
    HttpRequest big = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.actualPort() + "/publish"))
      .timeout(Duration.ofSeconds(5)).header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
      .header("X-Junk", "j".repeat(4000)).POST(HttpRequest.BodyPublishers.ofString("{\"topic\":\"hs\",\"data\":1}")).build();
    HttpResponse<String> refused = http.send(big, HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(431);
    assertThat(new JsonObject(refused.body()).getString("error")).isEqualTo("headers_too_large");
    // Connection: close, so the client does not send the next request on the closed connection.
    assertThat(refused.headers().firstValue("connection")).hasValue("close");
    assertThat(publish(n, KEY, "hs").status()).isEqualTo(200);
    assertThat(seq("hs")).isEqualTo(1);
  }

  @Test
  @DisplayName("A connection silent for idleTimeoutSeconds is closed")
  void idleTimeout(Vertx vertx) throws Exception {
    int idleTimeoutSeconds = 1;
    // The request timeout (10 minutes) is far past the 60 s this socket waits: a close at all is the idle timeout's.
    NotifierVerticle n = deploy(vertx, new JsonObject().put("idleTimeoutSeconds", idleTimeoutSeconds).put("replayTimeoutMillis", 500)
      .put("requestTimeoutMillis", 600_000));
    long start = System.nanoTime();
    try (Socket s = new Socket("127.0.0.1", n.actualPort())) {
      s.setSoTimeout(60_000);
      int read;
      try {
        read = s.getInputStream().read();
      } catch (IOException e) {
        read = -1;
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(read).as("closed by the server").isEqualTo(-1);
      assertThat(millis).as("not before the idle timeout").isGreaterThanOrEqualTo(TimeUnit.SECONDS.toMillis(idleTimeoutSeconds));
    }
  }
}
