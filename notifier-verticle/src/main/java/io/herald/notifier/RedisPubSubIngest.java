package io.herald.notifier;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.Topics;
import io.herald.common.tracing.TraceContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Ingests messages that applications {@code PUBLISH} on Redis channels.
 *
 * <h2>Channels and topics</h2>
 * Each configured entry is a channel name, or a glob pattern (it contains {@code *}, {@code ?}
 * or {@code [}) subscribed with {@code PSUBSCRIBE}. The topic of a message is the name of the
 * channel it was published on, without {@code channelPrefix} (a channel that does not start
 * with the prefix is the topic as it is): with prefix {@code herald:}, a message on
 * {@code herald:orders.42} goes to topic {@code orders.42}.
 *
 * <h2>Payload</h2>
 * A payload that is a JSON object with a {@code "data"} field is an envelope
 * {@code {"type", "data", "id"}} (the fields of a publish body, checked the same way; {@code id}
 * is the idempotency key; {@code traceparent} and {@code tracestate}, the producer's W3C trace
 * context, make the publish's span its child when tracing is on, and such a message is
 * published alone rather than in a batch). The channel is the topic: an envelope that names {@code topic} or
 * {@code topics} is rejected rather than silently sent elsewhere. Any other payload is the data
 * of an event of type {@code message}: as JSON when it is a JSON object or array, else as text.
 * A message Herald refuses (a channel that is not a valid topic name, too large, a bad envelope)
 * is counted as {@code rejected} and logged at WARN with its channel; the subscriber carries on.
 *
 * <h2>Delivery: at most once</h2>
 * Redis pub/sub keeps nothing: messages published while the subscriber is disconnected (or
 * while the store is unavailable: they are counted as {@code failed}) are lost. Use
 * {@link RedisStreamsIngest} where every event must arrive.
 *
 * <h2>Order and bounds</h2>
 * Messages are published in the order they arrive, one publish (of up to {@value #BATCH}
 * messages as one batch) at a time, so per-topic order holds. At most {@value #MAX_QUEUED}
 * messages wait in memory; beyond that the connection stops reading and Redis buffers (and,
 * past its {@code client-output-buffer-limit pubsub}, drops the subscriber, which reconnects).
 *
 * <h2>Connection</h2>
 * A dedicated subscriber connection; when it drops it is opened again with backoff
 * ({@value #BACKOFF_INITIAL_MILLIS} ms doubling to {@value #BACKOFF_MAX_MILLIS} ms, jittered)
 * and resubscribed, and {@code connected} is false meanwhile. Connect, subscribe and the
 * {@code PING} every {@value #PING_MILLIS} ms (which finds a connection that died silently) go
 * through the circuit breaker {@value #BREAKER_NAME}.
 *
 * <h2>Threading</h2>
 * Everything runs on the context {@link #start()} was called on (or a new one);
 * {@link #status()} may be called from any thread.
 */
public final class RedisPubSubIngest extends AbstractIngest {

  private static final Logger LOG = LoggerFactory.getLogger(RedisPubSubIngest.class);

  /** Name of the ingest and of its circuit breaker. */
  public static final String BREAKER_NAME = "redis-pubsub";
  /** A Redis call still running after this fails and counts against the breaker, ms. */
  public static final long CALL_TIMEOUT_MILLIS = 5000;
  /** Interval of the liveness PING on the subscriber connection, ms. */
  public static final long PING_MILLIS = 10_000;
  /** Messages waiting to be published at most; beyond, the connection stops reading. */
  public static final int MAX_QUEUED = 1000;
  /** Messages published together at most (one append). */
  public static final int BATCH = 50;
  /** At most one WARN per this interval for rejected or failed messages; the rest at DEBUG, ms. */
  static final long WARN_INTERVAL_MILLIS = 1000;

  private final String redisUrl;
  private final List<String> channels = new ArrayList<>();
  private final List<String> patterns = new ArrayList<>();
  private final String channelPrefix;

  private volatile int queued;

  /** Interval of the liveness PING, ms; package-private so a test can shorten it. */
  long pingMillis = PING_MILLIS;

  // Confined to the context.
  private Redis client;
  private RedisConnection conn;
  private long pingTimer = -1;
  private final ArrayDeque<Message> queue = new ArrayDeque<>();
  private boolean publishing;
  private boolean paused;
  private long lastWarn;

  /** {@code invalid}: why the payload was refused while decoding it (not UTF-8), else null. */
  private record Message(String channel, String payload, String invalid) {
  }

  /**
   * @param publish       {@link Publisher#publish}: fails with a {@link HeraldException}
   * @param redisUrl      {@code redis://[:password@]host:port[/db]}
   * @param channels      channel names and glob patterns, at least one
   * @param channelPrefix stripped from a channel name to make the topic; may be empty
   * @throws IllegalArgumentException naming the bad setting
   */
  public RedisPubSubIngest(Vertx vertx, Function<JsonObject, Future<JsonObject>> publish, String redisUrl,
                           List<String> channels, String channelPrefix) {
    super(vertx, publish, BREAKER_NAME, CALL_TIMEOUT_MILLIS);
    if (redisUrl == null || redisUrl.isBlank()) {
      throw new IllegalArgumentException("redis url must be set");
    }
    if (channels == null || channels.isEmpty()) {
      throw new IllegalArgumentException("channels must name at least one channel or pattern");
    }
    for (String c : channels) {
      if (c == null || c.isEmpty()) {
        throw new IllegalArgumentException("channels must not contain an empty name");
      }
      if (isPattern(c)) {
        patterns.add(c);
      } else {
        this.channels.add(c);
      }
    }
    this.redisUrl = redisUrl;
    this.channelPrefix = channelPrefix == null ? "" : channelPrefix;
  }

  static boolean isPattern(String channel) {
    return channel.indexOf('*') >= 0 || channel.indexOf('?') >= 0 || channel.indexOf('[') >= 0;
  }

  @Override
  protected void onStart() {
    pingTimer = vertx.setPeriodic(pingMillis, id -> ping());
    LOG.info("redis pub/sub ingest started: channels {} patterns {} prefix \"{}\"", channels, patterns, channelPrefix);
    connect();
  }

  @Override
  protected Future<Void> onStop() {
    cancelTimers(pingTimer);
    pingTimer = -1;
    queue.clear();
    queued = 0;
    return quietly(dropConnection());
  }

  @Override
  protected void onStopped() {
    LOG.info("redis pub/sub ingest stopped");
  }

  /**
   * {@code {"name", "connected": subscribed now, "breaker", "channels", "patterns",
   * "received": messages received, "published": events stored, "rejected": messages refused as
   * bad input, "failed": messages lost because the store failed, "reconnects": connections
   * lost, "queued": messages waiting to be published, "lastError"}}
   */
  @Override
  public JsonObject status() {
    return super.status()
      .put("channels", new JsonArray(new ArrayList<>(channels)))
      .put("patterns", new JsonArray(new ArrayList<>(patterns)))
      .put("queued", queued);
  }

  // ---- connection -----------------------------------------------------------------------

  @Override
  protected void connect() {
    // A client per connection: closing the client surely closes the socket (closing a pooled
    // connection would hand it back to the pool).
    Redis r = Redis.createClient(vertx, new RedisOptions().setConnectionString(redisUrl).setMaxPoolSize(1));
    client = r;
    guard(() -> r.connect())
      .compose(c -> {
        if (stopped || client != r) {
          return r.close().transform(x -> Future.failedFuture("stopped"));
        }
        // Handlers first: a message may arrive right after the subscribe is confirmed.
        c.handler(this::onPush);
        c.exceptionHandler(t -> onClosed(c, t));
        c.endHandler(x -> onClosed(c, null));
        conn = c;
        paused = false;
        return guard(() -> subscribe(c))
          .recover(t -> {
            if (conn == c) {
              conn = null;
            }
            return Future.failedFuture(t);
          });
      })
      .onSuccess(v -> {
        if (markConnected()) {
          LOG.info("redis pub/sub subscribed again: channels {} patterns {}", channels, patterns);
        }
      })
      .onFailure(t -> {
        if (stopped) {
          return;
        }
        if (client == r) {
          client = null;
          r.close();
        }
        if (markConnectFailed("subscribe", t)) {
          LOG.warn("redis pub/sub cannot subscribe, retrying with backoff: {}", t.toString());
        }
        scheduleReconnect(t);
      });
  }

  private Future<Void> subscribe(RedisConnection c) {
    List<Future<Response>> sent = new ArrayList<>();
    if (!channels.isEmpty()) {
      Request r = Request.cmd(Command.SUBSCRIBE);
      channels.forEach(r::arg);
      sent.add(c.send(r));
    }
    if (!patterns.isEmpty()) {
      Request r = Request.cmd(Command.PSUBSCRIBE);
      patterns.forEach(r::arg);
      sent.add(c.send(r));
    }
    return Future.all(sent).mapEmpty();
  }

  /** The connection closed, failed or stopped answering: drop it (closing its client) and reconnect. */
  private void onClosed(RedisConnection c, Throwable cause) {
    if (conn != c) {
      return;
    }
    dropConnection();
    if (markLost()) {
      lastError = "connection lost" + (cause == null ? "" : ": " + cause.getMessage());
      LOG.warn("redis pub/sub connection lost, reconnecting (messages published meanwhile are lost): channels {} patterns {}: {}",
        channels, patterns, cause == null ? "closed" : cause.toString());
    }
    scheduleReconnect(null);
  }

  /** Forgets the connection and closes its client (which surely closes the socket). */
  private Future<Void> dropConnection() {
    conn = null;
    Redis r = client;
    client = null;
    return r == null ? Future.succeededFuture() : r.close();
  }

  private void ping() {
    RedisConnection c = conn;
    if (stopped || c == null || !connected) {
      return;
    }
    guard(() -> c.send(Request.cmd(Command.PING))).onFailure(t -> {
      LOG.warn("redis pub/sub connection does not answer PING, replacing it: {}", t.toString());
      onClosed(c, t);
    });
  }

  // ---- messages -------------------------------------------------------------------------

  private void onPush(Response r) {
    if (r == null || r.size() < 3) {
      return;
    }
    String kind = r.get(0).toString();
    Message m;
    if ("message".equals(kind)) {
      m = message(r.get(1).toString(), r.get(2));
    } else if ("pmessage".equals(kind) && r.size() >= 4) {
      m = message(r.get(2).toString(), r.get(3));
    } else {
      // subscribe / psubscribe confirmations and the like
      return;
    }
    counters.received.incrementAndGet();
    queue.add(m);
    queued = queue.size();
    if (queue.size() >= MAX_QUEUED && !paused && conn != null) {
      paused = true;
      conn.pause();
      LOG.debug("redis pub/sub: {} messages waiting, reading paused", queue.size());
    }
    drain();
  }

  private static Message message(String channel, Response payload) {
    try {
      return new Message(channel, payload == null ? "" : PublishParser.utf8(payload.toBytes(), ErrorCode.INVALID_DATA, "the payload"), null);
    } catch (HeraldException e) {
      return new Message(channel, "", e.getMessage());
    }
  }

  private void drain() {
    if (publishing || queue.isEmpty() || stopped) {
      return;
    }
    List<Message> batch = new ArrayList<>();
    List<JsonObject> bodies = new ArrayList<>();
    while (!queue.isEmpty() && bodies.size() < BATCH) {
      Message m = queue.poll();
      try {
        JsonObject body = body(m);
        boolean traced = body.containsKey(TraceContext.TRACEPARENT);
        if (traced && !bodies.isEmpty()) {
          // A traced message is published alone: one publish span, one parent.
          queue.addFirst(m);
          break;
        }
        bodies.add(body);
        batch.add(m);
        if (traced) {
          break;
        }
      } catch (HeraldException e) {
        reject(m, e);
      }
    }
    queued = queue.size();
    if (paused && queue.size() < MAX_QUEUED / 2 && conn != null) {
      paused = false;
      conn.resume();
    }
    if (bodies.isEmpty()) {
      drain();
      return;
    }
    publishing = true;
    Future<JsonObject> sent = bodies.size() == 1 ? publish.apply(bodies.get(0))
      : publish.apply(new JsonObject().put("events", new JsonArray(new ArrayList<>(bodies))));
    sent.onSuccess(ok -> {
        counters.published.addAndGet(bodies.size());
        publishing = false;
        drain();
      })
      .onFailure(t -> {
        HeraldException e = HeraldException.from(t);
        if (e.code().status() >= 500 || bodies.size() == 1) {
          // One message, or the store failed: done with these (at most once).
          if (e.code().status() >= 500) {
            fail(batch, e);
          } else {
            reject(batch.get(0), e);
          }
          publishing = false;
          drain();
          return;
        }
        // The batch was refused as a whole (nothing stored): find the bad ones, in order.
        oneByOne(batch, bodies, 0).onComplete(x -> {
          publishing = false;
          drain();
        });
      });
  }

  private Future<Void> oneByOne(List<Message> batch, List<JsonObject> bodies, int i) {
    if (i == bodies.size() || stopped) {
      return Future.succeededFuture();
    }
    return publish.apply(bodies.get(i)).transform(ar -> {
      if (ar.succeeded()) {
        counters.published.incrementAndGet();
      } else {
        HeraldException e = HeraldException.from(ar.cause());
        if (e.code().status() >= 500) {
          fail(batch.subList(i, batch.size()), e);
          return Future.succeededFuture();
        }
        reject(batch.get(i), e);
      }
      return oneByOne(batch, bodies, i + 1);
    });
  }

  /** The publish body of a message; throws a {@link HeraldException} for a message Herald cannot take. */
  private JsonObject body(Message m) {
    String topic = m.channel().startsWith(channelPrefix) ? m.channel().substring(channelPrefix.length()) : m.channel();
    if (!Topics.isValidTopic(topic)) {
      throw new HeraldException(ErrorCode.INVALID_TOPIC, "the channel does not make a valid topic: \"" + topic + "\"");
    }
    if (m.invalid() != null) {
      throw new HeraldException(ErrorCode.INVALID_DATA, m.invalid());
    }
    boolean[] envelope = {false};
    Object value = json(m.payload(), envelope);
    if (envelope[0]) {
      JsonObject o = PublishParser.object(m.payload());
      if (o.containsKey("topic") || o.containsKey("topics")) {
        throw new HeraldException(ErrorCode.INVALID_REQUEST,
          "an envelope on a channel must not name topic or topics: the channel is the topic");
      }
      return o.put("topic", topic);
    }
    return new JsonObject().put("topic", topic).put("type", "message").put("data", value != null ? value : m.payload());
  }

  /**
   * The payload as the {@link JsonText} of a JSON object or array, or null when it is neither
   * (then it is text). {@code envelope[0]} is set for an object with a top-level {@code "data"}.
   * A payload that is JSON but holds a lone surrogate is refused, not taken as text.
   */
  static Object json(String payload, boolean[] envelope) {
    int i = 0;
    while (i < payload.length() && Character.isWhitespace(payload.charAt(i))) {
      i++;
    }
    if (i == payload.length() || (payload.charAt(i) != '{' && payload.charAt(i) != '[')) {
      return null;
    }
    try {
      return PublishParser.data(payload, envelope);
    } catch (HeraldException e) {
      if (e.code() == ErrorCode.INVALID_DATA) {
        throw e;
      }
      return null;
    }
  }

  private void reject(Message m, HeraldException e) {
    counters.rejected.incrementAndGet();
    warn("redis pub/sub message rejected: channel {}: {} {}", m.channel(), e.code().code(), e.getMessage());
  }

  private void fail(List<Message> lost, HeraldException e) {
    counters.failed.addAndGet(lost.size());
    lastError = "publish: " + e.code().code() + " " + e.getMessage();
    warn("redis pub/sub: {} message(s) lost, the store failed: channel {}: {} {}", lost.size(), lost.get(0).channel(),
      e.code().code(), e.getMessage());
  }

  private void warn(String format, Object... args) {
    long now = System.currentTimeMillis();
    if (now - lastWarn >= WARN_INTERVAL_MILLIS) {
      lastWarn = now;
      LOG.warn(format, args);
    } else {
      LOG.debug(format, args);
    }
  }
}
