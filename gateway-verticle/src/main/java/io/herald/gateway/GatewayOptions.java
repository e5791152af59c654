package io.herald.gateway;

import io.herald.common.AddressAllowlist;
import io.herald.common.ClientAddress;
import io.herald.common.TopicPattern;
import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.herald.gateway.admission.SubscriberTiers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The {@code gateway} section: the HTTP server that holds client connections.
 */
public final class GatewayOptions {

  /** Interface the HTTP server binds to. */
  public static final String DEFAULT_HOST = "0.0.0.0";
  /** HTTP port for clients; 0 picks a free port (tests). */
  public static final int DEFAULT_PORT = 8080;
  /** Gateway verticle instances, each on its own event loop; 0 means one per CPU core. */
  public static final int DEFAULT_INSTANCES = 0;
  /**
   * Seconds a stream may stay silent before it gets a heartbeat (an SSE comment, a WebSocket
   * ping, a SockJS {@code h} frame): keeps proxies and NATs from closing it. A stream that
   * carried data within its interval gets none. A client may ask for its own interval with
   * {@code heartbeat=<seconds>}, within {@code heartbeatMinSeconds} and {@code heartbeatMaxSeconds}.
   */
  public static final int DEFAULT_HEARTBEAT_SECONDS = 15;
  /**
   * Shortest heartbeat interval a client may ask for ({@code heartbeat=<seconds>}). 5: below the
   * idle timeouts of every common proxy, load balancer and mobile NAT (30 s and more) with room to
   * spare, and it caps what one client can make the gateway write for it at 3 times the default.
   * A {@code heartbeatSeconds} below it lowers it to that.
   */
  public static final int DEFAULT_HEARTBEAT_MIN_SECONDS = 5;
  /** Longest heartbeat interval a client may ask for; 0: {@code heartbeatSeconds}. */
  public static final int DEFAULT_HEARTBEAT_MAX_SECONDS = 0;
  /**
   * Seconds written data may stay unacknowledged before the kernel drops the connection
   * ({@code TCP_USER_TIMEOUT} on accepted sockets; native epoll transport only): a client that
   * vanished without a word is closed within its heartbeat interval plus this. WebSocket clients
   * must also answer a ping within it (on any transport). 0: the kernel's default (about 15 min).
   */
  public static final int DEFAULT_DEAD_PEER_TIMEOUT_SECONDS = 30;
  /** The SSE {@code retry:} sent first: how long a browser waits before reconnecting, in ms. */
  public static final int DEFAULT_RETRY_MILLIS = 2000;
  /** Most topics one connection may subscribe to ({@code topic} parameters). */
  public static final int DEFAULT_MAX_TOPICS_PER_CONNECTION = 32;
  /**
   * Bytes that may wait unsent for one connection before it is cut off as a slow consumer
   * (it then resumes by replay). Bounds per-connection memory.
   */
  public static final int DEFAULT_MAX_WRITE_QUEUE_BYTES = 128 * 1024;
  /**
   * Most events replayed per topic on one resume; a client that missed more gets {@code reset}
   * (a guard against one {@code Last-Event-ID} scanning a whole history).
   */
  public static final int DEFAULT_MAX_REPLAY_EVENTS = 1000;
  /** Longest {@code Last-Event-ID} read; a longer one is treated as unknown (every topic gets reset). */
  public static final int DEFAULT_MAX_LAST_EVENT_ID_LENGTH = 4096;
  /** How long a replay-store request (head, read) may take, in ms. */
  public static final int DEFAULT_REPLAY_TIMEOUT_MILLIS = 5000;
  /**
   * How long filling a gap in a topic's sequence from the store may take, in ms, before the
   * topic's connections get {@code reset} instead of a silent skip.
   */
  public static final int DEFAULT_GAP_WAIT_MILLIS = 2000;

