package io.herald.gateway;

import io.herald.common.EventCodec;
import io.herald.common.EventDraft;
import io.herald.common.replay.ReplayClient;
import io.herald.gateway.SockJSBridgeTest.Bridge;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.Await;
import io.herald.testsupport.Ports;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static io.herald.gateway.GatewayHarness.await;
import static io.herald.gateway.SseGatewayTest.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bridge resumes across the event loops of one gateway: several instances, each with the topic's
 * and the pattern's channels already running (keeper sockets), and a client that reconnects
 * again and again while events are published, landing on another instance each time (the server
 * hands connections to its instances in turn), registering with its cursors and replaying from
 * them. A marker ends it; the client must have every event exactly once, in per-topic order.
 */
@ExtendWith(VertxExtension.class)
class SockJSResumeInstancesTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final int INSTANCES = 3;
  private static final int EVENTS = 300;
  /** Events per topic published for each session. */
  private static final int ROUND = 10;
  private static final String TOPIC = "hop.a";
  private static final String PATTERN = "hop.*";
  private static final String EXACT = "herald.browser." + TOPIC;
  private static final String PATTERNED = "herald.browser.~" + PATTERN;
  private static final AtomicInteger REPLIES = new AtomicInteger();

  @Test
  @DisplayName("A client hopping between gateway instances with its cursors while events are published gets every event exactly once, in per-topic order, on a topic and on a pattern")
  void hops(Vertx vertx) throws Exception {
    EventCodec.register(vertx);
    await(vertx.deployVerticle(new ReplayVerticle(new ReplayOptions(new JsonObject()))));
    int port = Ports.freePort();
    GatewayOptions options = new GatewayOptions(new JsonObject().put("port", port).put("instances", INSTANCES).put("maxReplayEvents", 50));
    List<GatewayVerticle> gateways = new CopyOnWriteArrayList<>();
    await(vertx.deployVerticle(() -> {
      GatewayVerticle g = new GatewayVerticle(options);
      gateways.add(g);
      return g;
    }, new DeploymentOptions().setInstances(INSTANCES)));
    ReplayClient replay = new ReplayClient(vertx, 5000);
    List<Bridge> keepers = new ArrayList<>();
    try {
      for (int i = 0; i < 2 * INSTANCES; i++) {
        Bridge k = Bridge.open(port, "");
        keepers.add(k);
        register(k, EXACT, null);
        register(k, PATTERNED, null);
      }
      awaitCondition(() -> sum(gateways, g -> g.sse().bridge().liveRegistrations(TOPIC)) == 2 * INSTANCES
        && sum(gateways, g -> g.sse().bridge().patterns().liveRegistrations(PATTERN)) == 2 * INSTANCES);
      assertThat(gateways).allSatisfy(g -> assertThat(g.sse().bridge().liveRegistrations(TOPIC)).isPositive());

      List<String> exact = new ArrayList<>();
      List<JsonObject> patterned = new ArrayList<>();
      String lastExact = null;
      String lastPattern = null;
      Bridge b = Bridge.open(port, "");
      register(b, EXACT, null);
      register(b, PATTERNED, null);
      awaitCondition(() -> sum(gateways, g -> g.sse().bridge().liveRegistrations(TOPIC)) == 2 * INSTANCES + 1
        && sum(gateways, g -> g.sse().bridge().patterns().liveRegistrations(PATTERN)) == 2 * INSTANCES + 1);
      AtomicInteger ready = new AtomicInteger();
      CompletableFuture<Void> published = CompletableFuture.runAsync(() -> {
        try {
          for (int i = 0; i < EVENTS; i++) {
            if (i % ROUND == 0) {
              // Each round once the next session is live: its events reach it live, the round
              // before may still be arriving while it registers and replays.
              int round = i / ROUND;
              Await.until("session " + (round + 1), () -> ready.get() > round, WAIT);
            }
            await(replay.append(List.of(new EventDraft("hop.a", "message", "a" + i, false, null),
              new EventDraft("hop.b", "message", "b" + i, false, null))));
          }
          await(replay.append(List.of(new EventDraft("hop.a", "message", "end", false, null),
            new EventDraft("hop.b", "message", "end", false, null))));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      int sessions = 0;
      while (!ended(exact, patterned)) {
        assertThat(sessions++).as("sessions").isLessThan(10 * EVENTS);
        if (sessions > 1) {
          b = Bridge.open(port, "");
          register(b, EXACT, lastExact);
          register(b, PATTERNED, lastPattern);
        }
        List<JsonObject> gotExact = new ArrayList<>();
        List<JsonObject> gotPattern = new ArrayList<>();
        String answerExact = replayAll(b, new JsonObject().put("topic", TOPIC), lastExact, gotExact);
        String answerPattern = replayAll(b, new JsonObject().put("pattern", PATTERN), lastPattern, gotPattern);
        Bridge session = b;
        ready.incrementAndGet();
        if (published.isDone()) {
          session.await(f -> ended(data(exact, gotExact, recs(f, EXACT)), concat(patterned, gotPattern, recs(f, PATTERNED))), WAIT);
        } else {
          // A few live events, then the connection goes: the next session lands on another instance.
          session.await(f -> recs(f, EXACT).size() >= 5 || published.isDone(), WAIT);
        }
        session.close();
        List<JsonObject> liveExact = recs(session.frames(), EXACT);
        List<JsonObject> livePattern = recs(session.frames(), PATTERNED);
        exact.addAll(data(List.of(), gotExact, liveExact));
        patterned.addAll(concat(List.of(), gotPattern, livePattern));
        lastExact = liveExact.isEmpty() ? (answerExact != null ? answerExact : lastExact) : liveExact.get(liveExact.size() - 1).getString("id");
        lastPattern = livePattern.isEmpty() ? (answerPattern != null ? answerPattern : lastPattern)
          : livePattern.get(livePattern.size() - 1).getString("id");
      }
      published.join();
      assertThat(sessions).isGreaterThan(2 * INSTANCES);
      List<String> expectA = IntStream.range(0, EVENTS).mapToObj(i -> "a" + i).collect(Collectors.toList());
      expectA.add("end");
      List<String> expectB = IntStream.range(0, EVENTS).mapToObj(i -> "b" + i).collect(Collectors.toList());
      expectB.add("end");
      assertThat(exact).as("exact topic, %d sessions", sessions).containsExactlyElementsOf(expectA);
      assertThat(patterned).noneMatch(f -> "reset".equals(f.getString("type")));
      assertThat(byTopic(patterned, "hop.a")).as("pattern, hop.a").containsExactlyElementsOf(expectA);
      assertThat(byTopic(patterned, "hop.b")).as("pattern, hop.b").containsExactlyElementsOf(expectB);
    } finally {
      keepers.forEach(Bridge::close);
    }
  }

  private static long sum(List<GatewayVerticle> gateways, ToLongFunction<GatewayVerticle> f) {
    return gateways.stream().mapToLong(f).sum();
  }

  private static void register(Bridge b, String address, String lastEventId) {
    JsonObject frame = new JsonObject().put("type", "register").put("address", address);
    if (lastEventId != null) {
      frame.put("headers", new JsonObject().put("lastEventId", lastEventId));
    }
    b.raw(frame);
  }

  /** Whether the marker came on the exact topic and on both topics of the pattern. */
  private static boolean ended(List<String> exact, List<JsonObject> patterned) {
    return exact.contains("end") && byTopic(patterned, "hop.a").contains("end") && byTopic(patterned, "hop.b").contains("end");
  }

  private static List<String> data(List<String> had, List<JsonObject> replayed, List<JsonObject> live) {
    List<String> out = new ArrayList<>(had);
    replayed.forEach(f -> out.add(String.valueOf(f.getValue("data"))));
    live.forEach(f -> out.add(String.valueOf(f.getValue("data"))));
    return out;
  }

  private static List<JsonObject> concat(List<JsonObject> had, List<JsonObject> replayed, List<JsonObject> live) {
    List<JsonObject> out = new ArrayList<>(had);
    out.addAll(replayed);
    out.addAll(live);
    return out;
  }

  /** Replays since {@code lastEventId} (none: nothing), page after page; the frames go to {@code out}, the last answer's id is returned. */
  private static String replayAll(Bridge b, JsonObject request, String lastEventId, List<JsonObject> out) throws Exception {
    if (lastEventId == null) {
      return null;
    }
    String id = lastEventId;
    JsonObject body = null;
    for (int pages = 0; pages < 1000; pages++) {
      String reply = "hop" + REPLIES.incrementAndGet();
      b.send("herald.browser.replay", request.copy().put("lastEventId", id), reply);
      JsonObject answer = b.await(f -> f.stream().anyMatch(x -> reply.equals(x.getString("address"))), WAIT).stream()
        .filter(x -> reply.equals(x.getString("address"))).findFirst().orElseThrow();
      assertThat(answer.getString("type")).as("answer %s", answer).isEqualTo("rec");
      body = answer.getJsonObject("body");
      body.getJsonArray("events").forEach(o -> out.add((JsonObject) o));
      id = body.getString("id");
      if (!body.getBoolean("more")) {
        return id;
      }
    }
    throw new AssertionError("replay did not end: " + request + " from " + lastEventId + ", last answer " + body);
  }

  private static List<JsonObject> recs(List<JsonObject> frames, String address) {
    return frames.stream().filter(f -> "rec".equals(f.getString("type")) && address.equals(f.getString("address")))
      .map(f -> f.getJsonObject("body")).collect(Collectors.toList());
  }

  private static List<String> byTopic(List<JsonObject> frames, String topic) {
    return frames.stream().filter(f -> topic.equals(f.getString("topic"))).map(f -> String.valueOf(f.getValue("data")))
      .collect(Collectors.toList());
  }
}
