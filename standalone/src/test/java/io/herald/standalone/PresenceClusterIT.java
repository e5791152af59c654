package io.herald.standalone;

import io.herald.testsupport.Jwt;
import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import io.herald.testsupport.SseClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Presence across a cluster of separate JVMs (a replay process and two gateway processes on
 * Hazelcast): a join on one gateway reaches a watcher on the other, the API of either lists both
 * nodes' entries, and after a {@code kill -9} of a gateway its entries leave within the
 * documented bound (the store's 9 s time to live, promised as at most 10 s) and the watcher
 * gets the {@code leave} of the members that only the dead node held; a member that moved from one
 * gateway to the other within the debounce is neither a leave nor a join.
 */
class PresenceClusterIT {

  private static final int STARTUP_SECONDS = 150;
  /** The bound docs/clients.md promises for a dead gateway's entries. */
  private static final Duration DEAD_NODE_BOUND = Duration.ofSeconds(10);
  private static final String SECRET = "a-cluster-test-secret-long-enough-for-hs256";
  private static final String KEY = "presence-it-key";

  private final RoleCluster cluster = RoleCluster.fromModule("presence");

  private Process role(String jar, String name, Map<String, String> env) throws IOException {
    return cluster.start(jar, name, env);
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    cluster.close();
  }

  @Test
  @DisplayName("Presence is cluster-wide: joins cross gateways, and a killed gateway's entries and members leave within 10 s")
  void presenceConvergesAfterKill() throws Exception {
    int gw1Port = Ports.freePort();
    int gw2Port = Ports.freePort();
    Map<String, String> auth = Map.of("HERALD_GATEWAY_AUTH_MODE", "jwt", "HERALD_GATEWAY_JWT_SECRET", SECRET,
      "HERALD_GATEWAY_PRESENCE_KEYS", KEY, "HERALD_GATEWAY_PRESENCE_DEBOUNCE_SECONDS", "30");
    role("replay-verticle/target/herald-replay.jar", "replay", Map.of());
    Map<String, String> env1 = new java.util.HashMap<>(auth);
    env1.put("HERALD_GATEWAY_PORT", "" + gw1Port);
    Process gw1 = role("gateway-verticle/target/herald-gateway.jar", "gateway1", env1);
    Map<String, String> env2 = new java.util.HashMap<>(auth);
    env2.put("HERALD_GATEWAY_PORT", "" + gw2Port);
    role("gateway-verticle/target/herald-gateway.jar", "gateway2", env2);

    Vertx vertx = Vertx.vertx();
    try {
      HttpClient http = vertx.createHttpClient();
      SseClient watcher = subscribeWhenReady(http, gw2Port, "/events?topic=lobby&presence=1&access_token=" + token("bob", true));
      SseClient carol = subscribeWhenReady(http, gw2Port, "/events?topic=lobby&access_token=" + token("carol", false));
      SseClient alice = subscribeWhenReady(http, gw1Port, "/events?topic=lobby&access_token=" + token("alice", false));
      watcher.await(has(watcher, "join:alice"), Duration.ofSeconds(30));

      // Either gateway lists the three entries, on two nodes.
      for (int port : new int[] {gw1Port, gw2Port}) {
        JsonObject all = eventually(port, b -> b.getInteger("count", 0) == 3, Duration.ofSeconds(30));
        JsonArray entries = all.getJsonArray("entries");
        assertThat(entries.stream().map(o -> ((JsonObject) o).getString("subject"))).containsExactlyInAnyOrder("alice", "bob", "carol");
        assertThat(entries.stream().map(o -> ((JsonObject) o).getString("node")).distinct()).hasSize(2);
      }

      // dave moves from gateway 1 to gateway 2 within the debounce: neither a leave nor a join.
      SseClient dave = subscribeWhenReady(http, gw1Port, "/events?topic=lobby&access_token=" + token("dave", false));
      watcher.await(has(watcher, "join:dave"), Duration.ofSeconds(30));
      dave.close();
      SseClient daveAgain = subscribeWhenReady(http, gw2Port, "/events?topic=lobby&access_token=" + token("dave", false));
      SseClient erin = subscribeWhenReady(http, gw1Port, "/events?topic=lobby&access_token=" + token("erin", false));
      watcher.await(has(watcher, "join:erin"), Duration.ofSeconds(30)); // the marker, after anything dave's move caused
      // (The watcher may see its own join: it is the member bob.)
      assertThat(presence(watcher)).filteredOn(x -> !x.endsWith(":bob"))
        .containsExactlyInAnyOrder("join:carol", "join:alice", "join:dave", "join:erin");

      // SIGKILL: no clean end, nothing removed by the dying node; the helpers below check that the others live.
      cluster.kill(gw1);
      long killed = System.nanoTime();
      // The content, not only the count: while the dead node's entries leave, a count of 3 can be
      // another three members for a moment.
      JsonObject after = eventually(gw2Port, b -> b.getJsonArray("entries") != null
        && b.getJsonArray("entries").stream().map(o -> ((JsonObject) o).getString("subject")).sorted().toList()
          .equals(List.of("bob", "carol", "dave")), DEAD_NODE_BOUND);
      System.out.printf("presence: the killed gateway's entries left %d ms after the kill%n", (System.nanoTime() - killed) / 1_000_000);
      assertThat(after.getJsonArray("entries").stream().map(o -> ((JsonObject) o).getString("subject")))
        .containsExactlyInAnyOrder("bob", "carol", "dave");
      // The members only the dead node held leave, once the cluster has dropped the node; dave,
      // whose old entry lingered there, stays.
      watcher.await(l -> presence(watcher).containsAll(List.of("leave:alice", "leave:erin")), Duration.ofSeconds(90));
      SseClient frank = subscribeWhenReady(http, gw2Port, "/events?topic=lobby&access_token=" + token("frank", false));
      watcher.await(has(watcher, "join:frank"), Duration.ofSeconds(30));
      assertThat(presence(watcher)).filteredOn(x -> x.endsWith(":dave")).containsExactly("join:dave");
      frank.close();
      daveAgain.close();
      erin.close();
      alice.close();
      carol.close();
      watcher.close();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static Predicate<List<io.herald.testsupport.SseEvent>> has(SseClient c, String what) {
    return l -> presence(c).contains(what);
  }

  /** The watcher's presence frames so far, as {@code type:subject}. */
  private static List<String> presence(SseClient c) {
    return c.events().stream().filter(e -> e.type().equals("join") || e.type().equals("leave"))
      .map(e -> e.type() + ":" + new JsonObject(e.data()).getString("subject")).toList();
  }

  /** GET /presence?topic=lobby on {@code port} until {@code done} holds, within {@code within}. */
  private static JsonObject eventually(int port, Predicate<JsonObject> done, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    JsonObject last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/presence?topic=lobby")).header("X-Herald-Key", KEY).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        last = new JsonObject(r.body());
        if (done.test(last)) {
          return last;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("presence did not converge within " + within + "; last answer: " + last);
  }

  private SseClient subscribeWhenReady(HttpClient http, int port, String path) throws Exception {
    return cluster.subscribeWhenReady(http, port, path, Duration.ofSeconds(STARTUP_SECONDS));
  }

  private static String token(String sub, boolean presence) throws Exception {
    long now = System.currentTimeMillis() / 1000;
    JsonObject claims = new JsonObject().put("sub", sub).put("topics", new JsonArray().add("lobby")).put("iat", now).put("exp", now + 3600);
    if (presence) {
      claims.put("presence", new JsonArray().add("lobby"));
    }
    return Jwt.hs256(claims, SECRET);
  }
}