  /** Most streams one gateway process holds; beyond, 503 {@code over_capacity} with {@code Retry-After}. */
  public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
  /** Most concurrent streams from one client address (IPv6: one /64); beyond, 429 {@code rate_limited}. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_IP = 200;
  /** Most connection attempts from one client address in a sliding minute; beyond, 429 {@code rate_limited}. */
  public static final int DEFAULT_CONNECT_ATTEMPTS_PER_IP_PER_MINUTE = 600;
  /** Most concurrent streams per JWT subject across the cluster (jwt mode only); beyond, 429. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_USER = 50;
  /**
   * Connection attempts per JWT user in a minute (a bucket of that many, refilled at that rate),
   * counted once the token is verified; beyond, 429 {@code rate_limited}. 0: no per-user rate
   * (only the per-address one). The default of {@code connectAttemptsPerMinute} of every tier.
   */
  public static final int DEFAULT_CONNECT_ATTEMPTS_PER_USER_PER_MINUTE = 0;
  /** The token claim naming a subscriber's tier ({@link SubscriberTiers}). */
  public static final String DEFAULT_TIER_CLAIM = "tier";
  /**
   * Addresses and CIDR ranges (IPv4, IPv6) exempt from the per-address limits
   * ({@code maxConnectionsPerIp}, {@code connectAttemptsPerIpPerMinute}): monitoring probes, an
   * office NAT. Per-node, per-user and per-tier limits still apply. Empty: nobody is exempt.
   */
  public static final List<String> DEFAULT_LIMIT_EXEMPT_ADDRESSES = List.of();
  /**
   * Reverse proxies (IP addresses and CIDR ranges) whose forwarding headers are believed: only
   * for a connection from one of them is the client address taken from {@code Forwarded} or
   * {@code X-Forwarded-For} (see {@link ClientAddress}). Empty: every client is its peer address.
   */
  public static final List<String> DEFAULT_TRUSTED_PROXIES = List.of();
  /** Browser origins allowed to read {@code /events} cross-origin (CORS); empty: no CORS headers at all. */
  public static final List<String> DEFAULT_ALLOWED_ORIGINS = List.of();
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
  /** Transport {@code sse}: {@code GET /events}, Server-Sent Events. */
  public static final String TRANSPORT_SSE = "sse";
  /** Transport {@code websocket}: {@code GET /ws}, JSON frames. */
  public static final String TRANSPORT_WEBSOCKET = "websocket";
  /** Transport {@code longpoll}: {@code GET /poll}, one JSON answer per request. */
  public static final String TRANSPORT_LONGPOLL = "longpoll";
  /** Transport {@code sockjs}: the SockJS event-bus bridge under {@code /eventbus}. */
  public static final String TRANSPORT_SOCKJS = "sockjs";
  /** Every transport there is, in the JS client's order of preference. */
  public static final List<String> ALL_TRANSPORTS = List.of(TRANSPORT_SSE, TRANSPORT_WEBSOCKET, TRANSPORT_SOCKJS, TRANSPORT_LONGPOLL);
  /** The transports served. */
  public static final List<String> DEFAULT_TRANSPORTS = ALL_TRANSPORTS;
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
  /** Development mode: the demo page at {@code /} shows a publish form. Never in production. */
  public static final boolean DEFAULT_DEV_MODE = false;
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

