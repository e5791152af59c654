package io.herald.gateway;

import io.herald.testsupport.SseClient;
import io.herald.testsupport.SseEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code GET /.well-known/mercure?topic=...} (Mercure's exact matchers), as the contract's
 * client: the token as {@code Authorization: Bearer}, the resume point as {@code Last-Event-ID}.
 * The gateway answers the stream's head only once every topic is positioned, so the subscription
 * is live when {@link #open} returns. Mercure has no {@code reset} event (a resume point that
 * cannot be served starts live) and no {@code herald.ready}; Herald's control frames arrive as
 * an {@code id:} line and a comment.
 */
final class MercureClient implements ContractClients.Client {

  static final String PATH = "/.well-known/mercure";

  private final SseClient c;

  private MercureClient(SseClient c) {
    this.c = c;
  }

  static MercureClient open(GatewayHarness h, List<String> topics, String from, String token) throws Exception {
    List<String> headers = new ArrayList<>();
    if (from != null) {
      headers.addAll(List.of("Last-Event-ID", from));
    }
    if (token != null) {
      headers.addAll(List.of("Authorization", "Bearer " + token));
    }
    return new MercureClient(h.sse(PATH + "?" + ContractClients.query(topics), headers.toArray(new String[0])));
  }

  @Override
  public List<String> data() {
    return c.appEvents().stream().map(SseEvent::data).collect(Collectors.toList());
  }

  /** Never a reset event: Mercure knows none. */
  @Override
  public List<String> resets() {
    return List.of();
  }

  @Override
  public Object position() {
    return c.parser().lastEventId();
  }

  @Override
  public int heartbeats() {
    return c.parser().heartbeats();
  }

  @Override
  public boolean ended() {
    return c.ended();
  }

  /** The stream ended after Herald's {@code herald.expired token_expired} comment. */
  @Override
  public boolean expired() {
    return c.ended() && c.parser().rawLines().stream().anyMatch(l -> l.startsWith(":") && l.contains("herald.expired token_expired"));
  }

  @Override
  public void close() {
    c.close();
  }
}
