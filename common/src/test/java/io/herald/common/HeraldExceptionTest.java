package io.herald.common;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class HeraldExceptionTest {

  @ParameterizedTest
  @EnumSource(ErrorCode.class)
  @DisplayName("Every code survives toReplyException -> from() with its message")
  void replyRoundTrip(ErrorCode code) {
    HeraldException original = new HeraldException(code, "what went wrong: \"quoted\"\nnext line");
    ReplyException wire = original.toReplyException();
    assertThat(wire.failureType()).isEqualTo(ReplyFailure.RECIPIENT_FAILURE);
    assertThat(wire.failureCode()).isEqualTo(code.status());
    HeraldException back = HeraldException.from(wire);
    assertThat(back.code()).isEqualTo(code);
    assertThat(back.getMessage()).isEqualTo(original.getMessage());
  }

  @Test
  @DisplayName("The JSON body is {\"error\": code, \"message\": ...}")
  void jsonBody() {
    assertThat(new HeraldException(ErrorCode.INVALID_TOPIC, "bad topic").toJson())
      .isEqualTo(new JsonObject().put("error", "invalid_topic").put("message", "bad topic"));
  }

  @Test
  @DisplayName("A HeraldException is returned as it is")
  void ownIsKept() {
    HeraldException h = new HeraldException(ErrorCode.RATE_LIMITED, "slow down");
    assertThat(HeraldException.from(h)).isSameAs(h);
  }

  @Test
  @DisplayName("A reply timeout becomes timeout, a missing handler store_unavailable")
  void timeoutAndNoHandlers() {
    assertThat(HeraldException.from(new ReplyException(ReplyFailure.TIMEOUT, "herald.replay.read")).code())
      .isEqualTo(ErrorCode.TIMEOUT);
    assertThat(HeraldException.from(new ReplyException(ReplyFailure.NO_HANDLERS, "herald.replay.read")).code())
      .isEqualTo(ErrorCode.STORE_UNAVAILABLE);
    assertThat(HeraldException.from(new ReplyException(ReplyFailure.TIMEOUT, null)).code())
      .isEqualTo(ErrorCode.TIMEOUT);
  }

  @Test
  @DisplayName("Foreign failures become internal_error without leaking their text, except a reply's own message")
  void foreign() {
    HeraldException npe = HeraldException.from(new NullPointerException("secret detail"));
    assertThat(npe.code()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(npe.getMessage()).doesNotContain("secret");
    assertThat(HeraldException.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 500, "boom")).code())
      .isEqualTo(ErrorCode.INTERNAL);
    assertThat(HeraldException.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 500, "{not json")).code())
      .isEqualTo(ErrorCode.INTERNAL);
    assertThat(HeraldException.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 500, "{\"other\":1}")).code())
      .isEqualTo(ErrorCode.INTERNAL);
    assertThat(HeraldException.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 500, null)).code())
      .isEqualTo(ErrorCode.INTERNAL);
  }

  @Test
  @DisplayName("An unknown code in a reply body maps to internal_error; a body without message uses the code")
  void unknownCode() {
    HeraldException u = HeraldException.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 418,
      "{\"error\":\"teapot\",\"message\":\"short and stout\"}"));
    assertThat(u.code()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(u.getMessage()).isEqualTo("short and stout");
    HeraldException m = HeraldException.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 400,
      "{\"error\":\"invalid_topic\"}"));
    assertThat(m.code()).isEqualTo(ErrorCode.INVALID_TOPIC);
    assertThat(m.getMessage()).isEqualTo("invalid_topic");
  }

  @Test
  @DisplayName("Codes are unique, snake_case, and statuses are HTTP error statuses")
  void catalogue() {
    Set<String> seen = new HashSet<>();
    for (ErrorCode c : ErrorCode.values()) {
      assertThat(seen.add(c.code())).as("unique %s", c.code()).isTrue();
      assertThat(c.code()).matches("[a-z]+(_[a-z]+)*");
      assertThat(c.status()).isBetween(400, 599);
      assertThat(ErrorCode.fromCode(c.code())).isEqualTo(c);
    }
    assertThat(ErrorCode.fromCode("nope")).isEqualTo(ErrorCode.INTERNAL);
    assertThat(ErrorCode.fromCode(null)).isEqualTo(ErrorCode.INTERNAL);
  }

  @Test
  @DisplayName("Over a real event bus a failed reply keeps its code and message")
  void overTheEventBus(Vertx vertx, VertxTestContext ctx) {
    HeraldException sent = new HeraldException(ErrorCode.ACCESS_DENIED, "not your topic");
    vertx.eventBus().consumer("test.fail", msg -> {
      ReplyException r = sent.toReplyException();
      msg.fail(r.failureCode(), r.getMessage());
    }).completion().compose(v -> vertx.eventBus().request("test.fail", "x"))
      .onComplete(ctx.failing(t -> ctx.verify(() -> {
        HeraldException got = HeraldException.from(t);
        assertThat(got.code()).isEqualTo(ErrorCode.ACCESS_DENIED);
        assertThat(got.getMessage()).isEqualTo("not your topic");
        ctx.completeNow();
      })));
  }

  @Test
  @DisplayName("Over a real event bus nobody listening gives store_unavailable and no answer gives timeout")
  void noHandlersAndTimeoutOverTheEventBus(Vertx vertx, VertxTestContext ctx) {
    var noHandler = ctx.checkpoint();
    var timeout = ctx.checkpoint();
    vertx.eventBus().request("test.nobody", "x").onComplete(ctx.failing(t -> ctx.verify(() -> {
      assertThat(HeraldException.from(t).code()).isEqualTo(ErrorCode.STORE_UNAVAILABLE);
      noHandler.flag();
    })));
    vertx.eventBus().consumer("test.silent", msg -> { }).completion()
      .compose(v -> vertx.eventBus().request("test.silent", "x", new DeliveryOptions().setSendTimeout(100)))
      .onComplete(ctx.failing(t -> ctx.verify(() -> {
        assertThat(HeraldException.from(t).code()).isEqualTo(ErrorCode.TIMEOUT);
        // Names the address that did not answer and the wait, not Vert.x's internal reply address.
        assertThat(HeraldException.from(t).getMessage()).isEqualTo("no answer from test.silent within 100 ms");
        timeout.flag();
      })));
  }
}