  /** {@code authMode}: no subscriber authentication, every topic is readable by anyone. */
  public static final String AUTH_NONE = "none";
  /** {@code authMode}: subscribers present a JWT whose topics claim lists what they may read. */
  public static final String AUTH_JWT = "jwt";
  /** How subscribers are authenticated: {@value #AUTH_NONE} (the default) or {@value #AUTH_JWT}. */
  public static final String DEFAULT_AUTH_MODE = AUTH_NONE;
  /** The claim of a subscriber token that lists the topics (names and patterns) it may read. */
  public static final String DEFAULT_JWT_TOPICS_CLAIM = "topics";
  /** Seconds of clock skew tolerated on {@code exp} and {@code nbf}. */
  public static final int DEFAULT_JWT_LEEWAY_SECONDS = 0;
  /**
   * Whether a subscriber token must carry {@code exp}. On by default: a token without one is valid
   * forever, so a leaked one can never be taken back short of rotating the key.
   */
  public static final boolean DEFAULT_JWT_REQUIRE_EXP = true;
  /**
   * Seconds a closed connection stays present before its member's {@code leave}: a reconnect of
   * the same member (token subject, or anonymous client address) within it is neither a
   * {@code leave} nor a {@code join}, and a long-poll client polling again within it stays present.
   * 0: leaves at once.
   */
  public static final int DEFAULT_PRESENCE_DEBOUNCE_SECONDS = 5;
  /** Above this many entries on a topic, {@code GET /presence} answers the count only ({@code "listed": false}). */
  public static final int DEFAULT_PRESENCE_MAX_LISTED = 1000;
  /** The subscriber token claim listing the topics (names and patterns) whose presence it may see. */
  public static final String DEFAULT_PRESENCE_CLAIM = "presence";
  /** The subscriber token claim whose value is shown as the connection's {@code info} in presence. */
  public static final String DEFAULT_PRESENCE_INFO_CLAIM = "presence_info";
  /** Largest presence {@code info}, bytes of its JSON; a larger claim is left out. */
  public static final int DEFAULT_PRESENCE_MAX_INFO_BYTES = 256;
  /**
   * Publisher keys that may read the presence API (as {@code Authorization: Bearer} or
   * {@code X-Herald-Key}): the key itself or {@code sha256:<hex>}, like {@code notifier.publisherKeys}.
   * Empty: only subscribers whose token grants presence (and anyone with {@code authMode} none).
   */
  public static final List<String> DEFAULT_PRESENCE_KEYS = List.of();
  /** Shortest HS256 secret accepted, in bytes (RFC 7518: a key as long as the hash). */
  public static final int MIN_HS256_SECRET_BYTES = 32;

  private final String host;
  private final int port;
  private final int instances;
  private final int heartbeatSeconds;
  private final int heartbeatMinSeconds;
  private final int heartbeatMaxSeconds;
  private final int deadPeerTimeoutSeconds;
  private final int retryMillis;
  private final int maxTopicsPerConnection;
  private final int maxWriteQueueBytes;
  private final int maxReplayEvents;
  private final int maxLastEventIdLength;
  private final int replayTimeoutMillis;
  private final int gapWaitMillis;
  private final String authMode;
  private final String jwtSecret;
  private final String jwtPublicKeyFile;
  private final String jwtJwksFile;
  private final String jwtIssuer;
  private final String jwtAudience;
  private final String jwtTopicsClaim;
  private final List<String> publicTopics;
  private final int jwtLeewaySeconds;
  private final boolean jwtRequireExp;
  private final int maxConnections;
  private final int maxConnectionsPerIp;
  private final int connectAttemptsPerIpPerMinute;
  private final int maxConnectionsPerUser;
  private final int connectAttemptsPerUserPerMinute;
  private final String tierClaim;
  private final SubscriberTiers tiers;
  private final List<String> limitExemptAddresses;
  private final AddressAllowlist limitExempt;
  private final List<String> trustedProxies;
  private final ClientAddress clientAddress;
  private final List<String> allowedOrigins;
  private final int maxHeaderBytes;
  private final int maxRequestLineBytes;
  private final int requestTimeoutMillis;
  private final int idleTimeoutSeconds;
  private final List<String> transports;
  private final int longPollTimeoutSeconds;
  private final boolean devMode;
  private final String sseCompression;
  private final boolean webSocketCompression;
  private final String tlsCertFile;
  private final String tlsKeyFile;
  private final boolean h2c;
  private final io.herald.gateway.mercure.MercureOptions mercure;
  private final int presenceDebounceSeconds;
  private final int presenceMaxListed;
  private final String presenceClaim;
  private final String presenceInfoClaim;
  private final int presenceMaxInfoBytes;
  private final List<String> presenceKeys;

  public GatewayOptions() {
    this(new JsonObject());
  }

