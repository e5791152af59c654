package io.herald.notifier;

import io.herald.common.AddressAllowlist;
import io.herald.common.ClientAddress;
import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** The {@code notifier} section: the publish API and its limits, and the Redis and PostgreSQL ingests. */
public final class NotifierOptions {

  /** Interface the publish API binds to. */
  public static final String DEFAULT_HOST = "0.0.0.0";
  /** Port of the publish API; 0 picks a free port (tests). */
  public static final int DEFAULT_PORT = 8081;
  /** The development key: replace it in production (a warning is logged while it is in use). */
  public static final String DEVELOPMENT_KEY = "dev-publisher-key";
  /**
   * Keys publishers present as {@code Authorization: Bearer <key>} or {@code X-Herald-Key}: each
   * entry is {@code sha256:<hex>} (the SHA-256 of the key: the production form) or the key itself
   * (plain: a warning is logged), optionally followed by {@code =<pattern>|<pattern>} to restrict
   * it to those topics and then {@code #<tier>} to give it the limits of that tier of
   * {@code tiers} (see {@link PublisherAuth}).
   */
  public static final List<String> DEFAULT_PUBLISHER_KEYS = List.of(DEVELOPMENT_KEY);
  /** HS256 secret of publisher JWTs (at least 32 characters); empty: HS256 tokens are not accepted. */
  public static final String DEFAULT_PUBLISHER_JWT_SECRET = "";
  /** PEM public key file (RSA: RS256, EC: ES256/384/512) of publisher JWTs; empty: none. */
  public static final String DEFAULT_PUBLISHER_JWT_PUBLIC_KEY_FILE = "";
  /** Required {@code iss} of publisher JWTs; empty: not checked. */
  public static final String DEFAULT_PUBLISHER_JWT_ISSUER = "";
  /** Required {@code aud} of publisher JWTs; empty: not checked. */
  public static final String DEFAULT_PUBLISHER_JWT_AUDIENCE = "";
  /**
   * Signed webhooks, {@code name=secret} (secret at least 32 characters), optionally restricted to
   * topic patterns as publisher keys are: {@code name=secret=orders.*|audit}. Empty: {@code /webhook} off.
   */
  public static final List<String> DEFAULT_WEBHOOK_SECRETS = List.of();
  /** How far a webhook's {@code X-Herald-Timestamp} may be from now, seconds (also the replay window). */
  public static final int DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;
  /** Largest request body, bytes (413 above). */
  public static final int DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
  /** Largest event data, UTF-8 bytes once encoded (413 above). */
  public static final int DEFAULT_MAX_EVENT_BYTES = 64 * 1024;
  /** Most topics one publish may name. */
  public static final int DEFAULT_MAX_TOPICS_PER_EVENT = 32;
  /** Most events in one batch. */
  public static final int DEFAULT_MAX_BATCH_SIZE = 100;
  /** How long storing may take before the publisher gets 504, ms. */
  public static final int DEFAULT_REPLAY_TIMEOUT_MILLIS = 5000;
  /**
   * Events per second each publisher credential (publisher key, JWT subject, webhook) may publish
   * over HTTP, per notifier instance; beyond, 429 {@code rate_limited} with {@code Retry-After}.
   * A batch counts one per event. 0: no limit.
   */
  public static final int DEFAULT_PUBLISH_RATE_PER_KEY = 1000;
  /** Events a publisher may send at once above its rate (the size of its token bucket); at least maxBatchSize. */
  public static final int DEFAULT_PUBLISH_BURST = 2000;
  /**
   * Body bytes per second each publisher credential may publish, per notifier instance; beyond,
   * 429 {@code rate_limited} with {@code Retry-After}. The bucket holds two seconds' worth, and
   * at least {@code maxBodyBytes}. 0: no limit.
   */
  public static final int DEFAULT_PUBLISH_BYTES_PER_SECOND_PER_KEY = 4 * 1024 * 1024;
  /**
   * Topics new to a credential it may publish to per minute, per notifier instance (the bucket
   * holds one minute's worth); beyond, 429 {@code rate_limited} with {@code Retry-After}. 0: no limit.
   */
  public static final int DEFAULT_NEW_TOPICS_PER_MINUTE_PER_KEY = 6000;
  /** The publisher JWT claim naming the publisher's tier ({@code tiers}). */
  public static final String DEFAULT_TIER_CLAIM = "tier";
  /** The name of the top-level limits: credentials without a configured tier. */
  public static final String DEFAULT_TIER = "default";
  /** Most tiers configurable: each is a metric tag value. */
  public static final int MAX_TIERS = 64;

