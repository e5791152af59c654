package io.herald.gateway.mercure;

import io.herald.common.Addresses;
import io.herald.common.Topics;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /.well-known/mercure}: a Mercure publication, forwarded to the notifier on
 * {@link Addresses#PUBLISH} (request/reply) so that it is validated, stored and fanned out as
 * any Herald publish, from whichever gateway the publisher reached. The body is
 * {@code application/x-www-form-urlencoded} with one or more {@code topic} fields (the first the
 * canonical topic, the others alternate IRIs: the update is stored once per topic with the same id
 * and each subscriber receives it once; the token must grant {@code publish} on every one), {@code data}, {@code id}, {@code type}, {@code private} (present, whatever its value:
 * a private update, as the official hub reads it) and {@code retry} (ASCII digits, ms). The answer is {@code 200 text/plain} with the update's id: the
 * publisher's {@code id} when it sent one (stored as the event's id; the same id again on the
 * same topic within the history is a retry and stores nothing new), else the id Herald gave it
 * (its resume cursor).
 * Both flags are stored with the event; private updates reach only subscribers whose token
 * grants {@code subscribe} on the topic ({@link MercureSubscribe}), live and on replay.
 */
public final class MercurePublish {

  private static final Logger LOG = LoggerFactory.getLogger(MercurePublish.class);

  /** The hub's path. */
  public static final String PATH = "/.well-known/mercure";
  /** Longest form body accepted, bytes (the notifier then applies its own event size limit). */
  public static final int MAX_BODY_BYTES = 1024 * 1024;
  /** Longest wait for the notifier's answer, ms. */
  public static final long PUBLISH_TIMEOUT_MILLIS = 10_000;

  private static final List<String> FIELDS = List.of("topic", "data", "private", "id", "type", "retry");

  private final Vertx vertx;
  private final MercureAuth auth;

  public MercurePublish(Vertx vertx, MercureAuth auth) {
    this.vertx = vertx;
    this.auth = auth;
  }

  /** Handles one POST; always ends the response. */
  public void handle(HttpServerRequest request) {
    String contentType = request.getHeader("Content-Type");
    if (contentType == null || !contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      request.resume();
      MercureError.invalidRequest("the body must be application/x-www-form-urlencoded").send(request.response());
      return;
    }
    String token;
    try {
      token = auth.token(request);
    } catch (MercureError e) {
      request.resume();
      e.send(request.response());
      return;
    }
    if (token == null) {
      request.resume();
      MercureError.noToken("publishing needs a token (Authorization: Bearer <token>)").send(request.response());
      return;
    }
    String forged = auth.tokenFromCookie(request) ? MercureCsrf.refusal(auth.options().publishOrigins(), request) : null;
    if (forged != null) {
      request.resume();
      MercureError.status(403, forged).send(request.response());
      return;
    }
    String length = request.getHeader("Content-Length");
    if (length != null && (!length.matches("[0-9]{1,9}") || Integer.parseInt(length) > MAX_BODY_BYTES)) {
      MercureError.status(413, "the body is larger than " + MAX_BODY_BYTES + " bytes").send(request.response());
      request.connection().close();
      return;
    }
    Buffer body = Buffer.buffer();
    boolean[] tooLarge = {false};
    request.handler(chunk -> {
      if (!tooLarge[0] && body.length() + chunk.length() > MAX_BODY_BYTES) {
        tooLarge[0] = true;
        MercureError.status(413, "the body is larger than " + MAX_BODY_BYTES + " bytes").send(request.response());
        request.connection().close();
      } else if (!tooLarge[0]) {
        body.appendBuffer(chunk);
      }
    });
    request.endHandler(v -> {
      if (tooLarge[0]) {
        return;
      }
      auth.verify(MercureAuth.Role.PUBLISHER, token)
        .compose(claims -> publish(claims, body))
        .onSuccess(id -> request.response().putHeader("Content-Type", "text/plain; charset=utf-8")
          .putHeader("Cache-Control", "no-store").end(id))
        .onFailure(t -> {
          if (t instanceof MercureError e) {
            e.send(request.response());
          } else {
            LOG.warn("mercure publish failed: {}", t.toString());
            MercureError.status(503, "the update could not be stored: retry").send(request.response());
          }
        });
    });
    request.resume(); // the router paused it
  }

