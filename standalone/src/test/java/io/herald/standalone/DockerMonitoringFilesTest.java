package io.herald.standalone;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.nio.file.Files;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The files around compose against the project: nginx's upstreams and locations, Prometheus's
 * scrape targets, Grafana's provisioning, and the alert rules docs/operations.md shows.
 */
class DockerMonitoringFilesTest extends DockerFilesFixture {

  @Test
  @DisplayName("nginx: both upstreams list every gateway service on its configured port; the transports' locations are there")
  void nginxConfig() throws Exception {
    String conf = Files.readString(DOCKER.resolve("nginx/herald.conf"));
    Set<String> gateways = new LinkedHashSet<>();
    for (Map.Entry<String, String> e : herald().entrySet()) {
      if (e.getValue().equals("gateway")) {
        gateways.add(e.getKey() + ":" + port(effective(e.getKey()), "gateway"));
      }
    }
    for (String upstream : List.of("herald_gateways", "herald_sockjs")) {
      Matcher block = Pattern.compile("upstream " + upstream + " \\{([^}]*)\\}").matcher(conf);
      assertThat(block.find()).as("upstream %s", upstream).isTrue();
      Matcher server = Pattern.compile("(?m)^\\s*server (\\S+)").matcher(block.group(1));
      Set<String> servers = new LinkedHashSet<>();
      while (server.find()) {
        servers.add(server.group(1));
      }
      assertThat(servers).as(upstream).isEqualTo(gateways);
    }
    assertThat(conf).contains("listen 80;");
    String sse = location(conf, "= /events");
    assertThat(sse).contains("proxy_buffering off;", "proxy_cache off;", "proxy_http_version 1.1;",
      "proxy_set_header Connection '';", "proxy_read_timeout 1h;", "X-Forwarded-For $proxy_add_x_forwarded_for");
    assertThat(location(conf, "= /ws")).contains("proxy_set_header Upgrade $http_upgrade;",
      "proxy_set_header Connection $herald_connection_upgrade;", "proxy_set_header Host $http_host;");
    assertThat(location(conf, "/eventbus")).contains("proxy_pass http://herald_sockjs;", "proxy_set_header Upgrade $http_upgrade;",
      "proxy_buffering off;");
    int longPoll = defaults.getJsonObject("gateway").getInteger("longPollTimeoutSeconds");
    Matcher poll = Pattern.compile("proxy_read_timeout (\\d+)s;").matcher(location(conf, "= /poll"));
    assertThat(poll.find()).isTrue();
    assertThat(Integer.parseInt(poll.group(1))).isGreaterThan(longPoll);
    assertThat(location(conf, "/")).contains("proxy_pass http://herald_gateways;");
    // Mercure: streams unbuffered and uncached, publishes up to the gateway's body limit, no header dropped
    // (nginx passes Authorization, Cookie and Last-Event-ID unless told not to); docs/mercure.md shows it as shipped.
    String mercure = location(conf, "= /.well-known/mercure");
    assertThat(mercure).contains("proxy_pass http://herald_gateways;", "proxy_buffering off;", "proxy_cache off;",
      "proxy_read_timeout 1h;", "client_max_body_size 1m;").doesNotContain("proxy_pass_request_headers", "non_idempotent");
    assertThat(conf).doesNotContain("non_idempotent");
    assertThat(io.herald.gateway.mercure.MercurePublish.MAX_BODY_BYTES).isEqualTo(1024 * 1024);
    assertThat(location(Files.readString(DOCKER.resolve("../docs/mercure.md")), "= /.well-known/mercure")).isEqualTo(mercure);
  }