  /**
   * The publish limits of one tier ({@code notifier.tiers.<name>}); a key a tier omits inherits
   * the top-level one. A publisher key carries its tier as {@code #<name>} at the end of its
   * entry, a publisher JWT in its {@code tierClaim}; everything else has the {@value #DEFAULT_TIER} limits.
   */
  public record PublisherTier(String name, int publishRatePerKey, int publishBurst, int publishBytesPerSecondPerKey,
                              int newTopicsPerMinutePerKey) {

    /** True for the top-level limits. */
    public boolean isDefault() {
      return DEFAULT_TIER.equals(name);
    }
  }
  /**
   * Client addresses and CIDR ranges (IPv4, IPv6) allowed to call {@code POST /publish},
   * {@code /publish/batch} and {@code /webhook/*}; others get 403 {@code access_denied}.
   * Empty: every address may try (keys, tokens and signatures still apply).
   */
  public static final List<String> DEFAULT_TRUSTED_PRODUCERS = List.of();
  /**
   * Reverse proxies (IP addresses and CIDR ranges) whose forwarding headers are believed: only
   * for a request from one of them is the client address, checked against
   * {@code trustedProducers} and logged, taken from {@code Forwarded} or {@code X-Forwarded-For}
   * (see {@link ClientAddress}). Empty: every client is its peer address.
   */
  public static final List<String> DEFAULT_TRUSTED_PROXIES = List.of();
  /** Largest request header block, bytes (431 above). */
  public static final int DEFAULT_MAX_HEADER_BYTES = 8192;
  /**
   * How long a connection may take to send a request's headers, and then its body, ms: slow
   * headers close the connection, a slow body gets 408 {@code request_timeout} (slowloris).
   */
  public static final int DEFAULT_REQUEST_TIMEOUT_MILLIS = 10_000;
  /**
   * Seconds without any byte read or written after which a connection is closed; 0: never.
   * Must exceed replayTimeoutMillis: a connection is silent while its publish is being stored.
   */
  public static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 60;

  /** Redis server of the pub/sub and streams ingests. */
  public static final String DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
  /** Redis channels (or glob patterns) to take events from; empty: pub/sub ingest off. */
  public static final List<String> DEFAULT_REDIS_CHANNELS = List.of();
  /** Stripped from a channel's name to give the topic. */
  public static final String DEFAULT_REDIS_CHANNEL_PREFIX = "";
  /** Redis streams to consume with a consumer group; empty: streams ingest off. */
  public static final List<String> DEFAULT_REDIS_STREAMS = List.of();
  /** Consumer group of the streams ingest (all notifiers share it). */
  public static final String DEFAULT_REDIS_STREAM_GROUP = "herald";
  /** Consumer name in the group; empty: host name and process id. */
  public static final String DEFAULT_REDIS_STREAM_CONSUMER = "";
  /** How long an entry stays pending with a consumer before another takes it over, ms. */
  public static final int DEFAULT_REDIS_CLAIM_IDLE_MILLIS = 30_000;
  /** PostgreSQL database of the outbox ingest. */
  public static final String DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
  /** Outbox table to take events from ({@code config/sql/herald-outbox.sql}); empty: outbox ingest off. */
  public static final String DEFAULT_POSTGRES_OUTBOX_TABLE = "";
  /** Channel the outbox trigger NOTIFYs. */
  public static final String DEFAULT_POSTGRES_CHANNEL = "herald_outbox";
  /** How often the outbox is read even without a NOTIFY (a dropped NOTIFY costs at most this), ms. */
  public static final int DEFAULT_POSTGRES_POLL_MILLIS = 5000;
  /** Most outbox rows published in one batch. */
  public static final int DEFAULT_POSTGRES_BATCH_SIZE = 100;
  /**
   * The TCP event-bus bridge for non-JVM internal producers (4-byte length + JSON frames of
   * vertx-tcp-eventbus-bridge): a {@code send} to {@code herald.publish} with a publisher
   * credential in its headers publishes like {@code POST /publish}. Off by default.
   */
  public static final boolean DEFAULT_TCP_BRIDGE_ENABLED = false;
  /** Interface the TCP bridge binds to (loopback: the frames, credentials included, are not encrypted). */
  public static final String DEFAULT_TCP_BRIDGE_HOST = "127.0.0.1";
  /** Port of the TCP bridge; 0 picks a free port (tests). */
  public static final int DEFAULT_TCP_BRIDGE_PORT = 7001;

