package io.herald.common.tracing;

import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * The {@code tracing} section: OpenTelemetry spans of publishes, appends and fan-outs,
 * exported over OTLP/HTTP. Off unless an endpoint is configured (here or in the standard
 * {@code OTEL_EXPORTER_OTLP_ENDPOINT}).
 */
public final class TracingOptions {

  /** The section's name. */
  public static final String SECTION = "tracing";
  /** OTLP/HTTP base URL of the collector ({@code /v1/traces} is appended); empty: tracing off. */
  public static final String DEFAULT_OTLP_ENDPOINT = "";
  /** The {@code service.name} of the spans when neither the section nor {@code OTEL_SERVICE_NAME} names one. */
  public static final String DEFAULT_SERVICE_NAME = "herald";
  /** Share of new traces (publishes without a sampled parent) recorded, 0 to 1. */
  public static final double DEFAULT_SAMPLE_RATIO = 1.0;

  private final String otlpEndpoint;
  private final String serviceName;
  private final double sampleRatio;
  /** The section's own values, before the environment's fallbacks ({@link #toJson()}). */
  private final String configuredEndpoint;
  private final String configuredServiceName;

  public TracingOptions() {
    this(new JsonObject(), Map.of());
  }

  /**
   * @param env the environment: {@code OTEL_EXPORTER_OTLP_ENDPOINT} and {@code OTEL_SERVICE_NAME}
   *            apply where the section leaves {@code otlpEndpoint} or {@code serviceName} empty
   * @throws ConfigException naming the first bad key
   */
  public TracingOptions(JsonObject json, Map<String, String> env) {
    ConfigReader r = new ConfigReader(SECTION, json);
    String endpoint = java.util.Objects.requireNonNullElse(r.getOptionalString("otlpEndpoint"), DEFAULT_OTLP_ENDPOINT).trim();
    configuredEndpoint = endpoint;
    if (endpoint.isEmpty()) {
      endpoint = env.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "").trim();
    }
    if (!endpoint.isEmpty() && !(endpoint.startsWith("http://") || endpoint.startsWith("https://"))) {
      throw new ConfigException(r.key("otlpEndpoint"), "must be an http:// or https:// URL (or empty: tracing off), not \"" + endpoint + "\"");
    }
    otlpEndpoint = endpoint;
    String name = java.util.Objects.requireNonNullElse(r.getOptionalString("serviceName"), "").trim();
    configuredServiceName = name;
    if (name.isEmpty()) {
      name = env.getOrDefault("OTEL_SERVICE_NAME", "").trim();
    }
    serviceName = name.isEmpty() ? DEFAULT_SERVICE_NAME : name;
    Object ratio = json.getValue("sampleRatio");
    if (ratio == null) {
      sampleRatio = DEFAULT_SAMPLE_RATIO;
    } else if (ratio instanceof Number n && n.doubleValue() >= 0 && n.doubleValue() <= 1) {
      sampleRatio = n.doubleValue();
    } else if (ratio instanceof String s && parsesRatio(s)) {
      sampleRatio = Double.parseDouble(s.trim()); // from the environment: HERALD_TRACING_SAMPLE_RATIO
    } else {
      throw new ConfigException(r.key("sampleRatio"), "must be a number from 0 to 1");
    }
    rejectUnknown(json, r);
  }

  private static boolean parsesRatio(String s) {
    try {
      double d = Double.parseDouble(s.trim());
      return d >= 0 && d <= 1;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static void rejectUnknown(JsonObject json, ConfigReader r) {
    for (String f : json.fieldNames()) {
      if (!f.equals("otlpEndpoint") && !f.equals("serviceName") && !f.equals("sampleRatio")) {
        throw new ConfigException(r.key(f), "unknown key (known: otlpEndpoint, serviceName, sampleRatio)");
      }
    }
  }

  /** Whether spans are recorded and exported: an endpoint is set. */
  public boolean enabled() { return !otlpEndpoint.isEmpty(); }

  /**
   * {@code otlpEndpoint}: base URL of an OTLP/HTTP receiver (a collector, Jaeger, Tempo), e.g.
   * {@code http://collector:4318}; spans go to {@code <otlpEndpoint>/v1/traces} as protobuf.
   * Empty: {@code OTEL_EXPORTER_OTLP_ENDPOINT}, and when that is unset too tracing is off.
   */
  public String otlpEndpoint() { return otlpEndpoint; }

  /** {@code serviceName}: the spans' {@code service.name}; empty: {@code OTEL_SERVICE_NAME}, else {@value #DEFAULT_SERVICE_NAME}. */
  public String serviceName() { return serviceName; }

  /**
   * {@code sampleRatio}: share of traces started here (a publish without a parent) that are
   * recorded, 0 to 1; a publish with a parent follows its parent's sampled flag. Default 1.
   */
  public double sampleRatio() { return sampleRatio; }

  public JsonObject toJson() {
    return new JsonObject().put("otlpEndpoint", configuredEndpoint).put("serviceName", configuredServiceName).put("sampleRatio", sampleRatio);
  }
}
