package io.herald.gateway;

import io.herald.gateway.ContractClients.Transport;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Clients of the contract's slow-consumer case that subscribe and then read nothing. */
final class StalledClients {

  private StalledClients() {
  }

  /**
   * A client that subscribes and then never reads: a raw socket with a small receive buffer,
   * which the gateway must cut off once {@code maxWriteQueueBytes} wait unsent for it. Over
   * SockJS's XHR streaming, the socket is the {@code xhr_streaming} answer, and the registration
   * is one {@code xhr_send} on another connection. Over EventSource the socket is the
   * {@code eventsource} answer; over XHR polling it is the first poll's, and no other poll follows.
   */
  static Socket stalled(GatewayHarness h, Transport t, String topic) throws IOException {
    return stalled(h, t, topic, null);
  }

  /**
   * As {@link #stalled(GatewayHarness, Transport, String)}, resuming from {@code lastEventId}
   * (null: live): over SSE and Mercure as {@code Last-Event-ID}, over WebSocket as
   * {@code lastEventId}. The stream's replay then meets a client that reads nothing.
   */
  static Socket stalled(GatewayHarness h, Transport t, String topic, String lastEventId) throws IOException {
    if (lastEventId != null && t != Transport.SSE && t != Transport.WEBSOCKET && t != Transport.MERCURE) {
      throw new IllegalArgumentException(t + ": resume a stalled client with its own replay requests");
    }
    String resumeHeader = lastEventId == null ? "" : "Last-Event-ID: " + lastEventId + "\r\n";
    String resumeParam = lastEventId == null ? "" : "&lastEventId=" + java.net.URLEncoder.encode(lastEventId, StandardCharsets.UTF_8);
    Socket s = new Socket();
    s.setReceiveBufferSize(4096);
    s.connect(new InetSocketAddress("127.0.0.1", h.port()), 5000);
    s.setSoTimeout(10_000);
    String upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      + "Sec-WebSocket-Version: 13\r\n";
    String request = switch (t) {
      case SSE -> "GET /events?topic=" + topic + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + resumeHeader + "\r\n";
      case MERCURE -> "GET " + MercureClient.PATH + "?topic=" + topic + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + resumeHeader + "\r\n";
      case WEBSOCKET -> "GET /ws?topic=" + topic + resumeParam + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + upgrade + "\r\n";
      case SOCKJS -> "GET /eventbus/000/stalled" + Long.toHexString(System.nanoTime()) + "/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + upgrade + "\r\n";
      case LONGPOLL -> throw new IllegalArgumentException("a poll is one answer: nothing waits unsent");
      case SOCKJS_XHR -> "POST " + XHR_SESSION + Long.toHexString(System.nanoTime()) + "/xhr_streaming HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
      case SOCKJS_XHR_POLLING -> "POST " + XHR_SESSION + Long.toHexString(System.nanoTime()) + "/xhr HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
      case SOCKJS_EVENTSOURCE -> "GET " + XHR_SESSION + Long.toHexString(System.nanoTime()) + "/eventsource HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\n\r\n";
    };
    OutputStream out = s.getOutputStream();
    out.write(request.getBytes(StandardCharsets.ISO_8859_1));
    byte[] head = new byte[12];
    if (s.getInputStream().readNBytes(head, 0, 12) != 12) {
      throw new AssertionError("no status line");
    }
    String status = new String(head, StandardCharsets.ISO_8859_1);
    if (!status.equals(t == Transport.SSE || t == Transport.MERCURE || t.sockJs() && t != Transport.SOCKJS ? "HTTP/1.1 200" : "HTTP/1.1 101")) {
      throw new AssertionError(t + " answered " + status);
    }
    if (t == Transport.SOCKJS) {
      String register = new JsonArray().add(new JsonObject().put("type", "register").put("address", "herald.browser." + topic).encode())
        .encode();
      out.write(maskedText(register.getBytes(StandardCharsets.UTF_8)));
    }
    out.flush();
    if (t.sockJs() && t != Transport.SOCKJS) {
      registerOverXhr(h, s, request, topic, t == Transport.SOCKJS_EVENTSOURCE ? "data: o" : "\no\n");
    }
    return s;
  }

  private static final String XHR_SESSION = "/eventbus/000/stalled";

  /**
   * Reads the streaming answer up to SockJS's open frame ({@code o}, after a prelude of 2048
   * {@code h}), then registers the topic with one {@code xhr_send} on another connection, and
   * reads nothing more.
   */
  private static void registerOverXhr(GatewayHarness h, Socket s, String request, String topic, String open) throws IOException {
    StringBuilder seen = new StringBuilder();
    var in = s.getInputStream();
    while (seen.indexOf(open) < 0) {
      int b = in.read();
      if (b < 0 || seen.length() > 16 * 1024) {
        throw new AssertionError("no open frame on the answer: " + ContractClients.cut(seen.toString()));
      }
      seen.append((char) b);
    }
    String path = request.substring(request.indexOf(' ') + 1, request.indexOf(" HTTP/1.1"));
    String session = path.substring(0, path.lastIndexOf('/'));
    String register = new JsonArray().add(new JsonObject().put("type", "register").put("address", "herald.browser." + topic).encode())
      .encode();
    try {
      var r = WsClient.JDK.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + h.port() + session + "/xhr_send"))
        .timeout(ContractClients.WAIT).POST(java.net.http.HttpRequest.BodyPublishers.ofString(register)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 204) {
        throw new AssertionError("xhr_send answered " + r.statusCode() + ": " + r.body());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** One client-to-server WebSocket text frame (RFC 6455: clients mask), payload under 64 KB. */
  static byte[] maskedText(byte[] payload) {
    byte[] mask = {0x11, 0x22, 0x33, 0x44};
    int header = payload.length < 126 ? 2 : 4;
    byte[] frame = new byte[header + 4 + payload.length];
    frame[0] = (byte) 0x81;
    if (payload.length < 126) {
      frame[1] = (byte) (0x80 | payload.length);
    } else {
      frame[1] = (byte) (0x80 | 126);
      frame[2] = (byte) (payload.length >> 8);
      frame[3] = (byte) payload.length;
    }
    System.arraycopy(mask, 0, frame, header, 4);
    for (int i = 0; i < payload.length; i++) {
      frame[header + 4 + i] = (byte) (payload[i] ^ mask[i % 4]);
    }
    return frame;
  }
}