  private final String host;
  private final int port;
  private final List<String> publisherKeys;
  private final String publisherJwtSecret;
  private final String publisherJwtPublicKeyFile;
  private final String publisherJwtIssuer;
  private final String publisherJwtAudience;
  private final List<String> webhookSecrets;
  private final java.util.Map<String, String> webhooks;
  private final java.util.Map<String, List<String>> webhookTopics;
  private final int webhookToleranceSeconds;
  private final int maxBodyBytes;
  private final int maxEventBytes;
  private final int maxTopicsPerEvent;
  private final int maxBatchSize;
  private final int replayTimeoutMillis;
  private final int publishRatePerKey;
  private final int publishBurst;
  private final int publishBytesPerSecondPerKey;
  private final int newTopicsPerMinutePerKey;
  private final String tierClaim;
  private final JsonObject tiersJson;
  private final java.util.Map<String, PublisherTier> tiers;
  private final List<String> trustedProducers;
  private final List<String> trustedProxies;
  private final ClientAddress clientAddress;
  private final AddressAllowlist producerAllowlist;
  private final int maxHeaderBytes;
  private final int requestTimeoutMillis;
  private final int idleTimeoutSeconds;
  private final String redisUrl;
  private final List<String> redisChannels;
  private final String redisChannelPrefix;
  private final List<String> redisStreams;
  private final String redisStreamGroup;
  private final String redisStreamConsumer;
  private final int redisClaimIdleMillis;
  private final String postgresUrl;
  private final String postgresOutboxTable;
  private final String postgresChannel;
  private final int postgresPollMillis;
  private final int postgresBatchSize;
  private final boolean tcpBridgeEnabled;
  private final String tcpBridgeHost;
  private final int tcpBridgePort;

  public NotifierOptions() {
    this(new JsonObject());
  }

