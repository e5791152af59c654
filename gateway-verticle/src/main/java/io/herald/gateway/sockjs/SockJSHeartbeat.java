package io.herald.gateway.sockjs;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Writes SockJS's heartbeat frame ({@code h}) to a session, on the event loop of the request
 * that carries it now.
 *
 * <p>Why not vertx-web's own heartbeat: it is one periodic timer per session, on the event loop
 * where the session began, writing to whatever request carries the session at the time. With
 * xhr-polling every poll is a new connection, which may belong to another gateway instance's
 * event loop: the timer then wrote from the wrong thread (Vert.x refuses it in strict thread
 * mode, and logs at ERROR), and the poll got no heartbeat. Here the write hops to the
 * session's transport context, and the gateway's tick decides when (only a session on which
 * nothing was written for its interval gets one).
 *
 * <p>vertx-web has no public way to write a raw frame, so the session's transport listener is
 * reached by reflection (vertx-web 5.0: {@code SockJSSession.listener} and {@code transportCtx},
 * {@code TransportListener.sendFrame(String)}). When that fails (another vertx-web),
 * {@link #AVAILABLE} is false and the bridge leaves the heartbeat to vertx-web as before.
 */
public final class SockJSHeartbeat {

  private static final Logger LOG = LoggerFactory.getLogger(SockJSHeartbeat.class);
  private static final Class<?> SESSION;
  private static final Field LISTENER;
  private static final Field CONTEXT;
  private static final Method SEND_FRAME;
  /** True when this vertx-web's session internals are the ones this class knows. */
  static final boolean AVAILABLE;

  static {
    Class<?> session = null;
    Field listener = null;
    Field context = null;
    Method send = null;
    try {
      session = Class.forName("io.vertx.ext.web.handler.sockjs.impl.SockJSSession");
      listener = session.getDeclaredField("listener");
      listener.setAccessible(true);
      context = session.getDeclaredField("transportCtx");
      context.setAccessible(true);
      send = Class.forName("io.vertx.ext.web.handler.sockjs.impl.TransportListener").getDeclaredMethod("sendFrame", String.class);
      send.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("SockJS heartbeats left to vertx-web (its session internals are not the expected ones: {});"
        + " xhr-polling with several gateway instances may miss them", e.toString());
      session = null;
    }
    SESSION = session;
    LISTENER = listener;
    CONTEXT = context;
    SEND_FRAME = send;
    AVAILABLE = session != null;
  }

  private SockJSHeartbeat() {
  }

  /**
   * Sends {@code h} on the session's transport, from the transport's own event loop; nothing
   * when no request carries the session right now (between two polls: the next poll comes at
   * once) or for a raw WebSocket (not a SockJS session, no heartbeat frame).
   */
  public static void beat(SockJSSocket sock) {
    if (!AVAILABLE || !SESSION.isInstance(sock)) {
      return;
    }
    try {
      Context ctx = (Context) CONTEXT.get(sock);
      if (ctx == null) {
        return;
      }
      if (ctx == Vertx.currentContext()) {
        send(sock, ctx);
      } else {
        ctx.runOnContext(v -> send(sock, ctx));
      }
    } catch (IllegalAccessException e) {
      LOG.debug("SockJS heartbeat not sent: {}", e.toString());
    }
  }

  private static void send(SockJSSocket sock, Context ctx) {
    try {
      // The session moved to another request (another loop) meanwhile: that one's tick will do.
      if (CONTEXT.get(sock) != ctx) {
        return;
      }
      Object listener = LISTENER.get(sock);
      if (listener != null) {
        SEND_FRAME.invoke(listener, "h");
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("SockJS heartbeat not sent: {}", e.toString());
    }
  }
}
