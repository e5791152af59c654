package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The {@link io.herald.common.replay.ReplayStore} on Redis ({@code replay.store = redis}):
 * history lives in one Redis server, so every replay node pointed at it serves the same
 * history, and it survives replay restarts (and Redis restarts, if Redis persists).
 *
 * <h2>Layout</h2>
 * Every key starts with the key prefix ({@code replay.redisKeyPrefix}, default {@code herald:}):
 * <ul>
 *   <li>{@code <prefix>epoch}: the store-wide epoch, 8 random ASCII letters and digits, set
 *   with "set if absent" by whichever store call first finds it missing. If Redis loses its
 *   data the key is gone, the next call draws a new epoch, and every position handed out
 *   before gets a {@code reset}.</li>
 *   <li>{@code <prefix>seq:<topic>}: the topic's last sequence number (no key: 0). Never
 *   expires, so a topic whose events all expired continues its sequence.</li>
 *   <li>{@code <prefix>stream:<topic>}: a Redis stream, one entry per retained event, with the
 *   explicit entry id {@code <seq>-0} and fields {@code type}, {@code data}, {@code json}
 *   ({@code 1}/{@code 0}), {@code key} (only if the event has one) and {@code ts} (epoch
 *   milliseconds).</li>
 *   <li>{@code <prefix>keys:<topic>}: a hash, idempotency key to entry id of the retained
 *   event that has it; an entry leaves with its event.</li>
 * </ul>
 * Each operation on a topic is one Lua script, so it is atomic on the server: concurrent
 * appends from any number of replay nodes number a topic without holes or duplicates.
 *
 * <h2>Retention</h2>
 * By count: every append trims the stream to exactly {@code maxEventsPerTopic} entries. By
 * age: every append first drops the entries older than {@code maxAgeSeconds} (by their
 * {@code ts}, from the oldest, stopping at the first younger one); reads never serve an entry
 * older than that (a read whose next event has expired gets a reset). Stream and key hash
 * also get a Redis time-to-live of {@code maxAgeSeconds} from each append, so idle topics
 * free their history without any sweeping. Event timestamps are this store's clock; replay
 * nodes sharing a Redis should have synchronized clocks.
 *
 * <h2>Limits</h2>
 * {@code maxTopics} is not enforced: each topic ever appended to keeps its small
 * {@code seq:} key (topics are created by publishers only). Redis must not evict keys
 * ({@code maxmemory-policy noeviction}): a lost {@code seq:} key whose stream survives makes
 * appends to that topic fail loudly, a lost {@code seq:} key with its stream and its epoch
 * surviving would restart the topic's seqs in the same epoch. A standalone Redis (or a
 * primary with replicas) is expected: the scripts touch the store-wide epoch key and the
 * topic's keys together, which Redis Cluster would refuse across slots.
 *
 * <h2>Outages</h2>
 * An append carries a deadline on Redis's clock ({@link #fenceMillis}) and stores nothing when
 * Redis runs it later, failing with {@link NotStoredException}: an append its caller gave up on
 * cannot land late. {@link #skip} leaves a one-seq hole in topics whose events went to an
 * outage store, so that a read from before the outage gets a reset rather than passing them.
 *
 * <h2>Threading</h2>
 * Never blocks: every call is one asynchronous Redis request. Construction does no I/O; see
 * {@link #init()}.
 */
public final class RedisReplayStore implements ReportingReplayStore, Initializable, SeqSkipping {

  /** Length of the epochs this store draws. */
  public static final int EPOCH_LENGTH = 8;
  /** Most entries the log stream holds; older ones are trimmed even if their events are retained. */
  public static final int MAX_LOG_ENTRIES = 1 << 20;
  /** Front entries of the log each append checks (and drops when their event is gone). */
  static final int LOG_FRONT_CHECKS = 8;
  /** Redis connections this store opens at most. */
  static final int MAX_POOL_SIZE = 8;
  /** Requests that may wait for a free connection before new ones fail. */
  static final int MAX_POOL_WAITING = 10_000;

  private static final char[] EPOCH_ALPHABET =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  /** Shared by the scripts: the store epoch, drawn (ARGV[1]) if missing. */
  private static final String EPOCH_LUA = """
    local epoch = redis.call('GET', KEYS[1])
    if not epoch then
      redis.call('SET', KEYS[1], ARGV[1])
      epoch = ARGV[1]
    end
    """;

  /**
   * KEYS: epoch, seq, stream, keys, logseq, log. ARGV: candidate epoch, maxEvents, age cutoff (ms),
   * ttl (s), n, deadline (Redis clock, ms), topic, key prefix, then per draft: type, data, json,
   * hasKey, key, ts, flags (Event#flagsText, empty for none; kept as the field {@code m}). A keyed
   * event is also indexed by key across topics ({@code <prefix>key:<key>}, see {@link #findKey}).
   * Returns {epoch, {{stored 1/0, id, fields}...}, Redis time (ms), 0}, or
   * {'', {}, Redis time (ms), 1} when Redis runs it after its deadline (nothing is stored).
   */
  private static final Script APPEND = new Script("""
    local time = redis.call('TIME')
    local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
    if nowMs > tonumber(ARGV[6]) then return {'', {}, nowMs, 1} end
    """ + EPOCH_LUA + """
    local stream, keys = KEYS[3], KEYS[4]
    local maxEvents = tonumber(ARGV[2])
    local cutoff = tonumber(ARGV[3])
    local n = tonumber(ARGV[5])
    local function field(fields, name)
      for i = 1, #fields, 2 do
        if fields[i] == name then return fields[i + 1] end
      end
      return nil
    end
    local function forget(entry)
      local k = field(entry[2], 'key')
      if k and redis.call('HGET', keys, k) == entry[1] then
        redis.call('HDEL', keys, k)
      end
      if k then
        local gk = ARGV[8] .. 'key:' .. k
        if redis.call('HGET', gk, ARGV[7]) == entry[1] then redis.call('HDEL', gk, ARGV[7]) end
      end
    end
    while true do
      local batch = redis.call('XRANGE', stream, '-', '+', 'COUNT', 100)
      local done = #batch < 100
      for _, e in ipairs(batch) do
        if tonumber(field(e[2], 'ts')) >= cutoff then
          done = true
          break
        end
        forget(e)
        redis.call('XDEL', stream, e[1])
      end
      if done then break end
    end
    local out = {}
    local inCall = {}
    for i = 1, n do
      local o = 8 + (i - 1) * 7
      local hasKey = ARGV[o + 4] == '1'
      local key = ARGV[o + 5]
      local result = nil
      if hasKey then
        result = inCall[key]
        if not result then
          local id = redis.call('HGET', keys, key)
          if id then
            local found = redis.call('XRANGE', stream, id, id)
            if #found == 1 then result = {0, found[1][1], found[1][2]} end
          end
        end
      end
      if not result then
        local seq = redis.call('INCR', KEYS[2])
        local id = string.format('%d-0', seq)
        local lseq = redis.call('INCR', KEYS[5])
        redis.call('XADD', KEYS[6], string.format('%d-0', lseq), 't', ARGV[7], 's', seq)
        local fields = {'type', ARGV[o + 1], 'data', ARGV[o + 2], 'json', ARGV[o + 3], 'ts', ARGV[o + 6], 'log', lseq}
        if hasKey then
          fields[11] = 'key'
          fields[12] = key
          redis.call('HSET', keys, key, id)
          local gk = ARGV[8] .. 'key:' .. key
          redis.call('HSET', gk, ARGV[7], id)
          redis.call('EXPIRE', gk, ARGV[4])
          inCall[key] = {0, id, fields}
        end
        if ARGV[o + 7] ~= '' then
          fields[#fields + 1] = 'm'
          fields[#fields + 1] = ARGV[o + 7]
        end
        redis.call('XADD', stream, id, unpack(fields))
        result = {1, id, fields}
        local over = redis.call('XLEN', stream) - maxEvents
        if over > 0 then
          for _, e in ipairs(redis.call('XRANGE', stream, '-', '+', 'COUNT', over)) do forget(e) end
          redis.call('XTRIM', stream, 'MAXLEN', maxEvents)
        end
      end
      out[i] = result
    end
    redis.call('EXPIRE', stream, ARGV[4])
    if redis.call('EXISTS', keys) == 1 then redis.call('EXPIRE', keys, ARGV[4]) end
    for _, e in ipairs(redis.call('XRANGE', KEYS[6], '-', '+', 'COUNT', 8)) do
      local t, s = field(e[2], 't'), field(e[2], 's')
      local sid = s .. '-0'
      local live = redis.call('XRANGE', ARGV[8] .. 'stream:' .. t, sid, sid)
      if #live == 1 and tonumber(field(live[1][2], 'ts')) >= cutoff then break end
      redis.call('XDEL', KEYS[6], e[1])
    end
    if redis.call('XLEN', KEYS[6]) > 1048576 then redis.call('XTRIM', KEYS[6], 'MAXLEN', 1048576) end
    return {epoch, out, nowMs, 0}
    """);

  /**
   * KEYS: epoch, the key's index hash ({@code key:<key>}: topic to stream id). ARGV: candidate epoch,
   * key prefix, age cutoff (ms), most events. Returns {epoch, {{topic, id, fields}...}}: the indexed
   * events still in their streams and younger than the cutoff.
   */
  private static final Script FIND_KEY = new Script(EPOCH_LUA + """
    local out = {}
    local cutoff = tonumber(ARGV[3])
    local index = redis.call('HGETALL', KEYS[2])
    for i = 1, #index, 2 do
      local topic, id = index[i], index[i + 1]
      local found = redis.call('XRANGE', ARGV[2] .. 'stream:' .. topic, id, id)
      if #found == 1 then
        local f = found[1][2]
        local ts = nil
        for j = 1, #f, 2 do
          if f[j] == 'ts' then ts = tonumber(f[j + 1]) end
        end
        if ts and ts >= cutoff and #out < tonumber(ARGV[4]) then
          out[#out + 1] = {topic, id, f}
        end
      end
    end
    return {epoch, out}
    """);

  /**
   * KEYS: epoch, seq, stream. ARGV: candidate epoch, after epoch, after seq, count, age cutoff (ms).
   * Returns {epoch, head, reset 1/0, entries}.
   */
  private static final Script READ = new Script(EPOCH_LUA + """
    local head = tonumber(redis.call('GET', KEYS[2]) or '0')
    local after = tonumber(ARGV[3])
    if ARGV[2] ~= epoch or after > head then return {epoch, head, 1, {}} end
    if after == head then return {epoch, head, 0, {}} end
    local first = string.format('%d-0', after + 1)
    local entries = redis.call('XRANGE', KEYS[3], first, '+', 'COUNT', tonumber(ARGV[4]))
    if #entries == 0 or entries[1][1] ~= first then return {epoch, head, 1, {}} end
    local cutoff = tonumber(ARGV[5])
    local young = {}
    for _, e in ipairs(entries) do
      local ts = nil
      for i = 1, #e[2], 2 do
        if e[2][i] == 'ts' then ts = tonumber(e[2][i + 1]) end
      end
      if ts < cutoff then break end
      young[#young + 1] = e
    end
    if #young == 0 then return {epoch, head, 1, {}} end
    return {epoch, head, 0, young}
    """);

  /**
   * KEYS: epoch, logseq, log. ARGV: candidate epoch, after epoch, after seq, count.
   * Returns {epoch, head, reset 1/0, entries (up to count, from after + 1)}; a reset when the
   * entry right after {@code after} is no longer in the log.
   */
  private static final Script LOG_SCAN = new Script(EPOCH_LUA + """
    local head = tonumber(redis.call('GET', KEYS[2]) or '0')
    local after = tonumber(ARGV[3])
    if ARGV[2] ~= epoch or after > head then return {epoch, head, 1, {}} end
    if after == head then return {epoch, head, 0, {}} end
    local first = string.format('%d-0', after + 1)
    local entries = redis.call('XRANGE', KEYS[3], first, '+', 'COUNT', tonumber(ARGV[4]))
    if #entries == 0 or entries[1][1] ~= first then return {epoch, head, 1, {}} end
    return {epoch, head, 0, entries}
    """);

  /**
   * ARGV: key prefix, age cutoff (ms), then pairs topic, seq. Returns per pair the entry's
   * fields, or 0 when the event is gone (or older than the cutoff).
   */
  private static final Script LOG_FETCH = new Script("""
    local out = {}
    local cutoff = tonumber(ARGV[2])
    for i = 3, #ARGV, 2 do
      local id = ARGV[i + 1] .. '-0'
      local found = redis.call('XRANGE', ARGV[1] .. 'stream:' .. ARGV[i], id, id)
      local r = 0
      if #found == 1 then
        local f = found[1][2]
        for j = 1, #f, 2 do
          if f[j] == 'ts' and tonumber(f[j + 1]) >= cutoff then r = f end
        end
      end
      out[#out + 1] = r
    end
    return out
    """);

  /** KEYS: epoch, logseq. ARGV: candidate epoch. Returns {epoch, log head}. */
  private static final Script LOG_HEAD = new Script(EPOCH_LUA + """
    return {epoch, tonumber(redis.call('GET', KEYS[2]) or '0')}
    """);

  /** KEYS: epoch, seq. ARGV: candidate epoch. Returns {epoch, head}. */
  private static final Script HEAD = new Script(EPOCH_LUA + """
    return {epoch, tonumber(redis.call('GET', KEYS[2]) or '0')}
    """);

  /** KEYS: epoch, then the seq key of each topic. ARGV: candidate epoch. Returns {epoch, {head...}}. */
  private static final Script HEADS = new Script(EPOCH_LUA + """
    local out = {}
    for i = 2, #KEYS do out[i - 1] = tonumber(redis.call('GET', KEYS[i]) or '0') end
    return {epoch, out}
    """);

  /**
   * KEYS: epoch, logseq, then the seq key of each topic. ARGV: candidate epoch. Returns {epoch,
   * {new seq...}}. Also takes one log position without a log entry: a log reader from before
   * the outage meets the hole and gets a reset.
   */
  private static final Script SKIP = new Script(EPOCH_LUA + """
    local out = {}
    redis.call('INCR', KEYS[2])
    for i = 3, #KEYS do out[i - 2] = redis.call('INCR', KEYS[i]) end
    return {epoch, out}
    """);

  /** Topics one skip or heads script takes at most. */
  private static final int SKIP_CHUNK = 500;

  private final Redis redis;
  private final String safeUrl;
  private final String keyPrefix;
  private final int maxEventsPerTopic;
  private final int maxReadLimit;
  private final int maxAgeSeconds;
  private final long maxAgeMillis;
  private final LongSupplier clock;
  private final long fenceMillis;
  private final SecureRandom random = new SecureRandom();
  private Future<Void> ready;
  /** Redis's clock minus this process's wall clock, ms, as last measured (see {@link #fenceMillis}). */
  private volatile long redisClockOffset;

  /**
   * A store on the Redis at {@code redisUrl} ({@code redis://[user:password@]host:port[/db]})
   * whose keys all start with {@code keyPrefix}. Opens no connection yet.
   */
  public RedisReplayStore(Vertx vertx, ReplayOptions options, String redisUrl, String keyPrefix) {
    this(vertx, options, redisUrl, keyPrefix, System::currentTimeMillis);
  }

  /**
   * A store on the given clock (tests).
   *
   * @param clock current time in epoch milliseconds: event timestamps and the age limit use it
   */
  RedisReplayStore(Vertx vertx, ReplayOptions options, String redisUrl, String keyPrefix, LongSupplier clock) {
    this.redis = Redis.createClient(vertx, new RedisOptions()
      .setConnectionString(redisUrl)
      .setMaxPoolSize(MAX_POOL_SIZE)
      .setMaxPoolWaiting(MAX_POOL_WAITING));
    this.safeUrl = redisUrl.replaceFirst("//[^@/]*@", "//");
    this.keyPrefix = keyPrefix;
    this.maxEventsPerTopic = options.maxEventsPerTopic();
    this.maxReadLimit = options.maxReadLimit();
    this.maxAgeSeconds = options.maxAgeSeconds();
    this.maxAgeMillis = options.maxAgeMillis();
    this.clock = clock;
    this.fenceMillis = fenceMillis(options);
  }

  /**
   * How long after it is sent an append may still be stored: {@code 3/4} of
   * {@code storeTimeoutMillis}. The script compares the deadline with Redis's own clock
   * ({@code TIME}, against an offset measured from this process at init and refreshed by every
   * quick append reply) and refuses to store after it. So an append the guard gave up on at
   * {@code storeTimeoutMillis} (Redis paused, slow, or the reply lost) can never land later, and
   * an append that was merely slow is still stored or refused before the guard times out.
   */
  static long fenceMillis(ReplayOptions options) {
    return options.storeTimeoutMillis() * 3L / 4;
  }

  /**
   * Checks that Redis answers and the store epoch exists. Memoized while it succeeds or is in
   * flight; after a failure the next call tries again. Fails with a message naming the Redis
   * address (without credentials) when Redis is not reachable.
   */
  @Override
  public synchronized Future<Void> init() {
    if (ready == null || ready.failed()) {
      ready = eval(HEAD, List.of(epochKey(), seqKey("\u0000init")), List.of(randomEpoch()))
        .compose(r -> measureClock())
        .recover(t -> Future.failedFuture(new IllegalStateException(
          "Redis replay store: Redis at " + safeUrl + " is not usable: " + t.getMessage(), t)));
    }
    return ready;
  }

  /** Measures {@link #redisClockOffset} with one {@code TIME}. */
  private Future<Void> measureClock() {
    long sent = System.currentTimeMillis();
    return redis.send(Request.cmd(Command.TIME)).map(r -> {
      long redisNow = r.get(0).toLong() * 1000 + r.get(1).toLong() / 1000;
      redisClockOffset = redisNow - (sent + System.currentTimeMillis()) / 2;
      return null;
    });
  }

  @Override
  public String name() {
    return "redis";
  }

  // ---------------------------------------------------------------- append

  @Override
  public Future<AppendResult> appendReporting(List<EventDraft> drafts) {
    return init().compose(v -> doAppend(drafts));
  }

  private Future<AppendResult> doAppend(List<EventDraft> drafts) {
    long now = clock.getAsLong();
    Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
    for (int i = 0; i < drafts.size(); i++) {
      byTopic.computeIfAbsent(drafts.get(i).topic(), t -> new ArrayList<>()).add(i);
    }
    Event[] out = new Event[drafts.size()];
    boolean[] stored = new boolean[drafts.size()];
    List<Future<Void>> groups = new ArrayList<>(byTopic.size());
    for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
      groups.add(appendTopic(e.getKey(), e.getValue(), drafts, now, out, stored));
    }
    return Future.all(groups).map(v -> {
      List<Event> storedEvents = new ArrayList<>();
      for (int i = 0; i < out.length; i++) {
        if (stored[i]) {
          storedEvents.add(out[i]);
        }
      }
      return new AppendResult(List.of(out), storedEvents);
    });
  }

  private Future<Void> appendTopic(String topic, List<Integer> indexes, List<EventDraft> drafts, long now,
                                   Event[] out, boolean[] stored) {
    List<String> args = new ArrayList<>(8 + 6 * indexes.size());
    long sent = System.currentTimeMillis();
    args.add(randomEpoch());
    args.add(Integer.toString(maxEventsPerTopic));
    args.add(Long.toString(now - maxAgeMillis));
    args.add(Integer.toString(maxAgeSeconds));
    args.add(Integer.toString(indexes.size()));
    args.add(Long.toString(sent + redisClockOffset + fenceMillis));
    args.add(topic);
    args.add(keyPrefix);
    String ts = Long.toString(now);
    for (int i : indexes) {
      EventDraft d = drafts.get(i);
      args.add(d.type());
      args.add(d.data());
      args.add(d.json() ? "1" : "0");
      args.add(d.key() != null ? "1" : "0");
      args.add(d.key() != null ? d.key() : "");
      args.add(ts);
      String flags = d.flagsText();
      args.add(flags == null ? "" : flags);
    }
    return eval(APPEND, List.of(epochKey(), seqKey(topic), streamKey(topic), keysKey(topic), logSeqKey(), logKey()), args).compose(r -> {
      long received = System.currentTimeMillis();
      if (received - sent <= fenceMillis / 4) {
        // A quick round trip pins Redis's clock well enough to keep the offset fresh.
        redisClockOffset = r.get(2).toLong() - (sent + received) / 2;
      }
      if (r.get(3).toInteger() == 1) {
        return Future.failedFuture(new NotStoredException("Redis ran the append to " + topic + " after its deadline ("
          + fenceMillis + " ms after it was sent) and stored nothing"));
      }
      String epoch = r.get(0).toString();
      Response results = r.get(1);
      for (int j = 0; j < indexes.size(); j++) {
        Response one = results.get(j);
        int i = indexes.get(j);
        stored[i] = one.get(0).toInteger() == 1;
        out[i] = toEvent(topic, epoch, one.get(1).toString(), one.get(2));
      }
      return Future.<Void>succeededFuture();
    });
  }

  @Override
  public Future<Map<String, Position>> skip(Collection<String> topics) {
    return perTopic(SKIP, List.of(epochKey(), logSeqKey()), List.copyOf(topics));
  }

  /**
   * Runs {@code script} once per {@link #SKIP_CHUNK} topics, with the keys {@code lead} then each
   * topic's seq key, and the candidate epoch; each run answers {@code {epoch, {seq per topic}}}.
   * The map keeps the order of {@code topics}, a topic given twice once.
   */
  private Future<Map<String, Position>> perTopic(Script script, List<String> lead, List<String> topics) {
    List<String> all = List.copyOf(new java.util.LinkedHashSet<>(topics));
    Map<String, Position> out = new LinkedHashMap<>();
    all.forEach(t -> out.put(t, null));
    List<Future<Void>> chunks = new ArrayList<>();
    for (int from = 0; from < all.size(); from += SKIP_CHUNK) {
      List<String> chunk = all.subList(from, Math.min(all.size(), from + SKIP_CHUNK));
      List<String> keys = new ArrayList<>(chunk.size() + lead.size());
      keys.addAll(lead);
      chunk.forEach(t -> keys.add(seqKey(t)));
      chunks.add(init().compose(v -> eval(script, keys, List.of(randomEpoch()))).map(r -> {
        String epoch = r.get(0).toString();
        for (int i = 0; i < chunk.size(); i++) {
          out.put(chunk.get(i), new Position(epoch, r.get(1).get(i).toLong()));
        }
        return null;
      }));
    }
    return Future.all(chunks).map(v -> out);
  }

  // ---------------------------------------------------------------- read and head

  @Override
  public Future<ReadResult> read(String topic, Position after, int limit) {
    if (limit < 1) {
      return Future.failedFuture(new IllegalArgumentException("limit must be >= 1, got " + limit));
    }
    int count = Math.min(limit, maxReadLimit);
    List<String> args = List.of(randomEpoch(), after.epoch(), Long.toString(after.seq()), Integer.toString(count),
      Long.toString(clock.getAsLong() - maxAgeMillis));
    return init()
      .compose(v -> eval(READ, List.of(epochKey(), seqKey(topic), streamKey(topic)), args))
      .map(r -> {
        String epoch = r.get(0).toString();
        Position head = new Position(epoch, r.get(1).toLong());
        if (r.get(2).toInteger() == 1) {
          return ReadResult.reset(head);
        }
        Response entries = r.get(3);
        List<Event> events = new ArrayList<>(entries.size());
        for (Response e : entries) {
          events.add(toEvent(topic, epoch, e.get(0).toString(), e.get(1)));
        }
        return new ReadResult(head, false, events);
      });
  }

  @Override
  public Future<Position> head(String topic) {
    return init()
      .compose(v -> eval(HEAD, List.of(epochKey(), seqKey(topic)), List.of(randomEpoch())))
      .map(r -> new Position(r.get(0).toString(), r.get(1).toLong()));
  }

  /** The heads of several topics in one script per {@link #SKIP_CHUNK} topics: one round trip, not one per topic. */
  @Override
  public Future<Map<String, Position>> heads(List<String> topics) {
    return perTopic(HEADS, List.of(epochKey()), topics);
  }

  @Override
  public Future<Position> logHead() {
    return init()
      .compose(v -> eval(LOG_HEAD, List.of(epochKey(), logSeqKey()), List.of(randomEpoch())))
      .map(r -> new Position(r.get(0).toString(), r.get(1).toLong()));
  }

  /**
   * Two scripts: one reads the log entries after {@code after} (topic and seq only), the second
   * fetches the events of those whose topic passes the filter, at most {@code limit}.
   */
  @Override
  public Future<LogReadResult> readLog(Position after, Predicate<String> topicFilter, int limit) {
    if (limit < 1) {
      return Future.failedFuture(new IllegalArgumentException("limit must be >= 1, got " + limit));
    }
    int max = Math.min(limit, maxReadLimit);
    List<String> args = List.of(randomEpoch(), after.epoch(), Long.toString(after.seq()),
      Integer.toString(LOG_SCAN_FACTOR * max));
    return init()
      .compose(v -> eval(LOG_SCAN, List.of(epochKey(), logSeqKey(), logKey()), args))
      .compose(r -> {
        String epoch = r.get(0).toString();
        Position head = new Position(epoch, r.get(1).toLong());
        if (r.get(2).toInteger() == 1) {
          return Future.succeededFuture(LogReadResult.reset(head, null));
        }
        long scanned = after.seq();
        List<String> fetch = new ArrayList<>();
        fetch.add(keyPrefix);
        fetch.add(Long.toString(clock.getAsLong() - maxAgeMillis));
        List<Long> logSeqs = new ArrayList<>();
        for (Response e : r.get(3)) {
          String id = e.get(0).toString();
          long logSeq = Long.parseLong(id.substring(0, id.indexOf('-')));
          Response f = e.get(1);
          String topic = null;
          String seq = null;
          for (int i = 0; i + 1 < f.size(); i += 2) {
            String name = f.get(i).toString();
            if (name.equals("t")) {
              topic = f.get(i + 1).toString();
            } else if (name.equals("s")) {
              seq = f.get(i + 1).toString();
            }
          }
          if (logSeq != scanned + 1) {
            // A hole (a position taken without an entry, after an outage): it may have matched.
            return Future.succeededFuture(LogReadResult.reset(head, null));
          }
          scanned = logSeq;
          if (topicFilter.test(topic)) {
            fetch.add(topic);
            fetch.add(seq);
            logSeqs.add(logSeq);
            if (logSeqs.size() == max) {
              break;
            }
          }
        }
        Position scannedTo = new Position(epoch, scanned);
        if (logSeqs.isEmpty()) {
          return Future.succeededFuture(LogReadResult.of(head, List.of(), scannedTo));
        }
        return eval(LOG_FETCH, List.of(), fetch).map(found -> {
          List<Event> events = new ArrayList<>(logSeqs.size());
          for (int i = 0; i < logSeqs.size(); i++) {
            Response one = found.get(i);
            if (one.type() != ResponseType.MULTI) {
              // A matching event left its topic (count, age): it was missed for good.
              return LogReadResult.reset(head, null);
            }
            String topic = fetch.get(2 + 2 * i);
            String seq = fetch.get(3 + 2 * i);
            events.add(toEvent(topic, epoch, seq + "-0", one).withLog(new Position(epoch, logSeqs.get(i))));
          }
          return LogReadResult.of(head, events, scannedTo);
        });
      });
  }

  @Override
  public Future<Void> close() {
    return redis.close();
  }

  /**
   * The events the key's index hash ({@code <prefix>key:<key>}, topic to stream id, written by the
   * append that stores a keyed event, its entry dropped when the event leaves its stream, expiring
   * {@code maxAgeSeconds} after the key's last append) points at, read back from their streams.
   */
  @Override
  public Future<List<Event>> findKey(String key) {
    List<String> args = List.of(randomEpoch(), keyPrefix, Long.toString(clock.getAsLong() - maxAgeMillis),
      Integer.toString(MAX_KEY_EVENTS));
    return init().compose(v -> eval(FIND_KEY, List.of(epochKey(), keyPrefix + "key:" + key), args)).map(r -> {
      String epoch = r.get(0).toString();
      List<Event> out = new ArrayList<>();
      for (Response e : r.get(1)) {
        Event ev = toEvent(e.get(0).toString(), epoch, e.get(1).toString(), e.get(2));
        if (key.equals(ev.key()) && ev.log() != null) {
          out.add(ev);
        }
      }
      out.sort(java.util.Comparator.comparingLong(ev -> ev.log().seq()));
      return out;
    });
  }

  // ---------------------------------------------------------------- plumbing

  private static Event toEvent(String topic, String epoch, String id, Response fields) {
    Map<String, String> f = new HashMap<>();
    for (int i = 0; i + 1 < fields.size(); i += 2) {
      f.put(fields.get(i).toString(), fields.get(i + 1).toString());
    }
    long seq = Long.parseLong(id.substring(0, id.indexOf('-')));
    String log = f.get("log");
    return new Event(topic, epoch, seq, f.get("type"), f.get("data"), "1".equals(f.get("json")), f.get("key"),
      Long.parseLong(f.get("ts")), null, null, log == null ? null : new Position(epoch, Long.parseLong(log))).withFlagsText(f.get("m"));
  }

  /** Runs a script by its SHA-1, loading it with EVAL when Redis does not know it yet. */
  private Future<Response> eval(Script script, List<String> keys, List<String> args) {
    return redis.send(script.request(Command.EVALSHA, script.sha, keys, args)).recover(t -> {
      String msg = t.getMessage();
      if (msg != null && msg.contains("NOSCRIPT")) {
        return redis.send(script.request(Command.EVAL, script.source, keys, args));
      }
      return Future.failedFuture(t);
    });
  }

  private String epochKey() {
    return keyPrefix + "epoch";
  }

  private String seqKey(String topic) {
    return keyPrefix + "seq:" + topic;
  }

  private String streamKey(String topic) {
    return keyPrefix + "stream:" + topic;
  }

  /** The key prefix (tests: a second store on the same keys). */
  String keyPrefix() {
    return keyPrefix;
  }

  private String logSeqKey() {
    return keyPrefix + "logseq";
  }

  private String logKey() {
    return keyPrefix + "log";
  }

  private String keysKey(String topic) {
    return keyPrefix + "keys:" + topic;
  }

  private String randomEpoch() {
    char[] c = new char[EPOCH_LENGTH];
    for (int i = 0; i < c.length; i++) {
      c[i] = EPOCH_ALPHABET[random.nextInt(EPOCH_ALPHABET.length)];
    }
    return new String(c);
  }

  /** A Lua script and its SHA-1 (the EVALSHA name). */
  private record Script(String source, String sha) {

    Script(String source) {
      this(source, sha1(source));
    }

    Request request(Command command, String first, List<String> keys, List<String> args) {
      Request r = Request.cmd(command).arg(first).arg(keys.size());
      keys.forEach(r::arg);
      args.forEach(r::arg);
      return r;
    }

    private static String sha1(String s) {
      try {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
