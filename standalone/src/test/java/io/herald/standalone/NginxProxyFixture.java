package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shared setup of the ITs of the reverse-proxy configuration shipped in
 * {@code docker/nginx/herald.conf}, run for real with Debian's nginx ({@link NginxFront}: the file
 * as shipped, upstreams and port rewritten, an {@code X-Herald-Upstream} response header added) in
 * front of two gateway processes of a cluster of role processes (replay, notifier, two gateways,
 * from their fat jars, as in {@link ClusterProcessesIT}), started once per class, with the clients
 * that read through it. A test that kills a gateway starts it again: the tests do not depend on
 * their order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class NginxProxyFixture {

  static final String UPSTREAM_HEADER = NginxFront.UPSTREAM_HEADER;
  /** Streams per client address on each gateway (gateway.maxConnectionsPerIp). */
  static final int PER_IP = 20;

  /** The role processes; the gateways here set their own per-address limits (trustedProxies). */
  final RoleCluster cluster = new RoleCluster(Path.of(".."), HeraldProcess.LOGS, getClass().getSimpleName(),
    List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
  final Map<Integer, Process> gateways = new LinkedHashMap<>();
  final List<AutoCloseable> clients = new ArrayList<>();
  NginxFront nginx;
  int proxyPort;
  int notifierPort;
  Vertx vertx;

  @BeforeAll
  void start() throws Exception {
    ExternalTools.requireFile(NginxFront.NGINX, "NginxProxyIT needs Debian's nginx (apt-get install nginx)");
    long t0 = System.nanoTime();
    notifierPort = Ports.freePort();
    int gw1 = Ports.freePort();
    int gw2 = Ports.freePort();
    role("replay-verticle/target/herald-replay.jar", "replay", Map.of());
    role("notifier-verticle/target/herald-notifier.jar", "notifier", Map.of("HERALD_NOTIFIER_PORT", "" + notifierPort));
    // nginx connects from 127.0.0.1: the gateways trust it, and limit each client it forwards.
    gateways.put(gw1, gateway("gateway1", gw1));
    gateways.put(gw2, gateway("gateway2", gw2));
    nginx = NginxFront.start(getClass().getSimpleName(), gw1, gw2);
    proxyPort = nginx.port;
    vertx = Vertx.vertx();
    for (int port : gateways.keySet()) {
      awaitGateway(port);
    }
    // Publishing succeeds once the notifier has the replay role in reach over the cluster.
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      HttpResponse<String> r = publishResponse("{\"topic\":\"warmup\",\"data\":\"w\"}");
      if (r != null && r.statusCode() == 200) {
        break;
      }
      assertThat(System.nanoTime()).as("notifier publishing; see target/it-logs/nginx-*.log").isLessThan(deadline);
      Thread.sleep(200);
    }
    System.out.printf("NginxProxyIT: cluster and nginx ready in %d ms (nginx on %d, gateways %s)%n",
      (System.nanoTime() - t0) / 1_000_000, proxyPort, gateways.keySet());
  }

  @AfterAll
  void stop() throws Exception {
    closeClients();
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (nginx != null) {
      nginx.close();
    }
    cluster.close();
  }

  static Map<String, String> with(Map<String, String> env, String key, String value) {
    Map<String, String> out = new LinkedHashMap<>(env);
    out.put(key, value);
    return out;
  }

  /** A gateway on {@code port} behind nginx: it trusts nginx (127.0.0.1) and limits each client it forwards. */
  Process gateway(String name, int port) throws IOException {
    Map<String, String> proxied = Map.of("HERALD_GATEWAY_TRUSTED_PROXIES", "127.0.0.1", "HERALD_GATEWAY_MAX_CONNECTIONS_PER_IP", "" + PER_IP);
    return role("gateway-verticle/target/herald-gateway.jar", name, with(proxied, "HERALD_GATEWAY_PORT", "" + port));
  }

  Process role(String jar, String name, Map<String, String> env) throws IOException {
    // The cluster lifts the per-address limits; the gateways here set their own (trustedProxies).
    ProcessBuilder pb = cluster.builder(jar, name);
    pb.environment().put("HERALD_GATEWAY_HEARTBEAT_SECONDS", "1");
    pb.environment().putAll(env);
    return cluster.start(pb);
  }

  /** Waits until the gateway serves a stream directly (it has the replay role in reach). */
  void awaitGateway(int port) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      cluster.assertAlive();
      if (Ports.accepts(port)) {
        try (Lines l = Lines.open(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/events?topic=warmup")).GET())) {
          if (l.response.statusCode() == 200) {
            l.awaitLine(x -> x.text.startsWith("event: herald.ready"), Duration.ofSeconds(10));
            return;
          }
        } catch (IOException | AssertionError e) {
          // not yet
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("gateway on " + port + " did not serve in 60 s; see target/it-logs/nginx-gateway*.log");
  }

  void closeClients() {
    for (AutoCloseable c : clients) {
      try {
        c.close();
      } catch (Exception ignored) {
        // already closed
      }
    }
    clients.clear();
  }

  URI proxy(String path) {
    return URI.create("http://127.0.0.1:" + proxyPort + path);
  }

  URI proxyWs(String path) {
    return URI.create("ws://127.0.0.1:" + proxyPort + path);
  }

  HttpResponse<String> publishResponse(String body) throws InterruptedException {
    try {
      return HeraldProcess.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + notifierPort + "/publish"))
          .timeout(Duration.ofSeconds(10))
          .header("Authorization", "Bearer " + HeraldProcess.PUBLISHER_KEY).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    }
  }

  void publish(String body) throws Exception {
    HttpResponse<String> r = publishResponse(body);
    assertThat(r).as("publish %s", body).isNotNull();
    assertThat(r.statusCode()).as("publish %s: %s", body, r.body()).isEqualTo(200);
  }

  /** The bridge {@code rec} frames for {@code address} a SockJS xhr-streaming session received. */
  static long recFrames(Lines session, String address) {
    return session.snapshot().stream().filter(l -> l.text.startsWith("a[")).flatMap(l -> new JsonArray(l.text.substring(1)).stream())
      .map(s -> new JsonObject((String) s)).filter(f -> "rec".equals(f.getString("type")) && address.equals(f.getString("address")))
      .count();
  }

  record Line(long nanos, String text) {
  }

  /** A streaming HTTP response read line by line on its own thread, each line with its arrival time. */
  static final class Lines implements AutoCloseable {
    final HttpResponse<InputStream> response;
    private final List<Line> lines = Collections.synchronizedList(new ArrayList<>());

    private Lines(HttpResponse<InputStream> response) {
      this.response = response;
      Thread t = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            lines.add(new Line(System.nanoTime(), line));
          }
        } catch (IOException e) {
          // closed
        }
      }, "nginx-it-lines");
      t.setDaemon(true);
      t.start();
    }

    static Lines open(HttpRequest.Builder request) throws Exception {
      return new Lines(HeraldProcess.HTTP.sendAsync(request.build(), HttpResponse.BodyHandlers.ofInputStream())
        .get(15, TimeUnit.SECONDS));
    }

    List<Line> snapshot() {
      synchronized (lines) {
        return new ArrayList<>(lines);
      }
    }

    List<Line> await(Predicate<List<Line>> condition, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        List<Line> now = snapshot();
        if (condition.test(now)) {
          return now;
        }
        Thread.sleep(5);
      }
      throw new AssertionError("timed out after " + timeout + "; lines so far: " + snapshot().stream().map(Line::text).toList());
    }

    Line awaitLine(Predicate<Line> match, Duration timeout) throws InterruptedException {
      return await(ls -> ls.stream().anyMatch(match), timeout).stream().filter(match).findFirst().orElseThrow();
    }

    @Override
    public void close() {
      try {
        response.body().close();
      } catch (IOException ignored) {
        // already closed
      }
    }
  }

  /** A JDK WebSocket whose text messages are queued as JSON objects. */
  static final class Frames implements WebSocket.Listener, AutoCloseable {
    private final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;

    static Frames open(URI uri, String... headers) throws Exception {
      Frames f = new Frames();
      WebSocket.Builder b = HeraldProcess.HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
      for (int i = 0; i + 1 < headers.length; i += 2) {
        b.header(headers[i], headers[i + 1]);
      }
      f.socket = b.buildAsync(uri, f).get(15, TimeUnit.SECONDS);
      return f;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        frames.add(new JsonObject(partial.toString()));
        partial.setLength(0);
      }
      ws.request(1);
      return null;
    }

    /** The SockJS raw websocket transport sends its JSON as binary frames. */
    @Override
    public CompletionStage<?> onBinary(WebSocket ws, java.nio.ByteBuffer data, boolean last) {
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      return onText(ws, new String(bytes, StandardCharsets.UTF_8), last);
    }

    void send(String text) throws Exception {
      socket.sendText(text, true).get(5, TimeUnit.SECONDS);
    }

    JsonObject poll(Duration timeout) throws InterruptedException {
      return frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    JsonObject next(Duration timeout) throws InterruptedException {
      JsonObject f = poll(timeout);
      if (f == null) {
        throw new AssertionError("no WebSocket frame within " + timeout);
      }
      return f;
    }

    @Override
    public void close() {
      if (socket != null) {
        socket.abort();
      }
    }
  }
}
