package io.herald.gateway;

import io.herald.common.Cursor;
import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.admin.HeraldMetrics;
import io.herald.common.pattern.TopicFilter;
import io.herald.gateway.admission.ClusterUsers;
import io.herald.gateway.admission.ConnectionLimiter;
import io.herald.gateway.admission.SubscriberAuth;
import io.herald.gateway.admission.SubscriberTiers;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The admission of a subscription request, common to every transport of a {@link SseGateway}:
 * draining and the connection limits ({@link ConnectionLimiter}) before anything else, then the
 * request's topics, patterns and cursor ({@link SubscribeParams}), then, with
 * {@code gateway.authMode} jwt, the token ({@link SubscriberAuth}): every requested topic and
 * pattern authorised, the tier's topic limit, the per-user limits of the process and of the
 * cluster ({@link ClusterUsers}). Refusals are HTTP errors; what is admitted goes to the
 * transport's {@link Opener}. Confined to the gateway instance's event loop.
 */
final class StreamAdmission {

  /** Logged under the gateway's name, as operators know it. */
  private static final Logger LOG = LoggerFactory.getLogger(SseGateway.class);

  private final SseGateway gateway;
  private final GatewayOptions options;
  private final SubscriberAuth auth;
  private final ConnectionLimiter limiter;
  private final ClusterUsers users;
  private final GatewayCors cors;
  private final SubscribeParams params;

  StreamAdmission(SseGateway gateway, SubscriberAuth auth, ConnectionLimiter limiter, ClusterUsers users, GatewayCors cors,
                  SubscribeParams params) {
    this.gateway = gateway;
    this.options = gateway.options();
    this.auth = auth;
    this.limiter = limiter;
    this.users = users;
    this.cors = cors;
    this.params = params;
  }

  /** What a transport does with an admitted, authorised request. */
  interface Opener {
    void open(HttpServerRequest request, String[] topics, TopicFilter[] patterns, Cursor cursor, boolean unknown,
              SubscriberAuth.Grant grant, ConnectionLimiter.Permit permit, int heartbeat);
  }

  /**
   * Admission, topics, cursor and authorisation, common to every transport; refusals are HTTP
   * errors. {@code refused}, when not null, is a transport-specific refusal, answered once the
   * attempt has been counted.
   */
  void admit(HttpServerRequest request, HeraldException refused, Opener opener) {
    HttpServerResponse response = request.response();
    cors.cors(request, response);
    // Admission first, before any parsing, authentication or subscription work.
    ConnectionLimiter.Permit permit = admission(request);
    if (permit == null) {
      return;
    }
    if (refused != null) {
      Http.error(response, refused);
      return;
    }
    String[] topics;
    TopicFilter[] patterns;
    try {
      List<String> exact = new ArrayList<>(request.params().getAll("topic"));
      patterns = SubscribeParams.patterns(request.params().getAll(SseGateway.PATTERN_PARAM), exact);
      topics = params.topics(request.path(), exact, patterns.length);
    } catch (HeraldException e) {
      Http.error(response, e);
      return;
    }
    int heartbeat;
    try {
      heartbeat = SubscribeParams.heartbeatParam(request.getParam(SseGateway.HEARTBEAT_PARAM), options);
    } catch (HeraldException e) {
      Http.error(response, e, SubscribeParams.heartbeatBounds(options));
      return;
    }
    String lastEventId = request.getHeader("Last-Event-ID");
    if (lastEventId == null) {
      lastEventId = request.getParam("lastEventId");
    }
    Cursor cursor = null;
    boolean unknown = false;
    if (lastEventId != null && !lastEventId.isEmpty()) {
      cursor = params.resumeCursor(lastEventId, topics, patterns);
      unknown = cursor == null;
    }
    if (auth == null || !auth.enabled()) {
      if (SubscribeParams.topicsWithinTier(response, topics.length + patterns.length, options.tiers().defaults())) {
        opener.open(request, topics, patterns, cursor, unknown, SubscriberAuth.Grant.ANONYMOUS, permit, heartbeat);
      }
      return;
    }
    // Authorised before anything is subscribed or replayed: the cursor then only positions
    // topics the subscriber may read, whatever else its Last-Event-ID names.
    Cursor resume = cursor;
    boolean reset = unknown;
    auth.authenticate(request).onComplete(ar -> {
      if (response.closed() || response.ended()) {
        permit.release();
        return;
      }
      if (gateway.draining()) {
        Http.error(response.putHeader("Retry-After", "1"), new HeraldException(ErrorCode.SHUTTING_DOWN, "gateway is shutting down"));
        return;
      }
      if (ar.failed()) {
        HeraldException e = HeraldException.from(ar.cause());
        Http.error(response.putHeader("WWW-Authenticate", "Bearer realm=\"herald\", error=\"invalid_token\""), e);
        return;
      }
      SubscriberAuth.Grant grant = ar.result();
      String refusedTopic = auth.firstRefused(grant, topics);
      TopicFilter refusedPattern = refusedTopic != null ? null : auth.firstRefused(grant, patterns);
      if (refusedPattern != null) {
        refusePattern(response, grant, refusedPattern);
        return;
      }
      if (refusedTopic == null) {
        SubscriberTiers.Tier tier = options.tiers().of(grant);
        if (!SubscribeParams.topicsWithinTier(response, topics.length + patterns.length, tier)) {
          return;
        }
        if (grant.anonymous() || grant.userKey() == null) {
          opener.open(request, topics, patterns, resume, reset, grant, permit, heartbeat);
          return;
        }
        try {
          limiter.admitUser(permit, grant.userKey(), tier, System.currentTimeMillis());
        } catch (ConnectionLimiter.Refusal r) {
          refuse(request, r);
          return;
        }
        if (users == null) {
          opener.open(request, topics, patterns, resume, reset, grant, permit, heartbeat);
          return;
        }
        users.withinLimit(grant.userKey(), tier.maxConnectionsPerUser()).onComplete(within -> {
          if (response.closed() || response.ended()) {
            permit.release();
          } else if (gateway.draining()) {
            Http.error(response.putHeader("Retry-After", "1"), new HeraldException(ErrorCode.SHUTTING_DOWN, "gateway is shutting down"));
          } else if (!within.result()) {
            SubscriberTiers.refused(tier, "streams_per_user");
            refuse(request, new ConnectionLimiter.Refusal(ErrorCode.RATE_LIMITED,
              "at most " + tier.maxConnectionsPerUser() + " streams per user across the cluster" + tier.suffix(), 5));
          } else {
            opener.open(request, topics, patterns, resume, reset, grant, permit, heartbeat);
          }
        });
      } else if (grant.anonymous()) {
        Http.error(response.putHeader("WWW-Authenticate", "Bearer realm=\"herald\""),
          new HeraldException(ErrorCode.UNAUTHORIZED, "a token is required to read topic \"" + refusedTopic + "\""),
          new io.vertx.core.json.JsonObject().put("topic", refusedTopic));
      } else {
        LOG.atInfo().addKeyValue("subject", grant.subject()).addKeyValue("topic", refusedTopic)
          .log("subscriber refused: topic not allowed by its token");
        Http.error(response.putHeader("WWW-Authenticate", "Bearer realm=\"herald\", error=\"insufficient_scope\""),
          new HeraldException(ErrorCode.ACCESS_DENIED, "this token may not read topic \"" + refusedTopic + "\""),
          new io.vertx.core.json.JsonObject().put("topic", refusedTopic));
      }
    });
  }