  public GatewayOptions(JsonObject json) {
    ConfigReader r = new ConfigReader("gateway", json);
    host = r.getString("host", DEFAULT_HOST);
    port = r.getInt("port", DEFAULT_PORT, 0, 65535);
    instances = r.getInt("instances", DEFAULT_INSTANCES, 0, 256);
    heartbeatSeconds = r.getInt("heartbeatSeconds", DEFAULT_HEARTBEAT_SECONDS, 1, 3600);
    heartbeatMinSeconds = r.getInt("heartbeatMinSeconds", DEFAULT_HEARTBEAT_MIN_SECONDS, 1, 3600);
    heartbeatMaxSeconds = r.getInt("heartbeatMaxSeconds", DEFAULT_HEARTBEAT_MAX_SECONDS, 0, 3600);
    deadPeerTimeoutSeconds = r.getInt("deadPeerTimeoutSeconds", DEFAULT_DEAD_PEER_TIMEOUT_SECONDS, 0, 3600);
    retryMillis = r.getInt("retryMillis", DEFAULT_RETRY_MILLIS, 0, 600_000);
    maxTopicsPerConnection = r.getInt("maxTopicsPerConnection", DEFAULT_MAX_TOPICS_PER_CONNECTION, 1, 1024);
    maxWriteQueueBytes = r.getInt("maxWriteQueueBytes", DEFAULT_MAX_WRITE_QUEUE_BYTES, 1024, 64 * 1024 * 1024);
    maxReplayEvents = r.getInt("maxReplayEvents", DEFAULT_MAX_REPLAY_EVENTS, 0, 1_000_000);
    maxLastEventIdLength = r.getInt("maxLastEventIdLength", DEFAULT_MAX_LAST_EVENT_ID_LENGTH, 64, 65_536);
    replayTimeoutMillis = r.getInt("replayTimeoutMillis", DEFAULT_REPLAY_TIMEOUT_MILLIS, 100, 120_000);
    gapWaitMillis = r.getInt("gapWaitMillis", DEFAULT_GAP_WAIT_MILLIS, 10, 120_000);
    authMode = r.getOneOf("authMode", DEFAULT_AUTH_MODE, AUTH_NONE, AUTH_JWT);
    jwtSecret = r.getOptionalString("jwtSecret");
    jwtPublicKeyFile = r.getOptionalString("jwtPublicKeyFile");
    jwtJwksFile = r.getOptionalString("jwtJwksFile");
    jwtIssuer = r.getOptionalString("jwtIssuer");
    jwtAudience = r.getOptionalString("jwtAudience");
    jwtTopicsClaim = r.getString("jwtTopicsClaim", DEFAULT_JWT_TOPICS_CLAIM);
    publicTopics = r.getStringList("publicTopics", List.of());
    jwtLeewaySeconds = r.getInt("jwtLeewaySeconds", DEFAULT_JWT_LEEWAY_SECONDS, 0, 3600);
    jwtRequireExp = r.getBoolean("jwtRequireExp", DEFAULT_JWT_REQUIRE_EXP);
    maxConnections = r.getInt("maxConnections", DEFAULT_MAX_CONNECTIONS, 1, 10_000_000);
    maxConnectionsPerIp = r.getInt("maxConnectionsPerIp", DEFAULT_MAX_CONNECTIONS_PER_IP, 1, 10_000_000);
    connectAttemptsPerIpPerMinute = r.getInt("connectAttemptsPerIpPerMinute", DEFAULT_CONNECT_ATTEMPTS_PER_IP_PER_MINUTE, 1, 10_000_000);
    maxConnectionsPerUser = r.getInt("maxConnectionsPerUser", DEFAULT_MAX_CONNECTIONS_PER_USER, 1, 10_000_000);
    connectAttemptsPerUserPerMinute = r.getInt("connectAttemptsPerUserPerMinute", DEFAULT_CONNECT_ATTEMPTS_PER_USER_PER_MINUTE, 0, 10_000_000);
    tierClaim = r.getString("tierClaim", DEFAULT_TIER_CLAIM);
    Object rawTiers = json == null ? null : json.getValue("tiers");
    if (rawTiers instanceof String) {
      r.getOptionalString("tiers"); // JSON text from HERALD_GATEWAY_TIERS
    } else {
      r.getObject("tiers");
    }
    tiers = SubscriberTiers.read(r.key("tiers"), rawTiers, new SubscriberTiers.Tier(SubscriberTiers.DEFAULT_TIER,
      maxConnectionsPerUser, maxTopicsPerConnection, connectAttemptsPerUserPerMinute));
    limitExemptAddresses = r.getStringList("limitExemptAddresses", DEFAULT_LIMIT_EXEMPT_ADDRESSES);
    try {
      limitExempt = AddressAllowlist.parse(limitExemptAddresses);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(r.key("limitExemptAddresses"), e.getMessage());
    }
    trustedProxies = r.getStringList("trustedProxies", DEFAULT_TRUSTED_PROXIES);
    try {
      clientAddress = ClientAddress.trusting(trustedProxies);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(r.key("trustedProxies"), e.getMessage());
    }
    allowedOrigins = r.getStringList("allowedOrigins", DEFAULT_ALLOWED_ORIGINS);
    for (String o : allowedOrigins) {
      if (!o.matches("https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?")) {
        throw new ConfigException(r.key("allowedOrigins"), "every entry is an origin, scheme://host[:port] without a path, got \"" + o + "\"");
      }
    }
    maxHeaderBytes = r.getInt("maxHeaderBytes", DEFAULT_MAX_HEADER_BYTES, 1024, 1024 * 1024);
    maxRequestLineBytes = r.getInt("maxRequestLineBytes", DEFAULT_MAX_REQUEST_LINE_BYTES, 256, 1024 * 1024);
    requestTimeoutMillis = r.getInt("requestTimeoutMillis", DEFAULT_REQUEST_TIMEOUT_MILLIS, 100, 600_000);
    idleTimeoutSeconds = r.getInt("idleTimeoutSeconds", DEFAULT_IDLE_TIMEOUT_SECONDS, 0, 86_400);
    transports = r.getStringList("transports", DEFAULT_TRANSPORTS);
    for (String t : transports) {
      if (!ALL_TRANSPORTS.contains(t)) {
        throw new ConfigException(r.key("transports"), "unknown transport \"" + t + "\"; known: " + String.join(", ", ALL_TRANSPORTS));
      }
    }
    longPollTimeoutSeconds = r.getInt("longPollTimeoutSeconds", DEFAULT_LONG_POLL_TIMEOUT_SECONDS, 1, 300);
    if (idleTimeoutSeconds > 0 && longPollTimeoutSeconds >= idleTimeoutSeconds) {
      throw new ConfigException(r.key("longPollTimeoutSeconds"), "must be less than idleTimeoutSeconds (" + idleTimeoutSeconds
        + "): nothing is written while a poll waits, so the idle timeout would cut it");
    }
    devMode = r.getBoolean("devMode", DEFAULT_DEV_MODE);
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
    mercure = new io.herald.gateway.mercure.MercureOptions(r);
    presenceDebounceSeconds = r.getInt("presenceDebounceSeconds", DEFAULT_PRESENCE_DEBOUNCE_SECONDS, 0, 300);
    presenceMaxListed = r.getInt("presenceMaxListed", DEFAULT_PRESENCE_MAX_LISTED, 0, 1_000_000);
    presenceClaim = r.getString("presenceClaim", DEFAULT_PRESENCE_CLAIM);
    presenceInfoClaim = r.getString("presenceInfoClaim", DEFAULT_PRESENCE_INFO_CLAIM);
    presenceMaxInfoBytes = r.getInt("presenceMaxInfoBytes", DEFAULT_PRESENCE_MAX_INFO_BYTES, 0, 4096);
    presenceKeys = r.getStringList("presenceKeys", DEFAULT_PRESENCE_KEYS);
    for (String k : presenceKeys) {
      if (k.isEmpty() || k.startsWith("sha256:") && !k.substring(7).matches("[0-9a-fA-F]{64}")) {
        throw new ConfigException(r.key("presenceKeys"), "every entry is a key or sha256:<64 hex digits>");
      }
    }
    r.rejectUnknown();
    if (heartbeatMaxSeconds != 0 && heartbeatMaxSeconds < heartbeatSeconds) {
      throw new ConfigException(r.key("heartbeatMaxSeconds"), "must be 0 (gateway.heartbeatSeconds) or at least gateway.heartbeatSeconds ("
        + heartbeatSeconds + "), got " + heartbeatMaxSeconds);
    }
    if (idleTimeoutSeconds > 0 && idleTimeoutSeconds <= heartbeatMaxSeconds()) {
      throw new ConfigException(r.key("idleTimeoutSeconds"), "must be 0 (off) or more than the longest heartbeat interval, "
        + (heartbeatMaxSeconds == 0 ? "gateway.heartbeatSeconds (" : "gateway.heartbeatMaxSeconds (") + heartbeatMaxSeconds()
        + "), else idle streams are cut between heartbeats");
    }
    if (jwtSecret != null && jwtSecret.getBytes(StandardCharsets.UTF_8).length < MIN_HS256_SECRET_BYTES) {
      throw new ConfigException(r.key("jwtSecret"), "must be at least " + MIN_HS256_SECRET_BYTES + " bytes long, got "
        + jwtSecret.getBytes(StandardCharsets.UTF_8).length);
    }
    if (AUTH_JWT.equals(authMode) && jwtSecret == null && jwtPublicKeyFile == null && jwtJwksFile == null) {
      throw new ConfigException(r.key("authMode"), "jwt needs a key: set gateway.jwtSecret, gateway.jwtPublicKeyFile or gateway.jwtJwksFile");
    }
    for (String p : publicTopics) {
      try {
        TopicPattern.compile(p);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(r.key("publicTopics"), e.getMessage());
      }
    }
  }