  @Test
  @DisplayName("Prometheus scrapes every Herald service on its admin port; Grafana is provisioned with it and the dashboard")
  @SuppressWarnings("unchecked")
  void monitoring() throws Exception {
    Map<String, Object> prom = new Yaml().load(Files.readString(DOCKER.resolve("prometheus.yml")));
    Set<String> targets = new TreeSet<>();
    for (Object job : (List<Object>) prom.get("scrape_configs")) {
      for (Object sc : (List<Object>) ((Map<String, Object>) job).get("static_configs")) {
        targets.addAll((List<String>) ((Map<String, Object>) sc).get("targets"));
      }
    }
    Set<String> expected = new TreeSet<>();
    for (String s : herald().keySet()) {
      expected.add(s + ":" + port(effective(s), "admin"));
    }
    assertThat(targets).isEqualTo(expected);

    Map<String, Object> ds = new Yaml().load(Files.readString(DOCKER.resolve("grafana/provisioning/datasources/prometheus.yml")));
    Map<String, Object> source = (Map<String, Object>) ((List<Object>) ds.get("datasources")).get(0);
    assertThat(source.get("type")).isEqualTo("prometheus");
    assertThat(source.get("url")).isEqualTo("http://prometheus:9090");
    Map<String, Object> dash = new Yaml().load(Files.readString(DOCKER.resolve("grafana/provisioning/dashboards/herald.yml")));
    Map<String, Object> provider = (Map<String, Object>) ((List<Object>) dash.get("providers")).get(0);
    String dir = (String) ((Map<String, Object>) provider.get("options")).get("path");
    assertThat(volumes("grafana")).contains("./grafana/herald-dashboard.json:" + dir + "/herald-dashboard.json:ro",
      "./grafana/provisioning/datasources/prometheus.yml:/etc/grafana/provisioning/datasources/prometheus.yml:ro",
      "./grafana/provisioning/dashboards/herald.yml:/etc/grafana/provisioning/dashboards/herald.yml:ro");
    new JsonObject(Files.readString(DOCKER.resolve("grafana/herald-dashboard.json")));
  }

  @Test
  @DisplayName("Alert rules: docs/operations.md shows docker/herald-alerts.yml word for word; prometheus.yml loads it where compose mounts it")
  @SuppressWarnings("unchecked")
  void alertRules() throws Exception {
    String rules = Files.readString(DOCKER.resolve("herald-alerts.yml"));
    String ops = Files.readString(ROOT.resolve("docs/operations.md"));
    Matcher block = Pattern.compile("## Alerts\n.*?```yaml\n(.*?)```", Pattern.DOTALL).matcher(ops);
    assertThat(block.find()).as("a yaml block under ## Alerts in docs/operations.md").isTrue();
    assertThat(block.group(1)).as("docs/operations.md's alert rules are docker/herald-alerts.yml").isEqualTo(rules);

    // Prometheus resolves rule_files against its configuration file's directory, /etc/prometheus in compose.
    Map<String, Object> prom = new Yaml().load(Files.readString(DOCKER.resolve("prometheus.yml")));
    assertThat((List<String>) prom.get("rule_files")).containsExactly("herald-alerts.yml");
    assertThat(volumes("prometheus")).contains("./prometheus.yml:/etc/prometheus/prometheus.yml:ro",
      "./herald-alerts.yml:/etc/prometheus/herald-alerts.yml:ro");

    // Every alert has a promtool test where it fires and one where it must not.
    Map<String, Object> parsed = new Yaml().load(rules);
    Set<String> alerts = new TreeSet<>();
    for (Object group : (List<Object>) parsed.get("groups")) {
      for (Object rule : (List<Object>) ((Map<String, Object>) group).get("rules")) {
        alerts.add((String) ((Map<String, Object>) rule).get("alert"));
      }
    }
    assertThat(alerts).hasSize(8);
    Map<String, Object> unit = new Yaml().load(Files.readString(DOCKER.resolve("herald-alerts.test.yml")));
    assertThat((List<String>) unit.get("rule_files")).containsExactly("herald-alerts.yml");
    Set<String> fires = new TreeSet<>();
    Set<String> quiet = new TreeSet<>();
    for (Object test : (List<Object>) unit.get("tests")) {
      for (Object check : (List<Object>) ((Map<String, Object>) test).get("alert_rule_test")) {
        Map<String, Object> c = (Map<String, Object>) check;
        (((List<Object>) c.get("exp_alerts")).isEmpty() ? quiet : fires).add((String) c.get("alertname"));
      }
    }
    assertThat(fires).as("alerts a unit test makes fire").isEqualTo(alerts);
    assertThat(quiet).as("alerts a unit test expects quiet").isEqualTo(alerts);
  }
}
