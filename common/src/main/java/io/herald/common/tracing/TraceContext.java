package io.herald.common.tracing;

/**
 * The W3C trace context of a publish as it travels with the event: the {@code traceparent}
 * and {@code tracestate} header values, as text. Herald does not interpret them on the way
 * (only {@link Tracing} parses them, and only when tracing is on): an invalid value is carried
 * and then ignored, never a reason to refuse a publish.
 *
 * @param traceparent the {@code traceparent} value, not null
 * @param tracestate  the {@code tracestate} value, or null
 */
public record TraceContext(String traceparent, String tracestate) {

  /** Header and field name of the trace parent (W3C Trace Context). */
  public static final String TRACEPARENT = "traceparent";
  /** Header and field name of the vendor trace state (W3C Trace Context). */
  public static final String TRACESTATE = "tracestate";
  /** Longest {@code traceparent} or {@code tracestate} carried; a longer value is dropped (the W3C limit of tracestate is 512). */
  public static final int MAX_LENGTH = 512;

  public TraceContext {
    java.util.Objects.requireNonNull(traceparent, "traceparent");
  }

  /**
   * The context of these two values, or null when {@code traceparent} is null, empty or
   * longer than {@link #MAX_LENGTH} (a longer {@code tracestate} is dropped alone).
   */
  public static TraceContext of(String traceparent, String tracestate) {
    if (traceparent == null || traceparent.isEmpty() || traceparent.length() > MAX_LENGTH) {
      return null;
    }
    return new TraceContext(traceparent, tracestate == null || tracestate.isEmpty() || tracestate.length() > MAX_LENGTH ? null : tracestate);
  }

  /** The context of two values of a JSON object (text fields), or null; see {@link #of(String, String)}. */
  public static TraceContext of(Object traceparent, Object tracestate) {
    return of(traceparent instanceof String p ? p : null, tracestate instanceof String s ? s : null);
  }
}
