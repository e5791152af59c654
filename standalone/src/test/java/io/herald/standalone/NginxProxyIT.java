package io.herald.standalone;

import io.herald.testsupport.Ports;
import io.herald.testsupport.RoleCluster;
import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
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
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reverse-proxy configuration shipped in {@code docker/nginx/herald.conf}, run for real with
 * Debian's nginx ({@link NginxFront}: the file as shipped, upstreams and port rewritten, an
 * {@code X-Herald-Upstream} response header added) in front of two gateway processes of a
 * cluster of role processes (replay, notifier, two gateways, from their fat jars, as in
 * {@link ClusterProcessesIT}).
 * Checks that SSE passes unbuffered (heartbeats every second arrive every second), that the
 * WebSocket upgrade goes through, that SockJS sessions stick to one gateway, and that a client
 * whose gateway is killed resumes through the proxy on the other one with exactly what it missed
 * (that test then starts the gateway again: the tests do not depend on their order).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NginxProxyIT {

  private static final String UPSTREAM_HEADER = NginxFront.UPSTREAM_HEADER;
  /** Streams per client address on each gateway (gateway.maxConnectionsPerIp). */
  private static final int PER_IP = 20;

  /** The role processes; the gateways here set their own per-address limits (trustedProxies). */
  private final RoleCluster cluster = new RoleCluster(Path.of(".."), HeraldProcess.LOGS, "nginx",
    List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
  private final Map<Integer, Process> gateways = new LinkedHashMap<>();
  private final List<AutoCloseable> clients = new ArrayList<>();
  private final List<Integer> hazelcastPorts = new ArrayList<>();
  private NginxFront nginx;
  private int proxyPort;
  private int notifierPort;
  private Vertx vertx;

  @BeforeAll
  void start() throws Exception {
    ExternalTools.requireFile(NginxFront.NGINX, "NginxProxyIT needs Debian's nginx (apt-get install nginx)");
    long t0 = System.nanoTime();
    notifierPort = Ports.freePort();
    int gw1 = Ports.freePort();
    int gw2 = Ports.freePort();
    // Each member on a Hazelcast port of its own, all named as members: the join contacts
    // exactly these (not 5701-5703, where other clusters of the machine may run).
    // A fifth for the gateway that resumeAfterGatewayKilled starts again in place of the one it kills.
    for (int i = 0; i < 5; i++) {
      hazelcastPorts.add(Ports.freePort());
    }
    role("replay-verticle/target/herald-replay.jar", "replay", Map.of());
    role("notifier-verticle/target/herald-notifier.jar", "notifier", Map.of("HERALD_NOTIFIER_PORT", "" + notifierPort));
    // nginx connects from 127.0.0.1: the gateways trust it, and limit each client it forwards.
    gateways.put(gw1, gateway("gateway1", gw1));
    gateways.put(gw2, gateway("gateway2", gw2));
    nginx = NginxFront.start("NginxProxyIT", gw1, gw2);
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

  // ------------------------------------------------------------------------------------- tests

  @Test
  @DisplayName("SSE through nginx is unbuffered: 1 s heartbeats and then an event arrive while far fewer bytes than a proxy buffer have been sent")
  void sseUnbuffered() throws Exception {
    Lines sse = Lines.open(HttpRequest.newBuilder(proxy("/events?topic=hb")).GET());
    clients.add(sse);
    assertThat(sse.response.statusCode()).isEqualTo(200);
    assertThat(sse.response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
    assertThat(sse.response.headers().firstValue(UPSTREAM_HEADER)).as("the test's upstream header").isPresent();
    // ":ok" opens the stream, then a ":" comment every second (HERALD_GATEWAY_HEARTBEAT_SECONDS=1).
    // Six of them are a few dozen bytes: a buffering proxy holds them until its buffer (KBs, that
    // is many minutes of heartbeats) fills, far past this wait. Arriving at all proves them unbuffered.
    List<Line> comments = sse.await(ls -> ls.stream().filter(l -> l.text.startsWith(":")).count() >= 6, Duration.ofSeconds(60))
      .stream().filter(l -> l.text.startsWith(":")).toList();
    List<Long> gaps = new ArrayList<>();
    for (int i = 1; i < comments.size(); i++) {
      gaps.add((comments.get(i).nanos - comments.get(i - 1).nanos) / 1_000_000);
    }
    System.out.println("NginxProxyIT: gaps between SSE comments through nginx (ms): " + gaps);

    // The same for one event: it arrives while the stream is open and a buffer is still far from full.
    long before = System.nanoTime();
    publish("{\"topic\":\"hb\",\"type\":\"greeting\",\"data\":\"through-nginx\"}");
    Line data = sse.awaitLine(l -> l.text.equals("data: through-nginx"), Duration.ofSeconds(60));
    System.out.println("NginxProxyIT: publish to SSE delivery through nginx: " + (data.nanos - before) / 1_000_000 + " ms");
    sse.close();
  }

  @Test
  @DisplayName("WebSocket /ws upgrades through nginx (Host kept, so the page's own Origin passes) and delivers frames")
  void webSocket() throws Exception {
    Frames ws = Frames.open(proxyWs("/ws?topic=wsdemo"), "Origin", "http://127.0.0.1:" + proxyPort);
    clients.add(ws);
    JsonObject ready = ws.next(Duration.ofSeconds(10));
    assertThat(ready.getString("type")).isEqualTo("herald.ready");
    publish("{\"topic\":\"wsdemo\",\"type\":\"greeting\",\"data\":{\"hello\":\"ws\"}}");
    JsonObject event = ws.next(Duration.ofSeconds(5));
    assertThat(event.getString("topic")).isEqualTo("wsdemo");
    assertThat(event.getString("type")).isEqualTo("greeting");
    assertThat(event.getJsonObject("data")).isEqualTo(new JsonObject().put("hello", "ws"));
    ws.close();
  }

  @Test
  @DisplayName("SockJS through nginx: /eventbus/info answers; xhr-streaming sessions stick to one gateway and receive events; the websocket transport works")
  void sockJs() throws Exception {
    HttpResponse<String> info = HeraldProcess.HTTP.send(HttpRequest.newBuilder(proxy("/eventbus/info"))
      .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(info.statusCode()).as(info.body()).isEqualTo(200);
    assertThat(new JsonObject(info.body()).getBoolean("websocket")).isTrue();

    // XHR streaming: the receiving request and each xhr_send are separate HTTP requests that
    // must reach the same gateway (another one answers 404: no such session).
    String address = "herald.browser.sj";
    List<Lines> sessions = new ArrayList<>();
    List<String> upstreams = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      String base = "/eventbus/" + String.format("%03d", i) + "/s" + Long.toHexString(System.nanoTime()) + i;
      Lines stream = Lines.open(HttpRequest.newBuilder(proxy(base + "/xhr_streaming")).POST(HttpRequest.BodyPublishers.noBody()));
      clients.add(stream);
      assertThat(stream.response.statusCode()).isEqualTo(200);
      stream.awaitLine(l -> l.text.equals("o"), Duration.ofSeconds(5));
      String upstream = stream.response.headers().firstValue(UPSTREAM_HEADER).orElseThrow();
      String frame = new JsonArray().add(new JsonObject().put("type", "register").put("address", address)
        .put("headers", new JsonObject()).encode()).encode();
      HttpResponse<String> sent = HeraldProcess.HTTP.send(HttpRequest.newBuilder(proxy(base + "/xhr_send"))
          .timeout(Duration.ofSeconds(10)).header("Content-Type", "text/plain;charset=UTF-8")
          .POST(HttpRequest.BodyPublishers.ofString(frame)).build(),
        HttpResponse.BodyHandlers.ofString());
      assertThat(sent.statusCode()).as("xhr_send of session %d: %s", i, sent.body()).isEqualTo(204);
      assertThat(sent.headers().firstValue(UPSTREAM_HEADER).orElseThrow())
        .as("xhr_send of session %d went to its session's gateway", i).isEqualTo(upstream);
      sessions.add(stream);
      upstreams.add(upstream);
    }
    System.out.println("NginxProxyIT: SockJS sessions per gateway: " + upstreams.stream()
      .collect(java.util.stream.Collectors.groupingBy(u -> u, java.util.TreeMap::new, java.util.stream.Collectors.counting())));
    assertThat(new TreeSet<>(upstreams)).as("sessions hashed over both gateways").hasSize(2);

    // Every session receives the topic's events as bridge "rec" frames (registration is
    // asynchronous: publish until each has one).
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    int n = 0;
    while (!sessions.stream().allMatch(s -> recFrames(s, address) > 0)) {
      assertThat(System.nanoTime()).as("every SockJS session received an event").isLessThan(deadline);
      publish("{\"topic\":\"sj\",\"data\":{\"n\":" + n++ + "}}");
      Thread.sleep(300);
    }
    for (Lines s : sessions) {
      s.close();
    }

    // The raw websocket transport of the bridge (/eventbus/websocket) through the upgrade.
    Frames ws = Frames.open(proxyWs("/eventbus/websocket"));
    clients.add(ws);
    ws.send(new JsonObject().put("type", "register").put("address", "herald.browser.sjws").put("headers", new JsonObject()).encode());
    deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    JsonObject rec = null;
    for (int k = 0; rec == null; k++) {
      assertThat(System.nanoTime()).as("a rec frame over the SockJS websocket transport").isLessThan(deadline);
      publish("{\"topic\":\"sjws\",\"data\":\"k" + k + "\"}");
      JsonObject f = ws.poll(Duration.ofMillis(500));
      while (f != null && !"rec".equals(f.getString("type"))) {
        f = ws.poll(Duration.ofMillis(100));
      }
      rec = f;
    }
    assertThat(rec.getString("address")).isEqualTo("herald.browser.sjws");
    assertThat(rec.getJsonObject("body").getString("topic")).isEqualTo("sjws");
    ws.close();
  }

  @Test
  @DisplayName("Behind nginx (a trusted proxy) two clients are limited separately: one at its per-address limit, the other still connects")
  void perAddressBehindProxy() throws Exception {
    // The gateways allow PER_IP streams per address and trust 127.0.0.1, where nginx connects
    // from; nginx appends each client's own loopback address (127.0.0.2, 127.0.0.3) to
    // X-Forwarded-For. Whichever gateway least_conn picks, 127.0.0.2 is refused by the time it
    // holds PER_IP streams on each of the two.
    List<java.net.Socket> held = new ArrayList<>();
    try {
      int refusedAfter = -1;
      for (int i = 0; i < 2 * PER_IP + 1; i++) {
        java.net.Socket s = new java.net.Socket();
        held.add(s);
        int status = rawGet(s, "127.0.0.2", "/events?topic=px");
        if (status == 429) {
          refusedAfter = i;
          break;
        }
        assertThat(status).as("stream " + i + " of 127.0.0.2").isEqualTo(200);
      }
      assertThat(refusedAfter).as("127.0.0.2 is refused at its per-address limit").isBetween(PER_IP, 2 * PER_IP);
      java.net.Socket other = new java.net.Socket();
      held.add(other);
      assertThat(rawGet(other, "127.0.0.3", "/events?topic=px")).as("127.0.0.3, behind the same proxy, is another client").isEqualTo(200);
      // A client that spoofs the header cannot take 127.0.0.3's address: nginx appends the real one.
      java.net.Socket spoof = new java.net.Socket();
      held.add(spoof);
      assertThat(rawGet(spoof, "127.0.0.2", "/events?topic=px", "X-Forwarded-For: 127.0.0.4")).isEqualTo(429);
    } finally {
      for (java.net.Socket s : held) {
        s.close();
      }
    }
  }

  /** Opens {@code path} through nginx from the loopback address {@code from}; the status of the answer (its body is not read). */
  private int rawGet(java.net.Socket s, String from, String path, String... headers) throws IOException {
    s.bind(new java.net.InetSocketAddress(from, 0));
    s.connect(new java.net.InetSocketAddress("127.0.0.1", proxyPort), 5000);
    s.setSoTimeout(10_000);
    StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + proxyPort + "\r\n");
    for (String h : headers) {
      req.append(h).append("\r\n");
    }
    s.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
    String status = in.readLine();
    assertThat(status).as("status line from nginx for " + from).isNotNull().startsWith("HTTP/1.1 ");
    return Integer.parseInt(status.substring(9, 12));
  }

  @Test
  @DisplayName("A client whose gateway is killed (SIGKILL) resumes through nginx on the other with Last-Event-ID: exactly the missed events, once")
  void resumeAfterGatewayKilled() throws Exception {
    closeClients();
    io.vertx.core.http.HttpClient http = vertx.createHttpClient();
    String path = "/events?topic=orders&topic=alerts";
    SseClient first = SseClient.open(http, proxyPort, path);
    String upstream = first.response().getHeader(UPSTREAM_HEADER);
    assertThat(upstream).isNotNull();
    int victim = Integer.parseInt(upstream.substring(upstream.lastIndexOf(':') + 1));
    assertThat(gateways).containsKey(victim);
    first.await(ev -> ev.stream().anyMatch(e -> e.type().equals("herald.ready")), Duration.ofSeconds(10));

    publish("{\"topic\":\"orders\",\"data\":\"o1\"}");
    publish("{\"topic\":\"alerts\",\"data\":\"a1\"}");
    assertThat(first.awaitAppEvents(2, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("o1", "a1");
    String lastId = first.parser().lastEventId();
    assertThat(lastId).isEqualTo(first.appEvents().get(1).id());

    Process killed = gateways.get(victim);
    long t0 = System.nanoTime();
    cluster.kill(killed); // SIGKILL
    try {
      resumeOnTheOther(http, path, upstream, lastId, first, t0);
    } finally {
      // The other tests find two gateways again, whatever order they run in.
      gateways.put(victim, gateway("gateway-restarted", victim));
      awaitGateway(victim);
    }
  }

  private void resumeOnTheOther(io.vertx.core.http.HttpClient http, String path, String upstream, String lastId,
                                SseClient first, long t0) throws Exception {
    first.awaitEnd(Duration.ofSeconds(10));
    System.out.println("NginxProxyIT: stream through nginx ended " + (System.nanoTime() - t0) / 1_000_000
      + " ms after its gateway was killed");

    publish("{\"topic\":\"orders\",\"data\":\"o2\"}");
    publish("{\"topic\":\"alerts\",\"data\":\"a2\"}");
    // Like a browser's EventSource: reconnect to the same URL with the last id seen.
    try (SseClient resumed = SseClient.open(http, proxyPort, path, "Last-Event-ID", lastId)) {
      String other = resumed.response().getHeader(UPSTREAM_HEADER);
      assertThat(other).as("nginx sent the resumed stream to the surviving gateway").isNotNull().isNotEqualTo(upstream);
      assertThat(resumed.awaitAppEvents(2, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("o2", "a2");
      publish("{\"topic\":\"alerts\",\"data\":\"a3\"}");
      assertThat(resumed.awaitAppEvents(3, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("o2", "a2", "a3");
      // Anything twice would come before a marker published after it.
      publish("{\"topic\":\"alerts\",\"data\":\"marker\"}");
      assertThat(resumed.awaitAppEvents(4, Duration.ofSeconds(10))).extracting(SseEvent::data).containsExactly("o2", "a2", "a3", "marker");
      assertThat(resumed.events()).noneMatch(e -> e.type().equals("reset"));
    }
  }

  // ------------------------------------------------------------------------------------- setup

  private static Map<String, String> with(Map<String, String> env, String key, String value) {
    Map<String, String> out = new LinkedHashMap<>(env);
    out.put(key, value);
    return out;
  }

  /** A gateway on {@code port} behind nginx: it trusts nginx (127.0.0.1) and limits each client it forwards. */
  private Process gateway(String name, int port) throws IOException {
    Map<String, String> proxied = Map.of("HERALD_GATEWAY_TRUSTED_PROXIES", "127.0.0.1", "HERALD_GATEWAY_MAX_CONNECTIONS_PER_IP", "" + PER_IP);
    return role("gateway-verticle/target/herald-gateway.jar", name, with(proxied, "HERALD_GATEWAY_PORT", "" + port));
  }

  private Process role(String jar, String name, Map<String, String> env) throws IOException {
    // The cluster lifts the per-address limits; the gateways here set their own (trustedProxies).
    ProcessBuilder pb = cluster.builder(jar, name);
    pb.environment().put("HERALD_CLUSTER_PORT", String.valueOf(hazelcastPorts.get(cluster.processes().size())));
    pb.environment().put("HERALD_CLUSTER_MEMBERS", String.join(",", hazelcastPorts.stream().map(p -> "127.0.0.1:" + p).toList()));
    pb.environment().put("HERALD_GATEWAY_HEARTBEAT_SECONDS", "1");
    pb.environment().putAll(env);
    return cluster.start(pb);
  }

  /** Waits until the gateway serves a stream directly (it has the replay role in reach). */
  private void awaitGateway(int port) throws Exception {
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

  private void closeClients() {
    for (AutoCloseable c : clients) {
      try {
        c.close();
      } catch (Exception ignored) {
        // already closed
      }
    }
    clients.clear();
  }

  private URI proxy(String path) {
    return URI.create("http://127.0.0.1:" + proxyPort + path);
  }

  private URI proxyWs(String path) {
    return URI.create("ws://127.0.0.1:" + proxyPort + path);
  }

  private HttpResponse<String> publishResponse(String body) throws InterruptedException {
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

  private void publish(String body) throws Exception {
    HttpResponse<String> r = publishResponse(body);
    assertThat(r).as("publish %s", body).isNotNull();
    assertThat(r.statusCode()).as("publish %s: %s", body, r.body()).isEqualTo(200);
  }

  /** The bridge {@code rec} frames for {@code address} a SockJS xhr-streaming session received. */
  private static long recFrames(Lines session, String address) {
    return session.snapshot().stream().filter(l -> l.text.startsWith("a[")).flatMap(l -> new JsonArray(l.text.substring(1)).stream())
      .map(s -> new JsonObject((String) s)).filter(f -> "rec".equals(f.getString("type")) && address.equals(f.getString("address")))
      .count();
  }

  // ------------------------------------------------------------------------------------- clients

  private record Line(long nanos, String text) {
  }

  /** A streaming HTTP response read line by line on its own thread, each line with its arrival time. */
  private static final class Lines implements AutoCloseable {
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
  private static final class Frames implements WebSocket.Listener, AutoCloseable {
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
