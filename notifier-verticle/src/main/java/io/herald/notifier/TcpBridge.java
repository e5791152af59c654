package io.herald.notifier;

import io.herald.common.Addresses;
import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.common.admin.HeraldMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.Context;
import io.herald.common.config.ConfigException;
import io.herald.common.tracing.TraceContext;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.VertxWrapper;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.NetServerInternal;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.eventbus.bridge.tcp.BridgeEvent;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The TCP event-bus bridge ({@code vertx-tcp-eventbus-bridge}) for non-JVM internal producers:
 * frames of a 4-byte big-endian length and UTF-8 JSON. A producer publishes with
 * <pre>{"type":"send","address":"herald.publish","headers":{"Authorization":"Bearer &lt;key or JWT&gt;"},
 *  "body":{"topic":"orders","data":{...}},"replyAddress":"r1"}</pre>
 * and gets {@code {"type":"message","address":"r1","body":{"events":[...]}}}, or
 * {@code {"type":"err","address":"r1","failureCode":401,"message":"{\"error\":\"unauthorized\",...}"}}:
 * the answer and failures of the {@code herald.publish} address, the HTTP status as the code.
 *
 * <p>How it is enforced:
 * <ul>
 *   <li><b>Nothing is forwarded by the bridge.</b> Its {@link BridgeOptions} permit no address
 *   in either direction (default deny), so no {@code register} (listening to topics or replies
 *   of others), {@code publish} or {@code send} reaches the event bus through it. The bridge's
 *   event handler answers a {@code send} to {@code herald.publish} itself: it authenticates the
 *   frame's {@code Authorization} (or {@code X-Herald-Key}) header with {@link PublisherAuth},
 *   takes tokens from the credential's bucket ({@code publishRatePerKey}, shared with HTTP),
 *   publishes through {@link Publisher} with the {@link PublisherAuth.Grant} (so a key restricted to
 *   {@code orders.*} cannot publish {@code billing}), and writes the reply frame. Such an event is
 *   left pending on purpose: completing it with {@code false} would make the bridge add a second
 *   frame ({@code {"type":"err","message":"blocked by bridgeEvent handler"}}), with {@code true}
 *   the bridge would forward it (and its deny-all options answer {@code access_denied}), and
 *   failing it logs an error. Every other frame ({@code register}, {@code unregister},
 *   {@code publish}, a {@code send} to any other address) is completed with {@code false}: the
 *   client gets {@code {"type":"err","message":"blocked by bridgeEvent handler"}}. Pings are
 *   answered with pongs.</li>
 *   <li><b>Trusted producers at connect.</b> The bridge (5.0.x) raises no {@code SOCKET_CREATED}
 *   event, so the bridge's own connect handler is wrapped: a socket whose peer address is
 *   outside {@code trustedProducers} gets one err frame and is closed before the bridge sees it.</li>
 *   <li><b>Frame size.</b> The bridge's frame parser has no limit (it would buffer whatever
 *   length a frame announces), so a small Netty handler in front of it reads every frame's
 *   length prefix as bytes arrive: a frame announcing more than {@code maxBodyBytes} (or a
 *   negative length) gets an err frame ({@code payload_too_large}) and the connection is closed,
 *   without buffering the frame. A frame whose bytes are not UTF-8 gets an err frame
 *   ({@code malformed_json}) and the connection is closed the same way.</li>
 *   <li><b>Order.</b> The frames of one connection are published in the order they arrive (each
 *   waits for the previous one's authentication), so pipelined requests are stored in order.</li>
 * </ul>
 * A connection with no frame either way (nothing read, no answer written) for
 * {@code idleTimeoutSeconds} gets {@code {"type":"err","message":"idle_timeout: ..."}} and is
 * closed (send {@code {"type":"ping"}} to keep a quiet one open); a producer that keeps
 * publishing, or keeps getting answers, is never idle. Every close the bridge decides (idle,
 * untrusted address, oversized or malformed frame, a socket error) is logged at INFO or WARN
 * with the reason and the peer's address. The bridge is plain TCP: bind it to loopback or a private network.
 *
 * <p>Created and started on the notifier verticle's event loop, so every connection and bridge
 * event runs there, where the rate limiter lives. Not thread-safe otherwise.
 */
final class TcpBridge {

  private static final Logger LOG = LoggerFactory.getLogger(TcpBridge.class);

  /** The {@code source} label of {@code herald_events_published_total}. */
  static final String SOURCE = "tcp-bridge";

  /** The publish limits ({@link PublishQuota#admit}): null when admitted, else the refusal (nothing taken). */
  @FunctionalInterface
  interface RateGate {
    PublishQuota.Refusal admit(PublisherAuth.Grant grant, JsonObject body, long bytes);
  }

  /** Per-connection state. */
  private static final class Connection {
    /** Completes when the previous frame's publish has been handed to the store: keeps the order. */
    Future<Void> tail = Future.succeededFuture();
  }

  private final Vertx vertx;
  private final NotifierOptions options;
  private final PublisherAuth auth;
  private final Publisher publisher;
  private final RateGate rate;
  private final Map<NetSocket, Connection> connections = new HashMap<>();
  private TcpEventBusBridge bridge;
  private NetServer server;
  private Context context;

  TcpBridge(Vertx vertx, NotifierOptions options, PublisherAuth auth, Publisher publisher, RateGate rate) {
    this.vertx = vertx;
    this.options = options;
    this.auth = auth;
    this.publisher = publisher;
    this.rate = rate;
  }

  /** Listens on {@code tcpBridgeHost:tcpBridgePort}; call from the verticle's start. */
  Future<Void> start() {
    context = vertx.getOrCreateContext();
    NetServerInternal[] created = new NetServerInternal[1];
    // The bridge creates its NetServer itself and keeps it private: hand it a Vertx that lets us
    // see that server, so its connect handler can be wrapped with the guards above.
    VertxInternal watching = new VertxWrapper((VertxInternal) vertx) {
      @Override
      public NetServerInternal createNetServer(NetServerOptions netOptions) {
        NetServerInternal s = super.createNetServer(netOptions);
        created[0] = s;
        return s;
      }
    };
    // No idle timeout here: Vert.x would close an idle connection silently (logged at DEBUG, no
    // frame). IdleGuard, installed per connection in accept, does it with an err frame and a log line.
    NetServerOptions netOptions = new NetServerOptions().setTcpNoDelay(true);
    // No inbound or outbound permitted addresses: the bridge itself forwards nothing.
    bridge = TcpEventBusBridge.create(watching, new BridgeOptions(), netOptions, this::onEvent);
    server = created[0];
    Handler<NetSocket> bridgeHandler = server == null ? null : server.connectHandler();
    if (bridgeHandler == null) {
      return Future.failedFuture(new IllegalStateException("the TCP event-bus bridge did not create its server as expected;"
        + " refusing to run it without its connection guards"));
    }
    server.connectHandler(socket -> accept(socket, bridgeHandler));
    return bridge.listen(options.tcpBridgePort(), options.tcpBridgeHost())
      .recover(t -> Future.failedFuture(ConfigException.listenFailed("notifier", "tcpBridgePort", options.tcpBridgeHost(), options.tcpBridgePort(), t)))
      .mapEmpty();
  }

  /** The port listened on (after {@link #start()}). */
  int actualPort() {
    return server.actualPort();
  }

  Future<Void> stop() {
    return bridge == null ? Future.succeededFuture() : bridge.close();
  }

  /** A new connection: trusted address, frame-size guard, then the bridge's own handler. */
  private void accept(NetSocket socket, Handler<NetSocket> bridgeHandler) {
    SocketAddress peer = socket.remoteAddress();
    String ip = peer == null ? null : peer.hostAddress();
    if (!options.producerAllowlist().allows(ip)) {
      LOG.info("TCP bridge: closing the connection from {}: access_denied (address outside trustedProducers)", peer);
      HeraldMetrics.get().rejected(ErrorCode.ACCESS_DENIED.code());
      socket.end(frame(new JsonObject().put("type", "err").put("message", "access_denied: this address may not publish")));
      return;
    }
    if (!(socket instanceof NetSocketInternal internal)) {
      LOG.error("TCP bridge: cannot guard the frame size of a {}: closing it", socket.getClass().getName());
      socket.close();
      return;
    }
    ChannelHandlerContext chctx = internal.channelHandlerContext();
    if (options.idleTimeoutSeconds() > 0) {
      chctx.pipeline().addBefore(chctx.name(), "herald-idle-state",
        new IdleStateHandler(0, 0, options.idleTimeoutSeconds(), TimeUnit.SECONDS));
      chctx.pipeline().addBefore(chctx.name(), "herald-idle", new IdleGuard(() -> {
        LOG.info("TCP bridge: closing the connection from {}: idle_timeout (no frame either way for {} s)",
          peer, options.idleTimeoutSeconds());
        socket.end(frame(new JsonObject().put("type", "err").put("message", "idle_timeout: no frame either way for "
          + options.idleTimeoutSeconds() + " s; send {\"type\":\"ping\"} to keep a quiet connection open")));
      }));
    }
    chctx.pipeline().addBefore(chctx.name(), "herald-frame-size", new FrameSizeGuard(options.maxBodyBytes(), length -> {
      LOG.info("TCP bridge: closing the connection from {}: payload_too_large (a frame of {} bytes, at most {})",
        peer, length, options.maxBodyBytes());
      HeraldMetrics.get().rejected(ErrorCode.PAYLOAD_TOO_LARGE.code());
      socket.end(frame(new JsonObject().put("type", "err").put("message",
        "payload_too_large: a frame may have at most " + options.maxBodyBytes() + " bytes")));
    }, why -> {
      LOG.info("TCP bridge: closing the connection from {}: malformed_json ({})", peer, why);
      HeraldMetrics.get().rejected(ErrorCode.MALFORMED_JSON.code());
      socket.end(frame(new JsonObject().put("type", "err").put("message", "malformed_json: " + why)));
    }));
    connections.put(socket, new Connection());
    socket.closeHandler(v -> {
      connections.remove(socket);
      LOG.debug("TCP bridge: the connection from {} is closed", peer);
    });
    bridgeHandler.handle(socket);
    // The bridge's own handler closes the connection on any exception without a word; nothing is
    // registered through it (deny-all), so there is nothing else for it to clean up.
    socket.exceptionHandler(t -> {
      LOG.warn("TCP bridge: closing the connection from {}: {}", peer, t.toString());
      socket.close();
    });
  }

  /** The bridge's hook, for every frame it parsed (and the socket events it raises). */
  private void onEvent(BridgeEvent event) {
    switch (event.type()) {
      case SOCKET_CREATED, SOCKET_CLOSED, SOCKET_IDLE, SOCKET_PING -> event.complete(true);
      case SEND -> {
        JsonObject msg = event.getRawMessage();
        if (Addresses.PUBLISH.equals(msg.getValue("address"))) {
          publish(event.socket(), msg);
        } else {
          refuse(event, "a send to " + msg.getValue("address"));
        }
      }
      default -> refuse(event, "a " + event.type() + " frame");
    }
  }

  private static void refuse(BridgeEvent event, String what) {
    LOG.debug("TCP bridge: refused {}: only sends to {} are allowed", what, Addresses.PUBLISH);
    HeraldMetrics.get().rejected(ErrorCode.ACCESS_DENIED.code());
    event.complete(false); // the bridge answers {"type":"err","message":"blocked by bridgeEvent handler"}
  }

  /** A send to herald.publish: authenticated, rate-limited and published here, answered here. */
  private void publish(NetSocket socket, JsonObject msg) {
    Connection conn = connections.get(socket);
    if (conn == null) {
      return; // closed meanwhile
    }
    String replyAddress = msg.getValue("replyAddress") instanceof String s ? s : null;
    JsonObject headers = msg.getValue("headers") instanceof JsonObject h ? h : new JsonObject();
    String authorization = headers.getValue("Authorization") instanceof String s ? s : null;
    String heraldKey = headers.getValue("X-Herald-Key") instanceof String s ? s : null;
    Object body = msg.getValue("body");
    TraceContext trace = publisher.tracing()
      ? TraceContext.of(headers.getValue(TraceContext.TRACEPARENT), headers.getValue(TraceContext.TRACESTATE))
      : null;
    conn.tail = conn.tail
      .transform(previous -> onContext(auth.authenticate(authorization, heraldKey)))
      .transform(granted -> {
        try {
          return publish(socket, replyAddress, body, trace, granted);
        } catch (RuntimeException e) {
          // Whatever went wrong, the producer gets an answer rather than waiting for ever.
          LOG.error("TCP bridge: publish from {} failed", socket.remoteAddress(), e);
          fail(socket, replyAddress, new HeraldException(ErrorCode.INTERNAL, "internal error"));
          return Future.succeededFuture();
        }
      });
  }

  /** One publish over the bridge once its credentials are checked; answers the producer in every case. */
  private Future<Void> publish(NetSocket socket, String replyAddress, Object body, TraceContext trace,
                               io.vertx.core.AsyncResult<PublisherAuth.Grant> granted) {
    if (granted.failed()) {
      HeraldException e = HeraldException.from(granted.cause());
      LOG.debug("TCP bridge: publish from {} refused: {}", socket.remoteAddress(), e.getMessage());
      fail(socket, replyAddress, e);
      return Future.succeededFuture();
    }
    PublisherAuth.Grant grant = granted.result();
    JsonObject publish;
    try {
      if (body instanceof JsonObject o) {
        publish = o;
      } else if (body instanceof String text) {
        publish = PublishParser.object(text); // read as an HTTP body (a repeated field refused too)
      } else {
        throw new HeraldException(ErrorCode.INVALID_REQUEST, "the body of a send to " + Addresses.PUBLISH
          + " must be a publish object (single or {\"events\": [...]}) or its JSON text as a string");
      }
    } catch (HeraldException e) {
      fail(socket, replyAddress, e);
      return Future.succeededFuture();
    }
    // The text as sent: a parsed body carries its data as exact JSON text, which JsonObject cannot encode.
    long bytes = body instanceof String text ? text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
      : publish.toBuffer().length();
    PublishQuota.Refusal refused = rate.admit(grant, publish, bytes);
    if (refused != null) {
      fail(socket, replyAddress, new HeraldException(ErrorCode.RATE_LIMITED, refused.message()));
      return Future.succeededFuture();
    }
    publisher.publish(publish, SOURCE, grant, trace).onComplete(ar -> {
      if (ar.succeeded()) {
        if (replyAddress != null) {
          socket.write(frame(new JsonObject().put("type", "message").put("address", replyAddress)
            .put("headers", new JsonObject()).put("send", true).put("body", ar.result())));
        }
      } else {
        fail(socket, replyAddress, HeraldException.from(ar.cause()));
      }
    });
    return Future.succeededFuture();
  }

  /** {@code future}, its callbacks on the verticle's event loop (where the rate limiter lives). */
  private <T> Future<T> onContext(Future<T> future) {
    if (future.isComplete() && ((io.vertx.core.internal.ContextInternal) context).nettyEventLoop().inEventLoop()) {
      return future;
    }
    io.vertx.core.Promise<T> p = io.vertx.core.Promise.promise();
    future.onComplete(ar -> context.runOnContext(v -> p.handle(ar)));
    return p.future();
  }

  /**
   * The failure frame the bridge sends for a failed request: the HTTP status as
   * {@code failureCode} and the JSON error as {@code message}; without a reply address too.
   */
  private static void fail(NetSocket socket, String replyAddress, HeraldException e) {
    HeraldMetrics.get().rejected(e.code().code());
    JsonObject err = new JsonObject().put("type", "err");
    if (replyAddress != null) {
      err.put("address", replyAddress);
    }
    err.put("sourceAddress", Addresses.PUBLISH).put("failureCode", e.code().status())
      .put("failureType", "RECIPIENT_FAILURE").put("message", e.toJson().encode());
    socket.write(frame(err));
  }

  /**
   * Turns the {@link IdleStateHandler}'s {@code ALL_IDLE} event (no byte read and no write
   * completed for the timeout) into the bridge's idle close. Sits in front of Vert.x's handler,
   * which is given no idle timeout: a publisher whose frames keep arriving, or whose answers keep
   * leaving, is never idle.
   */
  static final class IdleGuard extends ChannelInboundHandlerAdapter {
    private final Runnable onIdle;
    private boolean fired;

    IdleGuard(Runnable onIdle) {
      this.onIdle = onIdle;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof IdleStateEvent) {
        if (!fired) {
          fired = true;
          onIdle.run();
        }
        return;
      }
      super.userEventTriggered(ctx, evt);
    }
  }

  /** One frame: 4-byte big-endian length, then the UTF-8 JSON. */
  static Buffer frame(JsonObject payload) {
    byte[] data = payload.encode().getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer(4 + data.length).appendInt(data.length).appendBytes(data);
  }

  /**
   * Reads the length prefix of every frame as the bytes go by, without buffering: the first
   * frame announcing more than {@code max} bytes (or a negative length) stops the stream, is
   * dropped and reported; the connection is then closed by the callback. The same for the first
   * frame whose body is not UTF-8, checked byte by byte as it passes (the bridge would decode it
   * with U+FFFD in place of the bad bytes), or not one JSON object the bridge can decode,
   * checked by an incremental Jackson parser fed as the bytes pass (the bridge would log the
   * failure at ERROR and answer nothing): a number whose value cannot be held (an exponent past
   * what a BigDecimal takes) counts as undecodable too.
   */
  static final class FrameSizeGuard extends ChannelInboundHandlerAdapter {

    private static final com.fasterxml.jackson.core.JsonFactory JSON = com.fasterxml.jackson.core.JsonFactory.builder()
      .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_JAVA_COMMENTS).build();

    private final int max;
    private final java.util.function.IntConsumer tooLarge;
    private final java.util.function.Consumer<String> malformed;
    /** The current frame's parser (null between frames), and its depth of open objects and arrays. */
    private com.fasterxml.jackson.core.async.NonBlockingInputFeeder feeder;
    private com.fasterxml.jackson.core.JsonParser parser;
    private int depth;
    private boolean rootDone;
    /** Bytes of the current frame's body still to come. */
    private long remaining;
    private int headerBytes;
    private int length;
    private boolean stopped;
    /** UTF-8 check of the body: continuation bytes still due, and the range of the next one. */
    private int need;
    private int lo = 0x80;
    private int hi = 0xBF;

    FrameSizeGuard(int max, java.util.function.IntConsumer tooLarge, java.util.function.Consumer<String> malformed) {
      this.max = max;
      this.tooLarge = tooLarge;
      this.malformed = malformed;
    }

    /** Starts checking a frame's body. */
    private void startJson() {
      try {
        parser = JSON.createNonBlockingByteArrayParser();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      feeder = (com.fasterxml.jackson.core.async.NonBlockingInputFeeder) parser.getNonBlockingInputFeeder();
      depth = 0;
      rootDone = false;
    }

    /**
     * Feeds body bytes {@code [from, to)} (and, when {@code last}, the end of the frame) to the
     * frame's parser; the reason when the body is not one decodable JSON object, else null.
     */
    private String json(ByteBuf buf, int from, int to, boolean last) {
      try {
        byte[] chunk = new byte[to - from];
        buf.getBytes(from, chunk);
        ((com.fasterxml.jackson.core.async.ByteArrayFeeder) feeder).feedInput(chunk, 0, chunk.length);
        if (last) {
          feeder.endOfInput();
        }
        for (com.fasterxml.jackson.core.JsonToken t; (t = parser.nextToken()) != null
          && t != com.fasterxml.jackson.core.JsonToken.NOT_AVAILABLE; ) {
          if (rootDone) {
            return "a frame holds more than one JSON value";
          }
          if (depth == 0 && t != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
            return "a frame must be one JSON object";
          }
          switch (t) {
            case START_OBJECT, START_ARRAY -> depth++;
            case END_OBJECT, END_ARRAY -> rootDone = --depth == 0;
            case VALUE_NUMBER_FLOAT -> parser.getDecimalValue(); // throws when no BigDecimal holds it
            default -> { }
          }
        }
        if (last) {
          parser.close();
          parser = null;
          if (!rootDone) {
            return "a frame ends inside its JSON object";
          }
        }
        return null;
      } catch (java.io.IOException | RuntimeException e) {
        String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        return "a frame is not a JSON object the bridge can decode (" + (m == null ? e.getClass().getSimpleName() : m) + ")";
      }
    }

    /** Takes the next body byte; false when the body is not UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
    private boolean utf8(int b) {
      if (need > 0) {
        if (b < lo || b > hi) {
          return false;
        }
        lo = 0x80;
        hi = 0xBF;
        need--;
        return true;
      }
      if (b < 0x80) {
        return true;
      }
      if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
      } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        lo = b == 0xE0 ? 0xA0 : 0x80;
        hi = b == 0xED ? 0x9F : 0xBF;
      } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        lo = b == 0xF0 ? 0x90 : 0x80;
        hi = b == 0xF4 ? 0x8F : 0xBF;
      } else {
        return false;
      }
      return true;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf buf)) {
        ctx.fireChannelRead(msg);
        return;
      }
      if (stopped) {
        buf.release();
        return;
      }
      int i = buf.readerIndex();
      int end = buf.writerIndex();
      while (i < end) {
        if (remaining > 0) {
          int skip = (int) Math.min(remaining, end - i);
          for (int k = i; k < i + skip; k++) {
            if (!utf8(buf.getByte(k) & 0xff)) {
              stop(buf, () -> malformed.accept(NOT_UTF8));
              return;
            }
          }
          remaining -= skip;
          if (remaining == 0 && need > 0) {
            stop(buf, () -> malformed.accept(NOT_UTF8)); // a sequence cut by the end of the frame
            return;
          }
          String bad = json(buf, i, i + skip, remaining == 0);
          if (bad != null) {
            stop(buf, () -> malformed.accept(bad));
            return;
          }
          i += skip;
          continue;
        }
        length = (length << 8) | (buf.getByte(i++) & 0xff);
        if (++headerBytes == 4) {
          int announced = length;
          headerBytes = 0;
          length = 0;
          if (announced < 0 || announced > max) {
            stop(buf, () -> tooLarge.accept(announced));
            return;
          }
          remaining = announced;
          startJson();
          if (announced == 0) {
            stop(buf, () -> malformed.accept("a frame is empty"));
            return;
          }
        }
      }
      ctx.fireChannelRead(buf);
    }

    static final String NOT_UTF8 = "a frame is not valid UTF-8 (the bridge would read U+FFFD in its place)";

    private void stop(ByteBuf buf, Runnable report) {
      stopped = true;
      if (parser != null) {
        try {
          parser.close();
        } catch (java.io.IOException ignored) {
          // nothing held
        }
        parser = null;
      }
      buf.release();
      report.run();
    }
  }
}
