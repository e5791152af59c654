package io.herald.testsupport;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Request/response calls for tests over the JDK's HTTP client (HTTP/1.1). The Vert.x client, in
 * the same JVM as the server, was seen (rarely, and only on CI) to wait forever for an answer,
 * with every event loop idle; with this client a server that does not answer shows as the
 * server's own timeout (408), not as a silent hang.
 */
public final class JdkHttp {

  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();

  /** A response: status, headers with lower-case names (first value), body as text. */
  public record Response(int status, Map<String, String> headers, String body) {
  }

  private JdkHttp() {
  }

  /**
   * Sends {@code method url} with {@code headers} (name, value, name, value...) and {@code body}
   * (null for none); waits at most 15 s, longer than the servers' own request timeouts.
   */
  public static Response send(String method, String url, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15))
      .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      if (headers[i + 1] != null) {
        b.header(headers[i], headers[i + 1]);
      }
    }
    HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    Map<String, String> h = new HashMap<>();
    r.headers().map().forEach((k, v) -> h.put(k.toLowerCase(), v.isEmpty() ? "" : v.get(0)));
    return new Response(r.statusCode(), h, r.body());
  }
}