  public String host() { return host; }
  public int port() { return port; }
  public int instances() { return instances; }
  /** {@link #instances()} with 0 resolved to the number of cores. */
  public int effectiveInstances() {
    return instances > 0 ? instances : Math.max(1, Runtime.getRuntime().availableProcessors());
  }
  public int heartbeatSeconds() { return heartbeatSeconds; }
  /** The shortest heartbeat interval a client may ask for, seconds: {@code heartbeatMinSeconds}, at most {@code heartbeatSeconds}. */
  public int heartbeatMinSeconds() { return Math.min(heartbeatMinSeconds, heartbeatSeconds); }
  /** The longest heartbeat interval a client may ask for, seconds ({@code heartbeatMaxSeconds}, 0 resolved). */
  public int heartbeatMaxSeconds() { return heartbeatMaxSeconds == 0 ? heartbeatSeconds : heartbeatMaxSeconds; }
  /** {@code TCP_USER_TIMEOUT} and the WebSocket pong deadline, seconds; 0: off. */
  public int deadPeerTimeoutSeconds() { return deadPeerTimeoutSeconds; }
  public int retryMillis() { return retryMillis; }
  public int maxTopicsPerConnection() { return maxTopicsPerConnection; }
  public int maxWriteQueueBytes() { return maxWriteQueueBytes; }
  public int maxReplayEvents() { return maxReplayEvents; }
  public int maxLastEventIdLength() { return maxLastEventIdLength; }
  public int replayTimeoutMillis() { return replayTimeoutMillis; }
  public int gapWaitMillis() { return gapWaitMillis; }
  public String authMode() { return authMode; }
  /** True when subscribers must present a JWT (except for {@link #publicTopics()}). */
  public boolean jwtAuth() { return AUTH_JWT.equals(authMode); }
  /** The HS256 shared secret (UTF-8 bytes), or null. */
  public String jwtSecret() { return jwtSecret; }
  /** A PEM public key file (RSA for RS256, EC P-256 for ES256), or null. */
  public String jwtPublicKeyFile() { return jwtPublicKeyFile; }
  /** A JWKS file ({@code {"keys": [...]}}), or null. */
  public String jwtJwksFile() { return jwtJwksFile; }
  /** The required {@code iss}, or null for no check. */
  public String jwtIssuer() { return jwtIssuer; }
  /** The required {@code aud} (one of the token's), or null for no check. */
  public String jwtAudience() { return jwtAudience; }
  public String jwtTopicsClaim() { return jwtTopicsClaim; }
  /** Topic names and patterns anyone may read without a token in jwt mode. */
  public List<String> publicTopics() { return publicTopics; }
  public int jwtLeewaySeconds() { return jwtLeewaySeconds; }
  /** True when a subscriber token without {@code exp} is refused. */
  public boolean jwtRequireExp() { return jwtRequireExp; }
  public int maxConnections() { return maxConnections; }
  public int maxConnectionsPerIp() { return maxConnectionsPerIp; }
  public int connectAttemptsPerIpPerMinute() { return connectAttemptsPerIpPerMinute; }
  /** Per JWT subject, across the cluster; applies in jwt mode only. */
  public int maxConnectionsPerUser() { return maxConnectionsPerUser; }
  /** Connection attempts per user per minute of the default tier; 0: no per-user rate. */
  public int connectAttemptsPerUserPerMinute() { return connectAttemptsPerUserPerMinute; }
  /** The token claim naming the subscriber's tier. */
  public String tierClaim() { return tierClaim; }
  /** The subscriber tiers ({@code gateway.tiers}) and the default limits. */
  public SubscriberTiers tiers() { return tiers; }
  public List<String> limitExemptAddresses() { return limitExemptAddresses; }
  /** True when {@code address} is one of {@link #limitExemptAddresses()} (never when the list is empty). */
  public boolean limitExempt(String address) { return !limitExempt.allowsAll() && limitExempt.allows(address); }
  /** The trusted reverse proxies, as configured. */
  public List<String> trustedProxies() { return trustedProxies; }
  /** How the client address of a request is found ({@link #trustedProxies()}, parsed). */
  public ClientAddress clientAddress() { return clientAddress; }
  /** Origins (exact {@code scheme://host[:port]}) allowed cross-origin; empty: CORS off. */
  public List<String> allowedOrigins() { return allowedOrigins; }
  public int maxHeaderBytes() { return maxHeaderBytes; }
  public int maxRequestLineBytes() { return maxRequestLineBytes; }
  public int requestTimeoutMillis() { return requestTimeoutMillis; }
  public int idleTimeoutSeconds() { return idleTimeoutSeconds; }
  /** The transports served ({@link #ALL_TRANSPORTS}). */
  public List<String> transports() { return transports; }
  public boolean transport(String name) { return transports.contains(name); }
  public int longPollTimeoutSeconds() { return longPollTimeoutSeconds; }
  public boolean devMode() { return devMode; }
  /** {@link #SSE_COMPRESSION_OFF}, {@link #SSE_COMPRESSION_REQUESTED} or {@link #SSE_COMPRESSION_ACCEPTED}. */
  public String sseCompression() { return sseCompression; }
  public boolean webSocketCompression() { return webSocketCompression; }
  /** True when the gateway serves HTTPS (HTTP/2 and HTTP/1.1 by ALPN). */
  public boolean tls() { return !tlsCertFile.isEmpty(); }
  public String tlsCertFile() { return tlsCertFile; }
  public String tlsKeyFile() { return tlsKeyFile; }
  public boolean h2c() { return h2c; }
  /** The Mercure hub's keys ({@code gateway.mercure*}). */
  public io.herald.gateway.mercure.MercureOptions mercure() { return mercure; }
  /** Seconds a closed connection stays present (the join/leave debounce). */
  public int presenceDebounceSeconds() { return presenceDebounceSeconds; }
  /** Most entries {@code GET /presence} lists for one topic; above, the count only. */
  public int presenceMaxListed() { return presenceMaxListed; }
  /** The token claim granting presence on topics. */
  public String presenceClaim() { return presenceClaim; }
  /** The token claim shown as presence {@code info}. */
  public String presenceInfoClaim() { return presenceInfoClaim; }
  public int presenceMaxInfoBytes() { return presenceMaxInfoBytes; }
  /** Publisher keys (or {@code sha256:<hex>} digests) accepted by the presence API. */
  public List<String> presenceKeys() { return presenceKeys; }

