package io.herald.gateway;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
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
 * The SockJS bridge over SockJS's WebSocket transport ({@code /eventbus/000/<session>/websocket}),
 * as the official client does it: register each topic, then send a replay with the topic's last
 * id. The replay's answer comes once the registration is positioned, so the subscription is
 * live when it came; its position is one single-topic cursor per topic.
 */
final class SockJsClient implements ContractClients.Client {
  private final Map<String, List<String>> replayed = new LinkedHashMap<>();
  private final Map<String, List<String>> live = new LinkedHashMap<>();
  private final Map<String, String> last = new LinkedHashMap<>();
  private final List<String> resets = new ArrayList<>();
  private final Map<String, JsonObject> replies = new java.util.HashMap<>();
  private final AtomicInteger heartbeats = new AtomicInteger();
  private final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final StringBuilder partial = new StringBuilder();
  private WebSocket ws;

  @SuppressWarnings("unchecked")
  static SockJsClient open(GatewayHarness h, List<String> topics, Object from) throws Exception {
    Map<String, String> since = from == null ? Map.of() : (Map<String, String>) from;
    SockJsClient c = new SockJsClient();
    c.ws = WsClient.JDK.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
      .buildAsync(URI.create("ws://127.0.0.1:" + h.port() + "/eventbus/000/" + Long.toHexString(System.nanoTime()) + "/websocket"),
        c.listener()).get(10, TimeUnit.SECONDS);
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
          throw new AssertionError("replay of " + t + " refused: " + answer);
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

  private void send(JsonObject frame) {
    ws.sendText(new JsonArray().add(frame.encode()).encode(), true).join();
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
    if (message.equals("h")) {
      heartbeats.incrementAndGet();
    } else if (message.startsWith("c")) {
      closed.complete(new JsonArray(message.substring(1)).getInteger(0));
    } else if (message.startsWith("a")) {
      for (Object m : new JsonArray(message.substring(1))) {
        JsonObject frame = new JsonObject((String) m);
        JsonObject body = frame.getJsonObject("body");
        String address = frame.getString("address", "");
        if (address.startsWith("r-")) {
          replies.put(address, "err".equals(frame.getString("type")) ? new JsonObject().put("refused", frame) : body);
        } else if ("rec".equals(frame.getString("type")) && body != null && body.containsKey("topic")) {
          String topic = body.getString("topic");
          live.computeIfAbsent(topic, k -> new ArrayList<>()).add(body.getString("data"));
          last.put(topic, body.getString("id"));
        } else if ("rec".equals(frame.getString("type")) && body != null && "reset".equals(body.getString("type"))) {
          resets.add(reset(body.getJsonObject("data")));
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
  public int heartbeats() {
    return heartbeats.get();
  }

  @Override
  public boolean ended() {
    return closed.isDone();
  }

  @Override
  public void close() {
    if (!ws.isOutputClosed()) {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
    }
    ws.abort();
  }
}
