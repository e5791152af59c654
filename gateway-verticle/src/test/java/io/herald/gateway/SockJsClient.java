package io.herald.gateway;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.herald.gateway.ContractClients.await;
import static io.herald.gateway.ContractClients.reset;

/**
 * The SockJS bridge over one of SockJS's transports, as sockjs-client drives them: its WebSocket
 * ({@code /eventbus/000/<session>/websocket}), or, receiving over XHR streaming
 * ({@code .../xhr_streaming}), XHR polling ({@code .../xhr}, one frame per answer) or EventSource
 * ({@code .../eventsource}) and sending one {@code POST .../xhr_send} per message. It registers
 * each topic, then sends a replay with the topic's last id. The replay's answer comes once the
 * registration is positioned, so the subscription is live when it came; its position is one
 * single-topic cursor per topic.
 */
final class SockJsClient implements ContractClients.Client {

  /** How the session receives: SockJS's WebSocket, XHR streaming, XHR polling or EventSource transport. */
  enum Receiver {
    WEBSOCKET, XHR_STREAMING, XHR_POLLING, EVENTSOURCE
  }

  private final Map<String, List<String>> replayed = new LinkedHashMap<>();
  private final Map<String, List<String>> live = new LinkedHashMap<>();
  private final Map<String, String> last = new LinkedHashMap<>();
  private final List<String> resets = new ArrayList<>();
  private final List<String> refusals = new ArrayList<>();
  private boolean expiredFrame;
  private final Map<String, JsonObject> replies = new java.util.HashMap<>();
  private final AtomicInteger heartbeats = new AtomicInteger();
  private final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final StringBuilder partial = new StringBuilder();
  private final CompletableFuture<Void> opened = new CompletableFuture<>();
  /** {@code http://host:port/eventbus/000/<session>}. */
  private final String session;
  private final Receiver receiver;
  /** {@code ?access_token=...} on every request of the session, as sockjs-client keeps the URL's query; or empty. */
  private final String query;
  private WebSocket ws;
  private volatile boolean closing;
  private volatile java.util.stream.Stream<String> stream;
  private volatile CompletableFuture<HttpResponse<String>> pending;

  private SockJsClient(GatewayHarness h, Receiver receiver, String token) {
    this.session = "http://127.0.0.1:" + h.port() + "/eventbus/000/" + Long.toHexString(System.nanoTime());
    this.receiver = receiver;
    this.query = token == null ? "" : "?" + ContractClients.tokenParam(token).substring(1);
  }

  static SockJsClient open(GatewayHarness h, List<String> topics, Object from, Receiver receiver) throws Exception {
    return open(h, topics, from, receiver, null);
  }

