package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster as docs/clustering.md runs it: one process per role from its own fat jar, joined over
 * Hazelcast on loopback. A gateway is killed with SIGKILL mid-stream and its client resumes on
 * the other gateway with Last-Event-ID.
 */
class ClusterProcessesIT {

  /**
   * Deadlines, not speed limits: six JVMs starting at once on a loaded 2-core machine took 45 s
   * to form their cluster, and a publish may wait out replayTimeoutMillis once per lost process.
   * What these tests assert is what clients receive, never how fast.
   */
  private static final int STARTUP_SECONDS = 150;
  private static final int PUBLISHING_SECONDS = 300;

  private final RoleCluster cluster = RoleCluster.fromModule("cluster");

  private Process role(String jar, String name, Map<String, String> env) throws IOException {
    // Hundreds of test clients come from one address (127.0.0.1): the cluster lifts the
    // per-address limits that would rightly refuse them on the internet.
    return cluster.start(jar, name, env);
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    cluster.close();
  }

  @Test
  @DisplayName("Role processes form a cluster; a killed gateway's client resumes on the other without loss")
  void separateProcessesAndGatewayFailover() throws Exception {
    int notifierPort = Ports.freePort();
    int gw1Port = Ports.freePort();
    int gw2Port = Ports.freePort();
    role("replay-verticle/target/herald-replay.jar", "replay", Map.of());
    role("notifier-verticle/target/herald-notifier.jar", "notifier", Map.of("HERALD_NOTIFIER_PORT", "" + notifierPort));
    Process gw1 = role("gateway-verticle/target/herald-gateway.jar", "gateway1", Map.of("HERALD_GATEWAY_PORT", "" + gw1Port));
    int gw2Admin = Ports.freePort();
    role("gateway-verticle/target/herald-gateway.jar", "gateway2", Map.of("HERALD_GATEWAY_PORT", "" + gw2Port, "HERALD_ADMIN_PORT", "" + gw2Admin));

    Vertx vertx = Vertx.vertx();
    try {
      HttpClient http = vertx.createHttpClient();
      SseClient onGw1 = subscribeWhenReady(http, gw1Port, "/events?topic=orders&topic=alerts");
      SseClient onGw2 = subscribeWhenReady(http, gw2Port, "/events?topic=orders");
      Publisher notifier = new Publisher(notifierPort);
      notifier.awaitReady(Duration.ofSeconds(STARTUP_SECONDS));
      // Readiness of a role process includes its cluster membership.
      var ready = HeraldProcess.HTTP.send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + gw2Admin + "/ready")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).isEqualTo(200);
      io.vertx.core.json.JsonObject cluster = new io.vertx.core.json.JsonObject(ready.body()).getJsonArray("checks").stream()
        .map(o -> (io.vertx.core.json.JsonObject) o).filter(o -> o.getString("id").equals("cluster")).findFirst().orElseThrow();
      assertThat(cluster.getJsonObject("data").getInteger("members")).isGreaterThanOrEqualTo(2);

      notifier.publish("{\"topic\":\"orders\",\"data\":\"o1\"}");
      notifier.publish("{\"topic\":\"alerts\",\"data\":\"a1\"}");
      assertThat(onGw1.awaitAppEvents(2, Duration.ofSeconds(15))).extracting(SseEvent::data).containsExactly("o1", "a1");
      assertThat(onGw2.awaitAppEvents(1, Duration.ofSeconds(15))).extracting(SseEvent::data).containsExactly("o1");
      String lastId = onGw1.appEvents().get(1).id();

      gw1.destroyForcibly(); // SIGKILL: no clean end for its clients
      assertThat(gw1.waitFor(10, TimeUnit.SECONDS)).isTrue();
      notifier.publish("{\"topic\":\"orders\",\"data\":\"o2\"}");
      notifier.publish("{\"topic\":\"alerts\",\"data\":\"a2\"}");

