package io.herald.notifier;

import io.herald.common.Addresses;
import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayClient;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.Jwt;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shared setup of the TCP event-bus bridge tests: the real notifier and replay verticles on
 * loopback, a blocking client of the bridge's framing ({@link Bridge}), and helpers that read back
 * what was stored.
 */
@ExtendWith(VertxExtension.class)
abstract class TcpBridgeFixture {

  static final String KEY = "tcp-publisher-key";
  static final String ORDERS_KEY = "orders-only-key";
  static final int MAX_BODY = 4096;

  Vertx vertx;
  NotifierVerticle notifier;
  ReplayClient replay;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    EventCodec.register(vertx);
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    notifier = deploy(new JsonObject());
    replay = new ReplayClient(vertx, 5000);
  }

  NotifierVerticle deploy(JsonObject changes) throws Exception {
    NotifierOptions options = new NotifierOptions(new JsonObject().put("port", 0)
      .put("tcpBridgeEnabled", true).put("tcpBridgePort", 0)
      .put("publisherKeys", List.of(KEY, ORDERS_KEY + "=orders.*|audit")).put("maxBodyBytes", MAX_BODY)
      .mergeIn(changes));
    NotifierVerticle v = new NotifierVerticle(options);
    await(vertx.deployVerticle(v));
    return v;
  }

  static String hs256(JsonObject claims, String secret) throws Exception {
    return Jwt.hs256(claims, secret);
  }


  static void assertUnauthorized(JsonObject frame, String replyAddress) {
    assertThat(frame.getString("type")).as(frame.encode()).isEqualTo("err");
    assertThat(frame.getString("address")).isEqualTo(replyAddress);
    assertThat(frame.getString("sourceAddress")).isEqualTo(Addresses.PUBLISH);
    assertThat(frame.getInteger("failureCode")).isEqualTo(401);
    assertThat(new JsonObject(frame.getString("message")).getString("error")).isEqualTo("unauthorized");
  }

  static void assertBlocked(JsonObject frame) {
    assertThat(frame.getString("type")).as(frame.encode()).isEqualTo("err");
    assertThat(frame.getString("message")).isEqualTo("blocked by bridgeEvent handler");
    assertThat(frame.containsKey("body")).isFalse();
  }

  static JsonObject publish(String topic, int n) {
    return new JsonObject().put("topic", topic).put("type", "tcp.test").put("data", new JsonObject().put("n", n));
  }

  static JsonObject send(String address, String key, JsonObject body, String replyAddress) {
    JsonObject m = new JsonObject().put("type", "send").put("address", address)
      .put("headers", new JsonObject().put("Authorization", "Bearer " + key)).put("body", body);
    if (replyAddress != null) {
      m.put("replyAddress", replyAddress);
    }
    return m;
  }

  Bridge connect() throws IOException {
    return connect(notifier.tcpBridgePort());
  }

  static Bridge connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(5000);
    return new Bridge(s);
  }

  /** A blocking client of the bridge's framing. */
  static final class Bridge implements AutoCloseable {
    final Socket socket;
    final DataOutputStream out;
    final DataInputStream in;

    Bridge(Socket socket) throws IOException {
      this.socket = socket;
      this.out = new DataOutputStream(socket.getOutputStream());
      this.in = new DataInputStream(socket.getInputStream());
    }

    void send(JsonObject message) throws IOException {
      byte[] data = message.encode().getBytes(StandardCharsets.UTF_8);
      out.writeInt(data.length);
      out.write(data);
      out.flush();
    }

    JsonObject read() throws IOException {
      int length = in.readInt();
      byte[] data = new byte[length];
      in.readFully(data);
      return new JsonObject(new String(data, StandardCharsets.UTF_8));
    }

    /** Sends a ping; true when the next frame is the pong. */
    boolean ping() throws IOException {
      send(new JsonObject().put("type", "ping"));
      JsonObject next = read();
      assertThat(next.getString("type")).as(next.encode()).isEqualTo("pong");
      return true;
    }

    /** True when the server closes the connection (EOF or reset) within the read timeout. */
    boolean closed() throws IOException {
      try {
        InputStream raw = socket.getInputStream();
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        int n;
        while ((n = raw.read(buf)) >= 0) {
          rest.write(buf, 0, n);
        }
        return true;
      } catch (SocketTimeoutException e) {
        return false;
      } catch (SocketException | EOFException e) {
        return true; // reset: closed with unread input
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  long head(String topic) throws Exception {
    return await(replay.heads(List.of(topic))).get(topic).seq();
  }

  List<Event> readAll(String topic) throws Exception {
    Position head = await(replay.heads(List.of(topic))).get(topic);
    List<Event> out = new ArrayList<>();
    Position at = new Position(head.epoch(), 0);
    while (true) {
      ReadResult r = await(replay.read(topic, at, 1000));
      assertThat(r.reset()).isFalse();
      out.addAll(r.events());
      if (r.events().isEmpty() || r.complete()) {
        return out;
      }
      at = new Position(head.epoch(), r.events().get(r.events().size() - 1).seq());
    }
  }

  static double counter(String name, String tag, String value) {
    var c = HeraldMetrics.get().registry().find(name).tag(tag, value).counter();
    return c == null ? 0 : c.count();
  }

  static <T> T await(Future<T> f) throws Exception {
    return io.herald.testsupport.Diagnostics.get(f.toCompletionStage().toCompletableFuture(), 10, "a request");
  }
}
