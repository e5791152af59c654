package io.herald.common;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/**
 * A failure that has a code in the {@link ErrorCode} catalogue and a message meant for the
 * caller. It travels over the event bus as a {@link ReplyException} whose failure code is the
 * HTTP status and whose message is the JSON error body, so every hop keeps the code.
 */
public final class HeraldException extends RuntimeException {

  private final ErrorCode code;

  public HeraldException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  /** {@code {"error": code, "message": ...}} */
  public JsonObject toJson() {
    return body(code, getMessage());
  }

  public static JsonObject body(ErrorCode code, String message) {
    return new JsonObject().put("error", code.code()).put("message", message);
  }

  /** The form to {@code message.fail(...)} with, or to fail a reply future with. */
  public ReplyException toReplyException() {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code.status(), toJson().encode());
  }

  /**
   * Turns any failure back into a HeraldException: ours as they are, a reply failure that
   * carries our JSON body back into its code, a timeout or missing handler into
   * {@code timeout}/{@code store_unavailable}, anything else into {@code internal_error}.
   */
  private static final java.util.regex.Pattern VERTX_TIMEOUT =
    java.util.regex.Pattern.compile("waiting (\\d+)\\(ms\\).*repliedAddress: (\\S+)");

  /**
   * "no answer from herald.replay.append within 5000 ms", from Vert.x's "Timed out after waiting
   * 5000(ms) for a reply. address: __vertx.reply.&lt;uuid&gt;, repliedAddress: herald.replay.append",
   * which names an internal reply address; any other text is kept as it is.
   */
  static String timeoutMessage(String vertx) {
    java.util.regex.Matcher m = VERTX_TIMEOUT.matcher(vertx);
    return m.find() ? "no answer from " + m.group(2) + " within " + m.group(1) + " ms" : "no answer in time: " + vertx;
  }

  public static HeraldException from(Throwable t) {
    if (t instanceof HeraldException h) {
      return h;
    }
    if (t instanceof ReplyException r) {
      if (r.failureType() == ReplyFailure.TIMEOUT) {
        return new HeraldException(ErrorCode.TIMEOUT, timeoutMessage(safe(r.getMessage())));
      }
      if (r.failureType() == ReplyFailure.NO_HANDLERS) {
        return new HeraldException(ErrorCode.STORE_UNAVAILABLE, "no service is listening: " + safe(r.getMessage()));
      }
      String msg = r.getMessage();
      if (msg != null && msg.startsWith("{")) {
        try {
          JsonObject body = new JsonObject(msg);
          String code = body.getString("error");
          if (code != null) {
            return new HeraldException(ErrorCode.fromCode(code), body.getString("message", code));
          }
        } catch (RuntimeException ignored) {
          // not one of ours: fall through
        }
      }
      return new HeraldException(ErrorCode.INTERNAL, safe(msg));
    }
    return new HeraldException(ErrorCode.INTERNAL, "internal error");
  }

  private static String safe(String s) {
    return s == null ? "" : s;
  }
}
