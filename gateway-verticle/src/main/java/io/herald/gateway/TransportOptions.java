package io.herald.gateway;

import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The transport keys of the {@code gateway} section: which transports are served, HTTP limits
 * and timeouts, compression and TLS. Part of {@link GatewayOptions}.
 */
public final class TransportOptions {

  /** Largest request header block, bytes (431 above). */
  public static final int DEFAULT_MAX_HEADER_BYTES = 8192;
  /** Longest request line ({@code GET /events?topic=...}), bytes (414 above). */
  public static final int DEFAULT_MAX_REQUEST_LINE_BYTES = 8192;
  /** How long a connection may take to send a request's headers, ms; then it is closed (slowloris). */
  public static final int DEFAULT_REQUEST_TIMEOUT_MILLIS = 10_000;
  /**
   * Seconds without any byte read or written after which a connection is closed; open streams
   * are kept busy by heartbeats, so it must exceed {@code heartbeatSeconds}. 0: never.
   */
  public static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 60;
  /** The transports served. */
  public static final List<String> DEFAULT_TRANSPORTS = GatewayOptions.ALL_TRANSPORTS;
  /** Longest wait of a long-poll request with nothing to return, seconds. */
  public static final int DEFAULT_LONG_POLL_TIMEOUT_SECONDS = 25;
  /** TLS certificate chain, a PEM file; with {@code tlsKeyFile}, the gateway serves HTTPS with HTTP/2 by ALPN. */
  public static final String DEFAULT_TLS_CERT_FILE = "";
  /** TLS private key, a PEM file (PKCS#8 or PKCS#1). */
  public static final String DEFAULT_TLS_KEY_FILE = "";
  /**
   * Cleartext HTTP/2 (h2c, by prior knowledge or upgrade). Off by default: with it on, Vert.x
   * hands a connection over only once it has read enough of the first request to rule out
   * HTTP/2, so a client trickling its first request escapes {@code requestTimeoutMillis}.
   */
  public static final boolean DEFAULT_H2C = false;
  /**
   * TCP_NODELAY on client connections: each event leaves at once. With it off (Nagle's algorithm,
   * what nginx does on its streams), a write waits while an earlier segment is unacknowledged:
   * fewer packets and less of the receiver's work charged to the gateway on a busy broadcast, but
   * up to a delayed-ACK interval (40 ms on Linux) added to an event's latency.
   */
  public static final boolean DEFAULT_TCP_NO_DELAY = true;
  /** {@code sseCompression}: SSE streams are never compressed. */
  public static final String SSE_COMPRESSION_OFF = "off";
  /**
   * {@code sseCompression}: gzip for a stream whose client accepts it ({@code Accept-Encoding})
   * and asks for it with {@code compress=gzip} in the stream's URL.
   */
  public static final String SSE_COMPRESSION_REQUESTED = "requested";
  /** {@code sseCompression}: gzip for every stream whose client accepts it ({@code Accept-Encoding}). */
  public static final String SSE_COMPRESSION_ACCEPTED = "accepted";
  /**
   * Whether SSE streams over HTTP/1.1 are sent gzip-compressed. Off by default: each event is
   * compressed on its own (so that its bytes are shared by every stream), which saves little on
   * small events, costs CPU per event, and proxies in front of the gateway must not buffer it.
   */
  public static final String DEFAULT_SSE_COMPRESSION = SSE_COMPRESSION_OFF;
  /**
   * WebSocket {@code permessage-deflate} (RFC 7692) for clients that offer it. Off by default:
   * small JSON frames gain little, and a client's own deflate context costs the gateway tens of
   * KB while it is in use.
   */
  public static final boolean DEFAULT_WEBSOCKET_COMPRESSION = false;

  private final int maxHeaderBytes;
  private final int maxRequestLineBytes;
  private final int requestTimeoutMillis;
  private final int idleTimeoutSeconds;
  private final List<String> transports;
  private final int longPollTimeoutSeconds;
  private final String sseCompression;
  private final boolean webSocketCompression;
  private final String tlsCertFile;
  private final String tlsKeyFile;
  private final boolean h2c;
  private final boolean tcpNoDelay;