      try (SseClient moved = SseClient.open(http, gw2Port, "/events?topic=orders&topic=alerts", "Last-Event-ID", lastId)) {
        assertThat(moved.awaitAppEvents(2, Duration.ofSeconds(15))).extracting(SseEvent::data).containsExactly("o2", "a2");
        notifier.publish("{\"topic\":\"alerts\",\"data\":\"a3\"}");
        assertThat(moved.awaitAppEvents(3, Duration.ofSeconds(15)).get(2).data()).isEqualTo("a3");
      }
      assertThat(onGw2.awaitAppEvents(2, Duration.ofSeconds(15))).extracting(SseEvent::data).containsExactly("o1", "o2");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("Two all-in-one nodes on Redis, one killed -9: the survivor's publishes never wait on the dead node's replay role, and the killed node's client resumes on it exactly")
  void allInOneNodeKilled() throws Exception {
    Map<String, String> store = Map.of("HERALD_REPLAY_STORE", "redis",
      "HERALD_REPLAY_REDIS_KEY_PREFIX", "herald-it-nodes-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ":");
    int gw1Port = Ports.freePort();
    int pub1Port = Ports.freePort();
    int gw2Port = Ports.freePort();
    int pub2Port = Ports.freePort();
    Map<String, String> env1 = new java.util.HashMap<>(store);
    env1.putAll(Map.of("HERALD_GATEWAY_PORT", "" + gw1Port, "HERALD_NOTIFIER_PORT", "" + pub1Port));
    Map<String, String> env2 = new java.util.HashMap<>(store);
    env2.putAll(Map.of("HERALD_GATEWAY_PORT", "" + gw2Port, "HERALD_NOTIFIER_PORT", "" + pub2Port));
    role("standalone/target/herald.jar", "node1", env1);
    Process node2 = role("standalone/target/herald.jar", "node2", env2);

    Vertx vertx = Vertx.vertx();
    try {
      HttpClient http = vertx.createHttpClient();
      SseClient onNode1 = subscribeWhenReady(http, gw1Port, "/events?topic=orders");
      SseClient onNode2 = subscribeWhenReady(http, gw2Port, "/events?topic=orders&topic=alerts");
      Publisher publisher1 = new Publisher(pub1Port);
      Publisher publisher2 = new Publisher(pub2Port);
      publisher2.awaitReady(Duration.ofSeconds(STARTUP_SECONDS));
      // Until both nodes route to each other, an event may reach only its own node's streams.
      cluster.retryUntilDone("an event from node 2 on node 1", Duration.ofSeconds(STARTUP_SECONDS), () -> {
        publisher2.publishAnswer("{\"topic\":\"orders\",\"data\":\"probe\"}");
        return onNode1.appEvents().stream().anyMatch(e -> "probe".equals(e.data())) ? null : "not on node 1 yet";
      });
      publisher2.publishAnswer("{\"topic\":\"alerts\",\"data\":\"a1\"}");
      onNode2.await(events -> events.stream().anyMatch(e -> "a1".equals(e.data())), Duration.ofSeconds(15));
      List<SseEvent> seen = onNode2.appEvents();
      String lastId = seen.get(seen.size() - 1).id();
      assertThat(seen.get(seen.size() - 1).data()).isEqualTo("a1");

      node2.destroyForcibly(); // SIGKILL, its replay role with it
      assertThat(node2.waitFor(10, TimeUnit.SECONDS)).isTrue();
      java.util.Queue<String> trail = new java.util.concurrent.ConcurrentLinkedQueue<>();
      publisher1.publishAnswer("{\"topic\":\"orders\",\"data\":\"o2\"}", trail);
      publisher1.publishAnswer("{\"topic\":\"alerts\",\"data\":\"a2\"}", trail);
      assertThat(trail).as("node 1 appends through its own replay role: no 503/504 while the cluster drops node 2")
        .noneMatch(t -> t.contains(" 503 ") || t.contains(" 504 "));

      try (SseClient moved = SseClient.open(http, gw1Port, "/events?topic=orders&topic=alerts", "Last-Event-ID", lastId)) {
        assertThat(moved.awaitAppEvents(2, Duration.ofSeconds(30))).extracting(SseEvent::data).containsExactly("o2", "a2");
        publisher1.publishAnswer("{\"topic\":\"alerts\",\"data\":\"a3\"}");
        assertThat(moved.awaitAppEvents(3, Duration.ofSeconds(30))).extracting(SseEvent::data).containsExactly("o2", "a2", "a3");
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private SseClient subscribeWhenReady(HttpClient http, int port, String path) throws Exception {
    return cluster.subscribeWhenReady(http, port, path, Duration.ofSeconds(STARTUP_SECONDS));
  }



  /**
   * A client that behaves like a browser's EventSource: when its stream ends it reconnects (here,
   * to the next gateway) with the last event id it saw as {@code Last-Event-ID}.
   */
  private static final class ResumingClient {
    final String path;
    final int[] ports;
    final HttpClient http;
    final Vertx vertx;
    final List<SseEvent> received = java.util.Collections.synchronizedList(new ArrayList<>());
    volatile SseClient current;
    volatile int port;
    volatile boolean stopped;
    volatile int reconnects;

    ResumingClient(Vertx vertx, HttpClient http, String path, int[] ports, int first) {
      this.vertx = vertx;
      this.http = http;
      this.path = path;
      this.ports = ports;
      this.port = first;
    }

    void connect(String lastId) {
      if (stopped) {
        return;
      }
      String[] headers = lastId == null || lastId.isEmpty() ? new String[0] : new String[] {"Last-Event-ID", lastId};
      SseClient.connect(http, ports[port], path, headers).onComplete(ar -> {
        if (ar.failed()) {
          port = (port + 1) % ports.length;
          vertx.setTimer(200, t -> connect(lastId));
          return;
        }
        SseClient c = ar.result();
        current = c;
        c.onEnd(() -> {
          received.addAll(c.appEvents());
          if (stopped) {
            return;
          }
          reconnects++;
          port = (port + 1) % ports.length;
          String id = c.parser().lastEventId();
          vertx.setTimer(100, t -> connect(id.isEmpty() ? lastId : id));
        });
      });
    }

    boolean ready() {
      SseClient c = current;
      return c != null && !c.events().isEmpty();
    }

    /** Everything received: earlier connections' events, then the current one's. */
    List<SseEvent> all() {
      List<SseEvent> out;
      synchronized (received) {
        out = new ArrayList<>(received);
      }
      SseClient c = current;
      if (c != null && !c.ended()) {
        out.addAll(c.appEvents());
      }
      return out;
    }
  }

  @Test
  @DisplayName("Failover: 300 resuming clients on two gateways, publishers on two notifiers, one gateway killed; every client gets every event of its topics once, in order")
  void failoverWithManyClients() throws Exception {
    failover(false);
  }

  @Test
  @DisplayName("Failover with a replicated store: two replay processes on Hazelcast, one gateway and one replay process killed; nothing lost, nothing twice")
  void failoverWithReplayLoss() throws Exception {
    failover(true);
  }

  private void failover(boolean replicated) throws Exception {
    int n1 = Ports.freePort();
    int n2 = Ports.freePort();
    int g1 = Ports.freePort();
    int g2 = Ports.freePort();
    long t0 = System.nanoTime();
    Process replay1;
    int replay1Admin = Ports.freePort();
    if (replicated) {
      replay1 = role("replay-verticle/target/herald-replay.jar", "r-replay1",
        Map.of("HERALD_REPLAY_STORE", "hazelcast", "HERALD_ADMIN_PORT", "" + replay1Admin));
      role("replay-verticle/target/herald-replay.jar", "r-replay2", Map.of("HERALD_REPLAY_STORE", "hazelcast"));
    } else {
      replay1 = role("replay-verticle/target/herald-replay.jar", "f-replay", Map.of());
    }
    role("notifier-verticle/target/herald-notifier.jar", "f-notifier1", Map.of("HERALD_NOTIFIER_PORT", "" + n1));
    role("notifier-verticle/target/herald-notifier.jar", "f-notifier2", Map.of("HERALD_NOTIFIER_PORT", "" + n2));
    Process gw1 = role("gateway-verticle/target/herald-gateway.jar", "f-gateway1", Map.of("HERALD_GATEWAY_PORT", "" + g1));
    // The survivor fans out per node (gateway.fanout=node, its instances behind one consumer of
    // every event), the killed one per topic: the resume wave lands on the per-node path.
    role("gateway-verticle/target/herald-gateway.jar", "f-gateway2", Map.of("HERALD_GATEWAY_PORT", "" + g2, "HERALD_GATEWAY_FANOUT", "node"));
    Vertx vertx = Vertx.vertx();
    try {
      HttpClient http = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions(),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(1000));
      subscribeWhenReady(http, g1, "/events?topic=warmup").close();
      subscribeWhenReady(http, g2, "/events?topic=warmup").close();
      Publisher pub1 = new Publisher(n1);
      Publisher pub2 = new Publisher(n2);
      pub1.awaitReady(Duration.ofSeconds(STARTUP_SECONDS));
      pub2.awaitReady(Duration.ofSeconds(STARTUP_SECONDS));
      long formed = (System.nanoTime() - t0) / 1_000_000;

      String[] topics = {"t0", "t1", "t2", "t3", "t4"};
      int[] ports = {g1, g2};
      List<ResumingClient> clients = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        String path = "/events?topic=" + topics[i % 5] + "&topic=" + topics[(i + 2) % 5];
        ResumingClient c = new ResumingClient(vertx, http, path, ports, i % 2);
        clients.add(c);
        c.connect(null);
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!clients.stream().allMatch(ResumingClient::ready)) {
        assertThat(System.nanoTime()).as("all clients connected").isLessThan(deadline);
        Thread.sleep(50);
      }

      // Publishers on both notifiers, concurrently; gateway 1 is killed halfway.
      int perTopic = 40;
      java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.ConcurrentSkipListMap<Long, String>> published =
        new java.util.concurrent.ConcurrentHashMap<>();
      java.util.Queue<String> trail = new java.util.concurrent.ConcurrentLinkedQueue<>();
      List<ResumingClient> onKilled = java.util.Collections.synchronizedList(new ArrayList<>());
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
      List<java.util.concurrent.Future<?>> runs = new ArrayList<>();
      for (Publisher p : List.of(pub1, pub2)) {
        runs.add(pool.submit(() -> {
          for (int k = 0; k < perTopic / 2; k++) {
            for (String t : topics) {
              String data = t + "-" + p.port() + "-" + k;
              // The event's own id makes a retried publish (after a lost replay process) land once.
              JsonAnswer a = p.publishAnswer("{\"topic\":\"" + t + "\",\"id\":\"" + data + "\",\"data\":\"" + data + "\"}", trail);
              published.computeIfAbsent(t, x -> new java.util.concurrent.ConcurrentSkipListMap<>()).put(a.seq(), data);
            }
            if (k == perTopic / 4 && p.port() == n1) {
              // The clients on gateway 1 now (most of the even ones; a client whose first
              // connect failed under load went to gateway 2 at once).
              clients.stream().filter(c -> c.port == 0 && c.current != null).forEach(onKilled::add);
              gw1.destroyForcibly();
            }
            if (replicated && k == perTopic / 2 - 5 && p.port() == n2) {
              // One member at a time, as docs/clustering.md says: the killed gateway was a
              // Hazelcast member too, so wait until the replay process to kill holds no
              // partition without its backup before killing it.
              awaitMemberSafe(replay1Admin);
              replay1.destroyForcibly();
            }
          }
          return null;
        }));
      }
      for (var r : runs) {
        try {
          r.get(PUBLISHING_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          throw new AssertionError("publishing did not finish in " + PUBLISHING_SECONDS + " s; slow or refused publishes:\n" + String.join("\n", trail), e);
        }
      }
      if (!trail.isEmpty()) {
        System.out.println("failover: slow or refused publishes:\n" + String.join("\n", trail));
      }
      pool.shutdown();
      long killedAt = System.nanoTime();

      // Every client ends up with every event of its two topics, once and in seq order.
      deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      List<String> problems = new ArrayList<>();
      while (true) {
        problems.clear();
        for (int i = 0; i < clients.size(); i++) {
          ResumingClient c = clients.get(i);
          List<SseEvent> got = c.all();
          for (String t : new String[] {topics[i % 5], topics[(i + 2) % 5]}) {
            List<String> expected = new ArrayList<>(published.get(t).values());
            List<String> actual = got.stream().map(SseEvent::data).filter(d -> d.startsWith(t + "-")).collect(java.util.stream.Collectors.toList());
            if (!actual.equals(expected)) {
              problems.add("client " + i + " topic " + t + ": " + actual.size() + " of " + expected.size());
            }
          }
          if (got.stream().anyMatch(e -> e.type().equals("reset"))) {
            problems.add("client " + i + " got a reset");
          }
        }
        if (problems.isEmpty() || System.nanoTime() > deadline) {
          break;
        }
        Thread.sleep(200);
      }
      long moved = clients.stream().filter(c -> c.reconnects > 0).count();
      System.out.printf("failover (" + (replicated ? "replicated store, replay killed too" : "memory store") + "): cluster formed in %d ms; %d of %d clients moved; all caught up %d ms after the last publish%n",
        formed, moved, clients.size(), (System.nanoTime() - killedAt) / 1_000_000);
      assertThat(problems).as("clients missing, duplicating or reordering events").isEmpty();
      assertThat(onKilled).as("clients on the killed gateway").isNotEmpty();
      assertThat(onKilled.stream().filter(c -> c.reconnects == 0).count()).as("of %d clients on the killed gateway, not reconnected",
        onKilled.size()).isZero();
      for (ResumingClient c : clients) {
        c.stopped = true;
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Waits until the member's /health says stopping it now loses no history ({@code "safe":true}). */
  private static void awaitMemberSafe(int adminPort) throws Exception {
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    String health = "";
    while (System.nanoTime() < deadline) {
      health = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + adminPort + "/health"))
        .timeout(Duration.ofSeconds(10)).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      if (health.contains("\"safe\":true")) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the member never became safe to stop; /health: " + health);
  }

  private record JsonAnswer(long seq) {
  }

  /** POSTs to the notifier process's publish API with the development key. */
  private record Publisher(int port) {

    void publish(String body) throws Exception {
      var resp = send(body);
      if (resp.statusCode() != 200) {
        throw new AssertionError("publish answered " + resp.statusCode() + ": " + resp.body());
      }
    }

    /** Publishes, retrying (bounded) while the cluster answers 503/504 after losing a process. */
    JsonAnswer publishAnswer(String body) throws Exception {
      return publishAnswer(body, new java.util.concurrent.ConcurrentLinkedQueue<>());
    }

    /**
     * Like {@link #publishAnswer(String)}; every answer that is not 200, and every publish that
     * took more than a second, goes to {@code trail} (status, ms, wall-clock time) so that a
     * run that does not finish says which publishes were slow and why.
     */
    JsonAnswer publishAnswer(String body, java.util.Queue<String> trail) throws Exception {
      long start = System.nanoTime();
      var resp = send(body);
      for (int attempt = 0; attempt < 20 && (resp.statusCode() == 503 || resp.statusCode() == 504); attempt++) {
        trail.add(java.time.LocalTime.now() + " " + port + " " + resp.statusCode() + " after " + (System.nanoTime() - start) / 1_000_000
          + " ms: " + resp.body());
        Thread.sleep(250);
        resp = send(body);
      }
      long took = (System.nanoTime() - start) / 1_000_000;
      if (took > 1000) {
        trail.add(java.time.LocalTime.now() + " " + port + " " + resp.statusCode() + " in " + took + " ms for " + body);
      }
      if (resp.statusCode() != 200) {
        throw new AssertionError("publish answered " + resp.statusCode() + ": " + resp.body());
      }
      return new JsonAnswer(new io.vertx.core.json.JsonObject(resp.body()).getJsonArray("events").getJsonObject(0).getLong("seq"));
    }

    void awaitReady(Duration timeout) throws Exception {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        if (Ports.accepts(port)) {
          return;
        }
        Thread.sleep(200);
      }
      throw new AssertionError("notifier on " + port + " did not start");
    }

    private java.net.http.HttpResponse<String> send(String body) throws Exception {
      return HeraldProcess.HTTP.send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + port + "/publish"))
        // The notifier answers within its replayTimeoutMillis (5 s) whatever the cluster does.
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer dev-publisher-key").header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    }
  }

}