  public NotifierOptions(JsonObject json) {
    ConfigReader r = new ConfigReader("notifier", json);
    host = r.getString("host", DEFAULT_HOST);
    port = r.getInt("port", DEFAULT_PORT, 0, 65535);
    publisherKeys = r.getStringList("publisherKeys", DEFAULT_PUBLISHER_KEYS);
    if (publisherKeys.isEmpty()) {
      throw new ConfigException(r.key("publisherKeys"), "must list at least one key");
    }
    publisherJwtSecret = java.util.Objects.requireNonNullElse(r.getOptionalString("publisherJwtSecret"), DEFAULT_PUBLISHER_JWT_SECRET);
    if (!publisherJwtSecret.isEmpty() && publisherJwtSecret.length() < 32) {
      throw new ConfigException(r.key("publisherJwtSecret"), "must be empty (off) or have at least 32 characters");
    }
    publisherJwtPublicKeyFile = java.util.Objects.requireNonNullElse(r.getOptionalString("publisherJwtPublicKeyFile"), DEFAULT_PUBLISHER_JWT_PUBLIC_KEY_FILE);
    if (!publisherJwtPublicKeyFile.isEmpty()) {
      try {
        PublisherAuth.algorithmOf(PublisherAuth.readPem(publisherJwtPublicKeyFile));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(r.key("publisherJwtPublicKeyFile"), e.getMessage());
      }
    }
    publisherJwtIssuer = java.util.Objects.requireNonNullElse(r.getOptionalString("publisherJwtIssuer"), DEFAULT_PUBLISHER_JWT_ISSUER);
    publisherJwtAudience = java.util.Objects.requireNonNullElse(r.getOptionalString("publisherJwtAudience"), DEFAULT_PUBLISHER_JWT_AUDIENCE);
    webhookSecrets = r.getStringList("webhookSecrets", DEFAULT_WEBHOOK_SECRETS);
    java.util.Map<String, String> hooks = new java.util.LinkedHashMap<>();
    java.util.Map<String, List<String>> hookTopics = new java.util.LinkedHashMap<>();
    for (String raw : webhookSecrets) {
      // name=secret, or name=secret=patterns: as for publisher keys, the restriction starts at the
      // last "=" followed by valid patterns (so a secret may end with base64 padding).
      String entry = raw;
      List<String> patterns = null;
      int last = raw.lastIndexOf('=');
      if (last > raw.indexOf('=') && last < raw.length() - 1) {
        List<String> parts = List.of(raw.substring(last + 1).split("\\|", -1));
        if (parts.stream().allMatch(p -> TopicPatterns.isValid(p) && !p.contains("{sub}"))) {
          entry = raw.substring(0, last);
          patterns = parts;
        }
      }
      int eq = entry.indexOf('=');
      String name = eq < 0 ? entry : entry.substring(0, eq);
      if (eq < 0 || !name.matches("[A-Za-z0-9_-]{1,64}")) {
        throw new ConfigException(r.key("webhookSecrets"), "every entry is name=secret, the name 1 to 64 of A-Z a-z 0-9 _ -");
      }
      if (entry.length() - eq - 1 < 32) {
        throw new ConfigException(r.key("webhookSecrets"), "the secret of webhook " + name + " must have at least 32 characters");
      }
      if (hooks.put(name, entry.substring(eq + 1)) != null) {
        throw new ConfigException(r.key("webhookSecrets"), "webhook " + name + " is listed twice");
      }
      if (patterns != null) {
        hookTopics.put(name, patterns);
      }
    }
    webhooks = java.util.Collections.unmodifiableMap(hooks);
    webhookTopics = java.util.Collections.unmodifiableMap(hookTopics);
    webhookToleranceSeconds = r.getInt("webhookToleranceSeconds", DEFAULT_WEBHOOK_TOLERANCE_SECONDS, 1, 3600);
    maxBodyBytes = r.getInt("maxBodyBytes", DEFAULT_MAX_BODY_BYTES, 1024, 64 * 1024 * 1024);
    maxEventBytes = r.getInt("maxEventBytes", DEFAULT_MAX_EVENT_BYTES, 1, 16 * 1024 * 1024);
    maxTopicsPerEvent = r.getInt("maxTopicsPerEvent", DEFAULT_MAX_TOPICS_PER_EVENT, 1, 1024);
    maxBatchSize = r.getInt("maxBatchSize", DEFAULT_MAX_BATCH_SIZE, 1, 10_000);
    replayTimeoutMillis = r.getInt("replayTimeoutMillis", DEFAULT_REPLAY_TIMEOUT_MILLIS, 100, 120_000);
    publishRatePerKey = r.getInt("publishRatePerKey", DEFAULT_PUBLISH_RATE_PER_KEY, 0, 10_000_000);
    publishBurst = r.getInt("publishBurst", DEFAULT_PUBLISH_BURST, 1, 100_000_000);
    publishBytesPerSecondPerKey = r.getInt("publishBytesPerSecondPerKey", DEFAULT_PUBLISH_BYTES_PER_SECOND_PER_KEY, 0, 1_000_000_000);
    newTopicsPerMinutePerKey = r.getInt("newTopicsPerMinutePerKey", DEFAULT_NEW_TOPICS_PER_MINUTE_PER_KEY, 0, 100_000_000);
    if (publishRatePerKey > 0 && publishBurst < maxBatchSize) {
      throw new ConfigException(r.key("publishBurst"), "must be at least maxBatchSize (" + maxBatchSize
        + "), else a full batch could never be published; got " + publishBurst);
    }
    tierClaim = r.getString("tierClaim", DEFAULT_TIER_CLAIM);
    Object rawTiers = json == null ? null : json.getValue("tiers");
    if (rawTiers instanceof String) {
      r.getOptionalString("tiers"); // JSON text from HERALD_NOTIFIER_TIERS
    } else {
      r.getObject("tiers");
    }
    tiersJson = tiersJson(r.key("tiers"), rawTiers);
    tiers = readTiers(r.key("tiers"), tiersJson, defaultTier());
    for (String k : publisherKeys) {
      String tier;
      try {
        tier = PublisherAuth.parseKey(k, tiers.keySet()).tier();
      } catch (IllegalArgumentException e) {
        throw new ConfigException(r.key("publisherKeys"), e.getMessage());
      }
      if (tier != null && !tiers.containsKey(tier)) {
        throw new ConfigException(r.key("publisherKeys"), "tier \"" + tier + "\" is not in notifier.tiers (configured: "
          + String.join(", ", tiers.keySet()) + ")");
      }
    }
    trustedProducers = r.getStringList("trustedProducers", DEFAULT_TRUSTED_PRODUCERS);
    try {
      producerAllowlist = AddressAllowlist.parse(trustedProducers);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(r.key("trustedProducers"), e.getMessage());
    }
    trustedProxies = r.getStringList("trustedProxies", DEFAULT_TRUSTED_PROXIES);
    try {
      clientAddress = ClientAddress.trusting(trustedProxies);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(r.key("trustedProxies"), e.getMessage());
    }
    maxHeaderBytes = r.getInt("maxHeaderBytes", DEFAULT_MAX_HEADER_BYTES, 1024, 1024 * 1024);
    requestTimeoutMillis = r.getInt("requestTimeoutMillis", DEFAULT_REQUEST_TIMEOUT_MILLIS, 100, 600_000);
    idleTimeoutSeconds = r.getInt("idleTimeoutSeconds", DEFAULT_IDLE_TIMEOUT_SECONDS, 0, 86_400);
    if (idleTimeoutSeconds > 0 && idleTimeoutSeconds * 1000L <= replayTimeoutMillis) {
      throw new ConfigException(r.key("idleTimeoutSeconds"), "must be 0 (off) or longer than replayTimeoutMillis (" + replayTimeoutMillis
        + " ms): a connection is silent while its publish is being stored; got " + idleTimeoutSeconds);
    }
    redisUrl = r.getString("redisUrl", DEFAULT_REDIS_URL);
    if (!redisUrl.startsWith("redis://") && !redisUrl.startsWith("rediss://")) {
      throw new ConfigException(r.key("redisUrl"), "must start with redis:// or rediss://");
    }
    redisChannels = r.getStringList("redisChannels", DEFAULT_REDIS_CHANNELS);
    redisChannelPrefix = java.util.Objects.requireNonNullElse(r.getOptionalString("redisChannelPrefix"), DEFAULT_REDIS_CHANNEL_PREFIX);
    redisStreams = r.getStringList("redisStreams", DEFAULT_REDIS_STREAMS);
    for (String name : redisChannels) {
      if (name.isBlank()) {
        throw new ConfigException(r.key("redisChannels"), "a channel name must not be empty");
      }
    }
    for (String name : redisStreams) {
      if (name.isBlank()) {
        throw new ConfigException(r.key("redisStreams"), "a stream name must not be empty");
      }
    }
    redisStreamGroup = r.getString("redisStreamGroup", DEFAULT_REDIS_STREAM_GROUP);
    if (redisStreamGroup.isBlank()) {
      throw new ConfigException(r.key("redisStreamGroup"), "must not be empty");
    }
    redisStreamConsumer = java.util.Objects.requireNonNullElse(r.getOptionalString("redisStreamConsumer"), DEFAULT_REDIS_STREAM_CONSUMER);
    redisClaimIdleMillis = r.getInt("redisClaimIdleMillis", DEFAULT_REDIS_CLAIM_IDLE_MILLIS, 100, 3_600_000);
    postgresUrl = r.getString("postgresUrl", DEFAULT_POSTGRES_URL);
    if (!postgresUrl.startsWith("postgresql://") && !postgresUrl.startsWith("postgres://")) {
      throw new ConfigException(r.key("postgresUrl"), "must start with postgresql://");
    }
    postgresOutboxTable = java.util.Objects.requireNonNullElse(r.getOptionalString("postgresOutboxTable"), DEFAULT_POSTGRES_OUTBOX_TABLE);
    if (!postgresOutboxTable.isEmpty() && !postgresOutboxTable.matches("[a-z_][a-z0-9_]{0,62}(\\.[a-z_][a-z0-9_]{0,62})?")) {
      throw new ConfigException(r.key("postgresOutboxTable"), "must be empty (off) or a lower-case table name, optionally schema.table");
    }
    postgresChannel = r.getString("postgresChannel", DEFAULT_POSTGRES_CHANNEL);
    if (!postgresChannel.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new ConfigException(r.key("postgresChannel"), "must be a lower-case identifier: a-z 0-9 _");
    }
    postgresPollMillis = r.getInt("postgresPollMillis", DEFAULT_POSTGRES_POLL_MILLIS, 50, 3_600_000);
    postgresBatchSize = r.getInt("postgresBatchSize", DEFAULT_POSTGRES_BATCH_SIZE, 1, 10_000);
    tcpBridgeEnabled = r.getBoolean("tcpBridgeEnabled", DEFAULT_TCP_BRIDGE_ENABLED);
    tcpBridgeHost = r.getString("tcpBridgeHost", DEFAULT_TCP_BRIDGE_HOST);
    tcpBridgePort = r.getInt("tcpBridgePort", DEFAULT_TCP_BRIDGE_PORT, 0, 65535);
    if (tcpBridgeEnabled && tcpBridgePort != 0 && tcpBridgePort == port) {
      throw new ConfigException(r.key("tcpBridgePort"), "must differ from port (" + port + "), got " + tcpBridgePort);
    }
    r.rejectUnknown();
  }

