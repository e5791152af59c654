package io.herald.gateway;

import io.herald.common.ClientAddress;
import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.herald.gateway.admission.SubscriberTiers;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The {@code gateway} section: the HTTP server that holds client connections.
 *
 * <p>Its keys are one flat section (config files, {@code HERALD_GATEWAY_*} variables) read in
 * groups, each its own typed object with its defaults: {@link HeartbeatOptions},
 * {@link StreamOptions}, {@link AuthOptions}, {@link AdmissionOptions}, {@link TransportOptions},
 * {@link PresenceOptions}, and the Mercure hub's {@link io.herald.gateway.mercure.MercureOptions}.
 * The accessors here are shortcuts to theirs; checks across groups are made here.
 */
public final class GatewayOptions {

  /** Interface the HTTP server binds to. */
  public static final String DEFAULT_HOST = "0.0.0.0";
  /** HTTP port for clients; 0 picks a free port (tests). */
  public static final int DEFAULT_PORT = 8080;
  /** Gateway verticle instances, each on its own event loop; 0 means one per CPU core. */
  public static final int DEFAULT_INSTANCES = 0;
  /** Development mode: the demo page at {@code /} shows a publish form. Never in production. */
  public static final boolean DEFAULT_DEV_MODE = false;
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
  /** {@link AuthOptions#AUTH_NONE}. */
  public static final String AUTH_NONE = AuthOptions.AUTH_NONE;
  /** {@link AuthOptions#AUTH_JWT}. */
  public static final String AUTH_JWT = AuthOptions.AUTH_JWT;
  /** {@link TransportOptions#SSE_COMPRESSION_OFF}. */
  public static final String SSE_COMPRESSION_OFF = TransportOptions.SSE_COMPRESSION_OFF;
  /** {@link TransportOptions#SSE_COMPRESSION_REQUESTED}. */
  public static final String SSE_COMPRESSION_REQUESTED = TransportOptions.SSE_COMPRESSION_REQUESTED;
  /** {@link TransportOptions#SSE_COMPRESSION_ACCEPTED}. */
  public static final String SSE_COMPRESSION_ACCEPTED = TransportOptions.SSE_COMPRESSION_ACCEPTED;
  /** {@link AdmissionOptions#DEFAULT_MAX_CONNECTIONS_PER_USER}. */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_USER = AdmissionOptions.DEFAULT_MAX_CONNECTIONS_PER_USER;

  private final String host;
  private final int port;
  private final int instances;
  private final boolean devMode;
  private final HeartbeatOptions heartbeat;
  private final StreamOptions streams;
  private final AuthOptions auth;
  private final AdmissionOptions admission;
  private final TransportOptions transport;
  private final PresenceOptions presence;
  private final io.herald.gateway.mercure.MercureOptions mercure;

  public GatewayOptions() {
    this(new JsonObject());
  }

  public GatewayOptions(JsonObject json) {
    ConfigReader r = new ConfigReader("gateway", json);
    host = r.getString("host", DEFAULT_HOST);
    port = r.getInt("port", DEFAULT_PORT, 0, 65535);
    instances = r.getInt("instances", DEFAULT_INSTANCES, 0, 256);
    heartbeat = new HeartbeatOptions(r);
    streams = new StreamOptions(r);
    auth = new AuthOptions(r);
    admission = new AdmissionOptions(r, json, streams.maxTopicsPerConnection());
    transport = new TransportOptions(r);
    devMode = r.getBoolean("devMode", DEFAULT_DEV_MODE);
    mercure = new io.herald.gateway.mercure.MercureOptions(r);
    presence = new PresenceOptions(r);
    r.rejectUnknown();
    heartbeat.check(r);
    int idleTimeoutSeconds = transport.idleTimeoutSeconds();
    int heartbeatMaxSeconds = heartbeat.heartbeatMaxSeconds();
    if (idleTimeoutSeconds > 0 && idleTimeoutSeconds <= heartbeatMaxSeconds) {
      throw new ConfigException(r.key("idleTimeoutSeconds"), "must be 0 (off) or more than the longest heartbeat interval, "
        + (heartbeat.heartbeatMaxSecondsAsSet() == 0 ? "gateway.heartbeatSeconds (" : "gateway.heartbeatMaxSeconds (") + heartbeatMaxSeconds
        + "), else idle streams are cut between heartbeats");
    }
    auth.check(r);
  }

