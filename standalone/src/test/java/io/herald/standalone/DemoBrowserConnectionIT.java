package io.herald.standalone;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo page's connection in Chromium against the real jar: it reconnects by itself after a hub
 * restart and shows what it missed exactly once, and falls back from SSE to long-poll on a hub
 * serving long-poll only.
 */
class DemoBrowserConnectionIT extends DemoBrowserFixture {

  @Test
  @DisplayName("Hub restart (Redis replay store): the page reconnects by itself and shows the events published while it was cut off exactly once")
  void reconnectsAfterHubRestart() throws Exception {
    Map<String, String> env = HeraldProcess.redisStore(System.nanoTime() + "-demo");
    herald = HeraldProcess.start("DemoBrowserIT-restart-1", env);
    // The second run takes the same ports, so the page's URLs still work.
    env.put("HERALD_GATEWAY_PORT", String.valueOf(herald.gatewayPort));
    env.put("HERALD_NOTIFIER_PORT", String.valueOf(herald.notifierPort));
    env.put("HERALD_ADMIN_PORT", String.valueOf(herald.adminPort));
    String origin = "http://127.0.0.1:" + herald.gatewayPort;
    String topic = "tickets-" + System.nanoTime();

    browser = Browser.start(origin);
    browser.call(new JsonObject().put("cmd", "goto").put("url", origin + "/?topic=" + topic));
    browser.waitFor(STATE + " && " + STATE + ".status === 'live'", 15_000);
    assertThat(new JsonObject(get(origin + "/dev/config").body()).getBoolean("devMode")).isFalse();
    assertThat(browser.eval("document.getElementById('publish-panel').hidden")).isEqualTo(true);
    assertThat(postGateway(origin + "/dev/publish", "{\"topic\":\"x\",\"data\":1}").statusCode()).as("no dev mode: 404").isEqualTo(404);

    herald.publish(event(topic, 1));
    herald.publish(event(topic, 2));
    browser.waitFor(STATE + ".received >= 2", 10_000);

    // The hub dies; the page goes offline. Its network is cut too, so that it cannot come back
    // before the events it is to miss are published.
    herald.kill();
    browser.waitFor(STATE + ".status !== 'live'", 15_000);
    browser.call(new JsonObject().put("cmd", "offline").put("value", true));
    // launch(), not start(): the process object's port fields are fresh free ports, but the env
    // above makes it listen on the first run's, which are waited for and published to here.
    int notifierPort = Integer.parseInt(env.get("HERALD_NOTIFIER_PORT"));
    herald = HeraldProcess.launch("DemoBrowserIT-restart-2", env);
    awaitServing(origin, notifierPort);
    for (int i = 3; i <= 5; i++) {
      publish(notifierPort, event(topic, i));
    }
    browser.call(new JsonObject().put("cmd", "offline").put("value", false));
    JsonObject s = browser.waitFor(STATE + ".received >= 5 && " + STATE + ".status === 'live'", 45_000);
    publish(notifierPort, event(topic, 6));
    // A marker after the last event: a duplicate of any earlier one would arrive before it.
    publish(notifierPort, event(topic, 7));
    s = browser.waitFor(STATE + ".received >= 7", 10_000);

    List<Integer> seen = new ArrayList<>();
    for (Object o : s.getJsonArray("events")) {
      seen.add(((JsonObject) o).getJsonObject("data").getInteger("n"));
    }
    assertThat(seen).as("every event exactly once, in order").containsExactly(1, 2, 3, 4, 5, 6, 7);
    assertThat(s.getJsonArray("resets")).as("history survived the restart: no reset").isEmpty();
    assertThat(s.getString("transport")).isEqualTo("sse");
    assertThat(s.getJsonArray("statuses").stream().map(String::valueOf).toList()).containsSubsequence("live", "live");
    assertThat(browser.eval("document.querySelectorAll('#events li').length")).isEqualTo(7);
    assertThat(browser.eval("document.getElementById('status').textContent")).isEqualTo("Live");
    assertThat(browser.lastProblems).isEmpty();
  }

  @Test
  @DisplayName("Hub serving long-poll only: the client tries SSE (404), then WebSocket, then settles on long-poll and receives events with their topic")
  void fallsBackToLongPoll() throws Exception {
    // No /events to probe for readiness: launched, then awaited on /dev/config.
    herald = HeraldProcess.launch("DemoBrowserIT-longpoll", Map.of("HERALD_GATEWAY_TRANSPORTS", "longpoll",
      "HERALD_GATEWAY_LONG_POLL_TIMEOUT_SECONDS", "5"));
    String origin = "http://127.0.0.1:" + herald.gatewayPort;
    awaitServing(origin, herald.notifierPort);
    assertThat(get(origin + "/events?topic=demo").statusCode()).isEqualTo(404);

    browser = Browser.start(origin);
    browser.call(new JsonObject().put("cmd", "goto").put("url", origin + "/?topic=demo,alerts"));
    JsonObject s = browser.waitFor(STATE + " && " + STATE + ".status === 'live'", 20_000);
    assertThat(s.getString("transport")).isEqualTo("longpoll");
    assertThat(s.getJsonArray("transports").stream().map(String::valueOf).distinct().toList())
      .containsExactly("sse", "websocket", "longpoll");
    herald.publish("{\"topic\":\"demo\",\"type\":\"ticket.updated\",\"data\":{\"n\":1}}");
    herald.publish("{\"topic\":\"alerts\",\"type\":\"alert\",\"data\":\"disk full\"}");
    s = browser.waitFor(STATE + ".received >= 2", 10_000);
    // Past one long-poll timeout (its empty answer, seen by the browser), the polls go on and deliver.
    int pollsBefore = browser.<JsonArray>call(new JsonObject().put("cmd", "polls")).size();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!browser.<JsonArray>call(new JsonObject().put("cmd", "polls")).stream().skip(pollsBefore).anyMatch(n -> ((Number) n).intValue() == 0)) {
      assertThat(System.nanoTime()).as("an empty long-poll answer (the timeout) after the first events").isLessThan(deadline);
      Thread.sleep(100);
    }
    herald.publish("{\"topic\":\"demo\",\"type\":\"ticket.updated\",\"data\":{\"n\":3}}");
    s = browser.waitFor(STATE + ".received >= 3", 10_000);
    JsonArray events = s.getJsonArray("events");
    assertThat(events).hasSize(3);
    assertThat(events.getJsonObject(0).getString("topic")).isEqualTo("demo");
    assertThat(events.getJsonObject(1).getString("topic")).isEqualTo("alerts");
    assertThat(events.getJsonObject(1).getString("data")).isEqualTo("disk full");
    assertThat(s.getString("status")).isEqualTo("live");
    assertThat(s.getString("clientLastEventId")).isNotBlank();
    assertThat(browser.lastProblems).isEmpty();
  }
}
