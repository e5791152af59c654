package io.herald.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Publishes numbered, timestamped events: to Herald's {@code POST /publish} (or
 * {@code /publish/batch}, up to 100 events a request, when several are due at once), to Nchan's
 * publisher location one request per event; or, with a {@link PublishChannel} other than HTTP
 * ({@code --publish-via eventbus|bridge}), the same bodies as event-bus requests to
 * {@code herald.publish}. Every event's data is
 * {@code {"n":<number in its topic>,"t":<wall-clock micros at send>,"p":"<padding>"}}.
 */
final class Publisher {

  private final Target target;
  /** Pipelined connections; more than one only with several topics. */
  static final int LANES = 8;
  private final HttpClient[] lanes;
  /** Null for HTTP: where the bodies go otherwise (the event bus, the TCP bridge). */
  private final PublishChannel channel;
  private final String host;
  private final int port;
  private final String key;
  private final String[] topics;
  private final String padding;
  /** Next event number per topic, assigned when the request is built. */
  private final long[] next;
  /** Events the server accepted, per topic. */
  final AtomicLongArray acked;
  final LongAdder failed = new LongAdder();
  final LongAdder sent = new LongAdder();
  final AtomicLong inFlight = new AtomicLong();
  final AtomicLong maxInFlight = new AtomicLong();
  /** Why the first failed request failed (an error answer or a lost connection); null while none has. */
  final java.util.concurrent.atomic.AtomicReference<String> firstError = new java.util.concurrent.atomic.AtomicReference<>();
  private int cursor;

  /** Words for {@code text} padding: compresses about as well as the text fields of real events. */
  private static final String[] WORDS = ("order ticket status open closed user account update created deleted price total"
    + " item quantity shipping address city street country email name first last phone note comment priority high low"
    + " medium assigned team review approved pending failed retry payment card invoice customer region warehouse").split(" ");

  /**
   * Padding of {@code bytes} characters: {@code x} repeated ({@code kind} "x", the default of every
   * earlier run), or words and numbers from a fixed seed ({@code kind} "text"), for compression.
   */
  static String padding(int bytes, String kind) {
    if (!"text".equals(kind)) {
      return "x".repeat(Math.max(0, bytes));
    }
    java.util.SplittableRandom r = new java.util.SplittableRandom(7);
    StringBuilder sb = new StringBuilder(bytes + 16);
    while (sb.length() < bytes) {
      sb.append(r.nextInt(4) == 0 ? Integer.toString(r.nextInt(100_000)) : WORDS[r.nextInt(WORDS.length)]).append(' ');
    }
    return sb.substring(0, Math.max(0, bytes));
  }

  Publisher(Vertx vertx, Target target, String url, String key, String[] topics, int payloadBytes) {
    this(vertx, target, url, key, topics, padding(payloadBytes, "x"));
  }

  Publisher(Vertx vertx, Target target, String url, String key, String[] topics, String padding) {
    this(vertx, target, url, key, topics, padding, null);
  }