  public String host() { return host; }
  public int port() { return port; }
  public List<String> publisherKeys() { return publisherKeys; }
  public String publisherJwtSecret() { return publisherJwtSecret; }
  public String publisherJwtPublicKeyFile() { return publisherJwtPublicKeyFile; }
  public String publisherJwtIssuer() { return publisherJwtIssuer; }
  public String publisherJwtAudience() { return publisherJwtAudience; }
  public List<String> webhookSecrets() { return webhookSecrets; }
  /** The webhooks by name: name → secret. */
  public java.util.Map<String, String> webhooks() { return webhooks; }
  /** The topic patterns of the webhooks restricted to some ({@code name=secret=a.*|b}); a webhook not in it may publish anywhere. */
  public java.util.Map<String, List<String>> webhookTopics() { return webhookTopics; }
  public int webhookToleranceSeconds() { return webhookToleranceSeconds; }
  public int maxBodyBytes() { return maxBodyBytes; }
  public int maxEventBytes() { return maxEventBytes; }
  public int maxTopicsPerEvent() { return maxTopicsPerEvent; }
  public int maxBatchSize() { return maxBatchSize; }
  public int replayTimeoutMillis() { return replayTimeoutMillis; }
  /** Events per second per publisher credential, per notifier instance; 0: no limit. */
  public int publishRatePerKey() { return publishRatePerKey; }
  public int publishBurst() { return publishBurst; }

