package io.herald.common.admin;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Keeps the warm-up's private copy of the roles out of the node's log: while it runs, lines
 * below WARN logged on one of the copy's contexts (its gateway's "connection opened" and
 * "connection closed" for every short warm-up stream, a few thousand of them) are dropped.
 * The node's own lines, the copy's warnings and errors, and {@link WarmUp}'s own summary pass.
 * The copy of a clustered node runs a private Hazelcast cluster: every line Hazelcast logs about
 * it (its threads are named after it, its lines name it) is dropped, warnings included.
 * Installed only when the logging backend is logback; otherwise the copy's lines stay.
 */
final class WarmUpLogFilter extends TurboFilter {

  /** Whether a Vert.x is the copy (or the other member of its private cluster). */
  private final java.util.function.Predicate<Vertx> copy;
  /**
   * The name of the copy's private Hazelcast cluster, or null: lines of threads named after it
   * (its members' {@code hz.<name>-a.*}) and Hazelcast's lines about it (they name the cluster)
   * are the copy's too.
   */
  private final String cluster;

  private WarmUpLogFilter(java.util.function.Predicate<Vertx> copy, String cluster) {
    this.copy = copy;
    this.cluster = cluster;
    setName("herald-warmup");
  }

  /**
   * Installs the filter for the Vert.x instances {@code copy} accepts and for their private
   * Hazelcast cluster named {@code cluster} (null: none); returns a handle to remove it, never null.
   */
  static Runnable install(java.util.function.Predicate<Vertx> copy, String cluster) {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext context)) {
      return () -> { };
    }
    WarmUpLogFilter filter = new WarmUpLogFilter(copy, cluster);
    filter.start();
    context.addTurboFilter(filter);
    return () -> {
      context.getTurboFilterList().remove(filter);
      filter.stop();
    };
  }

  @Override
  public FilterReply decide(Marker marker, ch.qos.logback.classic.Logger logger, Level level, String format,
                            Object[] params, Throwable t) {
    if (cluster != null && logger.getName().startsWith("com.hazelcast")
        && (Thread.currentThread().getName().contains(cluster) || (format != null && format.contains(cluster)))) {
      // The private cluster's own lines, warnings included (its members leaving each other at
      // the end is expected): they are about nothing the node's operators run.
      return FilterReply.DENY;
    }
    if (level == null || level.isGreaterOrEqual(Level.WARN) || WarmUp.class.getName().equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    Context ctx = Vertx.currentContext();
    if (ctx != null && copy.test(ctx.owner())) {
      return FilterReply.DENY;
    }
    return cluster != null && Thread.currentThread().getName().contains(cluster) ? FilterReply.DENY : FilterReply.NEUTRAL;
  }
}
