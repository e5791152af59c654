package io.herald.gateway;

import io.herald.common.config.ConfigException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GatewayOptionsTest {

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(delimiter = '|', value = {
    "port|70000|gateway.port",
    "presenceDebounceSeconds|-1|gateway.presenceDebounceSeconds",
    "presenceMaxListed|-1|gateway.presenceMaxListed",
    "presenceMaxInfoBytes|5000|gateway.presenceMaxInfoBytes",
    "presenceClaim|\"\"|gateway.presenceClaim",
    "presenceKeys|[\"sha256:abc\"]|gateway.presenceKeys",
    "presenceKeys|[\"\"]|gateway.presenceKeys",
    "port|\"http\"|gateway.port",
    "heartbeatSeconds|0|gateway.heartbeatSeconds",
    "retryMillis|-1|gateway.retryMillis",
    "maxTopicsPerConnection|0|gateway.maxTopicsPerConnection",
    "maxWriteQueueBytes|10|gateway.maxWriteQueueBytes",
    "maxReplayEvents|-5|gateway.maxReplayEvents",
    "maxLastEventIdLength|1|gateway.maxLastEventIdLength",
    "replayTimeoutMillis|0|gateway.replayTimeoutMillis",
    "gapWaitMillis|true|gateway.gapWaitMillis",
    "fanout|\"broadcast\"|gateway.fanout",
    "fanout|\"auto\"|gateway.fanout",
    "fanout|3|gateway.fanout",
    "host|\"\"|gateway.host",
    "heartbeatSecs|5|gateway.heartbeatSecs",
    "authMode|\"oauth\"|gateway.authMode",
    "authMode|\"jwt\"|gateway.authMode",
    "jwtSecret|\"too-short-for-hs256\"|gateway.jwtSecret",
    "jwtLeewaySeconds|-1|gateway.jwtLeewaySeconds",
    "jwtRequireExp|\"maybe\"|gateway.jwtRequireExp",
    "publicTopics|[\"has space\"]|gateway.publicTopics",
    "publicTopics|[\"re.*gex<\"]|gateway.publicTopics",
    "mercureEnabled|true|gateway.mercurePublisherJwtKey",
    "mercurePublisherJwtAlg|\"none\"|gateway.mercurePublisherJwtAlg",
    "mercurePublisherJwtKey|\"short\"|gateway.mercurePublisherJwtKey",
    "mercureCorsOrigins|[\"https://app.example/path\"]|gateway.mercureCorsOrigins",
    "jwtTopicsClaim|\"\"|gateway.jwtTopicsClaim",
    "maxConnections|0|gateway.maxConnections",
    "maxConnectionsPerIp|0|gateway.maxConnectionsPerIp",
    "allowedOrigins|[\"https://app.example/path\"]|gateway.allowedOrigins",
    "idleTimeoutSeconds|-1|gateway.idleTimeoutSeconds",
    "transports|[\"carrier-pigeon\"]|gateway.transports",
    "longPollTimeoutSeconds|60|gateway.longPollTimeoutSeconds",
    "tlsKeyFile|\"/etc/key.pem\"|gateway.tlsCertFile",
    "requestTimeoutMillis|10|gateway.requestTimeoutMillis",
    "heartbeatMinSeconds|0|gateway.heartbeatMinSeconds",
    "heartbeatMaxSeconds|10|gateway.heartbeatMaxSeconds",
    "heartbeatMaxSeconds|60|gateway.idleTimeoutSeconds",
    "deadPeerTimeoutSeconds|-1|gateway.deadPeerTimeoutSeconds",
    "tcpNoDelay|\"sometimes\"|gateway.tcpNoDelay",
  })
  @DisplayName("A bad gateway value fails at start with an error naming its key")
  void badValuesNameTheKey(String key, String json, String named) {
    JsonObject cfg = new JsonObject("{\"" + key + "\": " + json + "}");
    assertThatThrownBy(() -> new GatewayOptions(cfg))
      .isInstanceOf(ConfigException.class)
      .hasMessageStartingWith(named + ":")
      .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(named));
  }

  @Test
  @DisplayName("The heartbeat bounds: the minimum at most heartbeatSeconds, a maximum of 0 is heartbeatSeconds, and the idle timeout error names the longest interval")
  void heartbeatBounds() {
    GatewayOptions defaults = new GatewayOptions();
    assertThat(defaults.heartbeatMinSeconds()).isEqualTo(5);
    assertThat(defaults.heartbeatMaxSeconds()).isEqualTo(15);
    assertThat(defaults.deadPeerTimeoutSeconds()).isEqualTo(30);
    GatewayOptions fast = new GatewayOptions(new JsonObject().put("heartbeatSeconds", 2));
    assertThat(fast.heartbeatMinSeconds()).isEqualTo(2);
    assertThat(fast.heartbeatMaxSeconds()).isEqualTo(2);
    assertThatThrownBy(() -> new GatewayOptions(new JsonObject().put("heartbeatMaxSeconds", 45).put("idleTimeoutSeconds", 40)))
      .hasMessageContaining("gateway.idleTimeoutSeconds").hasMessageContaining("gateway.heartbeatMaxSeconds (45)");
  }

  @Test
  @DisplayName("gateway.tcpNoDelay reaches the HTTP server's options: on by default, off when set to false (also as the environment's string)")
  void tcpNoDelay() {
    assertThat(GatewayVerticle.serverOptions(new GatewayOptions()).isTcpNoDelay()).isTrue();
    assertThat(GatewayVerticle.serverOptions(new GatewayOptions(new JsonObject().put("tcpNoDelay", false))).isTcpNoDelay()).isFalse();
    assertThat(GatewayVerticle.serverOptions(new GatewayOptions(new JsonObject().put("tcpNoDelay", "false"))).isTcpNoDelay()).isFalse();
  }

  @Test
  @DisplayName("gateway.fanout: per topic unless set to node")
  void fanout() {
    assertThat(new GatewayOptions().streams().fanoutPerNode()).isFalse();
    assertThat(new GatewayOptions(new JsonObject().put("fanout", "topic")).streams().fanoutPerNode()).isFalse();
    assertThat(new GatewayOptions(new JsonObject().put("fanout", "node")).streams().fanoutPerNode()).isTrue();
  }

  @Test
  @DisplayName("Environment-style string values are accepted for numbers")
  void stringsFromEnvironment() {
    GatewayOptions o = new GatewayOptions(new JsonObject().put("port", "9090").put("heartbeatSeconds", "5"));
    assertThat(o.port()).isEqualTo(9090);
    assertThat(o.heartbeatSeconds()).isEqualTo(5);
  }

  @Test
  @DisplayName("The defaults in code are the ones config/herald.json ships")
  void defaultsMatchShippedConfig() throws Exception {
    JsonObject shipped = new JsonObject(Files.readString(Path.of("..", "config", "herald.json"))).getJsonObject("gateway");
    assertThat(new GatewayOptions().toJson()).isEqualTo(shipped);
    assertThat(new GatewayOptions(shipped).toJson()).isEqualTo(shipped);
  }
}
