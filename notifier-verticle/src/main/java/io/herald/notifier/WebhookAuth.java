package io.herald.notifier;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.vertx.core.buffer.Buffer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Signed webhooks ({@code POST /webhook/<name>}) for senders that cannot hold a publisher key
 * in a header but can sign (n8n, Zapier-like tools, your own services). A delivery carries
 * {@code X-Herald-Timestamp: <unix seconds>} and
 * {@code X-Herald-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">} keyed with
 * the webhook's secret from {@code notifier.webhookSecrets}.
 *
 * <p>Rejected (401): a missing or malformed header, a timestamp more than
 * {@code notifier.webhookToleranceSeconds} away from now, a wrong signature (compared in
 * constant time), and a replay: a signature already accepted while its timestamp is within the
 * tolerance. Accepted signatures are remembered in a bounded map (at most
 * {@link #MAX_REMEMBERED}); when it is full of unexpired entries new deliveries get 429 rather
 * than weakening replay protection. The memory is per process: with several notifiers behind a
 * load balancer, also give events an {@code id} so a replay reaching another notifier is stored
 * only once. Thread-safe.
 */
public final class WebhookAuth {

  /** Most signatures remembered for replay detection. */
  public static final int MAX_REMEMBERED = 100_000;

  private final Map<String, byte[]> secrets;
  private final long toleranceSeconds;
  private final LongSupplier clockSeconds;
  private final int maxRemembered;
  /** signature key → unix second after which the timestamp check alone rejects it; insertion order. */
  private final LinkedHashMap<String, Long> seen = new LinkedHashMap<>();

  public WebhookAuth(Map<String, String> secrets, long toleranceSeconds) {
    this(secrets, toleranceSeconds, () -> System.currentTimeMillis() / 1000, MAX_REMEMBERED);
  }

  WebhookAuth(Map<String, String> secrets, long toleranceSeconds, LongSupplier clockSeconds, int maxRemembered) {
    Map<String, byte[]> s = new LinkedHashMap<>();
    secrets.forEach((name, secret) -> s.put(name, secret.getBytes(StandardCharsets.UTF_8)));
    this.secrets = Map.copyOf(s);
    this.toleranceSeconds = toleranceSeconds;
    this.clockSeconds = clockSeconds;
    this.maxRemembered = maxRemembered;
  }

  /** True when a webhook of that name is configured. */
  public boolean exists(String name) {
    return secrets.containsKey(name);
  }

  /**
   * Verifies one delivery and remembers its signature; returns the key to {@link #forget} if
   * the delivery could not be stored for a reason the sender may retry (5xx). Throws
   * {@code unauthorized}, {@code not_found} or {@code rate_limited}.
   */
  public String verify(String name, String timestampHeader, String signatureHeader, Buffer body) {
    byte[] secret = secrets.get(name);
    if (secret == null) {
      throw new HeraldException(ErrorCode.NOT_FOUND, "no such webhook: " + name);
    }
    if (timestampHeader == null || !timestampHeader.matches("[0-9]{1,12}")) {
      throw unauthorized("X-Herald-Timestamp must be the unix time in seconds");
    }
    long ts = Long.parseLong(timestampHeader);
    long now = clockSeconds.getAsLong();
    if (Math.abs(now - ts) > toleranceSeconds) {
      throw unauthorized("X-Herald-Timestamp is more than " + toleranceSeconds + " seconds away from the server's clock");
    }
    if (signatureHeader == null || !signatureHeader.startsWith("sha256=") || !signatureHeader.substring(7).matches("[0-9a-fA-F]{64}")) {
      throw unauthorized("X-Herald-Signature must be sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">");
    }
    byte[] given = HexFormat.of().parseHex(signatureHeader.substring(7));
    byte[] expected = hmac(secret, timestampHeader, body);
    if (!MessageDigest.isEqual(given, expected)) {
      throw unauthorized("the signature does not match");
    }
    String key = name + ":" + HexFormat.of().formatHex(expected);
    synchronized (seen) {
      evictExpired(now);
      if (seen.containsKey(key)) {
        throw unauthorized("this delivery was already received (replay)");
      }
      if (seen.size() >= maxRemembered) {
        seen.values().removeIf(expiry -> expiry < now);
      }
      if (seen.size() >= maxRemembered) {
        throw new HeraldException(ErrorCode.RATE_LIMITED, "too many webhook deliveries; retry later");
      }
      seen.put(key, ts + toleranceSeconds);
    }
    return key;
  }

  /** Forgets an accepted signature, so the sender may retry a delivery that failed on our side. */
  public void forget(String key) {
    synchronized (seen) {
      seen.remove(key);
    }
  }

  /** Signatures currently remembered. */
  int remembered() {
    synchronized (seen) {
      return seen.size();
    }
  }

  private void evictExpired(long now) {
    // Insertion order is close to expiry order (timestamps differ by at most the tolerance), so
    // stop at the first live entry: anything expired behind it goes on a later call.
    Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator();
    while (it.hasNext()) {
      if (it.next().getValue() < now) {
        it.remove();
      } else {
        break;
      }
    }
  }

  /** HMAC-SHA256 of {@code "<timestamp>.<body>"}. */
  static byte[] hmac(byte[] secret, String timestamp, Buffer body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
      mac.update(body.getBytes());
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }

  private static HeraldException unauthorized(String message) {
    return new HeraldException(ErrorCode.UNAUTHORIZED, message);
  }
}