  private Future<String> publish(MercureClaims claims, Buffer body) {
    Map<String, List<String>> form;
    try {
      form = new QueryStringDecoder(body.toString(StandardCharsets.UTF_8), StandardCharsets.UTF_8, false, 1024).parameters();
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(MercureError.invalidRequest("the form body does not decode: " + e.getMessage()));
    }
    List<String> topics = List.copyOf(new java.util.LinkedHashSet<>(form.getOrDefault("topic", List.of())));
    if (topics.isEmpty()) {
      return Future.failedFuture(MercureError.invalidRequest("the topic field is required"));
    }
    if (claims.form() == MercureClaims.Form.ACCESS_TOKEN && form.get("topic").size() > 1) {
      // Mercure 1.0: exactly one topic field. Several are the 0.x alternate topics, kept for 0.x tokens (the mercure claim).
      return Future.failedFuture(MercureError.invalidRequest("exactly one topic field per update with a Mercure 1.0 access token"
        + " (several topic fields are 0.x alternate topics, accepted with a token of the mercure claim)"));
    }
    for (String topic : topics) {
      if (reserved(topic)) {
        return Future.failedFuture(MercureError.status(403, "topics under /.well-known/mercure are the hub's own"));
      }
      if (!Topics.isValidTopic(topic)) {
        return Future.failedFuture(MercureError.invalidRequest("invalid topic: " + Topics.TOPIC_RULE));
      }
    }
    for (String f : FIELDS) {
      if (!"topic".equals(f) && form.getOrDefault(f, List.of()).size() > 1) {
        return Future.failedFuture(MercureError.invalidRequest("the " + f + " field may appear once"));
      }
    }
    // As the official hub: the field's presence makes the update private, whatever its value.
    boolean privateUpdate = form.containsKey("private");
    String retry = one(form, "retry");
    if (retry != null && !retry.matches("[0-9]{1,8}")) {
      return Future.failedFuture(MercureError.invalidRequest(retry.matches("[0-9]+")
        ? "retry must be at most 86400000 (ms)" : "retry must be ASCII digits"));
    }
    String id = one(form, "id");
    if (id != null && (id.startsWith("#") || id.indexOf('\n') >= 0 || id.indexOf('\r') >= 0 || id.indexOf('\0') >= 0)) {
      return Future.failedFuture(MercureError.invalidRequest("id must not start with # nor contain CR, LF or NUL"));
    }
    String type = one(form, "type");
    if (type != null && (type.indexOf('\n') >= 0 || type.indexOf('\r') >= 0 || "mercure".equals(type))) {
      return Future.failedFuture(MercureError.invalidRequest("type must not contain CR or LF, and mercure is reserved"));
    }
    for (String topic : topics) {
      if (!claims.canPublish(topic)) {
        return Future.failedFuture(MercureError.insufficientScope("the token may not publish to every topic of the update"));
      }
    }
    String data = one(form, "data");
    JsonObject request = new JsonObject().put("data", data == null ? "" : data);
    if (topics.size() == 1) {
      request.put("topic", topics.get(0));
    } else {
      // The first topic is the canonical one, the others alternate IRIs: one update, stored once
      // per topic under the same id, delivered once per subscriber.
      request.put("topics", new JsonArray(new java.util.ArrayList<>(topics))).put("alternates", true);
    }
    if (type != null) {
      request.put("type", type);
    }
    if (id != null) {
      request.put("id", id);
    }
    if (privateUpdate) {
      request.put("private", true);
    }
    if (retry != null) {
      request.put("retry", Long.parseLong(retry));
    }
    return vertx.eventBus().<JsonObject>request(Addresses.PUBLISH, request, new DeliveryOptions().setSendTimeout(PUBLISH_TIMEOUT_MILLIS))
      .recover(t -> Future.failedFuture(refusal(t)))
      .map(reply -> {
        JsonArray events = reply.body().getJsonArray("events");
        return id != null ? id : io.herald.common.Cursor.HUB_ID_PREFIX + events.getJsonObject(0).getString("id");
      });
  }

  /** A notifier refusal as the Mercure answer: 4xx stay 4xx (400 as invalid_request), others a 503. */
  private static Throwable refusal(Throwable t) {
    if (t instanceof ReplyException r && r.failureCode() >= 400 && r.failureCode() < 500) {
      String message = r.getMessage();
      try {
        message = new JsonObject(message).getString("message", message);
      } catch (RuntimeException notJson) {
        // the message as it is
      }
      return r.failureCode() == 400 ? MercureError.invalidRequest(message) : MercureError.status(r.failureCode(), message);
    }
    return t;
  }

  /** True when the topic, resolved against the hub's URL, is in the hub's own namespace. */
  static boolean reserved(String topic) {
    String path;
    try {
      path = URI.create("http://hub.invalid" + PATH).resolve(URI.create(topic)).normalize().getRawPath();
    } catch (IllegalArgumentException notAUri) {
      int q = topic.indexOf('?');
      path = q < 0 ? topic : topic.substring(0, q);
    }
    return path != null && (path.equals(PATH) || path.startsWith(PATH + "/"));
  }

  private static String one(Map<String, List<String>> form, String name) {
    List<String> v = form.get(name);
    return v == null || v.isEmpty() ? null : v.get(0);
  }
}