  /**
   * {@code publishBytesPerSecondPerKey}: body bytes per second per publisher credential, 0 to
   * 1,000,000,000 (0: no limit); see {@link #DEFAULT_PUBLISH_BYTES_PER_SECOND_PER_KEY}.
   */
  public int publishBytesPerSecondPerKey() { return publishBytesPerSecondPerKey; }

  /**
   * {@code newTopicsPerMinutePerKey}: topics new to a credential per minute, 0 to 100,000,000
   * (0: no limit); see {@link #DEFAULT_NEW_TOPICS_PER_MINUTE_PER_KEY}.
   */
  public int newTopicsPerMinutePerKey() { return newTopicsPerMinutePerKey; }
  /** The publisher JWT claim naming the tier. */
  public String tierClaim() { return tierClaim; }
  /** The configured tiers by name (every limit resolved, inherited ones included). */
  public java.util.Map<String, PublisherTier> tiers() { return tiers; }
  /** The top-level limits, the tier of every credential without a configured one. */
  public PublisherTier defaultTier() {
    return new PublisherTier(DEFAULT_TIER, publishRatePerKey, publishBurst, publishBytesPerSecondPerKey, newTopicsPerMinutePerKey);
  }
  /** The limits of tier {@code name}: a configured tier, else the defaults. */
  public PublisherTier tier(String name) {
    PublisherTier t = name == null ? null : tiers.get(name);
    return t == null ? defaultTier() : t;
  }

