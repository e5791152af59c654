package io.herald.notifier;

import io.vertx.core.http.HttpServerRequest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Publisher keys: kept only as SHA-256 digests, compared in constant time against every key
 * (no early exit), from {@code Authorization: Bearer <key>} or {@code X-Herald-Key: <key>}.
 */
public final class PublisherAuth {

  private final byte[][] digests;

  public PublisherAuth(List<String> keys) {
    digests = new byte[keys.size()][];
    for (int i = 0; i < keys.size(); i++) {
      digests[i] = sha256(keys.get(i));
    }
  }

  /** True when the request carries a configured key. */
  public boolean allows(HttpServerRequest request) {
    String key = request.getHeader("X-Herald-Key");
    String auth = request.getHeader("Authorization");
    if (key == null && auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      key = auth.substring(7).trim();
    }
    return key != null && matches(key);
  }

  /** Constant-time membership test. */
  public boolean matches(String key) {
    byte[] d = sha256(key);
    boolean found = false;
    for (byte[] digest : digests) {
      found |= MessageDigest.isEqual(d, digest);
    }
    return found;
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
