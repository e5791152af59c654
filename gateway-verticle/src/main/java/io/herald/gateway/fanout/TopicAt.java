package io.herald.gateway.fanout;

/**
 * Where a topic stands for a pattern subscription: its epoch and last sequence, and the log
 * position of that event ({@link #UNKNOWN_LOG} when it came from a client's cursor, which does
 * not carry it).
 */
public record TopicAt(String epoch, long seq, long log) {

  /** The log position of an entry read back from a cursor. */
  public static final long UNKNOWN_LOG = Long.MAX_VALUE;
}