  private static JsonObject tiersJson(String key, Object raw) {
    if (raw == null) {
      return new JsonObject();
    }
    if (raw instanceof JsonObject o) {
      return o.copy();
    }
    if (raw instanceof String text) {
      try {
        return text.isBlank() ? new JsonObject() : new JsonObject(text);
      } catch (io.vertx.core.json.DecodeException e) {
        throw new ConfigException(key, "must be a JSON object of tiers, {\"<name>\": {\"publishRatePerKey\": n, ...}}: " + e.getMessage());
      }
    }
    throw new ConfigException(key, "must be an object of tiers, {\"<name>\": {\"publishRatePerKey\": n, ...}}, got " + raw);
  }

  private java.util.Map<String, PublisherTier> readTiers(String key, JsonObject json, PublisherTier defaults) {
    if (json.size() > MAX_TIERS) {
      throw new ConfigException(key, "at most " + MAX_TIERS + " tiers, got " + json.size());
    }
    java.util.Map<String, PublisherTier> out = new java.util.LinkedHashMap<>();
    for (String name : json.fieldNames()) {
      if (!name.matches(PublisherAuth.TIER_NAME)) {
        throw new ConfigException(key, "a tier name is 1 to 64 of A-Z a-z 0-9 _ -, got \"" + name + "\"");
      }
      if (DEFAULT_TIER.equals(name)) {
        throw new ConfigException(key + "." + name, "\"" + DEFAULT_TIER + "\" is the name of the top-level limits; set those keys directly");
      }
      if (!(json.getValue(name) instanceof JsonObject limits)) {
        throw new ConfigException(key + "." + name, "must be an object of limits, got " + json.getValue(name));
      }
      ConfigReader t = new ConfigReader(key + "." + name, limits);
      PublisherTier tier = new PublisherTier(name,
        t.getInt("publishRatePerKey", defaults.publishRatePerKey(), 0, 10_000_000),
        t.getInt("publishBurst", defaults.publishBurst(), 1, 100_000_000),
        t.getInt("publishBytesPerSecondPerKey", defaults.publishBytesPerSecondPerKey(), 0, 1_000_000_000),
        t.getInt("newTopicsPerMinutePerKey", defaults.newTopicsPerMinutePerKey(), 0, 100_000_000));
      t.rejectUnknown();
      if (tier.publishRatePerKey() > 0 && tier.publishBurst() < maxBatchSize) {
        throw new ConfigException(t.key("publishBurst"), "must be at least maxBatchSize (" + maxBatchSize
          + "), else a full batch could never be published; got " + tier.publishBurst());
      }
      out.put(name, tier);
    }
    return java.util.Collections.unmodifiableMap(out);
  }
  public List<String> trustedProducers() { return trustedProducers; }
  /** {@link #trustedProducers()}, parsed. */
  public AddressAllowlist producerAllowlist() { return producerAllowlist; }
  /** The trusted reverse proxies, as configured. */
  public List<String> trustedProxies() { return trustedProxies; }
  /** How the client address of a request is found ({@link #trustedProxies()}, parsed). */
  public ClientAddress clientAddress() { return clientAddress; }
  public int maxHeaderBytes() { return maxHeaderBytes; }
  public int requestTimeoutMillis() { return requestTimeoutMillis; }
  public int idleTimeoutSeconds() { return idleTimeoutSeconds; }
  public String redisUrl() { return redisUrl; }
  public List<String> redisChannels() { return redisChannels; }
  public String redisChannelPrefix() { return redisChannelPrefix; }
  public List<String> redisStreams() { return redisStreams; }
  public String redisStreamGroup() { return redisStreamGroup; }
  public String redisStreamConsumer() { return redisStreamConsumer; }
  public int redisClaimIdleMillis() { return redisClaimIdleMillis; }
  public String postgresUrl() { return postgresUrl; }
  public String postgresOutboxTable() { return postgresOutboxTable; }
  public String postgresChannel() { return postgresChannel; }
  public int postgresPollMillis() { return postgresPollMillis; }
  public int postgresBatchSize() { return postgresBatchSize; }
  /** True when the TCP event-bus bridge listens ({@link TcpBridge}). */
  public boolean tcpBridgeEnabled() { return tcpBridgeEnabled; }
  public String tcpBridgeHost() { return tcpBridgeHost; }
  public int tcpBridgePort() { return tcpBridgePort; }

