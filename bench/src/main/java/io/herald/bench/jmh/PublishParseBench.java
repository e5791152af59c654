package io.herald.bench.jmh;

import io.herald.common.EventDraft;
import io.herald.notifier.NotifierOptions;
import io.herald.notifier.PublishParser;
import io.vertx.core.json.jackson.JacksonFactory;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One publish body's bytes to drafts: {@code exact} is the notifier's path (strict UTF-8, one
 * streaming pass that copies data with its numbers as written); {@code lossy} is the path it
 * replaced (lenient UTF-8, a Vert.x tree with doubles, the data encoded again).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PublishParseBench {

  /** small: a typical notification; large: about 4 KB of nested data with decimals and non-ASCII text. */
  @Param({"small", "large"})
  public String body;

  private byte[] bytes;
  private PublishParser parser;

  @Setup
  public void setup() {
    String data;
    if (body.equals("small")) {
      data = "{\"id\":42,\"status\":\"paid\",\"amount\":19.99,\"user\":\"u-1234\"}";
    } else {
      StringBuilder sb = new StringBuilder("{\"items\":[");
      for (int i = 0; i < 40; i++) {
        sb.append(i == 0 ? "" : ",").append("{\"sku\":\"caf\u00e9-").append(i).append("\",\"price\":").append(i).append(".25,\"qty\":")
          .append(i % 7).append(",\"tags\":[\"a\",\"b\"],\"ok\":true}");
      }
      data = sb.append("]}").toString();
    }
    bytes = ("{\"topic\":\"orders.eu\",\"type\":\"order.paid\",\"data\":" + data + ",\"id\":\"order-42\"}")
      .getBytes(StandardCharsets.UTF_8);
    parser = new PublishParser(new NotifierOptions(new JsonObject()));
  }

  @Benchmark
  public List<EventDraft> exact() {
    return parser.single(PublishParser.object(bytes));
  }

  @Benchmark
  public String lossy() {
    // Vert.x's own codec: Json.CODEC is Herald's exact one since ExactJsonFactory.
    JsonObject o = (JsonObject) JacksonFactory.CODEC.fromString(new String(bytes, StandardCharsets.UTF_8));
    return JacksonFactory.CODEC.toString(o.getValue("data")) + o.getString("topic");
  }
}
