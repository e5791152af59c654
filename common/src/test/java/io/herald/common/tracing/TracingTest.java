package io.herald.common.tracing;

import io.herald.common.config.ConfigException;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TracingTest {

  private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  @Test
  @DisplayName("A valid traceparent (and its tracestate) becomes the remote parent")
  void validParent() {
    SpanContext parent = Span.fromContext(Tracing.parent(new TraceContext(TRACEPARENT, "vendor=abc,other=1"))).getSpanContext();
    assertThat(parent.isValid()).isTrue();
    assertThat(parent.isRemote()).isTrue();
    assertThat(parent.getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(parent.getSpanId()).isEqualTo("00f067aa0ba902b7");
    assertThat(parent.isSampled()).isTrue();
    assertThat(parent.getTraceState().get("vendor")).isEqualTo("abc");
    assertThat(Tracing.context(Span.wrap(parent))).isEqualTo(new TraceContext(TRACEPARENT, "vendor=abc,other=1"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"})
  @DisplayName("An invalid traceparent gives no parent (the publish starts a trace), never an exception")
  void invalidParent(String traceparent) {
    TraceContext tc = TraceContext.of(traceparent, "vendor=abc");
    SpanContext parent = Span.fromContext(Tracing.parent(tc)).getSpanContext();
    assertThat(parent.isValid()).isFalse();
  }

  @Test
  @DisplayName("TraceContext.of drops missing, empty and oversized values; a bad tracestate alone does not drop the parent")
  void traceContextOf() {
    assertThat(TraceContext.of((String) null, null)).isNull();
    assertThat(TraceContext.of("", "a=b")).isNull();
    assertThat(TraceContext.of("x".repeat(TraceContext.MAX_LENGTH + 1), null)).isNull();
    assertThat(TraceContext.of(TRACEPARENT, "y".repeat(TraceContext.MAX_LENGTH + 1))).isEqualTo(new TraceContext(TRACEPARENT, null));
    assertThat(TraceContext.of((Object) 42, "a=b")).isNull();
    assertThat(TraceContext.of((Object) TRACEPARENT, (Object) 7)).isEqualTo(new TraceContext(TRACEPARENT, null));
    SpanContext parent = Span.fromContext(Tracing.parent(new TraceContext(TRACEPARENT, "not a tracestate!!"))).getSpanContext();
    assertThat(parent.isValid()).isTrue();
  }

  @Test
  @DisplayName("Off by default: no endpoint, no tracer; OTEL_* variables fill what the section leaves empty")
  void options() {
    TracingOptions defaults = new TracingOptions();
    assertThat(defaults.enabled()).isFalse();
    assertThat(defaults.serviceName()).isEqualTo("herald");
    assertThat(defaults.sampleRatio()).isEqualTo(1.0);
    assertThat(Tracing.start(null, defaults, "all")).isSameAs(Tracing.OFF);
    assertThat(Tracing.OFF.tracer()).isNull();

    TracingOptions shipped = new TracingOptions(new JsonObject().put("otlpEndpoint", "").put("serviceName", "").put("sampleRatio", 1.0),
      Map.of());
    assertThat(shipped.enabled()).as("the packaged config/herald.json: off").isFalse();
    assertThat(shipped.toJson()).isEqualTo(defaults.toJson());

    TracingOptions env = new TracingOptions(new JsonObject().put("otlpEndpoint", "").put("serviceName", ""),
      Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "OTEL_SERVICE_NAME", "hub"));
    assertThat(env.enabled()).isTrue();
    assertThat(env.otlpEndpoint()).isEqualTo("http://collector:4318");
    assertThat(env.serviceName()).isEqualTo("hub");

    TracingOptions own = new TracingOptions(new JsonObject().put("otlpEndpoint", "https://otel:4318").put("serviceName", "h")
      .put("sampleRatio", "0.25"), Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "OTEL_SERVICE_NAME", "hub"));
    assertThat(own.otlpEndpoint()).isEqualTo("https://otel:4318");
    assertThat(own.serviceName()).isEqualTo("h");
    assertThat(own.sampleRatio()).isEqualTo(0.25);
  }

  @Test
  @DisplayName("Bad tracing settings fail naming the key")
  void badOptions() {
    assertThatThrownBy(() -> new TracingOptions(new JsonObject().put("otlpEndpoint", "collector:4318"), Map.of()))
      .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.otlpEndpoint");
    assertThatThrownBy(() -> new TracingOptions(new JsonObject().put("sampleRatio", 1.5), Map.of()))
      .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.sampleRatio");
    assertThatThrownBy(() -> new TracingOptions(new JsonObject().put("sampleRatio", "half"), Map.of()))
      .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.sampleRatio");
    assertThatThrownBy(() -> new TracingOptions(new JsonObject().put("endpoint", "http://x"), Map.of()))
      .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.endpoint");
  }

  @Test
  @DisplayName("OTEL_BSP_SCHEDULE_DELAY sets the export interval; anything else keeps the SDK's 5 s")
  void scheduleDelay() {
    assertThat(Tracing.scheduleDelayMillis(null)).isEqualTo(5000);
    assertThat(Tracing.scheduleDelayMillis("200")).isEqualTo(200);
    assertThat(Tracing.scheduleDelayMillis("soon")).isEqualTo(5000);
    assertThat(Tracing.scheduleDelayMillis("0")).isEqualTo(5000);
  }
}
