package io.herald.notifier;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The TCP bridge's idle timeout, over a real Vert.x {@code NetClient} on loopback against a
 * notifier with a 1 s {@code idleTimeoutSeconds}: a producer that keeps publishing is never cut
 * as idle, and a quiet connection is told why before it is closed.
 */
class TcpBridgeIdleTest extends TcpBridgeFixture {

  private static final int IDLE_SECONDS = 1;

  /** One connection and the frames it received, in order. */
  private static final class Client {
    final NetSocket socket;
    final List<JsonObject> frames = Collections.synchronizedList(new ArrayList<>());
    final Promise<Void> closed = Promise.promise();
    volatile Consumer<JsonObject> onFrame = f -> { };

    Client(NetSocket socket) {
      this.socket = socket;
      RecordParser parser = RecordParser.newFixed(4);
      boolean[] header = {true};
      parser.handler(b -> {
        if (header[0]) {
          parser.fixedSizeMode(b.getInt(0));
        } else {
          parser.fixedSizeMode(4);
          JsonObject frame = new JsonObject(b);
          frames.add(frame);
          onFrame.accept(frame);
        }
        header[0] = !header[0];
      });
      socket.handler(parser);
      socket.closeHandler(v -> closed.tryComplete());
    }

    Future<Void> send(JsonObject message) {
      Buffer data = message.toBuffer();
      return socket.write(Buffer.buffer(4 + data.length()).appendInt(data.length()).appendBuffer(data));
    }
  }

  /** A notifier with a 1 s idle timeout; the credential's rate and byte limits off (they answer with err frames, not closes). */
  private NotifierVerticle idleNotifier() throws Exception {
    return deploy(new JsonObject().put("idleTimeoutSeconds", IDLE_SECONDS).put("replayTimeoutMillis", 500)
      .put("publishRatePerKey", 0).put("publishBytesPerSecondPerKey", 0));
  }

  private Client connect(NotifierVerticle n) throws Exception {
    return new Client(await(vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true))
      .connect(n.tcpBridgePort(), "127.0.0.1")));
  }

  @Test
  @DisplayName("a producer that publishes one frame after another for three idle timeouts stays connected and has every publish answered")
  void aPublisherThatKeepsPublishingIsNotCutAsIdle() throws Exception {
    NotifierVerticle n = idleNotifier();
    Client c = connect(n);
    // Publishes back to back (the next once the previous is answered) until a timer of three
    // idle timeouts says stop: the timer only ends the load, nothing is asserted on time.
    boolean[] stop = {false};
    vertx.setTimer(3_000L * IDLE_SECONDS, t -> stop[0] = true);
    int[] sent = {0};
    Promise<Void> done = Promise.promise();
    c.onFrame = frame -> {
      if (!"message".equals(frame.getString("type")) || c.frames.size() != sent[0]) {
        done.tryFail("unexpected frame " + frame.encode() + " after " + sent[0] + " publishes");
      } else if (stop[0]) {
        done.tryComplete();
      } else {
        c.send(send("herald.publish", KEY, publish("busy.producer", ++sent[0]), "r" + sent[0]));
      }
    };
    c.closed.future().onComplete(v -> done.tryFail("the bridge closed the connection after " + sent[0] + " publishes"));
    vertx.runOnContext(v -> c.send(send("herald.publish", KEY, publish("busy.producer", ++sent[0]), "r" + sent[0])));
    await(done.future().timeout(20, java.util.concurrent.TimeUnit.SECONDS));

    Promise<JsonObject> pong = Promise.promise();
    c.onFrame = pong::tryComplete;
    await(c.send(new JsonObject().put("type", "ping")));
    assertThat(await(pong.future()).getString("type")).isEqualTo("pong");
    assertThat(c.closed.future().isComplete()).as("closed by the bridge").isFalse();
    for (int i = 0; i < sent[0]; i++) {
      assertThat(c.frames.get(i).getString("address")).isEqualTo("r" + (i + 1));
    }
    assertThat(head("busy.producer")).isEqualTo(sent[0]);
    await(c.socket.close());
  }

  @Test
  @DisplayName("a connection silent both ways for the idle timeout gets an idle_timeout err frame, then is closed")
  void aQuietConnectionIsToldWhyBeforeItIsClosed() throws Exception {
    NotifierVerticle n = idleNotifier();
    Client c = connect(n);
    await(c.closed.future());
    assertThat(c.frames).hasSize(1);
    JsonObject err = c.frames.get(0);
    assertThat(err.getString("type")).as(err.encode()).isEqualTo("err");
    assertThat(err.getString("message")).startsWith("idle_timeout: ");
  }
}
