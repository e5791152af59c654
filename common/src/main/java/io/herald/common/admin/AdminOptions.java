package io.herald.common.admin;

import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonObject;

/**
 * The {@code admin} section: the operators' HTTP server of a process ({@code /health},
 * {@code /ready}, {@code /metrics}), on a port of its own, on loopback by default.
 */
public final class AdminOptions {

  /** The section's name. */
  public static final String SECTION = "admin";
  /** Whether the admin server runs. */
  public static final boolean DEFAULT_ENABLED = true;
  /** Interface of the admin server: loopback, so only the machine (or a sidecar) reaches it. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** Port of the admin server; 0 picks a free port (tests). */
  public static final int DEFAULT_PORT = 9090;
  /** Bearer token {@code /metrics} and the dashboard stream require; empty: none (rely on the interface). */
  public static final String DEFAULT_TOKEN = "";

  /** How long a process stays up, not ready, after SIGTERM before it drains, ms. */
  public static final int DEFAULT_SHUTDOWN_GRACE_MILLIS = 0;

  /** Percent of the max heap live after GC at which the process refuses publishes and is not ready; 0: never. */
  public static final int DEFAULT_HEAP_HIGH_PERCENT = 90;
  /** Percent of the max heap live after GC below which a process under pressure recovers. */
  public static final int DEFAULT_HEAP_LOW_PERCENT = 75;

  /** How long a fresh process may warm itself up before it is ready, ms; 0: no warm-up. */
  public static final int DEFAULT_WARM_UP_MILLIS = 15_000;
  /** How many warm-up publishes end the warm-up before its time bound. */
  public static final int DEFAULT_WARM_UP_PUBLISHES = 100_000;

  private final boolean enabled;
  private final String host;
  private final int port;
  private final String token;
  private final int shutdownGraceMillis;
  private final int heapHighPercent;
  private final int heapLowPercent;
  private final int warmUpMillis;
  private final int warmUpPublishes;

  public AdminOptions() {
    this(new JsonObject());
  }

  /** @throws io.herald.common.config.ConfigException naming the first bad key */
  public AdminOptions(JsonObject json) {
    ConfigReader r = new ConfigReader(SECTION, json);
    enabled = r.getBoolean("enabled", DEFAULT_ENABLED);
    host = r.getString("host", DEFAULT_HOST);
    port = r.getInt("port", DEFAULT_PORT, 0, 65535);
    token = java.util.Objects.requireNonNullElse(r.getOptionalString("token"), DEFAULT_TOKEN);
    if (!token.isEmpty() && token.length() < 16) {
      throw new io.herald.common.config.ConfigException(r.key("token"), "must be empty or at least 16 characters");
    }
    shutdownGraceMillis = r.getInt("shutdownGraceMillis", DEFAULT_SHUTDOWN_GRACE_MILLIS, 0, 60_000);
    heapHighPercent = r.getInt("heapHighPercent", DEFAULT_HEAP_HIGH_PERCENT, 0, 99);
    heapLowPercent = r.getInt("heapLowPercent", DEFAULT_HEAP_LOW_PERCENT, 1, 98);
    if (heapHighPercent > 0 && heapLowPercent >= heapHighPercent) {
      throw new io.herald.common.config.ConfigException(r.key("heapLowPercent"), "must be below admin.heapHighPercent (" + heapHighPercent + ")");
    }
    warmUpMillis = r.getInt("warmUpMillis", DEFAULT_WARM_UP_MILLIS, 0, 60_000);
    warmUpPublishes = r.getInt("warmUpPublishes", DEFAULT_WARM_UP_PUBLISHES, 1, 10_000_000);
    r.rejectUnknown();
  }

  public boolean enabled() { return enabled; }
  public String host() { return host; }
  public int port() { return port; }
  public String token() { return token; }

  /**
   * {@code shutdownGraceMillis}: after SIGTERM, {@code /ready} answers 503 at once and the
   * process keeps serving this long before it drains its connections, so that a load balancer
   * polling {@code /ready} stops sending new clients first. 0 to 60,000; default 0.
   */
  public int shutdownGraceMillis() { return shutdownGraceMillis; }

  /**
   * {@code heapHighPercent}: when the heap still in use after garbage collection reaches this
   * percent of the max heap (two samples a second apart), {@code /ready} fails and publishes are
   * refused with 503 {@code over_capacity} and {@code Retry-After}, until it falls below
   * {@link #heapLowPercent()}. Works whether or not the admin server runs. 0 to 99, 0 turns the
   * guard off; default {@value #DEFAULT_HEAP_HIGH_PERCENT}.
   */
  public int heapHighPercent() { return heapHighPercent; }

  /**
   * {@code heapLowPercent}: the low-water mark of the heap guard, 1 to 98 and below
   * {@code heapHighPercent}; default {@value #DEFAULT_HEAP_LOW_PERCENT}.
   */
  public int heapLowPercent() { return heapLowPercent; }

  /**
   * {@code warmUpMillis}: after its roles start, the process warms up the JIT on a private,
   * loopback-only copy of its own roles (see {@link WarmUp}) and {@code /ready} answers 503 until
   * that ends: this long at most, or sooner after {@link #warmUpPublishes()} publishes. 0 to
   * 60,000, 0 turns the warm-up off (ready as soon as the roles are); default
   * {@value #DEFAULT_WARM_UP_MILLIS}.
   */
  public int warmUpMillis() { return warmUpMillis; }

  /**
   * {@code warmUpPublishes}: the work bound of the warm-up, in publishes through the private
   * copy's publish path; 1 to 10,000,000, default {@value #DEFAULT_WARM_UP_PUBLISHES}.
   */
  public int warmUpPublishes() { return warmUpPublishes; }

  public JsonObject toJson() {
    return new JsonObject().put("enabled", enabled).put("host", host).put("port", port).put("token", token)
      .put("shutdownGraceMillis", shutdownGraceMillis).put("heapHighPercent", heapHighPercent).put("heapLowPercent", heapLowPercent)
      .put("warmUpMillis", warmUpMillis).put("warmUpPublishes", warmUpPublishes);
  }
}
