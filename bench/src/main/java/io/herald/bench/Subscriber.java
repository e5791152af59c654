package io.herald.bench;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

/**
 * One SSE stream: an incremental parser of the bytes as they come, and the per-stream checks
 * (order, duplicates, gaps). The event data carries {@code "n"} (the event's number in its topic,
 * from 1) and {@code "t"} (publish time, wall-clock microseconds). Every callback runs on the
 * stream's event loop; the driver reads the counters in {@link Stats} only.
 */
final class Subscriber {

  private static final byte[] DATA = "data:".getBytes();
  private static final byte[] ID = "id:".getBytes();
  private static final byte[] EVENT = "event:".getBytes();
  private static final byte[] READY = "herald.ready".getBytes();
  private static final byte[] RESET = "reset".getBytes();

  final int index;
  final String topic;
  private final Stats stats;
  private final Target target;

  /** Last event number seen (0: none). */
  volatile long lastN;
  /** The id of the last event seen: sent back as Last-Event-ID on a resume. */
  volatile String lastId;
  /** Storm: caught up once {@code lastN} reaches this (0: not in a storm). */
  volatile long catchUpTo;
  volatile boolean ready;
  private volatile HttpConnection connection;
  /** nanoTime the current stream was asked for. */
  private volatile long openedAt;
  /** Set when this side closes, so that the end of the stream is not counted as the server's doing. */
  private volatile boolean closing;

  private byte[] line = new byte[512];
  private int len;
  private long curN = -1;
  private long curT = -1;
  private String curId;
  private boolean curReady;
  private boolean curReset;

  Subscriber(int index, String topic, Stats stats, Target target) {
    this.index = index;
    this.topic = topic;
    this.stats = stats;
    this.target = target;
  }

  /** Opens the stream; the future completes when the answer's headers are in (or it failed). */
  Future<Void> open(HttpClient client, String host, int port, String lastEventId) {
    RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port)
      .setURI(target.subscribePath(topic)).setHeaders(MultiMap.caseInsensitiveMultiMap().add("Accept", "text/event-stream"));
    if (lastEventId != null) {
      ro.addHeader("Last-Event-ID", lastEventId);
    }
    ready = false;
    closing = false;
    len = 0;
    openedAt = System.nanoTime();
    return client.request(ro).compose(req -> req.send().map(resp -> {
      if (resp.statusCode() != 200) {
        stats.failed.incrementAndGet();
        req.connection().close();
        return null;
      }
      connection = req.connection();
      stats.opened.incrementAndGet();
      stats.lastOpenNanos.accumulateAndGet(System.nanoTime(), Math::max);
      resp.handler(this::onBytes);
      resp.exceptionHandler(e -> { });
      resp.endHandler(v -> {
        if (!closing) stats.closedByServer.incrementAndGet();
      });
      if (!target.readyEvent()) {
        markReady();
      }
      return null;
    })).recover(e -> {
      stats.failed.incrementAndGet();
      return Future.succeededFuture();
    }).mapEmpty();
  }

  void close() {
    closing = true;
    HttpConnection c = connection;
    connection = null;
    if (c != null) {
      c.close();
    }
  }

  private void markReady() {
    if (!ready) {
      ready = true;
      stats.ready.incrementAndGet();
      stats.readyLatency.recordValue(Math.max(0, (System.nanoTime() - openedAt) / 1000));
    }
  }

  private void onBytes(Buffer buf) {
    int n = buf.length();
    for (int i = 0; i < n; i++) {
      byte b = buf.getByte(i);
      if (b == '\n') {
        if (len > 0 && line[len - 1] == '\r') {
          len--;
        }
        onLine();
        len = 0;
      } else {
        if (len == line.length) {
          byte[] bigger = new byte[line.length * 2];
          System.arraycopy(line, 0, bigger, 0, len);
          line = bigger;
        }
        line[len++] = b;
      }
    }
  }

  private void onLine() {
    if (len == 0) {
      dispatch();
      return;
    }
    if (line[0] == ':') {
      return;
    }
    if (startsWith(DATA)) {
      curN = number('n');
      curT = number('t');
    } else if (startsWith(ID)) {
      int from = ID.length;
      if (from < len && line[from] == ' ') from++;
      curId = new String(line, from, len - from, java.nio.charset.StandardCharsets.US_ASCII);
    } else if (startsWith(EVENT)) {
      curReady = contains(READY);
      curReset = !curReady && contains(RESET);
    }
  }

  private void dispatch() {
    if (curId != null) {
      lastId = curId;
    }
    if (curReady) {
      markReady();
    } else if (curReset) {
      stats.resets.increment();
    } else if (curN > 0) {
      onEvent(curN, curT);
    }
    curN = -1;
    curT = -1;
    curId = null;
    curReady = false;
    curReset = false;
  }

  private void onEvent(long n, long t) {
    stats.received.increment();
    long last = lastN;
    if (n <= last) {
      stats.duplicates.increment();
      return;
    }
    if (n > last + 1 && last > 0) {
      stats.gaps.increment();
    }
    lastN = n;
    if (t > 0) {
      stats.latency.recordValue(Math.max(0, Clock.micros() - t));
    }
    long goal = catchUpTo;
    if (goal > 0 && n == goal) {
      stats.caughtUp.incrementAndGet();
    }
  }

  private boolean startsWith(byte[] prefix) {
    if (len < prefix.length) return false;
    for (int i = 0; i < prefix.length; i++) {
      if (line[i] != prefix[i]) return false;
    }
    return true;
  }

  private boolean contains(byte[] word) {
    outer:
    for (int i = 0; i + word.length <= len; i++) {
      for (int j = 0; j < word.length; j++) {
        if (line[i + j] != word[j]) continue outer;
      }
      return true;
    }
    return false;
  }

  /** The digits after {@code "k":} in the line, or -1. */
  private long number(char key) {
    for (int i = 0; i + 3 < len; i++) {
      if (line[i] == '"' && line[i + 1] == key && line[i + 2] == '"' && line[i + 3] == ':') {
        long v = 0;
        int j = i + 4;
        boolean any = false;
        while (j < len && line[j] >= '0' && line[j] <= '9') {
          v = v * 10 + (line[j++] - '0');
          any = true;
        }
        return any ? v : -1;
      }
    }
    return -1;
  }
}