  /** The heartbeat keys. */
  public HeartbeatOptions heartbeat() { return heartbeat; }
  /** The per-stream keys. */
  public StreamOptions streams() { return streams; }
  /** The subscriber authentication keys. */
  public AuthOptions auth() { return auth; }
  /** The admission keys (limits, tiers, proxies, origins). */
  public AdmissionOptions admission() { return admission; }
  /** The transport keys (transports served, HTTP limits, compression, TLS). */
  public TransportOptions transport() { return transport; }
  /** The presence keys. */
  public PresenceOptions presence() { return presence; }


  public String host() { return host; }
  public int port() { return port; }
  public int instances() { return instances; }
  /** {@link #instances()} with 0 resolved to the number of cores. */
  public int effectiveInstances() {
    return instances > 0 ? instances : Math.max(1, Runtime.getRuntime().availableProcessors());
  }
  public int heartbeatSeconds() { return heartbeat.heartbeatSeconds(); }
  /** The shortest heartbeat interval a client may ask for, seconds: {@code heartbeatMinSeconds}, at most {@code heartbeatSeconds}. */
  public int heartbeatMinSeconds() { return heartbeat.heartbeatMinSeconds(); }
  /** The longest heartbeat interval a client may ask for, seconds ({@code heartbeatMaxSeconds}, 0 resolved). */
  public int heartbeatMaxSeconds() { return heartbeat.heartbeatMaxSeconds(); }
  /** {@code TCP_USER_TIMEOUT} and the WebSocket pong deadline, seconds; 0: off. */
  public int deadPeerTimeoutSeconds() { return heartbeat.deadPeerTimeoutSeconds(); }
  public int retryMillis() { return streams.retryMillis(); }
  public int maxTopicsPerConnection() { return streams.maxTopicsPerConnection(); }
  public int maxWriteQueueBytes() { return streams.maxWriteQueueBytes(); }
  public int maxReplayEvents() { return streams.maxReplayEvents(); }
  public int maxLastEventIdLength() { return streams.maxLastEventIdLength(); }
  public int replayTimeoutMillis() { return streams.replayTimeoutMillis(); }
  public int gapWaitMillis() { return streams.gapWaitMillis(); }
  public String authMode() { return auth.authMode(); }
  /** True when subscribers must present a JWT (except for {@link #publicTopics()}). */
  public boolean jwtAuth() { return auth.jwtAuth(); }
  /** The HS256 shared secret (UTF-8 bytes), or null. */
  public String jwtSecret() { return auth.jwtSecret(); }
  /** A PEM public key file (RSA for RS256, EC P-256 for ES256), or null. */
  public String jwtPublicKeyFile() { return auth.jwtPublicKeyFile(); }
  /** A JWKS file ({@code {"keys": [...]}}), or null. */
  public String jwtJwksFile() { return auth.jwtJwksFile(); }
  /** The required {@code iss}, or null for no check. */
  public String jwtIssuer() { return auth.jwtIssuer(); }
  /** The required {@code aud} (one of the token's), or null for no check. */
  public String jwtAudience() { return auth.jwtAudience(); }
  public String jwtTopicsClaim() { return auth.jwtTopicsClaim(); }
  /** Topic names and patterns anyone may read without a token in jwt mode. */
  public List<String> publicTopics() { return auth.publicTopics(); }
  public int jwtLeewaySeconds() { return auth.jwtLeewaySeconds(); }
  /** True when a subscriber token without {@code exp} is refused. */
  public boolean jwtRequireExp() { return auth.jwtRequireExp(); }
  public int maxConnections() { return admission.maxConnections(); }
  public int maxConnectionsPerIp() { return admission.maxConnectionsPerIp(); }
  public int connectAttemptsPerIpPerMinute() { return admission.connectAttemptsPerIpPerMinute(); }
  /** Per JWT subject, across the cluster; applies in jwt mode only. */
  public int maxConnectionsPerUser() { return admission.maxConnectionsPerUser(); }
  /** Connection attempts per user per minute of the default tier; 0: no per-user rate. */
  public int connectAttemptsPerUserPerMinute() { return admission.connectAttemptsPerUserPerMinute(); }
  /** The token claim naming the subscriber's tier. */
  public String tierClaim() { return admission.tierClaim(); }
  /** The subscriber tiers ({@code gateway.tiers}) and the default limits. */
  public SubscriberTiers tiers() { return admission.tiers(); }
  public List<String> limitExemptAddresses() { return admission.limitExemptAddresses(); }
  /** True when {@code address} is one of {@link #limitExemptAddresses()} (never when the list is empty). */
  public boolean limitExempt(String address) { return admission.limitExempt(address); }
  /** The trusted reverse proxies, as configured. */
  public List<String> trustedProxies() { return admission.trustedProxies(); }
  /** How the client address of a request is found ({@link #trustedProxies()}, parsed). */
  public ClientAddress clientAddress() { return admission.clientAddress(); }
  /** Origins (exact {@code scheme://host[:port]}) allowed cross-origin; empty: CORS off. */
  public List<String> allowedOrigins() { return admission.allowedOrigins(); }
  public int maxHeaderBytes() { return transport.maxHeaderBytes(); }
  public int maxRequestLineBytes() { return transport.maxRequestLineBytes(); }
  public int requestTimeoutMillis() { return transport.requestTimeoutMillis(); }
  public int idleTimeoutSeconds() { return transport.idleTimeoutSeconds(); }
  /** The transports served ({@link #ALL_TRANSPORTS}). */
  public List<String> transports() { return transport.transports(); }
  public boolean transport(String name) { return transport.transport(name); }
  public int longPollTimeoutSeconds() { return transport.longPollTimeoutSeconds(); }
  public boolean devMode() { return devMode; }
  /** {@link #SSE_COMPRESSION_OFF}, {@link #SSE_COMPRESSION_REQUESTED} or {@link #SSE_COMPRESSION_ACCEPTED}. */
  public String sseCompression() { return transport.sseCompression(); }
  public boolean webSocketCompression() { return transport.webSocketCompression(); }
  /** True when the gateway serves HTTPS (HTTP/2 and HTTP/1.1 by ALPN). */
  public boolean tls() { return transport.tls(); }
  public String tlsCertFile() { return transport.tlsCertFile(); }
  public String tlsKeyFile() { return transport.tlsKeyFile(); }
  public boolean h2c() { return transport.h2c(); }
  public boolean tcpNoDelay() { return transport.tcpNoDelay(); }
  /** The Mercure hub's keys ({@code gateway.mercure*}). */
  public io.herald.gateway.mercure.MercureOptions mercure() { return mercure; }
  /** Seconds a closed connection stays present (the join/leave debounce). */
  public int presenceDebounceSeconds() { return presence.presenceDebounceSeconds(); }
  /** Most entries {@code GET /presence} lists for one topic; above, the count only. */
  public int presenceMaxListed() { return presence.presenceMaxListed(); }
  /** The token claim granting presence on topics. */
  public String presenceClaim() { return presence.presenceClaim(); }
  /** The token claim shown as presence {@code info}. */
  public String presenceInfoClaim() { return presence.presenceInfoClaim(); }
  public int presenceMaxInfoBytes() { return presence.presenceMaxInfoBytes(); }
  /** Publisher keys (or {@code sha256:<hex>} digests) accepted by the presence API. */
  public List<String> presenceKeys() { return presence.presenceKeys(); }

  public JsonObject toJson() {
    return new JsonObject()
      .put("host", host)
      .put("port", port)
      .put("instances", instances)
      .put("devMode", devMode)
      .mergeIn(heartbeat.toJson())
      .mergeIn(streams.toJson())
      .mergeIn(auth.toJson())
      .mergeIn(admission.toJson())
      .mergeIn(transport.toJson())
      .mergeIn(presence.toJson())
      .mergeIn(mercure.toJson());
  }

  /** A copy with some keys changed, e.g. {@code with(new JsonObject().put("port", 0))}. */
  public GatewayOptions with(JsonObject changes) {
    return new GatewayOptions(toJson().mergeIn(changes));
  }
}
