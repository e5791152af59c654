package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.Topics;
import io.herald.common.replay.ReplayClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The SSE endpoint of one gateway instance: {@code GET /events?topic=a&topic=b}, with resume by
 * the {@code Last-Event-ID} header or the {@code lastEventId} query parameter (for clients that
 * cannot set headers). Holds the instance's connections. Confined to its event loop.
 */
public final class SseGateway {

  private static final Logger LOG = LoggerFactory.getLogger(SseGateway.class);
  private static final AtomicLong IDS = new AtomicLong();

  private final GatewayOptions options;
  private final Subscriptions subscriptions;
  private final ReplayClient replay;
  private final GatewayStats stats;
  private final Set<SseConnection> connections = new HashSet<>();
  private boolean draining;

  public SseGateway(Vertx vertx, GatewayOptions options, GatewayStats stats) {
    this.options = options;
    this.stats = stats;
    this.subscriptions = new Subscriptions(vertx, options, stats);
    this.replay = new ReplayClient(vertx, options.replayTimeoutMillis());
  }

  /** Handles {@code GET /events}. */
  public void handle(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    if (draining) {
      Http.error(response.putHeader("Retry-After", "1"), new HeraldException(ErrorCode.SHUTTING_DOWN, "gateway is shutting down"));
      return;
    }
    String[] topics;
    try {
      topics = topics(request.params().getAll("topic"));
    } catch (HeraldException e) {
      Http.error(response, e);
      return;
    }
    String lastEventId = request.getHeader("Last-Event-ID");
    if (lastEventId == null) {
      lastEventId = request.getParam("lastEventId");
    }
    Cursor cursor = null;
    boolean unknown = false;
    if (lastEventId != null && !lastEventId.isEmpty()) {
      cursor = lastEventId.length() > options.maxLastEventIdLength() ? null
        : Cursor.parse(lastEventId, options.maxTopicsPerConnection());
      if (cursor != null && !namesAny(cursor, topics)) {
        cursor = null; // well-formed but about none of these topics: as good as garbage
      }
      unknown = cursor == null;
    }
    SseConnection conn = new SseConnection(IDS.incrementAndGet(), this, response, topics);
    connections.add(conn);
    stats.connectionsOpened++;
    response.closeHandler(v -> conn.onClosed());
    response.exceptionHandler(t -> conn.onClosed());
    List<Future<Void>> joined = new ArrayList<>(topics.length);
    for (int i = 0; i < topics.length; i++) {
      joined.add(subscriptions.join(topics[i], conn, i));
    }
    Cursor resume = cursor;
    boolean reset = unknown;
    Future.all(joined).onComplete(ar -> {
      if (conn.closed()) {
        return;
      }
      if (ar.failed()) {
        release(conn);
        Http.error(response, HeraldException.from(ar.cause()));
        return;
      }
      response.setChunked(true)
        .setWriteQueueMaxSize(options.maxWriteQueueBytes())
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .putHeader("X-Accel-Buffering", "no");
      LOG.debug("connection {} opened: topics {}, resume {}", conn.id(), topics, resume != null);
      conn.start(resume, reset);
    });
  }

  private static boolean namesAny(Cursor cursor, String[] topics) {
    for (String t : topics) {
      if (cursor.position(t) != null) {
        return true;
      }
    }
    return false;
  }

  private String[] topics(List<String> requested) {
    if (requested.isEmpty()) {
      throw new HeraldException(ErrorCode.INVALID_REQUEST, "at least one topic parameter is required: /events?topic=NAME");
    }
    Set<String> unique = new LinkedHashSet<>();
    for (String t : requested) {
      if (!Topics.isValidTopic(t)) {
        throw new HeraldException(ErrorCode.INVALID_TOPIC, "invalid topic name: 1 to " + Topics.MAX_TOPIC_LENGTH
          + " characters from A-Z a-z 0-9 _ - . : @ /, starting with a letter or digit");
      }
      unique.add(t);
    }
    if (unique.size() > options.maxTopicsPerConnection()) {
      throw new HeraldException(ErrorCode.TOO_MANY_TOPICS, "at most " + options.maxTopicsPerConnection()
        + " topics per connection, got " + unique.size());
    }
    return unique.toArray(new String[0]);
  }

  /** Removes a connection from its topics and from the instance. */
  void release(SseConnection conn) {
    if (connections.remove(conn)) {
      for (String t : conn.topics()) {
        subscriptions.leave(t, conn);
      }
    }
  }

  /** Writes a heartbeat comment to every stream. */
  public void heartbeat() {
    for (SseConnection c : new ArrayList<>(connections)) {
      c.heartbeat();
    }
  }

  /** Stops accepting streams and ends the open ones cleanly so that clients reconnect elsewhere. */
  public void drain() {
    draining = true;
    List<SseConnection> open = new ArrayList<>(connections);
    for (SseConnection c : open) {
      c.end();
    }
    if (!open.isEmpty()) {
      LOG.info("ended {} stream(s) for shutdown", open.size());
    }
  }

  public int connectionCount() {
    return connections.size();
  }

  /** Topics this instance holds a consumer for. */
  public Set<String> heldTopics() {
    return Set.copyOf(subscriptions.topics());
  }

  GatewayOptions options() {
    return options;
  }

  ReplayClient replay() {
    return replay;
  }

  GatewayStats stats() {
    return stats;
  }
}