  public JsonObject toJson() {
    return new JsonObject()
      .put("host", host)
      .put("port", port)
      .put("instances", instances)
      .put("heartbeatSeconds", heartbeatSeconds)
      .put("heartbeatMinSeconds", heartbeatMinSeconds)
      .put("heartbeatMaxSeconds", heartbeatMaxSeconds)
      .put("deadPeerTimeoutSeconds", deadPeerTimeoutSeconds)
      .put("retryMillis", retryMillis)
      .put("maxTopicsPerConnection", maxTopicsPerConnection)
      .put("maxWriteQueueBytes", maxWriteQueueBytes)
      .put("maxReplayEvents", maxReplayEvents)
      .put("maxLastEventIdLength", maxLastEventIdLength)
      .put("replayTimeoutMillis", replayTimeoutMillis)
      .put("gapWaitMillis", gapWaitMillis)
      .put("authMode", authMode)
      .put("jwtSecret", orEmpty(jwtSecret))
      .put("jwtPublicKeyFile", orEmpty(jwtPublicKeyFile))
      .put("jwtJwksFile", orEmpty(jwtJwksFile))
      .put("jwtIssuer", orEmpty(jwtIssuer))
      .put("jwtAudience", orEmpty(jwtAudience))
      .put("jwtTopicsClaim", jwtTopicsClaim)
      .put("publicTopics", new JsonArray(publicTopics))
      .put("jwtLeewaySeconds", jwtLeewaySeconds)
      .put("jwtRequireExp", jwtRequireExp)
      .put("maxConnections", maxConnections)
      .put("maxConnectionsPerIp", maxConnectionsPerIp)
      .put("connectAttemptsPerIpPerMinute", connectAttemptsPerIpPerMinute)
      .put("maxConnectionsPerUser", maxConnectionsPerUser)
      .put("connectAttemptsPerUserPerMinute", connectAttemptsPerUserPerMinute)
      .put("tierClaim", tierClaim)
      .put("tiers", tiers.toJson())
      .put("limitExemptAddresses", new JsonArray(limitExemptAddresses))
      .put("trustedProxies", new JsonArray(trustedProxies))
      .put("allowedOrigins", new JsonArray(allowedOrigins))
      .put("maxHeaderBytes", maxHeaderBytes)
      .put("maxRequestLineBytes", maxRequestLineBytes)
      .put("requestTimeoutMillis", requestTimeoutMillis)
      .put("idleTimeoutSeconds", idleTimeoutSeconds)
      .put("transports", new JsonArray(transports))
      .put("longPollTimeoutSeconds", longPollTimeoutSeconds)
      .put("devMode", devMode)
      .put("sseCompression", sseCompression)
      .put("webSocketCompression", webSocketCompression)
      .put("tlsCertFile", tlsCertFile)
      .put("tlsKeyFile", tlsKeyFile)
      .put("h2c", h2c)
      .put("presenceDebounceSeconds", presenceDebounceSeconds)
      .put("presenceMaxListed", presenceMaxListed)
      .put("presenceClaim", presenceClaim)
      .put("presenceInfoClaim", presenceInfoClaim)
      .put("presenceMaxInfoBytes", presenceMaxInfoBytes)
      .put("presenceKeys", new JsonArray(presenceKeys))
      .mergeIn(mercure.toJson());
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  /** A copy with some keys changed, e.g. {@code with(new JsonObject().put("port", 0))}. */
  public GatewayOptions with(JsonObject changes) {
    return new GatewayOptions(toJson().mergeIn(changes));
  }
}