  /** As above; {@code channel} (null: HTTP) carries the publish bodies instead of HTTP requests. */
  Publisher(Vertx vertx, Target target, String url, String key, String[] topics, String padding, PublishChannel channel) {
    this.target = target;
    this.channel = channel;
    URI u = URI.create(url);
    this.host = u.getHost();
    this.port = u.getPort();
    this.key = key;
    this.topics = topics;
    this.padding = padding;
    this.next = new long[topics.length];
    this.acked = new AtomicLongArray(topics.length);
    this.lanes = new HttpClient[Math.min(topics.length, LANES)];
    for (int l = 0; l < lanes.length && channel == null; l++) {
      lanes[l] = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setIdleTimeout(0)
          .setPipelining(true).setPipeliningLimit(100_000),
        new PoolOptions().setHttp1MaxSize(1).setMaxWaitQueueSize(-1));
    }
  }

  /**
   * Publishes at {@code rate} events/s from {@code start} (a {@link System#nanoTime} reading)
   * for {@code seconds}, in steps of 10 ms; returns the periodic timer to cancel.
   */
  long pace(Vertx vertx, long start, double rate, int seconds) {
    long[] sentSoFar = {0};
    return vertx.setPeriodic(10, id -> {
      double elapsed = (System.nanoTime() - start) / 1e9;
      long due = (long) (rate * Math.min(elapsed, seconds)) + 1 - sentSoFar[0];
      if (due > 0 && elapsed < seconds) {
        sentSoFar[0] += due;
        publish((int) due);
      }
    });
  }

  long ackedTotal() {
    long t = 0;
    for (int i = 0; i < acked.length(); i++) t += acked.get(i);
    return t;
  }

  /**
   * Publishes {@code count} events, topics taken round-robin. Events of one topic always go
   * through the same pipelined connection (a lane), so the server receives them in the order of
   * their numbers. Called from one thread at a time.
   */
  synchronized List<Future<Void>> publish(int count) {
    List<List<Integer>> byLane = new ArrayList<>();
    for (int l = 0; l < lanes.length; l++) byLane.add(new ArrayList<>());
    for (int i = 0; i < count; i++) {
      byLane.get(cursor % lanes.length).add(cursor);
      cursor = (cursor + 1) % topics.length;
    }
    List<Future<Void>> all = new ArrayList<>();
    int batch = target.maxBatch();
    for (int l = 0; l < lanes.length; l++) {
      List<Integer> list = byLane.get(l);
      for (int from = 0; from < list.size(); from += batch) {
        int to = Math.min(list.size(), from + batch);
        int[] these = new int[to - from];
        for (int j = from; j < to; j++) these[j - from] = list.get(j);
        all.add(send(l, these));
      }
    }
    return all;
  }

  /** Publishes {@code perTopic} events to every topic; completes when every one is answered. */
  Future<Void> publishEach(int perTopic) {
    List<Future<Void>> all = new ArrayList<>();
    for (int r = 0; r < perTopic; r++) {
      all.addAll(publish(topics.length));
    }
    return Future.join(all).mapEmpty();
  }

  private Future<Void> send(int lane, int[] topicIdx) {
    long t = Clock.micros();
    String[] data = new String[topicIdx.length];
    for (int i = 0; i < topicIdx.length; i++) {
      long n = ++next[topicIdx[i]];
      data[i] = "{\"n\":" + n + ",\"t\":" + t + ",\"p\":\"" + padding + "\"}";
    }
    if (channel != null) {
      return track(topicIdx, channel.send(lane, herald(topicIdx, data)));
    }
    RequestOptions ro = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port);
    String body;
    if (target == Target.NCHAN) {
      ro.setURI("/pub?id=" + Target.enc(topics[topicIdx[0]])).addHeader("Content-Type", "text/plain");
      body = data[0];
    } else {
      ro.addHeader("Authorization", "Bearer " + key).addHeader("Content-Type", "application/json");
      ro.setURI(topicIdx.length == 1 ? "/publish" : "/publish/batch");
      body = herald(topicIdx, data);
    }
    Future<Void> answered = lanes[lane].request(ro)
      .compose(req -> req.send(Buffer.buffer(body)))
      .compose(resp -> resp.body().map(b -> resp.statusCode() / 100 == 2 ? null : "HTTP " + resp.statusCode() + " " + b))
      .compose(error -> error == null ? Future.succeededFuture() : Future.failedFuture(error));
    return track(topicIdx, answered);
  }

  /** Herald's publish body: one event, or the batch form {@code {"events": [...]}}. */
  private String herald(int[] topicIdx, String[] data) {
    if (topicIdx.length == 1) {
      return "{\"topic\":\"" + topics[topicIdx[0]] + "\",\"data\":" + data[0] + "}";
    }
    StringBuilder sb = new StringBuilder("{\"events\":[");
    for (int i = 0; i < topicIdx.length; i++) {
      if (i > 0) sb.append(',');
      sb.append("{\"topic\":\"").append(topics[topicIdx[i]]).append("\",\"data\":").append(data[i]).append('}');
    }
    return sb.append("]}").toString();
  }

  /** Counts a request's events as sent, then as acknowledged or failed once it is answered. */
  private Future<Void> track(int[] topicIdx, Future<Void> answered) {
    sent.add(topicIdx.length);
    long f = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(f, Math::max);
    return answered.transform(ar -> {
      inFlight.decrementAndGet();
      if (ar.succeeded()) {
        for (int i : topicIdx) acked.incrementAndGet(i);
      } else {
        failed.add(topicIdx.length);
        firstError.compareAndSet(null, String.valueOf(ar.cause().getMessage()));
      }
      return Future.succeededFuture();
    });
  }

  Future<Void> close() {
    List<Future<Void>> all = new ArrayList<>();
    for (HttpClient c : lanes) if (c != null) all.add(c.close());
    if (channel != null) all.add(channel.close());
    return Future.join(all).mapEmpty();
  }
}
