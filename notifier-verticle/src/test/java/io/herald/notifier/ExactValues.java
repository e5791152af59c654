package io.herald.notifier;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** JSON values a double would change, which every ingest must store exactly as written. */
final class ExactValues {

  /** 36 digits of pi. */
  static final String PI = "3.14159265358979323846264338327950288";

  static final List<String> VALUES = List.of(
    PI, "1e999999", "1e-999999", "123456789012345678901234567890", "-0", "1.0", "1",
    "[[1.0,[-0,[" + PI + "]]],[],{\"big\":1E+400}]");

  private ExactValues() {
  }

  /** A TCP bridge frame: 4-byte length, then the text as UTF-8 (a raw frame, not re-encoded by Vert.x). */
  static byte[] frame(String json) {
    byte[] data = json.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + data.length).putInt(data.length).put(data).array();
  }
}