  TransportOptions(ConfigReader r) {
    maxHeaderBytes = r.getInt("maxHeaderBytes", DEFAULT_MAX_HEADER_BYTES, 1024, 1024 * 1024);
    maxRequestLineBytes = r.getInt("maxRequestLineBytes", DEFAULT_MAX_REQUEST_LINE_BYTES, 256, 1024 * 1024);
    requestTimeoutMillis = r.getInt("requestTimeoutMillis", DEFAULT_REQUEST_TIMEOUT_MILLIS, 100, 600_000);
    idleTimeoutSeconds = r.getInt("idleTimeoutSeconds", DEFAULT_IDLE_TIMEOUT_SECONDS, 0, 86_400);
    transports = r.getStringList("transports", DEFAULT_TRANSPORTS);
    for (String t : transports) {
      if (!GatewayOptions.ALL_TRANSPORTS.contains(t)) {
        throw new ConfigException(r.key("transports"), "unknown transport \"" + t + "\"; known: " + String.join(", ", GatewayOptions.ALL_TRANSPORTS));
      }
    }
    longPollTimeoutSeconds = r.getInt("longPollTimeoutSeconds", DEFAULT_LONG_POLL_TIMEOUT_SECONDS, 1, 300);
    if (idleTimeoutSeconds > 0 && longPollTimeoutSeconds >= idleTimeoutSeconds) {
      throw new ConfigException(r.key("longPollTimeoutSeconds"), "must be less than idleTimeoutSeconds (" + idleTimeoutSeconds
        + "): nothing is written while a poll waits, so the idle timeout would cut it");
    }
    sseCompression = r.getOneOf("sseCompression", DEFAULT_SSE_COMPRESSION,
      SSE_COMPRESSION_OFF, SSE_COMPRESSION_REQUESTED, SSE_COMPRESSION_ACCEPTED);
    webSocketCompression = r.getBoolean("webSocketCompression", DEFAULT_WEBSOCKET_COMPRESSION);
    tlsCertFile = java.util.Objects.requireNonNullElse(r.getOptionalString("tlsCertFile"), DEFAULT_TLS_CERT_FILE);
    tlsKeyFile = java.util.Objects.requireNonNullElse(r.getOptionalString("tlsKeyFile"), DEFAULT_TLS_KEY_FILE);
    if (tlsCertFile.isEmpty() != tlsKeyFile.isEmpty()) {
      throw new ConfigException(r.key(tlsCertFile.isEmpty() ? "tlsCertFile" : "tlsKeyFile"),
        "TLS needs both gateway.tlsCertFile and gateway.tlsKeyFile (PEM files)");
    }
    h2c = r.getBoolean("h2c", DEFAULT_H2C);
    tcpNoDelay = r.getBoolean("tcpNoDelay", DEFAULT_TCP_NO_DELAY);
  }

  public int maxHeaderBytes() { return maxHeaderBytes; }
  public int maxRequestLineBytes() { return maxRequestLineBytes; }
  public int requestTimeoutMillis() { return requestTimeoutMillis; }
  public int idleTimeoutSeconds() { return idleTimeoutSeconds; }
  /** The transports served ({@link GatewayOptions#ALL_TRANSPORTS}). */
  public List<String> transports() { return transports; }
  public boolean transport(String name) { return transports.contains(name); }
  public int longPollTimeoutSeconds() { return longPollTimeoutSeconds; }
  /** {@link #SSE_COMPRESSION_OFF}, {@link #SSE_COMPRESSION_REQUESTED} or {@link #SSE_COMPRESSION_ACCEPTED}. */
  public String sseCompression() { return sseCompression; }
  public boolean webSocketCompression() { return webSocketCompression; }
  /** True when the gateway serves HTTPS (HTTP/2 and HTTP/1.1 by ALPN). */
  public boolean tls() { return !tlsCertFile.isEmpty(); }
  public String tlsCertFile() { return tlsCertFile; }
  public String tlsKeyFile() { return tlsKeyFile; }
  public boolean h2c() { return h2c; }
  public boolean tcpNoDelay() { return tcpNoDelay; }

  JsonObject toJson() {
    return new JsonObject()
      .put("maxHeaderBytes", maxHeaderBytes)
      .put("maxRequestLineBytes", maxRequestLineBytes)
      .put("requestTimeoutMillis", requestTimeoutMillis)
      .put("idleTimeoutSeconds", idleTimeoutSeconds)
      .put("transports", new JsonArray(transports))
      .put("longPollTimeoutSeconds", longPollTimeoutSeconds)
      .put("sseCompression", sseCompression)
      .put("webSocketCompression", webSocketCompression)
      .put("tlsCertFile", tlsCertFile)
      .put("tlsKeyFile", tlsKeyFile)
      .put("h2c", h2c)
      .put("tcpNoDelay", tcpNoDelay);
  }
}
