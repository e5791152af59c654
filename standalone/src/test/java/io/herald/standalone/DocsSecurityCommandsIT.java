package io.herald.standalone;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * security.md's and publishing.md's credential commands, run as written: a minted subscriber JWT,
 * a hashed publisher key and a signed webhook.
 */
class DocsSecurityCommandsIT extends DocsCommandsFixture {

  @Test
  @DisplayName("security.md, subscriber JWT: the minted token reads its topics, the public topic needs none, user:bob gets 403 access_denied")
  void subscriberJwt() throws Exception {
    tools("curl", "openssl");
    String block = block("security.md", "## Subscriber authentication (JWT)", "bash", "HERALD_GATEWAY_AUTH_MODE=jwt");
    assertThat(block).contains("java -jar standalone/target/herald.jar &");

    List<Call> calls = run("docs-jwt", block, Map.of()).finish();

    assertThat(calls).hasSize(3);
    assertThat(calls.get(0).args()).contains("Authorization: Bearer ey");
    assertThat(calls.get(0).exit()).as("the stream stays open until curl stops it").isEqualTo(28);
    assertThat(calls.get(0).out()).contains("event: herald.ready\ndata: {\"topics\":[\"news.sport\",\"user:alice\"]}");
    assertThat(calls.get(1).exit()).isEqualTo(28);
    assertThat(calls.get(1).out()).contains("event: herald.ready\ndata: {\"topics\":[\"status\"]}");
    assertThat(calls.get(2).exit()).isZero();
    assertThat(calls.get(2).out()).startsWith("HTTP/1.1 403");
    JsonObject refused = new JsonObject(body(calls.get(2).out()));
    assertThat(refused.getString("error")).isEqualTo("access_denied");
    assertThat(refused.getString("topic")).isEqualTo("user:bob");
  }

  @Test
  @DisplayName("security.md's hashed publisher key and publishing.md's signed webhook: the key publishes, the webhook delivery is accepted")
  void publisherKeyAndWebhook() throws Exception {
    tools("curl", "openssl");
    String keyBlock = block("security.md", "## Publisher authentication", "bash", "openssl rand -hex 32");
    String webhookBlock = block("publishing.md", "## Signed webhooks", "bash", "X-Herald-Signature: sha256=");
    Matcher secret = Pattern.compile("secret='([^']+)'").matcher(webhookBlock);
    assertThat(secret.find()).as("the webhook block sets secret='...'").isTrue();

    // The block prints the line for the configuration, then publishes: start the hub with that
    // line in between, as its comment says (the block's curl waits until the hub is ready).
    Shell keys = run("docs-publisher-key", keyBlock, Map.of());
    String hashed = keys.await(Pattern.compile("(?m)^(sha256:[0-9a-f]{64})$"), Duration.ofSeconds(15)).group(1);
    Path hubLog = startHub("docs-publisher-key-hub", Map.of(
      "HERALD_NOTIFIER_PUBLISHER_KEYS", hashed,
      "HERALD_NOTIFIER_WEBHOOK_SECRETS", "n8n=" + secret.group(1)));
    List<Call> published = keys.finish();
    assertThat(published).hasSize(1);
    assertThat(published.get(0).exit()).isZero();
    JsonObject stored = new JsonObject(published.get(0).out()).getJsonArray("events").getJsonObject(0);
    assertThat(stored.getString("topic")).isEqualTo("orders.eu");
    assertThat(stored.getLong("seq")).isEqualTo(1L);
    // Only the hash is configured: the development key is refused, and no key is logged as plain.
    assertThat(post(NOTIFIER, "/publish", "{\"topic\":\"orders.eu\",\"data\":1}", "Authorization", "Bearer dev-publisher-key")
      .statusCode()).isEqualTo(401);
    assertThat(Files.readString(hubLog)).doesNotContain("configured in plain text", "development publisher key is accepted");

    List<Call> hook = run("docs-webhook", webhookBlock, Map.of()).finish();
    assertThat(hook).hasSize(1);
    assertThat(hook.get(0).exit()).isZero();
    JsonObject event = new JsonObject(hook.get(0).out()).getJsonArray("events").getJsonObject(0);
    assertThat(event.getString("topic")).isEqualTo("workflows");
    assertThat(metrics()).contains("herald_events_published_total{source=\"webhook\"} 1.0",
      "herald_events_published_total{source=\"http\"} 1.0");
  }
}
