package io.herald.notifier;

import io.herald.common.Addresses;
import io.herald.common.Event;
import io.herald.common.EventCodec;
import io.herald.common.Position;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayClient;
import io.herald.replay.ReplayOptions;
import io.herald.testsupport.RequiredTools;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.Jwt;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The TCP event-bus bridge on a real loopback socket, in front of the real notifier and replay
 * verticles: a Node.js producer speaking the bridge's framing, and raw-socket checks of what the
 * bridge refuses.
 */
@ExtendWith(VertxExtension.class)
class TcpBridgeTest {

  private static final String KEY = "tcp-publisher-key";
  private static final String ORDERS_KEY = "orders-only-key";
  private static final int MAX_BODY = 4096;

  private Vertx vertx;
  private NotifierVerticle notifier;
  private ReplayClient replay;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    EventCodec.register(vertx);
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions())));
    notifier = deploy(new JsonObject());
    replay = new ReplayClient(vertx, 5000);
  }

  private NotifierVerticle deploy(JsonObject changes) throws Exception {
    NotifierOptions options = new NotifierOptions(new JsonObject().put("port", 0)
      .put("tcpBridgeEnabled", true).put("tcpBridgePort", 0)
      .put("publisherKeys", List.of(KEY, ORDERS_KEY + "=orders.*|audit")).put("maxBodyBytes", MAX_BODY)
      .mergeIn(changes));
    NotifierVerticle v = new NotifierVerticle(options);
    await(vertx.deployVerticle(v));
    return v;
  }

  @Test
  @DisplayName("A Node.js producer publishes over the bridge: replies carry ids and seqs, events are stored in order")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void nodeProducer() throws Exception {
    RequiredTools.command("node", "install Node.js 18 or later");
    Path script = Path.of("src", "test", "node", "tcp-producer.mjs").toAbsolutePath();
    assertThat(script).exists();
    double before = counter("herald_events_published", "source", "tcp-bridge");
    int count = 25;
    Process p = new ProcessBuilder("node", script.toString(), Integer.toString(notifier.tcpBridgePort()), KEY, "tcp.orders",
      Integer.toString(count)).redirectErrorStream(false).start();
    String out;
    String err;
    try {
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the producer finished").isTrue();
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      p.destroyForcibly();
    }
    assertThat(p.exitValue()).as("exit status; stderr: " + err + "\nstdout: " + out).isZero();
    List<JsonObject> replies = out.lines().filter(l -> !l.isBlank()).map(JsonObject::new).toList();
    assertThat(replies).hasSize(count);
    for (int i = 1; i <= count; i++) {
      JsonObject r = replies.get(i - 1);
      assertThat(r.getString("type")).as(r.encode()).isEqualTo("message");
      assertThat(r.getString("address")).isEqualTo("reply-" + i);
      JsonObject e = r.getJsonObject("body").getJsonArray("events").getJsonObject(0);
      assertThat(e.getString("topic")).isEqualTo("tcp.orders");
      assertThat(e.getLong("seq")).isEqualTo(i);
      assertThat(e.getString("id")).isEqualTo(io.herald.common.Cursor.single("tcp.orders", e.getString("epoch"), i));
    }
    List<Event> stored = readAll("tcp.orders");
    assertThat(stored).hasSize(count);
    for (int i = 1; i <= count; i++) {
      Event e = stored.get(i - 1);
      assertThat(e.seq()).isEqualTo(i);
      assertThat(e.type()).isEqualTo("tcp.test");
      assertThat(new JsonObject(e.data()).getInteger("n")).as("stored in the order sent").isEqualTo(i);
    }
    assertThat(counter("herald_events_published", "source", "tcp-bridge")).isEqualTo(before + count);
  }

  @Test
  @DisplayName("A missing or wrong credential gets an err frame (401) and stores nothing")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void unauthorized() throws Exception {
    double before = counter("herald_rejections", "reason", "unauthorized");
    try (Bridge b = connect()) {
      b.send(new JsonObject().put("type", "send").put("address", Addresses.PUBLISH)
        .put("body", publish("secret", 1)).put("replyAddress", "r1"));
      assertUnauthorized(b.read(), "r1");
      b.send(send(Addresses.PUBLISH, "wrong-key-0000", publish("secret", 2), "r2"));
      assertUnauthorized(b.read(), "r2");
      b.send(new JsonObject().put("type", "send").put("address", Addresses.PUBLISH)
        .put("headers", new JsonObject().put("Authorization", "Basic " + KEY)).put("body", publish("secret", 3)).put("replyAddress", "r3"));
      assertUnauthorized(b.read(), "r3");
      // without a reply address the refusal is still told
      b.send(send(Addresses.PUBLISH, "wrong-key-0000", publish("secret", 4), null));
      JsonObject noReply = b.read();
      assertThat(noReply.getString("type")).isEqualTo("err");
      assertThat(noReply.getInteger("failureCode")).isEqualTo(401);
      assertThat(b.ping()).as("the connection stays usable").isTrue();
    }
    assertThat(head("secret")).as("nothing stored").isZero();
    assertThat(counter("herald_rejections", "reason", "unauthorized")).isEqualTo(before + 4);
  }

  @Test
  @DisplayName("A key restricted to orders.* publishes orders.eu but not billing (403), and the answer is the reply")
  void restrictedKey() throws Exception {
    try (Bridge b = connect()) {
      b.send(send(Addresses.PUBLISH, ORDERS_KEY, publish("orders.eu", 1), "ok"));
      JsonObject ok = b.read();
      assertThat(ok.getString("type")).as(ok.encode()).isEqualTo("message");
      assertThat(ok.getString("address")).isEqualTo("ok");
      assertThat(ok.getJsonObject("body").getJsonArray("events").getJsonObject(0).getLong("seq")).isEqualTo(1);

      b.send(send(Addresses.PUBLISH, ORDERS_KEY, publish("billing", 1), "denied"));
      JsonObject denied = b.read();
      assertThat(denied.getString("type")).isEqualTo("err");
      assertThat(denied.getString("address")).isEqualTo("denied");
      assertThat(denied.getInteger("failureCode")).isEqualTo(403);
      JsonObject error = new JsonObject(denied.getString("message"));
      assertThat(error.getString("error")).isEqualTo("access_denied");
      assertThat(error.getString("message")).contains("billing");

      // a batch with one topic outside the grant stores none of it
      b.send(send(Addresses.PUBLISH, ORDERS_KEY, new JsonObject().put("events", new JsonArray()
        .add(publish("orders.us", 1)).add(publish("billing", 2))), "batch"));
      assertThat(b.read().getInteger("failureCode")).isEqualTo(403);
    }
    assertThat(head("billing")).isZero();
    assertThat(head("orders.us")).isZero();
    assertThat(head("orders.eu")).isEqualTo(1);
  }

  @Test
  @DisplayName("Registering for a topic (or anything) is refused: nothing goes out but replies")
  void registerRefused() throws Exception {
    try (Bridge b = connect()) {
      b.send(new JsonObject().put("type", "register").put("address", Addresses.topic("news")));
      assertBlocked(b.read());
      b.send(new JsonObject().put("type", "register").put("address", Addresses.PUBLISH));
      assertBlocked(b.read());
      b.send(new JsonObject().put("type", "unregister").put("address", Addresses.topic("news")));
      assertBlocked(b.read());
      // an event on the topic does not reach this connection
      await(vertx.eventBus().request(Addresses.PUBLISH, publish("news", 1)));
      assertThat(b.ping()).as("next frame is the pong, not the topic's event").isTrue();
    }
  }

  @Test
  @DisplayName("Sends to other addresses, and publish frames, are refused even with a valid key")
  void otherAddressesRefused() throws Exception {
    JsonObject append = new JsonObject().put("events", new JsonArray().add(new JsonObject()
      .put("topic", "sneaky").put("type", "message").put("data", "x").put("json", false)));
    try (Bridge b = connect()) {
      b.send(send(Addresses.REPLAY_APPEND, KEY, append, "r1"));
      assertBlocked(b.read());
      b.send(send(Addresses.REPLAY_READ, KEY, new JsonObject().put("topic", "sneaky"), "r2"));
      assertBlocked(b.read());
      b.send(new JsonObject().put("type", "publish").put("address", Addresses.PUBLISH)
        .put("headers", new JsonObject().put("Authorization", "Bearer " + KEY)).put("body", publish("sneaky", 1)));
      assertBlocked(b.read());
      b.send(new JsonObject().put("type", "publish").put("address", Addresses.topic("sneaky")).put("body", "x"));
      assertBlocked(b.read());
      assertThat(b.ping()).isTrue();
    }
    assertThat(head("sneaky")).isZero();
  }

  @Test
  @DisplayName("Bad publishes get the publish API's errors as err frames")
  void badPublishes() throws Exception {
    try (Bridge b = connect()) {
      b.send(send(Addresses.PUBLISH, KEY, new JsonObject().put("topic", "bad topic").put("data", 1), "t"));
      JsonObject topic = b.read();
      assertThat(topic.getInteger("failureCode")).isEqualTo(400);
      assertThat(new JsonObject(topic.getString("message")).getString("error")).isEqualTo("invalid_topic");
      b.send(new JsonObject().put("type", "send").put("address", Addresses.PUBLISH)
        .put("headers", new JsonObject().put("Authorization", "Bearer " + KEY)).put("body", 42).put("replyAddress", "s"));
      JsonObject notObject = b.read();
      assertThat(notObject.getInteger("failureCode")).isEqualTo(400);
      assertThat(new JsonObject(notObject.getString("message")).getString("error")).isEqualTo("invalid_request");
      // A string body is the publish's JSON text: this one is not JSON.
      b.send(new JsonObject().put("type", "send").put("address", Addresses.PUBLISH)
        .put("headers", new JsonObject().put("Authorization", "Bearer " + KEY)).put("body", "text").put("replyAddress", "s"));
      JsonObject notJson = b.read();
      assertThat(notJson.getInteger("failureCode")).isEqualTo(400);
      assertThat(new JsonObject(notJson.getString("message")).getString("error")).isEqualTo("malformed_json");
      // X-Herald-Key works as on HTTP
      b.send(new JsonObject().put("type", "send").put("address", Addresses.PUBLISH)
        .put("headers", new JsonObject().put("X-Herald-Key", KEY)).put("body", publish("hk", 1)).put("replyAddress", "k"));
      assertThat(b.read().getString("type")).isEqualTo("message");
    }
  }

  @Test
  @DisplayName("A publisher JWT works over the bridge with its publish claim; pipelined frames keep their order")
  void jwtPublisher() throws Exception {
    String secret = "an-hs256-secret-of-at-least-32-characters";
    NotifierVerticle withJwt = deploy(new JsonObject().put("publisherJwtSecret", secret));
    long now = System.currentTimeMillis() / 1000;
    String token = hs256(new JsonObject().put("sub", "svc").put("exp", now + 600)
      .put("publish", new JsonArray().add("jobs.{sub}")), secret);
    String expired = hs256(new JsonObject().put("sub", "svc").put("exp", now - 600)
      .put("publish", new JsonArray().add("jobs.{sub}")), secret);
    try (Bridge b = connect(withJwt.tcpBridgePort())) {
      // pipelined: a valid token, an expired one, a denied topic, then valid ones again
      b.send(send(Addresses.PUBLISH, token, publish("jobs.svc", 1), "a"));
      b.send(send(Addresses.PUBLISH, expired, publish("jobs.svc", 99), "b"));
      b.send(send(Addresses.PUBLISH, token, publish("jobs.other", 99), "c"));
      for (int i = 2; i <= 10; i++) {
        b.send(send(Addresses.PUBLISH, token, publish("jobs.svc", i), "d" + i));
      }
      java.util.Map<String, JsonObject> replies = new java.util.HashMap<>();
      for (int i = 0; i < 12; i++) {
        JsonObject r = b.read();
        replies.put(r.getString("address"), r);
      }
      assertThat(replies.get("a").getString("type")).isEqualTo("message");
      assertThat(replies.get("b").getInteger("failureCode")).isEqualTo(401);
      assertThat(replies.get("c").getInteger("failureCode")).isEqualTo(403);
    }
    List<Event> stored = readAll("jobs.svc");
    assertThat(stored).extracting(e -> new JsonObject(e.data()).getInteger("n")).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    assertThat(head("jobs.other")).isZero();
  }

  private static String hs256(JsonObject claims, String secret) throws Exception {
    return Jwt.hs256(claims, secret);
  }


  @Test
  @DisplayName("A frame larger than maxBodyBytes gets payload_too_large and the connection is closed")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void oversizedFrame() throws Exception {
    double before = counter("herald_rejections", "reason", "payload_too_large");
    try (Bridge b = connect()) {
      JsonObject big = send(Addresses.PUBLISH, KEY, publish("big", 1).put("data", "y".repeat(MAX_BODY)), "r");
      b.send(big);
      JsonObject err = b.read();
      assertThat(err.getString("type")).isEqualTo("err");
      assertThat(err.getString("message")).startsWith("payload_too_large");
      assertThat(b.closed()).isTrue();
    }
    try (Bridge b = connect()) {
      // announces 2 GB and sends only the header: refused at once, nothing buffered
      b.out.writeInt(Integer.MAX_VALUE);
      b.out.flush();
      assertThat(b.read().getString("message")).startsWith("payload_too_large");
      assertThat(b.closed()).isTrue();
    }
    try (Bridge b = connect()) {
      b.out.writeInt(-1);
      b.out.flush();
      assertThat(b.read().getString("message")).startsWith("payload_too_large");
      assertThat(b.closed()).isTrue();
    }
    assertThat(head("big")).isZero();
    assertThat(counter("herald_rejections", "reason", "payload_too_large")).isEqualTo(before + 3);
    try (Bridge b = connect()) {
      // just under the limit, split over several writes, passes the guard
      JsonObject fits = send(Addresses.PUBLISH, KEY, publish("big", 1).put("data", "y".repeat(MAX_BODY - 300)), "r");
      byte[] data = fits.encode().getBytes(StandardCharsets.UTF_8);
      assertThat(data.length).isLessThanOrEqualTo(MAX_BODY);
      b.out.writeShort(0);
      b.out.flush();
      Thread.sleep(20);
      b.out.writeShort(data.length);
      b.out.write(data, 0, 100);
      b.out.flush();
      Thread.sleep(20);
      b.out.write(data, 100, data.length - 100);
      b.out.flush();
      assertThat(b.read().getString("type")).isEqualTo("message");
    }
    assertThat(head("big")).isEqualTo(1);
  }

  @Test
  @DisplayName("The publish rate per credential applies to the bridge, sharing the bucket with HTTP")
  void rateLimited() throws Exception {
    NotifierVerticle limited = deploy(new JsonObject().put("publishRatePerKey", 1).put("publishBurst", 3).put("maxBatchSize", 3));
    try (Bridge b = connect(limited.tcpBridgePort())) {
      for (int i = 1; i <= 3; i++) {
        b.send(send(Addresses.PUBLISH, KEY, publish("rated", i), "r" + i));
        assertThat(b.read().getString("type")).isEqualTo("message");
      }
      b.send(send(Addresses.PUBLISH, KEY, publish("rated", 4), "r4"));
      JsonObject refused = b.read();
      assertThat(refused.getInteger("failureCode")).isEqualTo(429);
      assertThat(new JsonObject(refused.getString("message")).getString("error")).isEqualTo("rate_limited");
    }
    assertThat(head("rated")).isEqualTo(3);
  }

  @Test
  @DisplayName("trustedProducers closes a connection from an address outside the list")
  @org.junit.jupiter.api.extension.ExtendWith(io.herald.testsupport.IsolatedMetricsExtension.class)
  void untrustedAddressClosed() throws Exception {
    double before = counter("herald_rejections", "reason", "access_denied");
    NotifierVerticle guarded = deploy(new JsonObject().put("trustedProducers", List.of("10.0.0.0/8")));
    try (Bridge b = connect(guarded.tcpBridgePort())) {
      JsonObject err = b.read();
      assertThat(err.getString("type")).isEqualTo("err");
      assertThat(err.getString("message")).startsWith("access_denied");
      assertThat(b.closed()).isTrue();
    }
    assertThat(counter("herald_rejections", "reason", "access_denied")).isEqualTo(before + 1);
    NotifierVerticle loopback = deploy(new JsonObject().put("trustedProducers", List.of("10.0.0.0/8", "127.0.0.1")));
    try (Bridge b = connect(loopback.tcpBridgePort())) {
      assertThat(b.ping()).isTrue();
    }
  }

  @Test
  @DisplayName("The bridge is off by default: no port is opened")
  void disabledByDefault() throws Exception {
    assertThat(new NotifierOptions().tcpBridgeEnabled()).isFalse();
    assertThat(new NotifierOptions().tcpBridgePort()).isEqualTo(NotifierOptions.DEFAULT_TCP_BRIDGE_PORT).isEqualTo(7001);
    assertThat(new NotifierOptions().tcpBridgeHost()).isEqualTo("127.0.0.1");
    boolean free;
    try (ServerSocket probe = new ServerSocket(NotifierOptions.DEFAULT_TCP_BRIDGE_PORT, 1, InetAddress.getLoopbackAddress())) {
      free = true;
    } catch (IOException e) {
      free = false;
    }
    NotifierVerticle off = new NotifierVerticle(new NotifierOptions(new JsonObject().put("port", 0)));
    await(vertx.deployVerticle(off));
    assertThat(off.tcpBridgePort()).isEqualTo(-1);
    if (free) {
      assertThatThrownBy(() -> new Socket().connect(new InetSocketAddress("127.0.0.1", NotifierOptions.DEFAULT_TCP_BRIDGE_PORT), 2000))
        .as("nothing listens on the default bridge port").isInstanceOf(ConnectException.class);
    }
  }

  @Test
  @DisplayName("Undeploying the notifier closes the bridge's port")
  void closedOnStop() throws Exception {
    NotifierVerticle v = deploy(new JsonObject());
    int port = v.tcpBridgePort();
    String id = v.deploymentID();
    try (Bridge b = connect(port)) {
      assertThat(b.ping()).isTrue();
    }
    await(vertx.undeploy(id));
    assertThatThrownBy(() -> new Socket().connect(new InetSocketAddress("127.0.0.1", port), 2000)).isInstanceOf(ConnectException.class);
  }

  @Test
  @DisplayName("Bad option values name their key")
  void badOptions() {
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("tcpBridgePort", 70000)))
      .hasMessageStartingWith("notifier.tcpBridgePort:");
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("tcpBridgeEnabled", "yes")))
      .hasMessageStartingWith("notifier.tcpBridgeEnabled:");
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("tcpBridgeHost", "")))
      .hasMessageStartingWith("notifier.tcpBridgeHost:");
    assertThatThrownBy(() -> new NotifierOptions(new JsonObject().put("tcpBridgeEnabled", true).put("port", 7001)))
      .hasMessageStartingWith("notifier.tcpBridgePort:");
    NotifierOptions on = new NotifierOptions(new JsonObject().put("tcpBridgeEnabled", "true").put("tcpBridgePort", 0));
    assertThat(on.toJson().getBoolean("tcpBridgeEnabled")).isTrue();
    assertThat(on.with(new JsonObject()).toJson()).isEqualTo(on.toJson());
  }

  // --- helpers ---

  private static void assertUnauthorized(JsonObject frame, String replyAddress) {
    assertThat(frame.getString("type")).as(frame.encode()).isEqualTo("err");
    assertThat(frame.getString("address")).isEqualTo(replyAddress);
    assertThat(frame.getString("sourceAddress")).isEqualTo(Addresses.PUBLISH);
    assertThat(frame.getInteger("failureCode")).isEqualTo(401);
    assertThat(new JsonObject(frame.getString("message")).getString("error")).isEqualTo("unauthorized");
  }

  private static void assertBlocked(JsonObject frame) {
    assertThat(frame.getString("type")).as(frame.encode()).isEqualTo("err");
    assertThat(frame.getString("message")).isEqualTo("blocked by bridgeEvent handler");
    assertThat(frame.containsKey("body")).isFalse();
  }

  @Test
  @DisplayName("A publish given as an object or as JSON text is stored digit for digit; a lone surrogate is refused with invalid_data")
  void exactData() throws Exception {
    try (Bridge b = connect()) {
      for (String value : ExactValues.VALUES) {
        b.send(new JsonObject().put("type", "send").put("address", Addresses.PUBLISH)
          .put("headers", new JsonObject().put("Authorization", "Bearer " + KEY))
          .put("body", "{\"topic\":\"tcp.exact\",\"data\":" + value + "}").put("replyAddress", "x"));
        assertThat(b.read().getString("type")).as(value).isEqualTo("message");
      }
      // The body as an object, in a raw frame: the bridge decodes it, Herald's JSON codec keeps its numbers.
      for (String value : ExactValues.VALUES) {
        b.out.write(ExactValues.frame("{\"type\":\"send\",\"address\":\"" + Addresses.PUBLISH + "\",\"headers\":{\"Authorization\":\"Bearer "
          + KEY + "\"},\"body\":{\"topic\":\"tcp.object\",\"data\":" + value + "},\"replyAddress\":\"o\"}"));
        b.out.flush();
        JsonObject answer = b.read();
        assertThat(answer.getString("type")).as(value + ": " + answer.encode()).isEqualTo("message");
      }
      b.send(new JsonObject().put("type", "send").put("address", Addresses.PUBLISH)
        .put("headers", new JsonObject().put("Authorization", "Bearer " + KEY))
        .put("body", "{\"topic\":\"tcp.exact\",\"data\":\"\\ud800\"}").put("replyAddress", "s"));
      assertThat(new JsonObject(b.read().getString("message")).getString("error")).isEqualTo("invalid_data");
      b.out.write(ExactValues.frame("{\"type\":\"send\",\"address\":\"" + Addresses.PUBLISH + "\",\"headers\":{\"Authorization\":\"Bearer "
        + KEY + "\"},\"body\":{\"topic\":\"tcp.object\",\"data\":{\"k\":[\"\\udfff\"]}},\"replyAddress\":\"s\"}"));
      b.out.flush();
      JsonObject surrogate = b.read();
      assertThat(surrogate.getInteger("failureCode")).isEqualTo(400);
      assertThat(new JsonObject(surrogate.getString("message")).getString("error")).isEqualTo("invalid_data");
      assertThat(new JsonObject(surrogate.getString("message")).getString("message")).contains("lone surrogate \\udfff");
    }
    assertThat(readAll("tcp.exact")).extracting(Event::data).containsExactlyElementsOf(ExactValues.VALUES);
    assertThat(readAll("tcp.object")).extracting(Event::data).containsExactlyElementsOf(ExactValues.VALUES);
  }

  @Test
  @DisplayName("A frame that is not one decodable JSON object gets an err frame (malformed_json, and why) and the connection is closed; nothing is stored")
  void undecodableFrame() throws Exception {
    String huge = "{\"type\":\"send\",\"address\":\"" + Addresses.PUBLISH + "\",\"headers\":{\"Authorization\":\"Bearer " + KEY
      + "\"},\"body\":{\"topic\":\"tcp.undecodable\",\"data\":1e99999999999},\"replyAddress\":\"u\"}";
    for (String bad : List.of("{\"type\":\"send\",", huge, "[1]", "{\"type\":\"ping\"} {\"type\":\"ping\"}", "", "nope")) {
      try (Bridge b = connect()) {
        // A good frame first on the same connection: answered as usual.
        assertThat(b.ping()).isTrue();
        b.out.write(ExactValues.frame(bad));
        b.out.flush();
        JsonObject err = b.read();
        assertThat(err.getString("type")).as(bad).isEqualTo("err");
        assertThat(err.getString("message")).as(bad).startsWith("malformed_json: ");
        assertThat(b.in.read()).as("closed after %s", bad).isEqualTo(-1);
      }
    }
    assertThat(head("tcp.undecodable")).isZero();
  }

  @Test
  @DisplayName("A frame that is not UTF-8 gets an err frame and the connection is closed; the character split across TCP reads before it is fine")
  void notUtf8() throws Exception {
    try (Bridge b = connect()) {
      byte[] ok = ExactValues.frame("{\"type\":\"send\",\"address\":\"" + Addresses.PUBLISH + "\",\"headers\":{\"Authorization\":\"Bearer "
        + KEY + "\"},\"body\":{\"topic\":\"tcp.utf8\",\"data\":\"caf\u00e9 \ud83d\ude00\"},\"replyAddress\":\"ok\"}");
      int split = ok.length - 8; // inside the 4-byte emoji
      b.out.write(ok, 0, split);
      b.out.flush();
      b.out.write(ok, split, ok.length - split);
      b.out.flush();
      assertThat(b.read().getString("type")).isEqualTo("message");
      byte[] bad = ExactValues.frame("{\"type\":\"send\",\"address\":\"" + Addresses.PUBLISH + "\",\"headers\":{\"Authorization\":\"Bearer "
        + KEY + "\"},\"body\":{\"topic\":\"tcp.utf8\",\"data\":\"caf\u00e9\"},\"replyAddress\":\"bad\"}");
      int e = new String(bad, StandardCharsets.ISO_8859_1).indexOf("caf") + 3;
      bad[e] = (byte) 0xe9; // Latin-1 é: C3 A9 becomes E9 A9
      b.out.write(bad);
      b.out.flush();
      JsonObject err = b.read();
      assertThat(err.getString("type")).isEqualTo("err");
      assertThat(err.getString("message")).startsWith("malformed_json").contains("UTF-8");
      assertThat(b.in.read()).as("closed").isEqualTo(-1);
    }
    assertThat(readAll("tcp.utf8")).extracting(Event::data).containsExactly("caf\u00e9 \ud83d\ude00");
  }

  private static JsonObject publish(String topic, int n) {
    return new JsonObject().put("topic", topic).put("type", "tcp.test").put("data", new JsonObject().put("n", n));
  }

  private static JsonObject send(String address, String key, JsonObject body, String replyAddress) {
    JsonObject m = new JsonObject().put("type", "send").put("address", address)
      .put("headers", new JsonObject().put("Authorization", "Bearer " + key)).put("body", body);
    if (replyAddress != null) {
      m.put("replyAddress", replyAddress);
    }
    return m;
  }

  private Bridge connect() throws IOException {
    return connect(notifier.tcpBridgePort());
  }

  private static Bridge connect(int port) throws IOException {
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

  private long head(String topic) throws Exception {
    return await(replay.heads(List.of(topic))).get(topic).seq();
  }

  private List<Event> readAll(String topic) throws Exception {
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

  private static double counter(String name, String tag, String value) {
    var c = HeraldMetrics.get().registry().find(name).tag(tag, value).counter();
    return c == null ? 0 : c.count();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return io.herald.testsupport.Diagnostics.get(f.toCompletionStage().toCompletableFuture(), 10, "a request");
  }
}
