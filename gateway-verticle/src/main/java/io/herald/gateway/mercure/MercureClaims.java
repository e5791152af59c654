package io.herald.gateway.mercure;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * What a verified Mercure token grants: its selectors for publishing and for subscribing to
 * private updates, the subscriber's payload, its subject and expiry. Built by
 * {@link MercureAuth#verify}; {@link #ANONYMOUS} stands for a subscriber without a token (it may
 * read public updates only, when the hub allows anonymous subscribers).
 *
 * @param form        which claim the rights came from
 * @param subject     the {@code sub} claim, or null
 * @param expiresAt   {@code exp} in epoch milliseconds, or -1 when the token has none
 * @param publish     selectors of the topics the token may publish to
 * @param subscribe   selectors of the topics whose private updates the token may read
 * @param payload     the 0.x {@code mercure.payload}, or the {@code payload} of the first
 *                    {@code subscribe} authorization detail; null when none
 * @param payloads    the {@code payload} of each {@code subscribe} authorization detail that has
 *                    one, with its topics, in token order (see {@link #payloadFor})
 */
public record MercureClaims(Form form, String subject, long expiresAt, List<MercureSelector> publish,
                            List<MercureSelector> subscribe, JsonObject payload, List<PayloadRule> payloads) {

  /** A {@code subscribe} authorization detail's payload and the matchers it applies to. */
  public record PayloadRule(List<MercureSelector> topics, JsonObject payload) {
  }

  /**
   * The payload of a subscription whose matcher is {@code matcher} (the query parameter's value):
   * that of the first {@code subscribe} detail one of whose topics matches the matcher string
   * read as a topic (the specification's rule), else {@link #payload()} (the 0.x
   * {@code mercure.payload}); null when none.
   */
  public JsonObject payloadFor(String matcher) {
    for (PayloadRule r : payloads) {
      for (MercureSelector s : r.topics()) {
        if (s.text().equals(matcher) || s.matches(matcher)) {
          return r.payload();
        }
      }
    }
    return form == Form.ACCESS_TOKEN ? null : payload;
  }

  /** Where a token's rights are written. */
  public enum Form {
    /** No token. */
    ANONYMOUS,
    /** The {@code mercure} claim: {@code publish}/{@code subscribe} of bare selectors (0.x) or matcher objects (hub 1.0). */
    MERCURE_CLAIM,
    /** An RFC 9068 access token ({@code typ: at+jwt}) with RFC 9396 {@code authorization_details} of type {@code mercure}. */
    ACCESS_TOKEN
  }

  /** A subscriber without a token. */
  public static final MercureClaims ANONYMOUS = new MercureClaims(Form.ANONYMOUS, null, -1, List.of(), List.of(), null, List.of());

  /** May the token publish to {@code topic}? */
  public boolean canPublish(String topic) {
    return any(publish, topic);
  }

  /** May the token read private updates of {@code topic}? */
  public boolean canSubscribe(String topic) {
    return any(subscribe, topic);
  }

  private static boolean any(List<MercureSelector> selectors, String topic) {
    for (MercureSelector s : selectors) {
      if (s.matches(topic)) {
        return true;
      }
    }
    return false;
  }
}
