package io.herald.gateway.presence;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.Sha256;
import io.herald.common.Topics;
import io.herald.gateway.GatewayOptions;
import io.herald.gateway.Http;
import io.herald.gateway.admission.SubscriberAuth;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The presence API of the gateway's HTTP server:
 * <ul>
 *   <li>{@code GET /presence?topic=T[&limit=N][&cursor=C]}: who is on {@code T} across the cluster,
 *       {@code {"topic", "count", "listed": true, "entries": [...], "next"?}}, entries ordered by
 *       connection, {@code limit} (1 to {@value #MAX_LIMIT}, default {@value #DEFAULT_LIMIT}) per
 *       page, {@code next} the opaque cursor of the next page; a topic with more than
 *       {@code gateway.presenceMaxListed} entries answers {@code "listed": false} and the count only.</li>
 *   <li>{@code GET /presence/counts?topic=T&topic=U}: {@code {"counts": {"T": n, "U": m}}}, at most
 *       {@code maxTopicsPerConnection} topics.</li>
 * </ul>
 * Who may ask: a publisher, with a key of {@code gateway.presenceKeys} as {@code Authorization:
 * Bearer} or {@code X-Herald-Key}; a subscriber whose token's presence claim grants every topic
 * asked; anyone with {@code authMode} none. Refusals are 401/403 with the catalogue's JSON body.
 */
public final class PresenceApi {

  /** Entries per page when {@code limit} is not given. */
  public static final int DEFAULT_LIMIT = 100;
  /** Most entries per page. */
  public static final int MAX_LIMIT = 1000;

  private final Presence presence;
  private final GatewayOptions options;
  private final SubscriberAuth auth;
  private final List<byte[]> keyDigests = new ArrayList<>();

  public PresenceApi(Presence presence, GatewayOptions options, SubscriberAuth auth) {
    this.presence = presence;
    this.options = options;
    this.auth = auth;
    for (String k : options.presenceKeys()) {
      keyDigests.add(k.startsWith("sha256:") ? HexFormat.of().parseHex(k.substring(7)) : Sha256.of(k));
    }
  }

  /** Adds the two routes. */
  public void mount(Router router) {
    router.get("/presence").handler(ctx -> list(ctx.request()));
    router.get("/presence/counts").handler(ctx -> counts(ctx.request()));
  }

  private void list(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    List<String> topics = request.params().getAll("topic");
    if (topics.size() != 1 || !Topics.isValidTopic(topics.get(0))) {
      Http.error(response, ErrorCode.INVALID_REQUEST, "GET /presence takes exactly one valid topic: /presence?topic=NAME");
      return;
    }
    int limit;
    int offset;
    try {
      limit = limit(request.getParam("limit"));
      offset = offset(request.getParam("cursor"));
    } catch (HeraldException e) {
      Http.error(response, e);
      return;
    }
    String topic = topics.get(0);
    authorize(request, List.of(topic))
      .compose(v -> presence.read(topic, offset, limit))
      .onComplete(ar -> answer(response, ar.failed() ? null : ar.result(), ar.cause()));
  }

  private void counts(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    Set<String> topics = new LinkedHashSet<>(request.params().getAll("topic"));
    if (topics.isEmpty() || topics.size() > options.maxTopicsPerConnection()) {
      Http.error(response, ErrorCode.INVALID_REQUEST, "GET /presence/counts takes 1 to " + options.maxTopicsPerConnection()
        + " topic parameters");
      return;
    }
    for (String t : topics) {
      if (!Topics.isValidTopic(t)) {
        Http.error(response, new HeraldException(ErrorCode.INVALID_TOPIC, "invalid topic name"), new JsonObject().put("topic", t));
        return;
      }
    }
    List<String> list = new ArrayList<>(topics);
    authorize(request, list).compose(v -> {
      List<Future<Integer>> all = new ArrayList<>();
      list.forEach(t -> all.add(presence.count(t)));
      return Future.all(all).map(r -> {
        JsonObject counts = new JsonObject();
        for (int i = 0; i < list.size(); i++) {
          counts.put(list.get(i), r.<Integer>resultAt(i));
        }
        return new JsonObject().put("counts", counts);
      });
    }).onComplete(ar -> answer(response, ar.failed() ? null : ar.result(), ar.cause()));
  }

  private void answer(HttpServerResponse response, JsonObject body, Throwable failure) {
    if (response.closed() || response.ended()) {
      return;
    }
    if (failure != null) {
      HeraldException e = failure instanceof HeraldException h ? h
        : new HeraldException(ErrorCode.STORE_UNAVAILABLE, "presence unavailable; retry: " + failure.getMessage());
      if (e.code() == ErrorCode.UNAUTHORIZED) {
        response.putHeader("WWW-Authenticate", "Bearer realm=\"herald\"");
      }
      Http.error(response, e);
      return;
    }
    response.putHeader(HttpHeaders.CONTENT_TYPE, "application/json").putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
      .end(body.encode());
  }

  /**
   * Succeeds when the request may see presence on every one of {@code topics}; fails with
   * {@code unauthorized} without a usable credential, {@code access_denied} naming the first
   * topic the token does not grant.
   */
  Future<Void> authorize(HttpServerRequest request, List<String> topics) {
    String key = request.getHeader("X-Herald-Key");
    String header = request.getHeader(HttpHeaders.AUTHORIZATION);
    String bearer = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
    if (publisherKey(key) || publisherKey(bearer)) {
      return Future.succeededFuture();
    }
    if (!options.jwtAuth()) {
      return Future.succeededFuture();
    }
    if (key != null) {
      return Future.failedFuture(new HeraldException(ErrorCode.UNAUTHORIZED, "unknown publisher key"));
    }
    return auth.authenticate(request).compose(grant -> {
      if (grant.anonymous()) {
        return Future.failedFuture(new HeraldException(ErrorCode.UNAUTHORIZED,
          "presence needs a publisher key (gateway.presenceKeys) or a subscriber token granting presence"));
      }
      JsonObject claims = PresenceWatch.claims(SubscriberAuth.token(request));
      List<io.herald.common.TopicPattern> granted = PresenceWatch.patterns(claims == null ? null : claims.getValue(options.presenceClaim()));
      for (String t : topics) {
        if (granted.stream().noneMatch(p -> p.matches(t, grant.subject()))) {
          return Future.failedFuture(new HeraldException(ErrorCode.ACCESS_DENIED, "this token does not grant presence on topic \"" + t + "\" (claim \""
            + options.presenceClaim() + "\")"));
        }
      }
      return Future.succeededFuture();
    });
  }

  private boolean publisherKey(String given) {
    if (given == null || given.isEmpty() || keyDigests.isEmpty()) {
      return false;
    }
    byte[] digest = Sha256.of(given);
    boolean found = false;
    for (byte[] k : keyDigests) {
      found |= MessageDigest.isEqual(k, digest);
    }
    return found;
  }


  static int limit(String value) {
    if (value == null) {
      return DEFAULT_LIMIT;
    }
    try {
      int n = value.length() > 9 ? -1 : Integer.parseInt(value);
      if (n >= 1 && n <= MAX_LIMIT) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // refused below
    }
    throw new HeraldException(ErrorCode.INVALID_REQUEST, "limit must be a whole number from 1 to " + MAX_LIMIT);
  }

  /** The opaque page cursor of the entry at {@code offset}. */
  static String cursor(int offset) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(("o" + offset).getBytes(StandardCharsets.US_ASCII));
  }

  static int offset(String cursor) {
    if (cursor == null) {
      return 0;
    }
    try {
      String s = cursor.length() > 24 ? "" : new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
      if (s.startsWith("o")) {
        int n = Integer.parseInt(s.substring(1));
        if (n >= 0) {
          return n;
        }
      }
    } catch (RuntimeException ignored) {
      // refused below
    }
    throw new HeraldException(ErrorCode.INVALID_REQUEST, "cursor is not one this API gave (use the \"next\" of the last page)");
  }
}
