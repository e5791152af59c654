package io.herald.standalone;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.herald.common.EventCodec;
import io.herald.common.HeraldLauncher;
import io.herald.common.LocalRoles;
import io.herald.common.config.ClusterOptions;
import io.herald.replay.ReplayOptions;
import io.herald.replay.ReplayVerticle;
import io.herald.testsupport.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two clustered processes each running a replay role on the in-memory store (two all-in-one
 * nodes started with {@code --cluster} and the default store): each keeps a history of its own
 * while the event bus spreads requests over both, so resumes would get {@code reset}. Each says so
 * at WARN, naming the other node and {@code replay.store}; neither claims to serve a shared store.
 */
class LoneMemoryStoreTest {

  @Test
  @DisplayName("A clustered replay role on the memory store warns, naming replay.store, once another replay role joins the cluster")
  void warnsOfAnotherReplayRole() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(ReplayVerticle.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    ClusterOptions cluster = new ClusterOptions(new JsonObject().put("enabled", true)
      .put("name", "herald-lone-memory-test-" + ProcessHandle.current().pid()));
    Vertx a = await(HeraldLauncher.clusteredVertx(cluster));
    Vertx b = await(HeraldLauncher.clusteredVertx(cluster));
    try {
      for (Vertx v : List.of(a, b)) {
        EventCodec.register(v);
        await(v.deployVerticle(new ReplayVerticle(new ReplayOptions(new JsonObject()))));
        assertThat(LocalRoles.sharedReplay(v)).as("a memory store is not shared").isFalse();
      }
      String nodeB = ((VertxInternal) b).clusterManager().getNodeId();
      Await.until("a warning naming node B", () -> warnings(appender).stream().anyMatch(m -> m.contains(nodeB)),
        Duration.ofSeconds(30));
      assertThat(warnings(appender)).filteredOn(m -> m.contains(nodeB)).hasSize(1)
        .allMatch(m -> m.contains("replay.store") && m.contains("memory"));
    } finally {
      logger.detachAppender(appender);
      await(b.close());
      await(a.close());
    }
  }

  private static List<String> warnings(ListAppender<ILoggingEvent> appender) {
    synchronized (appender.list) {
      return appender.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
