package io.herald.notifier;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.Topics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Ingests entries that applications {@code XADD} to Redis streams, read with a consumer group.
 *
 * <h2>Entries</h2>
 * An entry is either one field {@code event} holding a publish body as JSON (the form of
 * {@link PublishParser}: {@code topic|topics, type, data, id}, or a batch), or the fields
 * {@code topic}, {@code type} (optional), {@code data} (as JSON when it is a JSON object or
 * array, else text) and {@code id} (optional); other fields are ignored, except
 * {@code traceparent} and {@code tracestate}: the producer's W3C trace context, the parent of
 * the publish's span when tracing is on. The idempotency key
 * ({@code id}) defaults to {@code <stream>:<entry-id>} (the stream name is hashed when the key
 * would not be a valid id), so an entry delivered again is stored once.
 *
 * <h2>Delivery: at least once, stored once</h2>
 * An entry is acknowledged ({@code XACK}) only after the store took it. When the store is
 * unavailable (a 5xx) the entry stays pending and is retried with backoff, before any newer
 * entry. An entry Herald refuses (a 4xx: bad topic, too large, malformed JSON) is copied to the
 * dead-letter stream {@code <stream>:dead} (capped near {@value #DEAD_LETTER_MAXLEN} entries)
 * with fields {@code error}, {@code error_message}, {@code stream} and {@code entry_id} added,
 * then acknowledged, and counted as {@code rejected}. After each (re)connect the consumer first
 * reads its own pending entries again; every {@code claimIdleMillis / 2} it takes over
 * ({@code XAUTOCLAIM}) entries that another consumer of the group read and did not acknowledge
 * for {@code claimIdleMillis} (a crashed notifier). {@link #stop()} leaves unacknowledged entries
 * pending.
 *
 * <h2>Order and bounds</h2>
 * One loop per ingest on a dedicated connection: read up to {@code COUNT} {@value #DEFAULT_COUNT}
 * entries ({@code BLOCK} {@value #BLOCK_MILLIS} ms), publish them one at a time, in stream order,
 * acknowledge, read again; nothing else is held in memory. Per-topic order holds for the
 * entries of one stream (a reclaimed entry of a crashed consumer arrives late, by nature).
 *
 * <h2>Connection</h2>
 * On connect the group is created for each stream ({@code XGROUP CREATE <stream> <group> 0
 * MKSTREAM}; an existing group is kept): a new group starts at the stream's first entry, so
 * entries producers added before the group existed are delivered too (at-least-once) — among
 * them those added to a Redis that restarted empty before the notifier reconnected. A lost connection is opened again with
 * backoff ({@value #BACKOFF_INITIAL_MILLIS} ms doubling to {@value #BACKOFF_MAX_MILLIS} ms,
 * jittered); {@code connected} is false meanwhile. Every Redis call goes through the circuit
 * breaker {@value #BREAKER_NAME} (timeout {@value #CALL_TIMEOUT_MILLIS} ms, more than the
 * {@code BLOCK} of a read).
 *
 * <h2>Threading</h2>
 * Everything runs on the context {@link #start()} was called on (or a new one);
 * {@link #status()} may be called from any thread.
 */
public final class RedisStreamsIngest extends AbstractIngest {

  private static final Logger LOG = LoggerFactory.getLogger(RedisStreamsIngest.class);

  /** Name of the ingest and of its circuit breaker. */
  public static final String BREAKER_NAME = "redis-streams";
  /** Entries read at most per XREADGROUP / XAUTOCLAIM. */
  public static final int DEFAULT_COUNT = 100;
  /** How long one XREADGROUP waits for new entries, ms. */
  public static final long BLOCK_MILLIS = 1000;
  /** A Redis call still running after this fails and counts against the breaker, ms (more than {@link #BLOCK_MILLIS}). */
  public static final long CALL_TIMEOUT_MILLIS = 5000;
  /** Approximate cap of a dead-letter stream ({@code MAXLEN ~}). */
  public static final long DEAD_LETTER_MAXLEN = 10_000;
  /** Suffix of the dead-letter stream of a stream. */
  public static final String DEAD_LETTER_SUFFIX = ":dead";

  private final String redisUrl;
  private final List<String> streams;
  private final String group;
  private final String consumer;
  private final long claimIdleMillis;
  private final int count;

  private final AtomicLong claimed = new AtomicLong();
  private volatile long pending = -1;

  // Confined to the context.
  private Redis client;
  private RedisConnection conn;
  private boolean looping;
  private boolean ownPendingDue;
  private boolean claimDue;
  private long retryTimer = -1;
  private long claimTimer = -1;
  private int storeFailures;

  /** An ingest reading {@value #DEFAULT_COUNT} entries at a time. */
  public RedisStreamsIngest(Vertx vertx, Function<JsonObject, Future<JsonObject>> publish, String redisUrl,
                            List<String> streams, String group, String consumer, long claimIdleMillis) {
    this(vertx, publish, redisUrl, streams, group, consumer, claimIdleMillis, DEFAULT_COUNT);
  }

  /**
   * @param publish         {@link Publisher#publish}: fails with a {@link HeraldException}
   * @param redisUrl        {@code redis://[:password@]host:port[/db]}
   * @param streams         stream keys, at least one
   * @param group           the consumer group, shared by the notifiers reading the streams
   * @param consumer        this notifier's name in the group, stable across restarts (its pending
   *                        entries are read again on start); empty: the host name
   * @param claimIdleMillis entries another consumer left unacknowledged this long are taken over, ms, >= 100
   * @param count           entries per read, 1..10000
   * @throws IllegalArgumentException naming the bad setting
   */
  public RedisStreamsIngest(Vertx vertx, Function<JsonObject, Future<JsonObject>> publish, String redisUrl,
                            List<String> streams, String group, String consumer, long claimIdleMillis, int count) {
    super(vertx, publish, BREAKER_NAME, CALL_TIMEOUT_MILLIS);
    if (redisUrl == null || redisUrl.isBlank()) {
      throw new IllegalArgumentException("redis url must be set");
    }
    if (streams == null || streams.isEmpty() || streams.stream().anyMatch(s -> s == null || s.isEmpty())) {
      throw new IllegalArgumentException("streams must name at least one stream, none empty");
    }
    if (group == null || group.isBlank()) {
      throw new IllegalArgumentException("group must be set");
    }
    if (claimIdleMillis < 100) {
      throw new IllegalArgumentException("claimIdleMillis must be >= 100");
    }
    if (count < 1 || count > 10_000) {
      throw new IllegalArgumentException("count must be 1..10000");
    }
    this.redisUrl = redisUrl;
    this.streams = List.copyOf(new LinkedHashSet<>(streams));
    this.group = group;
    this.consumer = consumer == null || consumer.isBlank() ? hostName() : consumer;
    this.claimIdleMillis = claimIdleMillis;
    this.count = count;
  }

  /** This notifier's consumer name in the group. */
  public String consumer() {
    return consumer;
  }

  @Override
  protected void onStart() {
    claimTimer = vertx.setPeriodic(Math.max(50, claimIdleMillis / 2), id -> claimDue = true);
    LOG.info("redis streams ingest started: streams {} group {} consumer {} claim after {} ms", streams, group, consumer,
      claimIdleMillis);
    connect();
  }

  @Override
  protected Future<Void> onStop() {
    cancelTimers(retryTimer, claimTimer);
    retryTimer = claimTimer = -1;
    // A read in flight fails; what it read stays pending for the next start or another consumer.
    return quietly(dropConnection());
  }

  @Override
  protected void onStopped() {
    LOG.info("redis streams ingest stopped: streams {} group {} consumer {}", streams, group, consumer);
  }

  /**
   * {@code {"name", "connected", "breaker", "streams", "group", "consumer", "received": entries
   * read (again, when retried), "published": entries stored and acknowledged, "rejected": entries
   * sent to the dead-letter stream, "failed": publishes that failed because the store was
   * unavailable (retried), "claimed": entries taken over from other consumers, "reconnects",
   * "pending": entries of the group read and not acknowledged, at the last claim round (-1
   * unknown), "lastError"}}
   */
  @Override
  public JsonObject status() {
    return super.status()
      .put("streams", new JsonArray(new ArrayList<>(streams)))
      .put("group", group)
      .put("consumer", consumer)
      .put("claimed", claimed.get())
      .put("pending", pending);
  }

  // ---- connection -----------------------------------------------------------------------

  @Override
  protected void connect() {
    // A client per connection: closing the client surely closes the socket. RESP2 for the
    // plain array replies of XREADGROUP / XAUTOCLAIM.
    Redis r = Redis.createClient(vertx, new RedisOptions().setConnectionString(redisUrl).setMaxPoolSize(1)
      .setPreferredProtocolVersion(ProtocolVersion.RESP2));
    client = r;
    guard(() -> r.connect())
      .compose(c -> {
        if (stopped || client != r) {
          return r.close().transform(x -> Future.failedFuture("stopped"));
        }
        c.exceptionHandler(t -> onLost(c, t));
        c.endHandler(x -> onLost(c, null));
        conn = c;
        return createGroups(c, 0).map(c);
      })
      .onSuccess(c -> {
        if (conn != c) {
          return;
        }
        if (markConnected()) {
          LOG.info("redis streams connected again: streams {} group {} consumer {}", streams, group, consumer);
        }
        ownPendingDue = true;
        claimDue = true;
        loop();
      })
      .onFailure(t -> {
        if (stopped) {
          return;
        }
        if (client == r) {
          dropConnection();
        }
        if (markConnectFailed("connect", t)) {
          LOG.warn("redis streams cannot connect, retrying with backoff: streams {}: {}", streams, t.toString());
        }
        scheduleReconnect(t);
      });
  }

  private Future<Void> createGroups(RedisConnection c, int i) {
    if (i == streams.size()) {
      return Future.succeededFuture();
    }
    Request req = Request.cmd(Command.XGROUP).arg("CREATE").arg(streams.get(i)).arg(group).arg("0").arg("MKSTREAM");
    return guard(() -> c.send(req).recover(t -> t.getMessage() != null && t.getMessage().startsWith("BUSYGROUP")
        ? Future.succeededFuture() : Future.failedFuture(t)))
      .compose(x -> createGroups(c, i + 1));
  }

  /** The connection closed or failed: drop it (closing its client) and reconnect. */
  private void onLost(RedisConnection c, Throwable cause) {
    if (conn != c) {
      return;
    }
    dropConnection();
    if (markLost()) {
      lastError = "connection lost" + (cause == null ? "" : ": " + cause.getMessage());
      LOG.warn("redis streams connection lost, reconnecting: streams {} group {}: {}", streams, group,
        cause == null ? "closed" : cause.toString());
    }
    scheduleReconnect(cause);
  }

  /** Forgets the connection and closes its client (which surely closes the socket). */
  private Future<Void> dropConnection() {
    conn = null;
    Redis r = client;
    client = null;
    return r == null ? Future.succeededFuture() : r.close();
  }

  // ---- the loop -------------------------------------------------------------------------

  /** Store unavailable: the entry stays pending and the loop retries after a backoff. */
  private static final class StoreFailed extends RuntimeException {
    StoreFailed(HeraldException cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }

  private void loop() {
    RedisConnection c = conn;
    if (looping || stopped || c == null || retryTimer >= 0) {
      return;
    }
    looping = true;
    step(c).onComplete(ar -> {
      looping = false;
      if (stopped) {
        return;
      }
      if (ar.succeeded()) {
        if (storeFailures > 0) {
          LOG.info("redis streams: the store takes entries again: streams {}", streams);
          storeFailures = 0;
        }
        loop();
        return;
      }
      Throwable t = ar.cause();
      if (t instanceof StoreFailed) {
        counters.failed.incrementAndGet();
        lastError = "publish: " + t.getMessage();
        if (storeFailures++ == 0) {
          LOG.warn("redis streams: the store is unavailable, entries stay pending and are retried: streams {}: {}", streams,
            t.getMessage());
        }
        ownPendingDue = true;
        retryTimer = vertx.setTimer(retryDelay(null, storeFailures - 1), id -> {
          retryTimer = -1;
          loop();
        });
        return;
      }
      // A Redis failure (timeout, error reply, lost connection): start over on a new connection.
      LOG.debug("redis streams loop failed: {}", t.toString());
      onLost(c, t);
      // The connection may already have been replaced while this round was still running.
      if (conn != null) {
        loop();
      }
    });
  }

  /** One round: own pending entries after a (re)connect or a store failure, else a claim round when due, else new entries. */
  private Future<Void> step(RedisConnection c) {
    if (ownPendingDue) {
      Request req = Request.cmd(Command.XREADGROUP).arg("GROUP").arg(group).arg(consumer).arg("COUNT").arg(count)
        .arg("STREAMS");
      streams.forEach(req::arg);
      streams.forEach(s -> req.arg("0"));
      return guard(() -> c.send(req)).compose(r -> {
        List<Batch> batches = batches(r);
        if (batches.stream().allMatch(b -> b.entries().isEmpty())) {
          ownPendingDue = false;
          return Future.succeededFuture();
        }
        return processAll(c, batches, 0);
      });
    }
    if (claimDue) {
      claimDue = false;
      return claimRound(c, 0, 0L);
    }
    Request req = Request.cmd(Command.XREADGROUP).arg("GROUP").arg(group).arg(consumer).arg("COUNT").arg(count)
      .arg("BLOCK").arg(BLOCK_MILLIS).arg("STREAMS");
    streams.forEach(req::arg);
    streams.forEach(s -> req.arg(">"));
    return guard(() -> c.send(req)).compose(r -> processAll(c, batches(r), 0));
  }

  /** XAUTOCLAIM on each stream (one page of COUNT each; more next round), then the pending count. */
  private Future<Void> claimRound(RedisConnection c, int i, long pendingSum) {
    if (i == streams.size()) {
      pending = pendingSum;
      return Future.succeededFuture();
    }
    String stream = streams.get(i);
    Request req = Request.cmd(Command.XAUTOCLAIM).arg(stream).arg(group).arg(consumer).arg(claimIdleMillis).arg("0-0")
      .arg("COUNT").arg(count);
    return guard(() -> c.send(req)).compose(r -> {
      List<Entry> entries = r == null || r.size() < 2 ? List.of() : entries(r.get(1));
      if (!entries.isEmpty()) {
        claimed.addAndGet(entries.size());
        LOG.info("redis streams: took over {} entries another consumer did not acknowledge: stream {} group {}", entries.size(),
          stream, group);
        if (!"0-0".equals(r.get(0).toString())) {
          claimDue = true;
        }
      }
      return process(c, stream, entries, 0, new ArrayList<>());
    }).compose(x -> guard(() -> c.send(Request.cmd(Command.XPENDING).arg(stream).arg(group))))
      .compose(p -> claimRound(c, i + 1, pendingSum + (p == null || p.size() == 0 || p.get(0) == null ? 0 : p.get(0).toLong())));
  }

  /** {@code invalid}: why a field was refused while decoding it (not UTF-8), else null. */
  private record Entry(String id, List<String> fields, String invalid) {
  }

  private record Batch(String stream, List<Entry> entries) {
  }

  private static List<Batch> batches(Response r) {
    List<Batch> out = new ArrayList<>();
    if (r == null) {
      return out;
    }
    if (r.isMap()) {
      for (String k : r.getKeys()) {
        out.add(new Batch(k, entries(r.get(k))));
      }
      return out;
    }
    for (Response s : r) {
      out.add(new Batch(s.get(0).toString(), entries(s.get(1))));
    }
    return out;
  }

  private static List<Entry> entries(Response r) {
    List<Entry> out = new ArrayList<>();
    if (r == null) {
      return out;
    }
    for (Response e : r) {
      Response f = e.size() > 1 ? e.get(1) : null;
      List<String> fields = null;
      String invalid = null;
      if (f != null) {
        fields = new ArrayList<>();
        if (f.isMap()) {
          for (String k : f.getKeys()) {
            fields.add(k);
            fields.add(text(f.get(k)));
            invalid = invalid != null ? invalid : notUtf8(f.get(k));
          }
        } else {
          for (Response x : f) {
            fields.add(text(x));
            invalid = invalid != null ? invalid : notUtf8(x);
          }
        }
      }
      // fields == null: the entry was deleted from the stream while pending.
      out.add(new Entry(e.get(0).toString(), fields, invalid));
    }
    return out;
  }

  private Future<Void> processAll(RedisConnection c, List<Batch> batches, int i) {
    if (i == batches.size()) {
      return Future.succeededFuture();
    }
    Batch b = batches.get(i);
    return process(c, b.stream(), b.entries(), 0, new ArrayList<>()).compose(x -> processAll(c, batches, i + 1));
  }

  /** Publishes the entries one at a time, in order; acknowledges the done ones, also when a store failure stops it. */
  private Future<Void> process(RedisConnection c, String stream, List<Entry> entries, int i, List<String> done) {
    if (i == entries.size() || stopped) {
      return ack(c, stream, done);
    }
    Entry e = entries.get(i);
    if (e.fields() == null) {
      done.add(e.id());
      return process(c, stream, entries, i + 1, done);
    }
    counters.received.incrementAndGet();
    JsonObject body;
    try {
      body = body(stream, e);
    } catch (HeraldException bad) {
      return deadLetter(c, stream, e, bad).compose(x -> {
        done.add(e.id());
        return process(c, stream, entries, i + 1, done);
      });
    }
    return publish.apply(body).transform(ar -> {
      if (ar.succeeded()) {
        counters.published.incrementAndGet();
        done.add(e.id());
        return process(c, stream, entries, i + 1, done);
      }
      HeraldException err = HeraldException.from(ar.cause());
      if (err.code().status() >= 500) {
        return ack(c, stream, done).transform(x -> Future.<Void>failedFuture(new StoreFailed(err)));
      }
      return deadLetter(c, stream, e, err).compose(x -> {
        done.add(e.id());
        return process(c, stream, entries, i + 1, done);
      });
    });
  }

  private Future<Void> ack(RedisConnection c, String stream, List<String> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    Request req = Request.cmd(Command.XACK).arg(stream).arg(group);
    ids.forEach(req::arg);
    List<String> copy = List.copyOf(ids);
    ids.clear();
    return guard(() -> c.send(req)).onFailure(t -> LOG.debug("redis streams: XACK of {} entries failed (they are delivered"
      + " again, stored once): stream {}", copy.size(), stream)).mapEmpty();
  }

  private Future<Void> deadLetter(RedisConnection c, String stream, Entry e, HeraldException err) {
    counters.rejected.incrementAndGet();
    LOG.warn("redis streams entry rejected, moved to {}{}: stream {} entry {}: {} {}", stream, DEAD_LETTER_SUFFIX, stream,
      e.id(), err.code().code(), err.getMessage());
    Request req = Request.cmd(Command.XADD).arg(stream + DEAD_LETTER_SUFFIX).arg("MAXLEN").arg("~").arg(DEAD_LETTER_MAXLEN)
      .arg("*");
    e.fields().forEach(req::arg);
    req.arg("error").arg(err.code().code()).arg("error_message").arg(err.getMessage()).arg("stream").arg(stream)
      .arg("entry_id").arg(e.id());
    return guard(() -> c.send(req)).mapEmpty();
  }

  /** The publish body of an entry; throws a {@link HeraldException} for an entry Herald cannot take. */
  private JsonObject body(String stream, Entry e) {
    String event = null;
    String topic = null;
    String type = null;
    String data = null;
    String id = null;
    String traceparent = null;
    String tracestate = null;
    boolean hasData = false;
    List<String> f = e.fields();
    for (int k = 0; k + 1 < f.size(); k += 2) {
      String v = f.get(k + 1);
      switch (f.get(k)) {
        case "event" -> event = v;
        case "topic" -> topic = v;
        case "type" -> type = v;
        case "data" -> {
          data = v;
          hasData = true;
        }
        case "id" -> id = v;
        case "traceparent" -> traceparent = v;
        case "tracestate" -> tracestate = v;
        default -> {
          // other fields are the application's own
        }
      }
    }
    if (e.invalid() != null) {
      throw new HeraldException(ErrorCode.INVALID_DATA, e.invalid());
    }
    String key = key(stream, e.id());
    if (event != null) {
      JsonObject body = PublishParser.object(event);
      if (PublishParser.isBatch(body) && body.getValue("events") instanceof JsonArray events) {
        for (int i = 0; i < events.size(); i++) {
          if (events.getValue(i) instanceof JsonObject one && !one.containsKey("id")) {
            one.put("id", key(stream, e.id() + ":" + i));
          }
        }
      } else if (!body.containsKey("id")) {
        body.put("id", key);
      }
      return traced(body, traceparent, tracestate);
    }
    if (topic == null) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "an entry needs a field \"event\" (a publish body) or \"topic\" and \"data\"");
    }
    JsonObject body = new JsonObject().put("topic", topic);
    if (type != null) {
      body.put("type", type);
    }
    if (hasData) {
      Object json = RedisPubSubIngest.json(data, null);
      body.put("data", json != null ? json : data);
    }
    body.put("id", id != null ? id : key);
    return traced(body, traceparent, tracestate);
  }

  /**
   * The entry's fields {@code traceparent}/{@code tracestate} in the body, where
   * {@link Publisher#publishCarrying} takes them out (over the same fields of an {@code event}).
   */
  private static JsonObject traced(JsonObject body, String traceparent, String tracestate) {
    if (traceparent != null) {
      body.put(io.herald.common.tracing.TraceContext.TRACEPARENT, traceparent);
      if (tracestate != null) {
        body.put(io.herald.common.tracing.TraceContext.TRACESTATE, tracestate);
      }
    }
    return body;
  }

  /** {@code <stream>:<entry-id>}, with the stream hashed when that is not a valid idempotency key. */
  static String key(String stream, String entryId) {
    String key = stream + ":" + entryId;
    if (Topics.isValidKey(key)) {
      return key;
    }
    return "s-" + shortHash(stream) + ":" + entryId;
  }

  // ---- helpers --------------------------------------------------------------------------

  private static String text(Response r) {
    return r == null ? "" : r.toString();
  }

  /** Why {@code r} is not UTF-8 (its text would hold U+FFFD where the bytes were), or null. */
  private static String notUtf8(Response r) {
    if (r == null) {
      return null;
    }
    try {
      PublishParser.utf8(r.toBytes(), ErrorCode.INVALID_DATA, "a field");
      return null;
    } catch (HeraldException bad) {
      return bad.getMessage();
    }
  }

  private static String hostName() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "herald-" + ProcessHandle.current().pid();
    }
  }
}
