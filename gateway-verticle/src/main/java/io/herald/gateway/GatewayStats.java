package io.herald.gateway;

/**
 * Counters of one gateway instance, read by tests and (later) exported as metrics. Written only
 * on the instance's event loop; read from anywhere (values may be slightly stale).
 */
public final class GatewayStats {

  /** Events that reached this instance's topic consumers: only topics its connections hold. */
  public volatile long eventsReceived;
  /** Event writes to connections (one event to three connections counts three). */
  public volatile long deliveries;
  /** Resets sent (one per connection and topic). */
  public volatile long resets;
  /** Gap fills started. */
  public volatile long gapFills;
  /** Connections opened since start. */
  public volatile long connectionsOpened;
  /** Connections cut off because they did not read fast enough. */
  public volatile long slowConsumersClosed;
  /** Resumes with a Last-Event-ID. */
  public volatile long resumes;
}
