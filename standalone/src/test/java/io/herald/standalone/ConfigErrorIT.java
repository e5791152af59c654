package io.herald.standalone;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigErrorIT {

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({
    "HERALD_GATEWAY_HEARTBEAT_SECONDS, soon, gateway.heartbeatSeconds",
    "HERALD_GATEWAY_HEARTBEAT_SECS, 1, gateway.heartbeatSecs",
    "HERALD_REPLAY_STORE, cassandra, replay.store",
    "HERALD_NOTIFIER_PUBLISHER_KEYS, short, notifier.publisherKeys",
  })
  @DisplayName("A bad setting stops the start with status 2 and a message naming the key")
  void badSettingNamesTheKey(String variable, String value, String key) throws Exception {
    HeraldProcess p = HeraldProcess.launch("config-" + variable.toLowerCase(), Map.of(variable, value));
    try {
      assertThat(p.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.process.exitValue()).isEqualTo(2);
      assertThat(p.logTail()).contains("configuration error: " + key + ":");
    } finally {
      p.close();
    }
  }
}
