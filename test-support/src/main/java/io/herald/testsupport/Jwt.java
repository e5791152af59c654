package io.herald.testsupport;

import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;

/**
 * Signs test JWTs the way an identity provider does: base64url header and claims, signed with
 * HS256 (a shared secret) or with a private key. Tokens are compact and unpadded, as RFC 7519
 * wants; the header is written exactly as given, so tests can sign odd headers on purpose.
 */
public final class Jwt {

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private Jwt() {
  }

  /** HS256 with {@code typ: JWT}. */
  public static String hs256(JsonObject claims, String secret) {
    return hs256(claims, secret.getBytes(StandardCharsets.UTF_8), "JWT");
  }

  /** HS256 with {@code typ: JWT} and a key of raw bytes. */
  public static String hs256(JsonObject claims, byte[] key) {
    return hs256(claims, key, "JWT");
  }

  /** HS256 with the given {@code typ} (Mercure's tokens, for one, may say something else). */
  public static String hs256(JsonObject claims, String secret, String typ) {
    return hs256(claims, secret.getBytes(StandardCharsets.UTF_8), typ);
  }

  private static String hs256(JsonObject claims, byte[] key, String typ) {
    String input = b64("{\"alg\":\"HS256\",\"typ\":\"" + typ + "\"}") + "." + b64(claims.encode());
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return input + "." + B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** RS256 with {@code typ: JWT}. */
  public static String rs256(JsonObject claims, PrivateKey key) {
    return sign("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims, key, "SHA256withRSA");
  }

  /**
   * {@code header} and {@code claims} signed with {@code key} by the JCA {@code algorithm}
   * ({@code SHA256withRSA}, ...), the signature as the JCA gives it.
   */
  public static String sign(String header, JsonObject claims, PrivateKey key, String algorithm) {
    String input = b64(header) + "." + b64(claims.encode());
    try {
      Signature s = Signature.getInstance(algorithm);
      s.initSign(key);
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + B64.encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(String s) {
    return B64.encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
