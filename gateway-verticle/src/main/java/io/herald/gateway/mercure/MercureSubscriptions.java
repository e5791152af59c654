package io.herald.gateway.mercure;

import io.herald.common.Addresses;
import io.herald.common.Position;
import io.herald.common.Topics;
import io.herald.gateway.SseGateway;
import io.herald.gateway.presence.Presence;
import io.herald.gateway.presence.PresenceEntry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Mercure hub's active subscriptions ({@code gateway.mercureSubscriptions}, the official
 * hub's {@code subscriptions}), as the specification's "Active Subscriptions" section says:
 * <ul>
 *   <li><b>Subscription events.</b> Every matcher of a Mercure stream is a subscription. When
 *       the stream starts, the hub publishes, for each, a private update on
 *       {@code /.well-known/mercure/subscriptions/{matchType}/{match}/{subscriber}} (each variable
 *       percent-encoded once, whole, as RFC 6570 expands a simple string) whose data is the
 *       subscription's JSON-LD document ({@code @context}, {@code id} (the topic), {@code type}
 *       {@code Subscription}, {@code matchType}, {@code match}, {@code subscriber}, {@code active}
 *       true, {@code payload} when the token has one for the matcher,
 *       {@link MercureClaims#payloadFor}); when the stream ends, the same with {@code active}
 *       false. They go through Herald's publish path (the notifier, on {@link Addresses#PUBLISH}):
 *       stored, replayed and delivered on every gateway, private, so only subscribers whose token
 *       grants {@code subscribe} on the topic receive them.</li>
 *   <li><b>The subscription API.</b> {@code GET /.well-known/mercure/subscriptions},
 *       {@code .../{matchType}/{match}} and {@code .../{matchType}/{match}/{subscriber}}:
 *       {@code application/ld+json} documents listing the active subscriptions of the whole
 *       cluster, read from a {@link Presence} of their own (every node's snapshot in the
 *       presence store, so a dead node's subscriptions leave within the store's expiry), with
 *       {@code lastEventID}, a position in the store's log from which a pattern subscription to
 *       the events resumes without a gap ({@link SseGateway#anyPatternCursor}), or
 *       {@code earliest} when nothing was published yet. The caller's token must grant
 *       {@code subscribe} on the requested path (401 without a token, 401 {@code invalid_token},
 *       403 {@code insufficient_scope}); an unknown subscription is a 404.</li>
 * </ul>
 * Matcher types are the specification's {@code Exact} ({@code match}, {@code match_exact},
 * {@code matchExact}, and a 0.x {@code topic} without braces) and {@code URLPattern}; a 0.x
 * {@code topic} URI template is {@code URITemplate}. The subscriber is a random
 * {@code urn:uuid:} per stream, shared by its subscriptions: unique, and never derived from the
 * request. Identical matchers of one stream are one subscription.
 *
 * <p>Order: a subscription's entry is written to the presence store before its event is
 * published (writes coalesced, one in flight per instance), so a client that reads the API and
 * then resumes the events from its {@code lastEventID} misses nothing. Bounded: a stream has at
 * most {@code maxTopicsPerConnection} subscriptions, at most {@value #MAX_PENDING_EVENTS} events
 * wait per instance (more are dropped and logged), a node's list is kept up to
 * {@code gateway.presenceMaxListed} subscriptions (beyond, the API answers 503). Confined to the
 * gateway instance's event loop; nothing blocks.
 */
public final class MercureSubscriptions {

  private static final Logger LOG = LoggerFactory.getLogger(MercureSubscriptions.class);

  /** The API's root and the prefix of the events' topics. */
  public static final String PATH = MercurePublish.PATH + "/subscriptions";
  /** The JSON-LD context of every document. */
  public static final String CONTEXT = "https://mercure.rocks/";
  /** The API's content type. */
  public static final String CONTENT_TYPE = "application/ld+json";
  /** The specification's matcher types, and Herald's name for a 0.x URI template. */
  public static final String EXACT = "Exact";
  public static final String URL_PATTERN = "URLPattern";
  public static final String URI_TEMPLATE = "URITemplate";
  static final Set<String> TYPES = Set.of(EXACT, URL_PATTERN, URI_TEMPLATE);
  /** Most subscription events waiting for the presence store or the notifier, per gateway instance. */
  public static final int MAX_PENDING_EVENTS = 10_000;
  /** Longest wait for the notifier's answer to a subscription event, ms. */
  static final long PUBLISH_TIMEOUT_MILLIS = 10_000;
  /** The key of the subscriptions in the presence store: not a topic (a space), so no topic's presence meets it. */
  static final String PRESENCE_KEY = "mercure subscriptions";

  private static final AtomicLong IDS = new AtomicLong();

  private final Vertx vertx;
  private final SseGateway gateway;
  private final MercureAuth auth;
  private final MercureOptions options;
  private final Presence presence;
  private final ArrayDeque<JsonObject> pending = new ArrayDeque<>();
  private boolean flushing;
  private long dropped;
  private long failed;

  /** One subscription: one matcher of one stream. */
  public record Subscription(long id, String matchType, String match, String subscriber, JsonObject payload) {

    /** The topic of its events, which is also its id and its URL in the API. */
    public String topic() {
      return PATH + "/" + matchType + "/" + encode(match) + "/" + encode(subscriber);
    }

    /** Its JSON-LD document, without {@code @context}. */
    public JsonObject toJson(boolean active) {
      JsonObject doc = new JsonObject().put("id", topic()).put("type", "Subscription").put("matchType", matchType)
        .put("match", match).put("subscriber", subscriber).put("active", active);
      if (payload != null) {
        doc.put("payload", payload);
      }
      return doc;
    }
  }

  public MercureSubscriptions(Vertx vertx, SseGateway gateway, MercureAuth auth, MercureOptions options) {
    this.vertx = vertx;
    this.gateway = gateway;
    this.auth = auth;
    this.options = options;
    this.presence = Presence.sharedOf(vertx, "mercure-subscriptions", 0, gateway.options().presenceMaxListed());
  }

  /**
   * The subscriptions of a request's query parameters (matchers {@link MercureSubscribe#select}
   * accepted) for a new subscriber, identical matchers once, each with its token payload.
   */
  static List<Subscription> of(Iterable<Map.Entry<String, String>> params, MercureClaims claims) {
    String subscriber = "urn:uuid:" + UUID.randomUUID();
    Map<String, Subscription> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> p : params) {
      String name = p.getKey();
      String match = p.getValue();
      String type;
      if (MercureSubscribe.EXACT_PARAMS.contains(name)) {
        type = EXACT;
      } else if (MercureSubscribe.URL_PATTERN_PARAMS.contains(name)) {
        type = URL_PATTERN;
      } else if (MercureSubscribe.TOPIC_PARAM.equals(name)) {
        type = match.indexOf('{') >= 0 && !MercureSelector.ALL.equals(match) ? URI_TEMPLATE : EXACT;
      } else {
        continue;
      }
      out.computeIfAbsent(type + " " + match,
        k -> new Subscription(IDS.incrementAndGet(), type, match, subscriber, claims.payloadFor(match)));
    }
    return new ArrayList<>(out.values());
  }

  /** A stream started: its subscriptions are listed, then their {@code active: true} events published. */
  void opened(List<Subscription> subscriptions) {
    long now = System.currentTimeMillis();
    for (Subscription s : subscriptions) {
      presence.add(new PresenceEntry(PRESENCE_KEY, null, s.id(), MercureConnection.TRANSPORT, presence.node(), now, s.toJson(true)),
        s.subscriber());
    }
    announce(subscriptions, true);
  }

  /** The stream ended: its subscriptions leave the list, then their {@code active: false} events are published. */
  void closed(List<Subscription> subscriptions) {
    for (Subscription s : subscriptions) {
      presence.remove(PRESENCE_KEY, s.id());
    }
    announce(subscriptions, false);
  }

  private void announce(List<Subscription> subscriptions, boolean active) {
    for (Subscription s : subscriptions) {
      String topic = s.topic();
      if (!Topics.isValidTopic(topic)) {
        LOG.debug("mercure: no subscription event for a matcher too long for a topic ({} characters)", topic.length());
        continue;
      }
      if (pending.size() >= MAX_PENDING_EVENTS) {
        if (dropped++ % 1000 == 0) {
          LOG.warn("mercure: {} subscription events waiting, dropping ({} dropped so far)", pending.size(), dropped);
        }
        continue;
      }
      JsonObject doc = new JsonObject().put("@context", CONTEXT).mergeIn(s.toJson(active));
      pending.add(new JsonObject().put("topic", topic).put("data", doc.encode()).put("private", true));
    }
    flush();
  }

  /** Writes the list to the store, then publishes what waited for it; one write in flight. */
  private void flush() {
    if (flushing || pending.isEmpty()) {
      return;
    }
    flushing = true;
    List<JsonObject> batch = new ArrayList<>(pending);
    pending.clear();
    presence.flush(PRESENCE_KEY)
      .onFailure(e -> LOG.debug("mercure: subscriptions not written now (the next tick will): {}", e.toString()))
      .onComplete(v -> {
        for (JsonObject event : batch) {
          vertx.eventBus().request(Addresses.PUBLISH, event, new DeliveryOptions().setSendTimeout(PUBLISH_TIMEOUT_MILLIS))
            .onFailure(e -> {
              // One line per thousand: a store outage or a shutdown fails every event alike.
              if (failed++ % 1000 == 0) {
                LOG.warn("mercure: subscription event on {} not published ({} so far): {}", event.getString("topic"), failed, e.toString());
              }
            });
        }
        flushing = false;
        flush();
      });
  }

  // ---- the API ----

  /** What a request path names: every subscription, those of one matcher, or one. */
  record Query(String path, String matchType, String match, String subscriber) {
  }

  /** Handles {@code GET /.well-known/mercure/subscriptions[/...]}; always answers. */
  public void handle(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    MercureHub.cors(options, request, response);
    Query query = query(request.path());
    String token;
    try {
      token = auth.token(request);
    } catch (MercureError e) {
      e.send(response);
      return;
    }
    if (token == null) {
      MercureError.noToken("the subscription API needs a token granting subscribe on " + shown(query.path())).send(response);
      return;
    }
    auth.verify(MercureAuth.Role.SUBSCRIBER, token)
      .compose(claims -> {
        if (!claims.canSubscribe(query.path())) {
          return Future.failedFuture(MercureError.insufficientScope("the token does not grant subscribe on " + shown(query.path())));
        }
        if (query.matchType() == null) {
          return Future.failedFuture(MercureError.status(404, "no such subscription resource"));
        }
        // The log's head first: a subscription that starts after it has its event after it.
        return lastEventId().compose(last -> presence.read(PRESENCE_KEY, 0, Integer.MAX_VALUE).map(list -> answer(query, last, list)));
      })
      .onSuccess(doc -> response.putHeader("Content-Type", CONTENT_TYPE)
        .putHeader("Cache-Control", "private, must-revalidate")
        .putHeader("Link", "<" + MercurePublish.PATH + ">; rel=\"mercure\"")
        .end(doc.encode()))
      .onFailure(t -> {
        if (t instanceof MercureError e) {
          e.send(response);
        } else {
          LOG.warn("mercure: subscriptions not read: {}", t.toString());
          MercureError.status(503, "the subscriptions cannot be read now: retry").send(response);
        }
      });
  }

  private Future<String> lastEventId() {
    return gateway.replay().logHead()
      .map(head -> head.seq() <= 0 ? MercureSubscribe.EARLIEST : io.herald.common.Cursor.HUB_ID_PREFIX + SseGateway.anyPatternCursor(head))
      .recover(t -> {
        LOG.debug("mercure: log head unknown for lastEventID: {}", t.toString());
        return Future.succeededFuture(MercureSubscribe.EARLIEST);
      });
  }

  private static JsonObject answer(Query query, String lastEventId, JsonObject list) {
    if (!list.getBoolean("listed", true)) {
      throw MercureError.status(503, "more active subscriptions on a node than gateway.presenceMaxListed: they are counted, not listed");
    }
    JsonArray subscriptions = new JsonArray();
    for (Object o : list.getJsonArray("entries", new JsonArray())) {
      JsonObject doc = ((JsonObject) o).getJsonObject("info");
      if (doc == null || (query.match() != null
        && !(query.matchType().equals(doc.getString("matchType")) && query.match().equals(doc.getString("match"))))) {
        continue;
      }
      if (query.subscriber() != null) {
        if (query.subscriber().equals(doc.getString("subscriber"))) {
          return new JsonObject().put("@context", CONTEXT).mergeIn(doc).put("lastEventID", lastEventId);
        }
        continue;
      }
      subscriptions.add(doc);
    }
    if (query.subscriber() != null) {
      throw MercureError.status(404, "no active subscription " + shown(query.path()));
    }
    return new JsonObject().put("@context", CONTEXT).put("id", query.path()).put("type", "Subscriptions")
      .put("lastEventID", lastEventId).put("subscriptions", subscriptions);
  }

  /**
   * Reads a request path: {@code matchType} null when it names no resource (an unknown matcher
   * type, a bad escape, a wrong number of segments). {@code path} is the canonical form (each
   * variable encoded once, as the events' topics), which the token must grant, or the raw path
   * when it names nothing.
   */
  static Query query(String raw) {
    if (raw.equals(PATH)) {
      return new Query(PATH, "", null, null);
    }
    String[] parts = raw.startsWith(PATH + "/") ? raw.substring(PATH.length() + 1).split("/", -1) : new String[0];
    if (parts.length < 2 || parts.length > 3 || !TYPES.contains(parts[0])) {
      return new Query(raw, null, null, null);
    }
    String match = decode(parts[1]);
    String subscriber = parts.length == 3 ? decode(parts[2]) : null;
    if (match == null || match.isEmpty() || (parts.length == 3 && (subscriber == null || subscriber.isEmpty()))) {
      return new Query(raw, null, null, null);
    }
    String path = PATH + "/" + parts[0] + "/" + encode(match) + (subscriber == null ? "" : "/" + encode(subscriber));
    return new Query(path, parts[0], match, subscriber);
  }

  /** RFC 6570 simple string expansion of one value: UTF-8, every byte but the unreserved characters as {@code %XX}. */
  static String encode(String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder(bytes.length * 3);
    for (byte x : bytes) {
      int c = x & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
        b.append((char) c);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
    return b.toString();
  }

  /** The value of one path segment, or null when an escape is bad or the bytes are not UTF-8. */
  static String decode(String segment) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(segment.length());
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c == '%') {
        if (i + 2 >= segment.length()) {
          return null;
        }
        int hi = Character.digit(segment.charAt(i + 1), 16);
        int lo = Character.digit(segment.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        out.write(hi << 4 | lo);
        i += 2;
      } else if (c < 0x80) {
        out.write(c);
      } else {
        return null;
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(out.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static String shown(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }
}
