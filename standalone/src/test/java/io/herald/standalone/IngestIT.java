package io.herald.standalone;

import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ingestion examples of docs/publishing.md, run as written against the real jar: the shipped SQL files
 * loaded with {@code psql}, a trigger on an application table publishing through the outbox;
 * events published with {@code redis-cli} on a channel and on a stream. Real PostgreSQL and
 * Redis (the machine's shared ones; each test works in names of its own).
 */
class IngestIT extends JarTestBase {

  private static final Duration WAIT = Duration.ofSeconds(20);
  static final String PG_URL = System.getenv().getOrDefault("HERALD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test");
  static final String REDIS_URL = System.getenv().getOrDefault("HERALD_TEST_REDIS_URL", "redis://127.0.0.1:6379");
  private final String suffix = ProcessHandle.current().pid() + "_" + System.nanoTime() % 100000;

  @Test
  @DisplayName("PostgreSQL: the shipped outbox and ticket trigger, loaded with psql, publish every ticket change to subscribers")
  void postgresOutboxTrigger() throws Exception {
    String schema = "it_outbox_" + suffix;
    psql(Map.of(), "-c", "CREATE SCHEMA " + schema);
    cleanups.add(() -> psql(Map.of(), "-c", "DROP SCHEMA " + schema + " CASCADE"));
    Map<String, String> inSchema = Map.of("PGOPTIONS", "-c search_path=" + schema);
    psql(inSchema, "-f", Path.of("..", "config", "sql", "herald-outbox.sql").toString());
    psql(inSchema, "-f", Path.of("..", "config", "sql", "example-tickets.sql").toString());

    herald = HeraldProcess.start("ingest-postgres", Map.of(
      "HERALD_NOTIFIER_POSTGRES_URL", PG_URL,
      "HERALD_NOTIFIER_POSTGRES_OUTBOX_TABLE", schema + ".herald_outbox"));
    vertx = Vertx.vertx();
    SseClient all = SseClient.open(vertx.createHttpClient(), herald.gatewayPort, "/events?topic=tickets");
    all.await(l -> !l.isEmpty(), WAIT);

    psql(inSchema, "-c", "INSERT INTO tickets (title) VALUES ('printer on fire')");
    psql(inSchema, "-c", "UPDATE tickets SET status = 'closed' WHERE title = 'printer on fire'");
    List<SseEvent> got = all.awaitAppEvents(2, WAIT);
    assertThat(got).extracting(SseEvent::type).containsExactly("ticket.updated", "ticket.updated");
    assertThat(new JsonObject(got.get(0).data()).getString("status")).isEqualTo("open");
    assertThat(new JsonObject(got.get(1).data()).getString("status")).isEqualTo("closed");
    assertThat(new JsonObject(got.get(1).data()).getString("title")).isEqualTo("printer on fire");

    String health = adminGet("/health");
    assertThat(health).contains("postgres-outbox").contains("\"connected\":true");
    assertThat(adminGet("/metrics")).contains("herald_events_published_total{source=\"postgres\"} 4.0");
  }

  @Test
  @DisplayName("Redis: redis-cli PUBLISH on a mapped channel and XADD to a consumed stream reach subscribers")
  void redisPubSubAndStreams() throws Exception {
    String prefix = "it" + suffix + ":";
    String stream = "it" + suffix + "-events";
    cleanups.add(() -> redisCli("DEL", stream, stream + ":dead"));
    herald = HeraldProcess.start("ingest-redis", Map.of(
      "HERALD_NOTIFIER_REDIS_URL", REDIS_URL,
      "HERALD_NOTIFIER_REDIS_CHANNELS", prefix + "*",
      "HERALD_NOTIFIER_REDIS_CHANNEL_PREFIX", prefix,
      "HERALD_NOTIFIER_REDIS_STREAMS", stream));
    vertx = Vertx.vertx();
    SseClient orders = SseClient.open(vertx.createHttpClient(), herald.gatewayPort, "/events?topic=orders");
    orders.await(l -> !l.isEmpty(), WAIT);
    // Pub/sub is at-most-once: publish once the subscription is up.
    long deadline = System.nanoTime() + WAIT.toNanos();
    String health;
    while (!(health = adminGet("/health")).matches("(?s).*\"redis-pubsub\":\\{[^}]*\"connected\":true.*")) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the Redis pub/sub ingest did not connect within " + WAIT + "; /health: " + health);
      }
      Thread.sleep(100);
    }

    redisCli("PUBLISH", prefix + "orders", "{\"id\":1}");
    redisCli("PUBLISH", prefix + "orders", "{\"type\":\"order.paid\",\"data\":{\"id\":1}}");
    redisCli("XADD", stream, "*", "topic", "orders", "type", "order.shipped", "data", "{\"id\":1}");
    List<SseEvent> got = orders.awaitAppEvents(3, WAIT);
    assertThat(got).extracting(SseEvent::type).containsExactlyInAnyOrder("message", "order.paid", "order.shipped");
    assertThat(got).extracting(e -> new JsonObject(e.data()).getInteger("id")).containsOnly(1);
    // The stream entry was acknowledged once stored: nothing pending in the group.
    assertThat(redisCli("XPENDING", stream, "herald").trim()).startsWith("0");
    String metrics = adminGet("/metrics");
    assertThat(metrics).contains("herald_events_published_total{source=\"redis-pubsub\"} 2.0")
      .contains("herald_events_published_total{source=\"redis-streams\"} 1.0");
  }

  private static String redisCli(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("redis-cli", "-u", REDIS_URL));
    cmd.addAll(List.of(args));
    return run(cmd, Map.of());
  }

  private void psql(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("psql", "-v", "ON_ERROR_STOP=1", "-q", PG_URL));
    cmd.addAll(List.of(args));
    run(cmd, env);
  }

  static String run(List<String> cmd, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
    return out;
  }

  private String adminGet(String path) throws Exception {
    return herald.admin(path).body();
  }
}
