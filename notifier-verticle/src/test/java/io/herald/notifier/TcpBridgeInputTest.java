package io.herald.notifier;

import io.herald.common.Addresses;
import io.herald.common.Event;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad and exact input on the TCP event-bus bridge: the publish API's errors as err frames, frames
 * over maxBodyBytes, undecodable or non-UTF-8 frames (refused and closed), and data stored digit for
 * digit.
 */
class TcpBridgeInputTest extends TcpBridgeFixture {

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
}