  /** True while the shipped development key is accepted. */
  public boolean isDevelopmentKey() {
    return publisherKeys.contains(DEVELOPMENT_KEY);
  }

  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("publisherKeys", new JsonArray(publisherKeys))
      .put("publisherJwtSecret", publisherJwtSecret).put("publisherJwtPublicKeyFile", publisherJwtPublicKeyFile)
      .put("publisherJwtIssuer", publisherJwtIssuer).put("publisherJwtAudience", publisherJwtAudience)
      .put("webhookSecrets", new JsonArray(webhookSecrets)).put("webhookToleranceSeconds", webhookToleranceSeconds)
      .put("maxBodyBytes", maxBodyBytes).put("maxEventBytes", maxEventBytes)
      .put("maxTopicsPerEvent", maxTopicsPerEvent).put("maxBatchSize", maxBatchSize)
      .put("replayTimeoutMillis", replayTimeoutMillis)
      .put("publishRatePerKey", publishRatePerKey).put("publishBurst", publishBurst)
      .put("publishBytesPerSecondPerKey", publishBytesPerSecondPerKey).put("newTopicsPerMinutePerKey", newTopicsPerMinutePerKey)
      .put("tierClaim", tierClaim).put("tiers", tiersJson.copy())
      .put("trustedProducers", new JsonArray(trustedProducers)).put("trustedProxies", new JsonArray(trustedProxies)).put("maxHeaderBytes", maxHeaderBytes)
      .put("requestTimeoutMillis", requestTimeoutMillis).put("idleTimeoutSeconds", idleTimeoutSeconds)
      .put("redisUrl", redisUrl).put("redisChannels", new JsonArray(redisChannels)).put("redisChannelPrefix", redisChannelPrefix)
      .put("redisStreams", new JsonArray(redisStreams)).put("redisStreamGroup", redisStreamGroup)
      .put("redisStreamConsumer", redisStreamConsumer).put("redisClaimIdleMillis", redisClaimIdleMillis)
      .put("postgresUrl", postgresUrl).put("postgresOutboxTable", postgresOutboxTable).put("postgresChannel", postgresChannel)
      .put("postgresPollMillis", postgresPollMillis).put("postgresBatchSize", postgresBatchSize)
      .put("tcpBridgeEnabled", tcpBridgeEnabled).put("tcpBridgeHost", tcpBridgeHost).put("tcpBridgePort", tcpBridgePort);
  }

  /** A copy with some keys changed. */
  public NotifierOptions with(JsonObject changes) {
    return new NotifierOptions(toJson().mergeIn(changes));
  }
}