  /** Draining and the connection limits: the permit, or null once the refusal is answered. */
  ConnectionLimiter.Permit admission(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    if (gateway.draining()) {
      Http.error(response.putHeader("Retry-After", "1"), new HeraldException(ErrorCode.SHUTTING_DOWN, "gateway is shutting down"));
      return null;
    }
    ConnectionLimiter.Permit permit;
    try {
      permit = limiter.admit(client(request), System.currentTimeMillis());
    } catch (ConnectionLimiter.Refusal r) {
      refuse(request, r);
      return null;
    }
    // Released however the exchange ends: an error response, the stream's end, or a dropped connection.
    response.endHandler(v -> permit.release());
    response.closeHandler(v -> permit.release());
    return permit;
  }

  private void refusePattern(HttpServerResponse response, SubscriberAuth.Grant grant, TopicFilter refused) {
    io.vertx.core.json.JsonObject detail = new io.vertx.core.json.JsonObject().put("pattern", refused.source());
    if (grant.anonymous()) {
      Http.error(response.putHeader("WWW-Authenticate", "Bearer realm=\"herald\""),
        new HeraldException(ErrorCode.UNAUTHORIZED, "a token is required to read pattern \"" + refused.source() + "\""), detail);
    } else {
      LOG.atInfo().addKeyValue("subject", grant.subject()).addKeyValue("pattern", refused.source())
        .log("subscriber refused: pattern not covered by its token");
      Http.error(response.putHeader("WWW-Authenticate", "Bearer realm=\"herald\", error=\"insufficient_scope\""),
        new HeraldException(ErrorCode.ACCESS_DENIED, "this token may not read every topic of pattern \"" + refused.source()
          + "\" (a pattern needs one grant that covers all it can match)"), detail);
    }
  }

  /** The client's address: the peer's, or the one its trusted proxies forward ({@code gateway.trustedProxies}). */
  String client(HttpServerRequest request) {
    String peer = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
    return options.clientAddress().resolve(peer, request.headers());
  }

  private void refuse(HttpServerRequest request, ConnectionLimiter.Refusal r) {
    LOG.atDebug().addKeyValue("remote", client(request)).addKeyValue("error", r.error().code().code())
      .log("connection refused: {}", r.getMessage());
    HeraldMetrics.get().rejected(r.error().code().code());
    Http.error(request.response().putHeader("Retry-After", Integer.toString(r.retryAfterSeconds())), r.error());
  }
}
