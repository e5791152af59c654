package io.herald.gateway;

import io.herald.gateway.ContractClients.Client;
import io.herald.gateway.ContractClients.Transport;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.Socket;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static io.herald.gateway.ContractClients.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The delivery guarantees users rely on, written once and run on every transport (SSE
 * {@code /events}, WebSocket {@code /ws}, SockJS over its WebSocket, XHR streaming, XHR polling and EventSource transports, long-poll
 * {@code /poll}, Mercure's {@code /.well-known/mercure}) and on two stores (memory, and the real Redis as a durable one). A new
 * transport joins by adding a {@link Transport} and its client in {@link ContractClients}.
 *
 * <p>Every "nothing else arrived" is proven with a marker published after the events: once the
 * marker is in, anything that was going to arrive before it has, and the sequence is compared
 * whole. Waits are conditions with a deadline, never sleeps.
 */
@ExtendWith(VertxExtension.class)
class TransportContractTest {

  /**
   * One-second heartbeats and a two-second idle timeout: an idle connection that got no
   * heartbeat would be cut within the test's wait. A poll waits at most one second.
   */
  private static final JsonObject CONFIG = new JsonObject().put("heartbeatSeconds", 1).put("heartbeatMinSeconds", 1)
    .put("idleTimeoutSeconds", 2).put("longPollTimeoutSeconds", 1).mergeIn(mercure());

  /** The Mercure hub on, for anonymous subscribers (the contract's other transports need no token either). */
  static JsonObject mercure() {
    return new JsonObject().put("mercureEnabled", true).put("mercureAnonymous", true)
      .put("mercurePublisherJwtKey", MERCURE_KEY).put("mercureSubscriberJwtKey", MERCURE_KEY);
  }

  static final String MERCURE_KEY = "contract-mercure-key-of-at-least-32-bytes";

  static Stream<Arguments> cases() {
    List<Arguments> all = new ArrayList<>();
    for (Transport t : Transport.values()) {
      for (String store : List.of("memory", "redis")) {
        all.add(Arguments.of(t, store));
      }
    }
    return all.stream();
  }

  /** The slow-consumer cases of the transports other than SockJS's, see {@link #slowConsumerSockJs}. */
  static Stream<Arguments> slowCases() {
    return cases().filter(a -> !sockJs((Transport) a.get()[0]));
  }

  /**
   * The truncated-history cases: not Mercure, which knows no {@code reset} (its specification
   * starts a stream live from an id that is no resume point, see docs/mercure.md).
   */
  static Stream<Arguments> resetCases() {
    return cases().filter(a -> a.get()[0] != Transport.MERCURE);
  }

  /** The SockJS transports the contract covers, on each store. */
  static Stream<Arguments> sockJsCases() {
    return cases().filter(a -> sockJs((Transport) a.get()[0]));
  }

  private static boolean sockJs(Transport t) {
    return t.sockJs();
  }

  private static GatewayHarness harness(Vertx vertx, String store, JsonObject config) throws Exception {
    return new GatewayHarness(vertx, CONFIG.copy().mergeIn(config), PatternSubscriptionTest.store(store));
  }

  private static GatewayHarness harness(Vertx vertx, JsonObject replay) throws Exception {
    return new GatewayHarness(vertx, CONFIG.copy(), replay);
  }

  private static List<String> seq(String topic, int from, int to, String... then) {
    List<String> out = new ArrayList<>(IntStream.rangeClosed(from, to).mapToObj(i -> topic + ":" + i).toList());
    out.addAll(List.of(then));
    return out;
  }

  /**
   * A first session on topics a and b: receives a:1..a:n and b:1..b:n (exactly those), closes,
   * and returns where it stood.
   */
  private static Object firstSession(Transport transport, GatewayHarness h, int n) throws Exception {
    try (Client first = transport.open(h, List.of("a", "b"), null)) {
      publish(h, "a", 1, n);
      publish(h, "b", 1, n);
      first.awaitData("a:" + n);
      first.awaitData("b:" + n);
      assertThat(first.data()).hasSize(2 * n);
      return first.position();
    }
  }

  /** Publishes the markers a:end and b:end on {@code h} and waits until {@code c} has both. */
  private static void markers(GatewayHarness h, Client c) throws Exception {
    h.publish("a", "a:end");
    h.publish("b", "b:end");
    c.awaitData("a:end");
    c.awaitData("b:end");
  }

  private static void publish(GatewayHarness h, String topic, int from, int to) throws Exception {
    for (int i = from; i <= to; i++) {
      h.publish(topic, topic + ":" + i);
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("cases")
  @DisplayName("Live events arrive once each, in publish order per topic, from every subscribed topic and no other")
  void liveOrderPerTopic(Transport transport, String store, Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, store, new JsonObject());
         Client c = transport.open(h, List.of("a", "b"), null)) {
      for (int i = 1; i <= 20; i++) {
        h.publish("a", "a:" + i);
        h.publish("c", "c:" + i);
        h.publish("b", "b:" + i);
      }
      markers(h, c);
      assertThat(c.of("a")).containsExactlyElementsOf(seq("a", 1, 20, "a:end"));
      assertThat(c.of("b")).containsExactlyElementsOf(seq("b", 1, 20, "b:end"));
      assertThat(c.data()).as("events of topic c, not subscribed").hasSize(42);
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("cases")
  @DisplayName("A client that reconnects from its position gets exactly what it missed, once, in order, then live")
  void exactResume(Transport transport, String store, Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, store, new JsonObject())) {
      Object position = firstSession(transport, h, 3);
      // Missed while away, on both topics.
      publish(h, "a", 4, 6);
      publish(h, "b", 4, 5);
      try (Client again = transport.open(h, List.of("a", "b"), position)) {
        publish(h, "a", 7, 8);
        publish(h, "b", 6, 6);
        markers(h, again);
        assertThat(again.of("a")).containsExactlyElementsOf(seq("a", 4, 8, "a:end"));
        assertThat(again.of("b")).containsExactlyElementsOf(seq("b", 4, 6, "b:end"));
        assertThat(again.data()).hasSize(10);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Transport.class)
  @DisplayName("On a durable store a client resumes on another gateway exactly, as on its own")
  void resumeOnAnotherGateway(Transport transport, Vertx vertx) throws Exception {
    // Two gateways, each with its replay role on its own Vert.x, over one Redis keyspace: as two
    // nodes behind a load balancer.
    JsonObject redis = PatternSubscriptionTest.store("redis");
    Vertx other = Vertx.vertx();
    try (GatewayHarness one = harness(vertx, redis); GatewayHarness two = harness(other, redis)) {
      Object position = firstSession(transport, one, 2);
      publish(one, "a", 3, 5);
      publish(two, "b", 3, 3);
      try (Client again = transport.open(two, List.of("a", "b"), position)) {
        // Live on the other node comes from its own replay role only: publish there.
        publish(two, "a", 6, 6);
        markers(two, again);
        assertThat(again.of("a")).containsExactlyElementsOf(seq("a", 3, 6, "a:end"));
        assertThat(again.of("b")).containsExactlyElementsOf(seq("b", 3, 3, "b:end"));
        assertThat(again.resets()).isEmpty();
      }
    } finally {
      other.close().toCompletionStage().toCompletableFuture().get(20, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("resetCases")
  @DisplayName("A resume past the retained history gets one reset for the topic, never a silent gap, then live events")
  void resetWhenHistoryTruncated(Transport transport, String store, Vertx vertx) throws Exception {
    JsonObject replay = PatternSubscriptionTest.store(store).put("maxEventsPerTopic", 5);
    try (GatewayHarness h = harness(vertx, replay)) {
      Object position = firstSession(transport, h, 1);
      // 19 missed on a, of which 5 are retained; b missed nothing it cannot get.
      publish(h, "a", 2, 20);
      publish(h, "b", 2, 3);
      try (Client again = transport.open(h, List.of("a", "b"), position)) {
        markers(h, again);
        assertThat(again.resets()).containsExactly("a:history_unavailable");
        assertThat(again.of("a")).as("after the reset: nothing from before it, then live").containsExactly("a:end");
        assertThat(again.of("b")).containsExactlyElementsOf(seq("b", 2, 3, "b:end"));
      }
    }
  }

  @ParameterizedTest(name = "every transport on {0}")
  @ValueSource(strings = {"memory", "redis"})
  @DisplayName("An idle connection outlives the idle timeout on heartbeats alone, and then still receives (all transports at once)")
  void heartbeatsKeepIdleAlive(String store, Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, store, new JsonObject())) {
      Map<Transport, Client> clients = new EnumMap<>(Transport.class);
      try {
        for (Transport t : Transport.values()) {
          clients.put(t, t.open(h, List.of("quiet"), null));
        }
        // Heartbeats come only after a second of silence: three of them span more than the
        // two-second idle timeout, which would have cut a connection left silent.
        for (Map.Entry<Transport, Client> e : clients.entrySet()) {
          Client c = e.getValue();
          await(() -> c.heartbeats() >= 3 || c.ended(), () -> e.getKey() + ": " + c.heartbeats() + " heartbeats");
          assertThat(c.ended()).as("%s ended by the gateway while idle", e.getKey()).isFalse();
        }
        h.publish("quiet", "quiet:1");
        for (Map.Entry<Transport, Client> e : clients.entrySet()) {
          e.getValue().awaitData("quiet:1");
          assertThat(e.getValue().data()).as(e.getKey().name()).containsExactly("quiet:1");
        }
      } finally {
        clients.values().forEach(Client::close);
      }
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("slowCases")
  @DisplayName("A client that does not read is cut off (a poll's backlog is paged instead); readers keep every event")
  void slowConsumer(Transport transport, String store, Vertx vertx) throws Exception {
    if (transport == Transport.LONGPOLL) {
      pagedBacklog(store, vertx);
      return;
    }
    // The default idle timeout: the stalled client must be cut for its queue, not for silence.
    JsonObject config = new JsonObject().put("maxWriteQueueBytes", 16 * 1024).put("idleTimeoutSeconds", 60);
    try (GatewayHarness h = harness(vertx, store, config);
         Socket stalled = StalledClients.stalled(h, transport, "big")) {
      if (sockJs(transport)) {
        await(() -> h.gateway.sse().bridge().liveRegistrations("big") == 1, () -> "the stalled socket's registration");
      }
      try (Client reader = transport.open(h, List.of("big"), null)) {
        await(() -> h.gateway.sse().connectionCount() == 2, () -> h.gateway.sse().connectionCount() + " connections");
        // Each event smaller than the queue: a client that reads is never over it (SockJS counts
        // a frame as queued until its session has written it).
        String payload = "z".repeat(12 * 1024);
        List<String> sent = new ArrayList<>();
        // One event at a time, each read by the reader before the next: only the stalled
        // client falls behind, however slow the machine.
        for (int i = 1; i <= 2000 && h.gateway.sse().connectionCount() == 2; i++) {
          String d = "big:" + i + ":" + payload;
          h.publish("big", d);
          sent.add(d);
          reader.awaitData(d);
        }
        await(() -> h.gateway.sse().connectionCount() == 1, () -> "the stalled client still connected");
        assertThat(h.gateway.stats().slowConsumersClosed).isEqualTo(1);
        h.publish("big", "big:after");
        sent.add("big:after");
        reader.awaitData("big:after");
        assertThat(reader.of("big")).containsExactlyElementsOf(sent);
        assertThat(reader.ended()).isFalse();
      }
    }
  }

  /**
   * SockJS too: the bridge counts the bytes of each socket's writes until their futures complete
   * ({@code SockJSSocket.writeQueueFull()} stays near zero over the WebSocket transport, whose
   * session hands every frame to the socket at once), and cuts a socket whose next frame would
   * take them over {@code maxWriteQueueBytes}.
   */
  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("sockJsCases")
  @DisplayName("SockJS: a client that does not read is cut off; readers keep every event")
  void slowConsumerSockJs(Transport transport, String store, Vertx vertx) throws Exception {
    slowConsumer(transport, store, vertx);
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("sockJsCases")
  @DisplayName("SockJS: an event larger than maxWriteQueueBytes still reaches a client that reads, which is not cut off")
  void largeFrameReachesReaderSockJs(Transport transport, String store, Vertx vertx) throws Exception {
    JsonObject config = new JsonObject().put("maxWriteQueueBytes", 16 * 1024).put("idleTimeoutSeconds", 60);
    try (GatewayHarness h = harness(vertx, store, config);
         Client reader = transport.open(h, List.of("big"), null)) {
      String payload = "z".repeat(40 * 1024);
      List<String> sent = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        String d = "big:" + i + ":" + payload;
        h.publish("big", d);
        sent.add(d);
        reader.awaitData(d);
      }
      h.publish("big", "big:end");
      sent.add("big:end");
      reader.awaitData("big:end");
      assertThat(reader.of("big")).containsExactlyElementsOf(sent);
      assertThat(reader.ended()).isFalse();
      assertThat(h.gateway.stats().slowConsumersClosed).isZero();
      assertThat(h.gateway.sse().connectionCount()).isEqualTo(1);
    }
  }

  /** Long-poll: more missed events than maxReplayEvents come in pages, all of them, once, in order. */
  private void pagedBacklog(String store, Vertx vertx) throws Exception {
    try (GatewayHarness h = harness(vertx, store, new JsonObject().put("maxReplayEvents", 5))) {
      Object position;
      try (Client first = Transport.LONGPOLL.open(h, List.of("big"), null)) {
        position = first.position();
      }
      publish(h, "big", 1, 12);
      try (ContractClients.Poll again = (ContractClients.Poll) Transport.LONGPOLL.open(h, List.of("big"), position)) {
        h.publish("big", "big:end");
        again.awaitData("big:end");
        assertThat(again.of("big")).containsExactlyElementsOf(seq("big", 1, 12, "big:end"));
        assertThat(again.answers.get()).as("answers: 12 missed in pages of 5, then the marker").isGreaterThanOrEqualTo(3);
      }
    }
  }
}
