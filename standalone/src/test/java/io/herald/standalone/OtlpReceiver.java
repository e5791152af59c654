package io.herald.standalone;

import com.sun.net.httpserver.HttpServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A real OTLP/HTTP trace receiver for tests: accepts {@code POST /v1/traces} with an
 * {@code ExportTraceServiceRequest} in protobuf (what the OpenTelemetry SDK's exporter sends),
 * decodes the few fields tests check by hand (no generated classes: the wire format is small)
 * and keeps the spans. Answers 200 with an empty {@code ExportTraceServiceResponse}.
 */
final class OtlpReceiver implements AutoCloseable {

  /** One received span with its resource's attributes. */
  record Span(String traceId, String spanId, String parentSpanId, String name, int kind,
              Map<String, Object> attributes, Map<String, Object> resource) {
    String service() {
      return (String) resource.get("service.name");
    }
  }

  private final HttpServer server;
  private final List<Span> spans = new ArrayList<>();
  private int requests;

  OtlpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/traces", exchange -> {
      try (exchange) {
        byte[] body = readAll(exchange.getRequestBody());
        if (!"POST".equals(exchange.getRequestMethod())) {
          exchange.sendResponseHeaders(405, -1);
          return;
        }
        List<Span> decoded = decodeRequest(body);
        synchronized (this) {
          requests++;
          spans.addAll(decoded);
          notifyAll();
        }
        exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, -1);
      }
    });
    server.start();
  }

  /** The base URL to configure as {@code otlpEndpoint}. */
  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  synchronized List<Span> spans() {
    return List.copyOf(spans);
  }

  synchronized int requests() {
    return requests;
  }

  /** Waits until the spans received satisfy {@code condition}; returns them (or the last seen after the deadline). */
  synchronized List<Span> await(Predicate<List<Span>> condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.test(spans)) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        break;
      }
      wait(left);
    }
    return List.copyOf(spans);
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }

  // --- protobuf: ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }

  static List<Span> decodeRequest(byte[] body) {
    List<Span> out = new ArrayList<>();
    for (Field f : fields(body)) {
      if (f.number == 1) {
        resourceSpans(f.bytes, out);
      }
    }
    return out;
  }

  /** ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; } */
  private static void resourceSpans(byte[] b, List<Span> out) {
    Map<String, Object> resource = new HashMap<>();
    List<byte[]> scopes = new ArrayList<>();
    for (Field f : fields(b)) {
      if (f.number == 1) {
        for (Field a : fields(f.bytes)) { // Resource { repeated KeyValue attributes = 1; }
          if (a.number == 1) {
            keyValue(a.bytes, resource);
          }
        }
      } else if (f.number == 2) {
        scopes.add(f.bytes);
      }
    }
    for (byte[] scope : scopes) {
      for (Field f : fields(scope)) { // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
        if (f.number == 2) {
          out.add(span(f.bytes, resource));
        }
      }
    }
  }

  /** Span { trace_id = 1; span_id = 2; trace_state = 3; parent_span_id = 4; name = 5; kind = 6; ...; attributes = 9; } */
  private static Span span(byte[] b, Map<String, Object> resource) {
    String traceId = null;
    String spanId = null;
    String parent = "";
    String name = null;
    int kind = 0;
    Map<String, Object> attributes = new HashMap<>();
    for (Field f : fields(b)) {
      switch (f.number) {
        case 1 -> traceId = HexFormat.of().formatHex(f.bytes);
        case 2 -> spanId = HexFormat.of().formatHex(f.bytes);
        case 4 -> parent = HexFormat.of().formatHex(f.bytes);
        case 5 -> name = new String(f.bytes, StandardCharsets.UTF_8);
        case 6 -> kind = (int) f.varint;
        case 9 -> keyValue(f.bytes, attributes);
        default -> {
        }
      }
    }
    return new Span(traceId, spanId, parent, name, kind, attributes, resource);
  }

  /** KeyValue { string key = 1; AnyValue value = 2; }, AnyValue { string = 1; bool = 2; int = 3; double = 4; } */
  private static void keyValue(byte[] b, Map<String, Object> into) {
    String key = null;
    Object value = null;
    for (Field f : fields(b)) {
      if (f.number == 1) {
        key = new String(f.bytes, StandardCharsets.UTF_8);
      } else if (f.number == 2) {
        for (Field v : fields(f.bytes)) {
          value = switch (v.number) {
            case 1 -> new String(v.bytes, StandardCharsets.UTF_8);
            case 2 -> v.varint != 0;
            case 3 -> v.varint;
            case 4 -> Double.longBitsToDouble(v.varint);
            default -> "(unsupported)";
          };
        }
      }
    }
    into.put(key, value);
  }

  /** One field of a message: its number and its value (varint or fixed as a long, length-delimited as bytes). */
  private record Field(int number, long varint, byte[] bytes) {
  }

  private static List<Field> fields(byte[] b) {
    List<Field> out = new ArrayList<>();
    int[] p = {0};
    while (p[0] < b.length) {
      long tag = varint(b, p);
      int number = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      switch (type) {
        case 0 -> out.add(new Field(number, varint(b, p), null));
        case 1 -> {
          long v = 0;
          for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[p[0] + i] & 0xff);
          }
          p[0] += 8;
          out.add(new Field(number, v, null));
        }
        case 2 -> {
          int len = (int) varint(b, p);
          byte[] bytes = java.util.Arrays.copyOfRange(b, p[0], p[0] + len);
          p[0] += len;
          out.add(new Field(number, 0, bytes));
        }
        case 5 -> {
          p[0] += 4;
          out.add(new Field(number, 0, null));
        }
        default -> throw new IllegalArgumentException("protobuf wire type " + type + " at " + p[0]);
      }
    }
    return out;
  }

  private static long varint(byte[] b, int[] p) {
    long v = 0;
    int shift = 0;
    while (true) {
      byte x = b[p[0]++];
      v |= (long) (x & 0x7f) << shift;
      if ((x & 0x80) == 0) {
        return v;
      }
      shift += 7;
    }
  }
}
