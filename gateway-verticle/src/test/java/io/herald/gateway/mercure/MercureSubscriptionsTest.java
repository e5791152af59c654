package io.herald.gateway.mercure;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The pure parts of {@link MercureSubscriptions}: the specification's encoding, the API's paths, a request's subscriptions. */
class MercureSubscriptionsTest {

  @Test
  @DisplayName("each variable is percent-encoded once, whole, all but the unreserved characters, % included")
  void encoding() {
    assertThat(MercureSubscriptions.encode("https://example.com/:selector")).isEqualTo("https%3A%2F%2Fexample.com%2F%3Aselector");
    assertThat(MercureSubscriptions.encode("urn:uuid:bb3de268-05b0")).isEqualTo("urn%3Auuid%3Abb3de268-05b0");
    assertThat(MercureSubscriptions.encode("a%20b~c d")).isEqualTo("a%2520b~c%20d");
    assertThat(MercureSubscriptions.encode("café")).isEqualTo("caf%C3%A9");
    for (String s : List.of("https://example.com/a?b=c#d", "a%20b", "/.well-known/mercure/subscriptions/:t", "café")) {
      assertThat(MercureSubscriptions.decode(MercureSubscriptions.encode(s))).isEqualTo(s);
    }
    assertThat(MercureSubscriptions.decode("%ZZ")).isNull();
    assertThat(MercureSubscriptions.decode("%C3")).as("not UTF-8").isNull();
    assertThat(MercureSubscriptions.decode("a%2")).isNull();
  }

  @Test
  @DisplayName("the API's paths: the collection, a matcher's collection, one subscription, in canonical form; anything else names nothing")
  void paths() {
    String root = MercureSubscriptions.PATH;
    assertThat(MercureSubscriptions.query(root)).isEqualTo(new MercureSubscriptions.Query(root, "", null, null));
    assertThat(MercureSubscriptions.query(root + "/Exact/https%3a%2F%2Fexample.com%2Fa"))
      .as("lower-case escapes are read and the path made canonical")
      .isEqualTo(new MercureSubscriptions.Query(root + "/Exact/https%3A%2F%2Fexample.com%2Fa", "Exact", "https://example.com/a", null));
    assertThat(MercureSubscriptions.query(root + "/URLPattern/https:%2F%2Fexample.com%2F:id/urn%3Auuid%3A1"))
      .isEqualTo(new MercureSubscriptions.Query(root + "/URLPattern/https%3A%2F%2Fexample.com%2F%3Aid/urn%3Auuid%3A1", "URLPattern",
        "https://example.com/:id", "urn:uuid:1"));
    for (String nothing : List.of(root + "/", root + "/Exact", root + "/Regex/a", root + "/Exact/a/b/c", root + "/Exact//b",
      root + "/Exact/a/", root + "/Exact/%ZZ", root + "x")) {
      assertThat(MercureSubscriptions.query(nothing).matchType()).as(nothing).isNull();
    }
  }

  @Test
  @DisplayName("a request's matchers are its subscriptions, one subscriber for all, identical ones once, with the payload of each")
  void subscriptionsOfARequest() {
    MercureClaims claims = new MercureClaims(MercureClaims.Form.ACCESS_TOKEN, "alice", -1, List.of(), List.of(), null,
      List.of(new MercureClaims.PayloadRule(List.of(MercureSelector.matcher("https://example.com/a", null)), new JsonObject().put("p", 1)),
        new MercureClaims.PayloadRule(List.of(MercureSelector.matcher("*", null)), new JsonObject().put("p", 2))));
    List<MercureSubscriptions.Subscription> subs = MercureSubscriptions.of(List.of(
      Map.entry("match", "https://example.com/a"), Map.entry("matchURLPattern", "https://example.com/:id"),
      Map.entry("match_exact", "https://example.com/a"), Map.entry("topic", "https://example.com/{id}"), Map.entry("topic", "*"),
      Map.entry("lastEventID", "earliest")), claims);
    assertThat(subs).extracting(MercureSubscriptions.Subscription::matchType).containsExactly("Exact", "URLPattern", "URITemplate", "Exact");
    assertThat(subs).extracting(MercureSubscriptions.Subscription::subscriber).containsOnly(subs.get(0).subscriber());
    assertThat(subs.get(0).subscriber()).matches("urn:uuid:[0-9a-f-]{36}");
    assertThat(subs).extracting(s -> s.payload().getInteger("p")).containsExactly(1, 2, 2, 2);
    JsonObject doc = subs.get(1).toJson(false);
    assertThat(doc.fieldNames()).containsExactly("id", "type", "matchType", "match", "subscriber", "active", "payload");
    assertThat(doc.getString("id")).isEqualTo(subs.get(1).topic())
      .isEqualTo("/.well-known/mercure/subscriptions/URLPattern/https%3A%2F%2Fexample.com%2F%3Aid/"
        + MercureSubscriptions.encode(subs.get(0).subscriber()));
    assertThat(doc.getBoolean("active")).isFalse();
    assertThat(MercureSubscriptions.of(List.of(Map.entry("match", "a")), MercureClaims.ANONYMOUS).get(0).payload()).isNull();
  }
}
