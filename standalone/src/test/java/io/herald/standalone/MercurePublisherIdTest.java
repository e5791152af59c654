package io.herald.standalone;

import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static io.herald.standalone.MercurePublishTest.HTTP;
import static io.herald.standalone.MercurePublishTest.WAIT;
import static io.herald.standalone.MercurePublishTest.enc;
import static io.herald.standalone.MercurePublishTest.form;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Publisher-supplied ids and alternate topics on a real all-in-one node over real HTTP, as the
 * Mercure conformance suite's "Publish update" drives a hub: the frame's {@code id:} is the id the
 * publisher gave (and the publish answers it), multi-line data arrives unchanged, private updates
 * skip anonymous subscribers, several {@code topic} fields make one update delivered once per
 * subscriber; and a {@code Last-Event-ID} that is a publisher's id resumes a stream of several
 * matchers exactly, on the memory store, Redis and PostgreSQL. Uses {@link MercureSubscribeTest}'s
 * node and helpers.
 */
class MercurePublisherIdTest {

  private final MercureSubscribeTest hub = new MercureSubscribeTest();
  private final String base = hub.base;

  @AfterEach
  void stop() throws Exception {
    hub.stop();
  }

  @Test
  @DisplayName("as the conformance suite: the frame's id is the publisher's id, the answer is that id as text/plain, multi-line data arrives unchanged, a private update skips the anonymous subscriber")
  void publisherIdIsTheFrameId() throws Exception {
    hub.start("memory", true);
    String topic = base + "/books/1";
    SseClient anonymous = hub.subscribe("topic=" + enc(topic));
    SseClient twoMatchers = hub.subscribe("match=" + enc(topic) + "&match_urlpattern=" + enc(base + "/authors/:id"));
    String id = "urn:uuid:" + UUID.randomUUID();
    String data = "first line\n\nthird line, after an empty one";

    HttpResponse<String> answer = post("topic", topic, "id", id, "data", data);

    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
    assertThat(answer.body()).isEqualTo(id);
    for (SseClient s : List.of(anonymous, twoMatchers)) {
      SseEvent e = s.awaitAppEvents(1, WAIT).get(0);
      assertThat(e.id()).isEqualTo(id);
      assertThat(e.data()).isEqualTo(data);
    }
    assertThat(anonymous.raw()).contains("id: " + id + "\ndata: first line\ndata: \ndata: third line, after an empty one\n\n");

    String crlf = "urn:uuid:" + UUID.randomUUID();
    post("topic", topic, "id", crlf, "data", "a\r\nb\rc\n");
    String secret = "urn:uuid:" + UUID.randomUUID();
    assertThat(post("topic", topic, "id", secret, "data", "secret", "private", "on").body()).isEqualTo(secret);
    String marker = hub.publish(topic, "marker");

    List<SseEvent> got = anonymous.awaitAppEvents(3, WAIT);
    assertThat(got).extracting(SseEvent::data).containsExactly(data, "a\nb\nc\n", "marker");
    assertThat(got).extracting(SseEvent::id).containsExactly(id, crlf, marker);
    assertThat(anonymous.raw()).contains("data: a\ndata: b\ndata: c\ndata: \n\n").doesNotContain("secret");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"memory", "redis", "postgres"})
  @DisplayName("a Last-Event-ID that is a publisher's id resumes every matcher of the stream (exact topics, a URL pattern) right after that update: every missed update once, per-topic order; an unknown id starts live")
  void resumeFromPublisherId(String store) throws Exception {
    hub.start(store, true);
    String a = base + "/a";
    String b = base + "/b";
    String matchers = "match=" + enc(a) + "&match=" + enc(b) + "&match_urlpattern=" + enc(base + "/books/:id");
    SseClient first = hub.subscribe(matchers);
    String idA1 = "urn:uuid:" + UUID.randomUUID();
    String idBook1 = "urn:uuid:" + UUID.randomUUID();
    post("topic", a, "id", idA1, "data", "a1");
    hub.publish(b, "b1");
    post("topic", base + "/books/1", "id", idBook1, "data", "book1");
    assertThat(first.awaitAppEvents(3, WAIT)).extracting(SseEvent::id).first().isEqualTo(idA1);
    assertThat(first.appEvents().get(2).id()).isEqualTo(idBook1);
    first.close();

    // Missed while away: after book1 on every matcher, some with ids, some without.
    String idA2 = "urn:uuid:" + UUID.randomUUID();
    post("topic", a, "id", idA2, "data", "a2");
    hub.publish(b, "b2");
    hub.publish(base + "/books/2", "book2");
    hub.publish(a, "a3");

    // From the book's id (a topic only the pattern matches): a and b are positioned by the log.
    SseClient fromBook = hub.subscribe(matchers, "Last-Event-ID", idBook1);
    // From a's first id: the b and book updates after it too.
    SseClient fromA1 = hub.subscribe(matchers + "&lastEventID=" + enc(idA1));
    SseClient unknown = hub.subscribe(matchers, "Last-Event-ID", "urn:uuid:" + UUID.randomUUID());
    assertThat(unknown.response().getHeader("Last-Event-ID")).as("the answer for an id the hub does not know").isEqualTo("earliest");
    hub.publish(b, "b-marker");

    List<String> missed = List.of("a2", "b2", "book2", "a3", "b-marker");
    assertExactly(fromBook, missed);
    List<String> sinceA1 = new ArrayList<>(List.of("b1", "book1"));
    sinceA1.addAll(missed);
    assertExactly(fromA1, sinceA1);
    assertThat(MercureSubscribeTest.data(unknown, 1)).as("an unknown id: live from now").containsExactly("b-marker");
    assertThat(fromBook.appEvents().get(0).id()).isEqualTo(idA2);

    // A reconnection from a resumed stream's own last publisher id is exact again.
    SseClient again = hub.subscribe(matchers, "Last-Event-ID", idA2);
    hub.publish(a, "a-marker");
    assertExactly(again, List.of("b2", "book2", "a3", "b-marker", "a-marker"));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"memory", "redis", "postgres"})
  @DisplayName("several topic fields: subscribers of any of them receive the update, once even when they match several, live and on resume; private rules apply per topic")
  void alternateTopics(String store) throws Exception {
    hub.start(store, true);
    String canonical = base + "/books/1";
    String alternate = base + "/alt/books/1";
    SseClient ofCanonical = hub.subscribe("topic=" + enc(canonical));
    SseClient ofAlternate = hub.subscribe("topic=" + enc(alternate));
    SseClient ofBoth = hub.subscribe("match=" + enc(canonical) + "&match=" + enc(alternate));
    SseClient ofEverything = hub.subscribe("match=*");
    String readsAlternate = "Bearer " + MercureSubscribeTest.subscriberToken(new JsonArray().add(alternate));
    SseClient privateReader = hub.subscribe("match_urlpattern=" + enc(base + "/:a/books/:id") + "&match=" + enc(canonical),
      "Authorization", readsAlternate);
    String before = "urn:uuid:" + UUID.randomUUID();
    post("topic", canonical, "id", before, "data", "before");
    String id = "urn:uuid:" + UUID.randomUUID();

    HttpResponse<String> answer = post("topic", canonical, "topic", alternate, "id", id, "data", "both");
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo(id);
    String secret = "urn:uuid:" + UUID.randomUUID();
    post("topic", canonical, "topic", alternate, "id", secret, "data", "secret", "private", "on");
    hub.publish(alternate, "alt-marker");
    hub.publish(canonical, "marker");

    assertExactly(ofCanonical, List.of("before", "both", "marker"));
    assertExactly(ofAlternate, List.of("both", "alt-marker"));
    assertExactly(ofBoth, List.of("before", "both", "alt-marker", "marker"));
    assertExactly(ofEverything, List.of("before", "both", "alt-marker", "marker"));
    assertExactly(privateReader, List.of("before", "both", "secret", "alt-marker", "marker"));
    assertThat(ofAlternate.appEvents().get(0).id()).isEqualTo(id);

    SseClient resumed = hub.subscribe("match=" + enc(canonical) + "&match=" + enc(alternate), "Last-Event-ID", before);
    SseClient resumedPrivate = hub.subscribe("match_urlpattern=" + enc(base + "/:a/books/:id") + "&match=" + enc(canonical),
      "Last-Event-ID", before, "Authorization", readsAlternate);
    hub.publish(canonical, "last");
    assertExactly(resumed, List.of("both", "alt-marker", "marker", "last"));
    assertExactly(resumedPrivate, List.of("both", "secret", "alt-marker", "marker", "last"));
  }

  /**
   * The stream's data is exactly {@code expected} as a set, without duplicates, in per-topic order
   * (the expected list's order for updates of one topic: callers list them so). It waits for every
   * expected update, not for the last one published: updates of different topics may arrive in
   * another order (a resume replays topic by topic).
   */
  private static void assertExactly(SseClient s, List<String> expected) throws Exception {
    List<SseEvent> got = s.await(events -> events.stream().map(SseEvent::data).toList().containsAll(expected), WAIT);
    List<String> data = got.stream().filter(e -> e.data() != null && !e.data().isEmpty()).map(SseEvent::data).toList();
    assertThat(data).containsExactlyInAnyOrderElementsOf(expected);
    List<String> inOrder = new ArrayList<>(data);
    inOrder.retainAll(expected);
    for (String prefix : List.of("a", "b", "book")) {
      List<String> ofTopic = expected.stream().filter(d -> d.matches(prefix + "[0-9]")).toList();
      assertThat(inOrder.stream().filter(ofTopic::contains).toList()).as("order of " + prefix).isEqualTo(ofTopic);
    }
  }

  /** A form POST with the fields in order (several {@code topic} allowed), signed for every topic. */
  private HttpResponse<String> post(String... pairs) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.port + "/.well-known/mercure"))
      .timeout(WAIT).header("Content-Type", "application/x-www-form-urlencoded")
      .header("Authorization", "Bearer " + MercurePublishTest.publisherToken(new JsonArray().add("*")))
      .POST(HttpRequest.BodyPublishers.ofString(form(pairs))).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r;
  }
}
