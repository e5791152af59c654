package io.herald.bench.jmh;

import io.herald.common.json.ExactJsonFactory;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonFactory;
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

import java.util.concurrent.TimeUnit;

/**
 * One JSON text to a {@link JsonObject}, as every {@code new JsonObject(text)} in the JVM does
 * (TCP bridge frames, clustered JsonObject messages, events read back from the Hazelcast store):
 * {@code exact} with Herald's codec ({@code Json.CODEC}), {@code vertx} with Vert.x's own.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class JsonCodecBench {

  /**
   * event: a stored event as the Hazelcast store keeps it (integers and strings); small: a
   * publish of a typical notification; large: about 4 KB of nested data with 40 decimals.
   */
  @Param({"event", "small", "large"})
  public String text;

  private String json;

  @Setup
  public void setup() {
    json = switch (text) {
      case "event" -> "{\"topic\":\"orders.eu\",\"type\":\"order.paid\",\"data\":\"{\\\"id\\\":42,\\\"amount\\\":19.99}\","
        + "\"json\":true,\"key\":\"order-42\",\"time\":1764921600000,\"seq\":0}";
      case "small" -> "{\"topic\":\"orders.eu\",\"type\":\"order.paid\",\"data\":{\"id\":42,\"status\":\"paid\",\"amount\":19.99,"
        + "\"user\":\"u-1234\"},\"id\":\"order-42\"}";
      default -> {
        StringBuilder sb = new StringBuilder("{\"topic\":\"orders.eu\",\"data\":{\"items\":[");
        for (int i = 0; i < 40; i++) {
          sb.append(i == 0 ? "" : ",").append("{\"sku\":\"caf\u00e9-").append(i).append("\",\"price\":").append(i).append(".25,\"qty\":")
            .append(i % 7).append(",\"tags\":[\"a\",\"b\"],\"ok\":true}");
        }
        yield sb.append("]}}").toString();
      }
    };
  }

  @Benchmark
  public Object exact() {
    return ExactJsonFactory.CODEC.fromString(json, java.util.Map.class);
  }

  @Benchmark
  public Object vertx() {
    return JacksonFactory.CODEC.fromString(json, java.util.Map.class);
  }
}
