package io.herald.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Publishes over Herald's TCP event-bus bridge ({@code notifier.tcpBridgeEnabled}) as a non-JVM
 * producer would: frames of a 4-byte big-endian length and UTF-8 JSON,
 * {@code {"type":"send","address":"herald.publish","headers":{"Authorization":"Bearer <key>"},
 * "replyAddress":"r<n>","body":<publish body>}}, on a few kept-alive connections (one per lane),
 * pipelined: a request does not wait for the previous answer. Answers are matched by their reply
 * address ({@code message}: stored; {@code err}: refused). A {@code ping} on a connection idle
 * for 10 s keeps it from the bridge's idle timeout while the streams connect.
 *
 * <p>The channel holds its {@link NetClient} until {@link #close}: in Vert.x 5 a client created
 * outside a verticle is shut down by a cleaner once it becomes unreachable, and its connections
 * with it (30 s after the garbage collection that found it). Kept only in a local variable, it
 * closed every connection at once some 15 to 25 s into a run (run 24's "bridge closures").
 */
final class BridgeChannel implements PublishChannel {

  private final NetClient client;
  private final NetSocket[] sockets;
  private final String prefix;
  private final AtomicLong ids = new AtomicLong();
  private final Map<String, Promise<Void>> pending = new ConcurrentHashMap<>();
  /** Error frames that answered no request of ours (a refused frame, a closed connection). */
  final LongAdder strayErrors = new LongAdder();
  private final Vertx vertx;
  private final long pinger;
  private volatile boolean closing;
  /** nanoTime of each connection's last request (racy reads are fine: it only delays a ping). */
  private final long[] lastSend;

  private BridgeChannel(Vertx vertx, NetClient client, NetSocket[] sockets, String key) {
    this.vertx = vertx;
    this.client = client;
    this.sockets = sockets;
    this.prefix = "{\"type\":\"send\",\"address\":\"herald.publish\",\"headers\":{\"Authorization\":\"Bearer " + key
      + "\"},\"replyAddress\":\"";
    Buffer ping = frame("{\"type\":\"ping\"}");
    this.lastSend = new long[sockets.length];
    // Only on a connection with no request for 10 s: requests keep a busy one open already.
    this.pinger = vertx.setPeriodic(10_000, t -> {
      long now = System.nanoTime();
      for (int i = 0; i < sockets.length; i++) {
        if (now - lastSend[i] > 10_000_000_000L) sockets[i].write(ping.copy());
      }
    });
  }

  /** Opens {@code lanes} connections to the bridge at {@code host:port}. */
  static Future<BridgeChannel> connect(Vertx vertx, String host, int port, int lanes, String key) {
    var client = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true).setConnectTimeout(10_000));
    List<Future<NetSocket>> all = new ArrayList<>();
    for (int i = 0; i < lanes; i++) all.add(client.connect(port, host));
    return Future.all(all).map(cf -> {
      NetSocket[] sockets = new NetSocket[lanes];
      for (int i = 0; i < lanes; i++) sockets[i] = cf.resultAt(i);
      BridgeChannel ch = new BridgeChannel(vertx, client, sockets, key);
      for (NetSocket s : sockets) ch.read(s);
      return ch;
    });
  }

  private void read(NetSocket socket) {
    RecordParser parser = RecordParser.newFixed(4);
    boolean[] header = {true};
    parser.handler(b -> {
      if (header[0]) {
        parser.fixedSizeMode(b.getInt(0));
        header[0] = false;
      } else {
        parser.fixedSizeMode(4);
        header[0] = true;
        answer(new JsonObject(b));
      }
    });
    socket.handler(parser);
    socket.exceptionHandler(t -> System.err.println("TCP bridge connection " + socket.localAddress() + ": " + t));
    socket.closeHandler(v -> {
      if (!closing) {
        System.err.println("TCP bridge connection " + socket.localAddress() + " closed by the server; " + pending.size() + " requests unanswered");
      }
      // Anything still waiting will not be answered: fail it rather than wait for the drain timeout.
      pending.values().forEach(p -> p.tryFail("the TCP bridge closed the connection"));
    });
  }

  private void answer(JsonObject frame) {
    String type = frame.getString("type", "");
    if ("pong".equals(type)) return;
    Promise<Void> p = frame.getValue("address") instanceof String a ? pending.remove(a) : null;
    if (p == null) {
      strayErrors.increment();
      System.err.println("TCP bridge: an answer to no pending request: " + frame.encode());
      return;
    }
    if ("message".equals(type)) {
      p.tryComplete();
    } else {
      p.tryFail(frame.getValue("failureCode") + " " + frame.getValue("message"));
    }
  }

  @Override
  public Future<Void> send(int lane, String body) {
    String id = "r" + ids.incrementAndGet();
    Promise<Void> p = Promise.promise();
    pending.put(id, p);
    lastSend[lane % sockets.length] = System.nanoTime();
    sockets[lane % sockets.length].write(frame(prefix + id + "\",\"body\":" + body + "}"))
      .onFailure(t -> {
        pending.remove(id);
        p.tryFail(t);
      });
    return p.future();
  }

  private static Buffer frame(String json) {
    byte[] data = json.getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer(4 + data.length).appendInt(data.length).appendBytes(data);
  }

  @Override
  public Future<Void> close() {
    closing = true;
    vertx.cancelTimer(pinger);
    List<Future<Void>> all = new ArrayList<>();
    for (NetSocket s : sockets) all.add(s.close());
    return Future.join(all).transform(ar -> client.close());
  }
}