  /**
   * Registers and replays each topic; a refused register or replay is recorded in
   * {@link #refusals()} and the other topics go on.
   */
  @SuppressWarnings("unchecked")
  static SockJsClient open(GatewayHarness h, List<String> topics, Object from, Receiver receiver, String token) throws Exception {
    Map<String, String> since = from == null ? Map.of() : (Map<String, String>) from;
    SockJsClient c = new SockJsClient(h, receiver, token);
    if (receiver == Receiver.XHR_POLLING) {
      c.poll();
    } else if (receiver != Receiver.WEBSOCKET) {
      c.receiveStream();
    } else {
      c.ws = WsClient.JDK.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create(c.session.replace("http:", "ws:") + "/websocket" + c.query), c.listener()).get(10, TimeUnit.SECONDS);
    }
    c.opened.get(10, TimeUnit.SECONDS);
    for (String t : topics) {
      synchronized (c) {
        c.replayed.put(t, new ArrayList<>());
        c.live.put(t, new ArrayList<>());
      }
      c.send(new JsonObject().put("type", "register").put("address", "herald.browser." + t));
    }
    for (String t : topics) {
      String cursor = since.get(t);
      boolean more = true;
      for (int page = 0; more; page++) {
        String reply = "r-" + t + "-" + page;
        JsonObject body = new JsonObject().put("topic", t);
        if (cursor != null) {
          body.put("lastEventId", cursor);
        }
        c.send(new JsonObject().put("type", "send").put("address", "herald.browser.replay").put("body", body).put("replyAddress", reply));
        await(() -> c.reply(reply) != null, () -> "no answer to the replay of " + t);
        JsonObject answer = c.reply(reply);
        if (answer.containsKey("refused")) {
          JsonObject err = answer.getJsonObject("refused");
          synchronized (c) {
            c.refusals.add("replay " + t + ":" + err.getInteger("failureCode") + " " + err.getString("message"));
          }
          break;
        }
        synchronized (c) {
          for (Object o : answer.getJsonArray("events")) {
            JsonObject f = (JsonObject) o;
            if (f.containsKey("topic")) {
              c.replayed.get(t).add(f.getString("data"));
            } else if ("reset".equals(f.getString("type"))) {
              c.resets.add(reset(f.getJsonObject("data")));
            }
          }
          // Live events already received are newer than anything the answer holds.
          if (c.live.get(t).isEmpty()) {
            c.last.put(t, answer.getString("id"));
          }
        }
        cursor = answer.getString("id");
        more = answer.getBoolean("more", false);
      }
    }
    return c;
  }

  private synchronized JsonObject reply(String address) {
    return replies.get(address);
  }

  private void send(JsonObject frame) throws Exception {
    String message = new JsonArray().add(frame.encode()).encode();
    if (receiver == Receiver.WEBSOCKET) {
      ws.sendText(message, true).orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
      return;
    }
    HttpResponse<String> r = WsClient.JDK.send(HttpRequest.newBuilder(URI.create(session + "/xhr_send" + query)).timeout(ContractClients.WAIT)
      .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(message)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 204) {
      throw new AssertionError("xhr_send answered " + r.statusCode() + ": " + r.body());
    }
  }

  /**
   * One {@code xhr_streaming} response (a prelude of 2048 {@code h}, then one frame a line) or
   * one {@code eventsource} response (a frame per {@code data:} line). The server ends it after
   * {@code maxBytesStreaming}; like the official client, this one then asks again on the same
   * session.
   */
  private void receiveStream() {
    boolean es = receiver == Receiver.EVENTSOURCE;
    HttpRequest request = es ? HttpRequest.newBuilder(URI.create(session + "/eventsource" + query)).GET().build()
      : HttpRequest.newBuilder(URI.create(session + "/xhr_streaming" + query)).POST(HttpRequest.BodyPublishers.noBody()).build();
    WsClient.JDK.sendAsync(request, HttpResponse.BodyHandlers.ofLines()).whenComplete((resp, err) -> {
      if (err != null || resp.statusCode() != 200) {
        closed.complete(-1);
        return;
      }
      stream = resp.body();
      Thread reader = new Thread(() -> {
        try {
          stream.forEach(line -> {
            if (es) {
              if (line.startsWith("data: ")) {
                receive(line.substring("data: ".length()));
              }
            } else if (!line.isEmpty() && !(line.length() > 1 && line.chars().allMatch(ch -> ch == 'h'))) {
              receive(line);
            }
          });
        } catch (RuntimeException ended) {
          // closed by close() or by the server
        }
        if (!closing && !closed.isDone()) {
          receiveStream();
        }
      }, "sockjs-stream-reader");
      reader.setDaemon(true);
      reader.start();
    });
  }

  /** One {@code xhr} poll: its answer is one frame ({@code o}, {@code h}, {@code a[...]} or {@code c[...]}); then the next. */
  private void poll() {
    if (closing || closed.isDone()) {
      return;
    }
    HttpRequest request = HttpRequest.newBuilder(URI.create(session + "/xhr" + query)).timeout(ContractClients.WAIT.multipliedBy(2))
      .POST(HttpRequest.BodyPublishers.noBody()).build();
    pending = WsClient.JDK.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    pending.whenComplete((resp, err) -> {
      if (closing) {
        return;
      }
      if (err != null || resp.statusCode() != 200) {
        closed.complete(-1);
        return;
      }
      for (String line : resp.body().split("\n")) {
        if (!line.isEmpty()) {
          receive(line);
        }
      }
      poll();
    });
  }

  private WebSocket.Listener listener() {
    return new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onText(WebSocket w, CharSequence text, boolean complete) {
        partial.append(text);
        if (complete) {
          receive(partial.toString());
          partial.setLength(0);
        }
        w.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
      }

      @Override
      public void onError(WebSocket w, Throwable error) {
        closed.complete(-1);
      }
    };
  }

  private synchronized void receive(String message) {
    if (message.equals("o")) {
      opened.complete(null);
    } else if (message.equals("h")) {
      heartbeats.incrementAndGet();
    } else if (message.startsWith("c")) {
      closed.complete(new JsonArray(message.substring(1)).getInteger(0));
    } else if (message.startsWith("a")) {
      for (Object m : new JsonArray(message.substring(1))) {
        JsonObject frame = new JsonObject((String) m);
        // An err frame's body is a string (its code): only a rec's is an object.
        JsonObject body = frame.getValue("body") instanceof JsonObject o ? o : null;
        String address = frame.getString("address", "");
        if (address.startsWith("r-")) {
          replies.put(address, "err".equals(frame.getString("type")) ? new JsonObject().put("refused", frame) : body);
        } else if ("rec".equals(frame.getString("type")) && body != null && body.containsKey("topic")) {
          String topic = body.getString("topic");
          live.computeIfAbsent(topic, k -> new ArrayList<>()).add(body.getString("data"));
          last.put(topic, body.getString("id"));
        } else if ("rec".equals(frame.getString("type")) && body != null && "reset".equals(body.getString("type"))) {
          resets.add(reset(body.getJsonObject("data")));
        } else if ("rec".equals(frame.getString("type")) && body != null && "herald.expired".equals(body.getString("type"))) {
          expiredFrame = true;
        } else if ("err".equals(frame.getString("type")) && address.startsWith("herald.browser.")) {
          refusals.add(address.substring("herald.browser.".length()) + ":" + frame.getInteger("failureCode") + " " + frame.getString("message"));
        }
      }
    }
  }

  @Override
  public synchronized List<String> data() {
    List<String> all = new ArrayList<>();
    replayed.forEach((t, l) -> all.addAll(l));
    live.forEach((t, l) -> all.addAll(l));
    return all;
  }

  @Override
  public synchronized List<String> resets() {
    return new ArrayList<>(resets);
  }

  @Override
  public synchronized Object position() {
    return new LinkedHashMap<>(last);
  }

  @Override
  public synchronized List<String> refusals() {
    return new ArrayList<>(refusals);
  }

  /**
   * {@code herald.expired} on the registered topics, then the session closed. Vert.x closes a
   * SockJS session with SockJS's own {@code 3000 "Go away!"} whatever code the bridge asks for
   * ({@code 4401} reaches only raw {@code /eventbus/websocket} clients, see docs/clients.md).
   */
  @Override
  public synchronized boolean expired() {
    return expiredFrame && closed.getNow(0) == 3000;
  }

  @Override
  public synchronized String toString() {
    return "SockJS session " + session + (expiredFrame ? ", herald.expired received" : ", no herald.expired")
      + (closed.isDone() ? ", closed " + closed.getNow(0) : ", open");
  }

  @Override
  public int heartbeats() {
    return heartbeats.get();
  }

  @Override
  public boolean ended() {
    return closed.isDone();
  }

  @Override
  public void close() {
    closing = true;
    if (ws != null) {
      if (!ws.isOutputClosed()) {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
      }
      ws.abort();
    }
    java.util.stream.Stream<String> s = stream;
    if (s != null) {
      s.close();
    }
    CompletableFuture<HttpResponse<String>> p = pending;
    if (p != null) {
      p.cancel(true);
    }
  }
}
