package io.herald.gateway;

import io.herald.testsupport.Await;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * The clients {@link TransportContractTest} runs its guarantees through: one per transport, each
 * speaking the transport's wire protocol over real loopback connections, all behind one small
 * interface. Events are published with their topic in the data ({@code "a:3"}), since an SSE
 * frame does not name its topic.
 */
final class ContractClients {

  static final Duration WAIT = Duration.ofSeconds(15);

  private ContractClients() {
  }

  /** A subscriber on one transport, as the contract sees it. */
  interface Client extends AutoCloseable {

    /**
     * The data of the events received so far. The order within a topic is the order of
     * delivery (for SockJS: the replay's answer, then the live events after its seam); the
     * order across topics is not part of any transport's promise.
     */
    List<String> data();

    /** The {@code reset} frames received, as {@code topic:reason}, in order. */
    List<String> resets();

    /** What to resume from: handed back to {@link Transport#open}. */
    Object position();

    /** Heartbeats seen: SSE comments, WebSocket pings, SockJS {@code h} frames, empty long-poll answers. */
    int heartbeats();

    /** Whether the gateway ended the connection (or a long-poll failed). */
    boolean ended();

    /**
     * Whether the gateway ended it for its token's expiry, with the transport's signal: SSE a
     * {@code herald.expired} event, WebSocket that frame and close code 1008, SockJS that frame
     * and close code 4401, long-poll a 401 answer, Mercure the {@code herald.expired} comment.
     */
    boolean expired();

    /**
     * Refusals the connection got while it stayed open, as {@code topic:status code}: SockJS's
     * {@code err} to a register or a replay. The other transports refuse the whole request.
     */
    default List<String> refusals() {
      return List.of();
    }

    @Override
    void close();

    /** The data of one topic, in order. */
    default List<String> of(String topic) {
      return data().stream().filter(d -> d.startsWith(topic + ":")).collect(Collectors.toList());
    }

    /** Waits until {@code topic} has received {@code data} (the marker a test published last). */
    default void awaitData(String datum) throws InterruptedException {
      await(() -> data().contains(datum), () -> "no " + cut(datum) + " among " + data().size() + " events: "
        + data().stream().map(ContractClients::cut).collect(Collectors.toList()) + (ended() ? "; the connection ended" : ""));
    }
  }

  /** The transports of the contract, and how each opens a subscription that is live when open returns. */
  enum Transport {
    SSE, WEBSOCKET, SOCKJS, SOCKJS_XHR, SOCKJS_XHR_POLLING, SOCKJS_EVENTSOURCE, LONGPOLL, MERCURE;

    Client open(GatewayHarness h, List<String> topics, Object from) throws Exception {
      return open(h, topics, from, null);
    }

    /**
     * Opens with {@code token} (null: none) where the transport takes it: {@code Authorization}
     * for SSE and Mercure, {@code access_token} in the URL for the others. A refused request
     * throws, its message naming the status and the error.
     */
    Client open(GatewayHarness h, List<String> topics, Object from, String token) throws Exception {
      return switch (this) {
        case SSE -> Sse.open(h, topics, (String) from, token);
        case WEBSOCKET -> Ws.open(h, topics, (String) from, token);
        case SOCKJS -> SockJsClient.open(h, topics, from, SockJsClient.Receiver.WEBSOCKET, token);
        case SOCKJS_XHR -> SockJsClient.open(h, topics, from, SockJsClient.Receiver.XHR_STREAMING, token);
        case SOCKJS_XHR_POLLING -> SockJsClient.open(h, topics, from, SockJsClient.Receiver.XHR_POLLING, token);
        case SOCKJS_EVENTSOURCE -> SockJsClient.open(h, topics, from, SockJsClient.Receiver.EVENTSOURCE, token);
        case LONGPOLL -> Poll.open(h, topics, (String) from, token);
        case MERCURE -> MercureClient.open(h, topics, (String) from, token);
      };
    }

