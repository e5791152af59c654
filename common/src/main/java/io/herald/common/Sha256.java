package io.herald.common;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256, the one digest Herald uses: hashed publisher and presence keys ({@code sha256:<hex>}),
 * stable short stand-ins for long names, the ETags of the gateway's assets. Every JDK has it.
 */
public final class Sha256 {

  /**
   * One digest per thread, reset by every {@code digest}: {@code MessageDigest.getInstance} looks
   * the algorithm up among the security providers on each call (a synchronized lookup and a
   * reflective construction), which showed in the publish path's profile, since every publish
   * request and every subscriber token is hashed for a constant-time comparison.
   */
  private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  });

  private Sha256() {
  }

  /** The SHA-256 of {@code bytes}. */
  public static byte[] of(byte[] bytes) {
    return DIGEST.get().digest(bytes);
  }

  /** The SHA-256 of {@code s} in UTF-8. */
  public static byte[] of(String s) {
    return of(s.getBytes(StandardCharsets.UTF_8));
  }

  /** The SHA-256 of {@code s} in UTF-8, as 64 lowercase hex digits. */
  public static String hex(String s) {
    return HexFormat.of().formatHex(of(s));
  }
}
