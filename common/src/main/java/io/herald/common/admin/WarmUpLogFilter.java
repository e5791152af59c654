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
 * Installed only when the logging backend is logback; otherwise the copy's lines stay.
 */
final class WarmUpLogFilter extends TurboFilter {

  private final Vertx copy;

  private WarmUpLogFilter(Vertx copy) {
    this.copy = copy;
    setName("herald-warmup");
  }

  /** Installs the filter for {@code copy}; returns a handle to remove it, never null. */
  static Runnable install(Vertx copy) {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext context)) {
      return () -> { };
    }
    WarmUpLogFilter filter = new WarmUpLogFilter(copy);
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
    if (level == null || level.isGreaterOrEqual(Level.WARN) || WarmUp.class.getName().equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    Context ctx = Vertx.currentContext();
    return ctx != null && ctx.owner() == copy ? FilterReply.DENY : FilterReply.NEUTRAL;
  }
}