    /** Whether the transport is one of SockJS's. */
    boolean sockJs() {
      return this == SOCKJS || this == SOCKJS_XHR || this == SOCKJS_XHR_POLLING || this == SOCKJS_EVENTSOURCE;
    }
  }

  /** {@code &access_token=...}, or nothing. */
  static String tokenParam(String token) {
    return token == null ? "" : "&access_token=" + URLEncoder.encode(token, StandardCharsets.UTF_8);
  }

  static void await(BooleanSupplier done, java.util.function.Supplier<String> what) throws InterruptedException {
    Await.until(what, done, WAIT);
  }

  /** The first 40 characters, for failure messages about large events. */
  static String cut(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...(" + s.length() + " chars)";
  }

  /** {@code topic:reason} of a reset's data. */
  static String reset(JsonObject data) {
    return data.getString("topic") + ":" + data.getString("reason");
  }

  static String query(List<String> topics) {
    return topics.stream().map(t -> "topic=" + URLEncoder.encode(t, StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
  }

  /** {@code GET /events}; live once {@code herald.ready} came (it follows any replay). */
  static final class Sse implements Client {
    private final SseClient c;

    private Sse(SseClient c) {
      this.c = c;
    }

    static Sse open(GatewayHarness h, List<String> topics, String from, String token) throws Exception {
      List<String> headers = new ArrayList<>();
      if (from != null) {
        headers.addAll(List.of("Last-Event-ID", from));
      }
      if (token != null) {
        headers.addAll(List.of("Authorization", "Bearer " + token));
      }
      SseClient c = h.sse("/events?" + query(topics), headers.toArray(new String[0]));
      c.await(l -> l.stream().anyMatch(e -> "herald.ready".equals(e.type())), WAIT);
      return new Sse(c);
    }

    @Override
    public List<String> data() {
      return c.appEvents().stream().map(SseEvent::data).collect(Collectors.toList());
    }

    @Override
    public List<String> resets() {
      return c.events().stream().filter(e -> "reset".equals(e.type())).map(e -> reset(new JsonObject(e.data())))
        .collect(Collectors.toList());
    }

    @Override
    public Object position() {
      return c.parser().lastEventId();
    }

    @Override
    public int heartbeats() {
      return c.parser().heartbeats();
    }

    @Override
    public boolean ended() {
      return c.ended();
    }

    @Override
    public boolean expired() {
      return c.events().stream().anyMatch(e -> "herald.expired".equals(e.type())) && c.ended();
    }

    @Override
    public void close() {
      c.close();
    }
  }

  /** {@code GET /ws}; live once the {@code herald.ready} frame came. */
  static final class Ws implements Client {
    private final WsClient c;

    private Ws(WsClient c) {
      this.c = c;
    }

    static Ws open(GatewayHarness h, List<String> topics, String from, String token) throws Exception {
      String resume = from == null ? "" : "&lastEventId=" + URLEncoder.encode(from, StandardCharsets.UTF_8);
      String path = "/ws?" + query(topics) + resume + tokenParam(token);
      WsClient c;
      try {
        c = WsClient.open(h.port(), path);
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof java.net.http.WebSocketHandshakeException refused) {
          throw new IllegalStateException("status " + refused.getResponse().statusCode() + ": " + refused.getResponse().body(), e);
        }
        throw e;
      }
      c.await(l -> l.stream().anyMatch(f -> "herald.ready".equals(f.getString("type"))), WAIT);
      return new Ws(c);
    }

    @Override
    public List<String> data() {
      return c.appFrames().stream().map(f -> f.getString("data")).collect(Collectors.toList());
    }

    @Override
    public List<String> resets() {
      return c.frames().stream().filter(f -> "reset".equals(f.getString("type"))).map(f -> reset(f.getJsonObject("data")))
        .collect(Collectors.toList());
    }

    @Override
    public Object position() {
      List<JsonObject> frames = c.frames();
      return frames.get(frames.size() - 1).getString("id");
    }

    @Override
    public int heartbeats() {
      return c.pings.get();
    }

    @Override
    public boolean ended() {
      return c.closed.isDone();
    }

    @Override
    public boolean expired() {
      return c.frames().stream().anyMatch(f -> "herald.expired".equals(f.getString("type")))
        && c.closed.getNow(0) == 1008;
    }

    @Override
    public void close() {
      c.close();
    }
  }

  /**
   * {@code GET /poll} in a loop, each answer's {@code id} sent back as {@code lastEventId}. Without
   * a cursor the first answer (at once) gives the position; from then on nothing is missed, so
   * it is live as soon as that first answer came.
   */
  static final class Poll implements Client {
    private final GatewayHarness h;
    private final String topics;
    private final List<String> data = new ArrayList<>();
    private final List<String> resets = new ArrayList<>();
    private final AtomicInteger empty = new AtomicInteger();
    final AtomicInteger answers = new AtomicInteger();
    private volatile String id;
    private volatile boolean stopped;
    private volatile Throwable failure;
    private volatile int status;
    private volatile CompletableFuture<HttpResponse<String>> pending;

    private Poll(GatewayHarness h, List<String> topics, String token) {
      this.h = h;
      this.topics = query(topics) + tokenParam(token);
    }

    static Poll open(GatewayHarness h, List<String> topics, String from, String token) throws Exception {
      Poll p = new Poll(h, topics, token);
      p.id = from;
      p.next();
      await(() -> p.answers.get() > 0 || p.failure != null, () -> "no first answer to /poll");
      if (p.failure != null) {
        throw new IllegalStateException("/poll failed: " + p.failure.getMessage(), p.failure);
      }
      return p;
    }

    private void next() {
      if (stopped) {
        return;
      }
      String q = "/poll?" + topics + (id == null ? "" : "&lastEventId=" + URLEncoder.encode(id, StandardCharsets.UTF_8));
      pending = WsClient.JDK.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.port() + q))
        .timeout(WAIT).GET().build(), HttpResponse.BodyHandlers.ofString());
      pending.whenComplete((resp, err) -> {
        if (stopped) {
          return;
        }
        if (err != null || resp.statusCode() != 200) {
          status = err != null ? -1 : resp.statusCode();
          failure = err != null ? err : new AssertionError("status " + resp.statusCode() + ": " + resp.body());
          return;
        }
        JsonObject body = new JsonObject(resp.body());
        JsonArray events = body.getJsonArray("events");
        // The events and the id that resumes after them change together: a position read
        // between the two would replay an event twice.
        synchronized (this) {
          for (int i = 0; i < events.size(); i++) {
            JsonObject f = events.getJsonObject(i);
            if (f.containsKey("topic")) {
              data.add(f.getString("data"));
            } else if ("reset".equals(f.getString("type"))) {
              resets.add(reset(f.getJsonObject("data")));
            }
          }
          if (id != null && events.isEmpty()) {
            empty.incrementAndGet();
          }
          id = body.getString("id");
        }
        answers.incrementAndGet();
        next();
      });
    }

    @Override
    public synchronized List<String> data() {
      return new ArrayList<>(data);
    }

    @Override
    public synchronized List<String> resets() {
      return new ArrayList<>(resets);
    }

    @Override
    public synchronized Object position() {
      return id;
    }

    /** Answers with no events: a poll with nothing to say is answered empty after the heartbeat. */
    @Override
    public int heartbeats() {
      return empty.get();
    }

    @Override
    public boolean ended() {
      return failure != null;
    }

    /** An answer came 401 {@code unauthorized}: the poll waiting at expiry, or the next one. */
    @Override
    public boolean expired() {
      return status == 401 && failure.getMessage().contains("unauthorized");
    }

    @Override
    public void close() {
      stopped = true;
      CompletableFuture<HttpResponse<String>> p = pending;
      if (p != null) {
        p.cancel(true);
      }
    }
  }
}
