package io.herald.gateway.mercure;

import io.herald.common.Cursor;
import io.herald.common.Topics;
import io.herald.common.pattern.TopicFilter;
import io.herald.common.pattern.TopicFilters;
import io.herald.gateway.SseGateway;
import io.herald.gateway.admission.SubscriberAuth;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /.well-known/mercure}: a Mercure subscription, as an SSE stream of the gateway
 * ({@link MercureConnection} over {@link SseGateway}'s admission, channels, replay and
 * heartbeats). Each matcher becomes a Herald subscription: an exact topic, or a pattern on the
 * store's log ({@link TopicFilter}), so updates of several topics arrive in one stream in
 * publish order per topic and resume exactly.
 *
 * <p>Matchers: 1.0 {@code match} and {@code match_exact}/{@code matchExact} (exact),
 * {@code match_urlpattern}/{@code matchURLPattern} (WHATWG URL Pattern); 0.x {@code topic}
 * (exact, or an RFC 6570 URI template when it has {@code {}); {@code *} selects every topic. Any
 * other parameter in the {@code match} namespace (compared case-insensitively) is a 400
 * {@code invalid_request}. Tokens: {@link MercureAuth#token} (header, query, cookies); none is
 * allowed with {@code gateway.mercureAnonymous} only (public updates), else 401.
 *
 * <p>Resume: the {@code Last-Event-ID} header, else the {@code lastEventID} (0.x, draft) or
 * {@code last_event_id} query parameter: a Herald cursor, {@code earliest} (the start of the
 * history), or the id a publisher gave an update ({@link MercureResume}: the stream resumes right
 * after that update on every matcher); any other value is not a resume point and the stream starts
 * live. When one
 * was sent, the answer's {@code Last-Event-ID} header is the id of the latest event at
 * subscription time (a cursor a later resume may use), or {@code earliest} when the history was
 * empty or the id sent is not one of this hub's.
 */
public final class MercureSubscribe {

  private static final Logger LOG = LoggerFactory.getLogger(MercureSubscribe.class);

  /** The 1.0 exact matcher parameters. */
  static final Set<String> EXACT_PARAMS = Set.of("match", "match_exact", "matchExact");
  /** The 1.0 URL Pattern matcher parameters. */
  static final Set<String> URL_PATTERN_PARAMS = Set.of("match_urlpattern", "matchURLPattern");
  /** The 0.x topic selector parameter. */
  static final String TOPIC_PARAM = "topic";
  /** The reserved resume value: the whole history. */
  public static final String EARLIEST = "earliest";
  /** The query parameters that carry a last event id, in order of precedence after the header. */
  static final List<String> LAST_EVENT_ID_PARAMS = List.of("lastEventID", "last_event_id");

  private final SseGateway gateway;
  private final MercureAuth auth;
  private final MercureOptions options;
  private final MercureSubscriptions subscriptions;

  public MercureSubscribe(SseGateway gateway, MercureAuth auth, MercureOptions options) {
    this(gateway, auth, options, null);
  }

  /** With {@code subscriptions} (null: off), each stream's subscriptions are tracked and announced. */
  public MercureSubscribe(SseGateway gateway, MercureAuth auth, MercureOptions options, MercureSubscriptions subscriptions) {
    this.gateway = gateway;
    this.auth = auth;
    this.options = options;
    this.subscriptions = subscriptions;
  }

  /** What a request subscribes to, as Herald subscriptions. */
  record Selection(String[] topics, TopicFilter[] patterns) {
  }

  /** Handles one GET; always answers. */
  public void handle(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    MercureHub.cors(options, request, response);
    Selection selection;
    String token;
    try {
      selection = select(request, gateway.options().tiers().maxTopicsPerConnection());
      token = auth.token(request);
    } catch (MercureError e) {
      e.send(response);
      return;
    }
    if (token == null && !options.anonymous()) {
      MercureError.noToken("subscribing needs a token (cookie, Authorization: Bearer or access_token)").send(response);
      return;
    }
    // Admitted (connection limits, attempts counted) before the token is verified, as /events.
    gateway.admitStream(request, permit -> {
      Future<MercureClaims> claims = token == null ? Future.succeededFuture(MercureClaims.ANONYMOUS)
        : auth.verify(MercureAuth.Role.SUBSCRIBER, token);
      claims.onComplete(ar -> {
        if (response.closed() || response.ended()) {
          permit.release();
        } else if (ar.failed()) {
          (ar.cause() instanceof MercureError e ? e : MercureError.invalidToken("the token is not valid")).send(response);
        } else {
          open(request, selection, ar.result(), permit);
        }
      });
    });
  }

  private void open(HttpServerRequest request, Selection selection, MercureClaims claims,
                    io.herald.gateway.admission.ConnectionLimiter.Permit permit) {
    MercureConnection conn = new MercureConnection(SseGateway.nextConnectionId(), gateway, request.response(), selection.topics(), claims);
    conn.patterns(selection.patterns());
    String lastEventId = lastEventId(request);
    // The gateway ends a stream jwtLeewaySeconds after its token's expiry; the specification says no
    // later than exp (Mercure tokens are verified without leeway): the expiry is given that much earlier.
    long ends = claims.expiresAt() <= 0 ? -1 : claims.expiresAt() - gateway.options().jwtLeewaySeconds() * 1000L;
    SubscriberAuth.Grant grant = new SubscriberAuth.Grant(claims.form() == MercureClaims.Form.ANONYMOUS, claims.subject(),
      List.of(), ends, null, null);
    gateway.joinStream(conn, request, grant, permit, lastEventId != null && !lastEventId.isEmpty(), () -> {
      Cursor cursor = null;
      if (EARLIEST.equals(lastEventId)) {
        String start = conn.liveCursor(true);
        cursor = start == null ? null : Cursor.parse(start, Integer.MAX_VALUE);
      } else if (lastEventId != null && !lastEventId.isEmpty()) {
        cursor = gateway.resumeCursor(lastEventId, selection.topics(), selection.patterns());
        if (cursor == null && Topics.isValidKey(lastEventId)) {
          // Not one of Herald's cursors: maybe a publisher's id (the frames of its updates carry it).
          MercureResume.fromKey(gateway.replay(), lastEventId, selection.topics(), selection.patterns(),
              gateway.options().maxReplayEvents(), selection.topics().length + selection.patterns().length)
            .onComplete(ar -> {
              if (ar.failed()) {
                LOG.atDebug().addKeyValue("connection", conn.id()).log("mercure: finding Last-Event-ID failed: {}", ar.cause().toString());
              }
              if (!conn.closed()) {
                begin(request, conn, lastEventId, ar.succeeded() ? ar.result() : null, claims);
              }
            });
          return;
        }
      }
      begin(request, conn, lastEventId, cursor, claims);
    });
  }

  /** Answers the stream's headers and starts it at {@code cursor} (null: live, or no resume point). */
  private void begin(HttpServerRequest request, MercureConnection conn, String lastEventId, Cursor cursor, MercureClaims claims) {
    HttpServerResponse response = request.response();
    boolean unknown = lastEventId != null && !lastEventId.isEmpty() && !EARLIEST.equals(lastEventId) && cursor == null;
    if (unknown) {
      LOG.atDebug().addKeyValue("connection", conn.id()).log("mercure: Last-Event-ID is not a resume point, starting live");
    }
    response.setChunked(true)
      .setWriteQueueMaxSize(gateway.options().maxWriteQueueBytes())
      .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream")
      .putHeader(HttpHeaders.CACHE_CONTROL, "private, no-cache, no-store, must-revalidate, max-age=0")
      .putHeader("X-Accel-Buffering", "no");
    if (lastEventId != null) {
      // The spec's answer for an id the hub does not know (or an empty history) is earliest.
      String latest = unknown || conn.liveEmpty() ? null : conn.liveCursor(false);
      response.putHeader("Last-Event-ID", latest == null ? EARLIEST : Cursor.HUB_ID_PREFIX + latest);
    }
    // A last event id that is not ours is no resume point, and Mercure knows no reset: live from now.
    conn.start(unknown ? null : cursor, false);
    if (subscriptions != null && !conn.closed()) {
      List<MercureSubscriptions.Subscription> active = MercureSubscriptions.of(request.params(), claims);
      subscriptions.opened(active);
      conn.onRelease(() -> subscriptions.closed(active));
    }
    SseGateway.releaseHeaders(request);
  }

  /** The last event id of the request: the header wins over the query parameters. */
  static String lastEventId(HttpServerRequest request) {
    String id = request.getHeader("Last-Event-ID");
    for (int i = 0; id == null && i < LAST_EVENT_ID_PARAMS.size(); i++) {
      id = request.getParam(LAST_EVENT_ID_PARAMS.get(i));
    }
    return id;
  }

  /**
   * The request's matchers as Herald topics and patterns; a 400 {@code invalid_request} for an
   * unknown {@code match*} parameter, a bad matcher, none, or more than {@code max}.
   */
  static Selection select(HttpServerRequest request, int max) {
    List<MercureSelector> selectors = new ArrayList<>();
    for (Map.Entry<String, String> p : request.params()) {
      String name = p.getKey();
      MercureSelector s;
      try {
        if (EXACT_PARAMS.contains(name)) {
          s = MercureSelector.matcher(p.getValue(), null);
        } else if (URL_PATTERN_PARAMS.contains(name)) {
          s = MercureSelector.matcher(p.getValue(), "urlpattern");
        } else if (TOPIC_PARAM.equals(name)) {
          s = MercureSelector.legacy(p.getValue());
        } else if (name.toLowerCase(Locale.ROOT).startsWith("match")) {
          throw MercureError.invalidRequest("unknown matcher parameter \"" + shown(name)
            + "\" (match, match_exact, matchExact, match_urlpattern, matchURLPattern)");
        } else {
          continue;
        }
      } catch (IllegalArgumentException e) {
        throw MercureError.invalidRequest("invalid " + shown(name) + ": " + e.getMessage());
      }
      selectors.add(s);
      if (selectors.size() > max) {
        throw MercureError.invalidRequest("at most " + max + " matchers per subscription");
      }
    }
    if (selectors.isEmpty()) {
      throw MercureError.invalidRequest("missing matcher: add match=<topic> (or topic=<topic>, match_urlpattern=<pattern>)");
    }
    Set<String> topics = new LinkedHashSet<>();
    Map<String, TopicFilter> patterns = new LinkedHashMap<>();
    for (MercureSelector s : selectors) {
      switch (s.type()) {
        case ALL -> {
          TopicFilter all = TopicFilters.parse("**", TopicFilter.Kind.HERALD);
          patterns.putIfAbsent(TopicFilters.key(all), all);
        }
        case EXACT -> {
          if (!Topics.isValidTopic(s.text())) {
            throw MercureError.invalidRequest("the topic \"" + shown(s.text()) + "\" cannot be published on this hub: "
              + Topics.TOPIC_RULE);
          }
          topics.add(s.text());
        }
        case URL_PATTERN, URI_TEMPLATE -> patterns.putIfAbsent(TopicFilters.key(s.filter()), s.filter());
      }
    }
    return new Selection(topics.toArray(new String[0]), patterns.values().toArray(new TopicFilter[0]));
  }

  private static String shown(String s) {
    return s.length() > 64 ? s.substring(0, 64) + "..." : s;
  }
}
