package io.herald.notifier;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The per-credential publish limits of one notifier instance, checked together before a
 * publish is parsed further: events per second ({@code publishRatePerKey},
 * {@code publishBurst}), body bytes per second ({@code publishBytesPerSecondPerKey}) and topics
 * new to the credential per minute ({@code newTopicsPerMinutePerKey}). A request that breaks
 * any of them takes nothing from any (all or nothing) and is told the longest wait.
 *
 * <p>Each tier of {@code notifier.tiers} has its own limits and buckets; a credential with no
 * configured tier has the top-level ones. Refusals are counted by tier and limit
 * ({@code herald_publisher_tier_refusals_total}) and name a configured tier in their message.
 *
 * <p>A topic is new to a credential when that credential has not published to it among the
 * last {@link #MAX_RECENT_TOPICS} (credential, topic) pairs this instance remembers; the
 * memory is one bounded LRU map for all credentials, so a credential that cycles through more
 * topics than that meets the limit on each of them.
 *
 * <p>Not thread-safe: confined to the notifier instance's event loop, like
 * {@link PublishRateLimiter}.
 */
public final class PublishQuota {

  /** (credential, topic) pairs remembered to tell a new topic from a known one. */
  public static final int MAX_RECENT_TOPICS = 100_000;

  /** A refusal: the seconds to wait and what to tell the publisher. */
  public record Refusal(int retryAfterSeconds, String message) {
  }

  private final NotifierOptions options;
  private final Limits defaults;
  private final Map<String, Limits> tiers = new java.util.HashMap<>();
  private final LinkedHashMap<String, Boolean> recent;

  /** The buckets of one tier (null where its limit is off). */
  private static final class Limits {
    final NotifierOptions.PublisherTier tier;
    final PublishRateLimiter events;
    final PublishRateLimiter bytes;
    final PublishRateLimiter newTopics;
    final int bytesBurst;

    Limits(NotifierOptions.PublisherTier tier, NotifierOptions options, LongSupplier nanoClock) {
      this.tier = tier;
      this.events = tier.publishRatePerKey() > 0
        ? new PublishRateLimiter(tier.publishRatePerKey(), tier.publishBurst(), PublishRateLimiter.MAX_BUCKETS, nanoClock)
        : null;
      int bps = tier.publishBytesPerSecondPerKey();
      this.bytesBurst = (int) Math.min(Integer.MAX_VALUE, Math.max(2L * bps, options.maxBodyBytes()));
      this.bytes = bps > 0 ? new PublishRateLimiter(bps, bytesBurst, PublishRateLimiter.MAX_BUCKETS, nanoClock) : null;
      int perMinute = tier.newTopicsPerMinutePerKey();
      this.newTopics = perMinute > 0
        ? new PublishRateLimiter(perMinute / 60.0, perMinute, PublishRateLimiter.MAX_BUCKETS, nanoClock)
        : null;
    }

    /** " (tier pro)" for a configured tier, "" for the defaults. */
    String suffix() {
      return tier.isDefault() ? "" : " (tier " + tier.name() + ")";
    }
  }

  public PublishQuota(NotifierOptions options) {
    this(options, System::nanoTime, MAX_RECENT_TOPICS);
  }

  PublishQuota(NotifierOptions options, LongSupplier nanoClock, int maxRecentTopics) {
    this.options = options;
    this.defaults = new Limits(options.defaultTier(), options, nanoClock);
    for (NotifierOptions.PublisherTier t : options.tiers().values()) {
      tiers.put(t.name(), new Limits(t, options, nanoClock));
    }
    this.recent = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > maxRecentTopics;
      }
    };
  }

  /** {@link #admit(String, String, JsonObject, long)} with the default limits. */
  public Refusal admit(String publisher, JsonObject body, long bodyBytes) {
    return admit(publisher, null, body, bodyBytes);
  }

  /** {@link #admit(String, String, JsonObject, long)} for an authenticated publisher, with its tier. */
  public Refusal admit(PublisherAuth.Grant grant, JsonObject body, long bodyBytes) {
    return admit(grant.publisher(), grant.tier(), body, bodyBytes);
  }

  /**
   * Takes what {@code body} ({@code bodyBytes} long) costs from {@code publisher}'s limits, those
   * of {@code tier} (a configured tier, else the defaults): null when admitted, else the refusal
   * and nothing taken.
   */
  public Refusal admit(String publisher, String tier, JsonObject body, long bodyBytes) {
    Limits l = tier == null ? defaults : tiers.getOrDefault(tier, defaults);
    PublishRateLimiter events = l.events;
    PublishRateLimiter bytes = l.bytes;
    PublishRateLimiter newTopics = l.newTopics;
    int eventCost = 1;
    if (PublishParser.isBatch(body) && body.getValue("events") instanceof JsonArray list) {
      eventCost = Math.max(1, Math.min(list.size(), options.maxBatchSize()));
    }
    int wait = 0;
    String why = null;
    if (events != null) {
      wait = events.acquire(publisher, eventCost);
      if (wait > 0) {
        return refused(l, "events", new Refusal(wait, "more than " + l.tier.publishRatePerKey() + " events per second (burst "
          + l.tier.publishBurst() + ") from this publisher" + l.suffix() + ": retry in " + wait + " s"));
      }
    }
    int byteCost = (int) Math.max(1, Math.min(bodyBytes, l.bytesBurst));
    if (bytes != null) {
      wait = bytes.acquire(publisher, byteCost);
      if (wait > 0) {
        refundEvents(events, publisher, eventCost);
        return refused(l, "bytes", new Refusal(wait, "more than " + l.tier.publishBytesPerSecondPerKey()
          + " bytes per second from this publisher" + l.suffix() + ": retry in " + wait + " s"));
      }
    }
    List<String> fresh = null;
    if (newTopics != null) {
      fresh = new ArrayList<>();
      for (String t : topics(body)) {
        String k = publisher + '\u0000' + t;
        if (!recent.containsKey(k) && !fresh.contains(k)) {
          fresh.add(k);
        }
      }
      if (!fresh.isEmpty()) {
        wait = newTopics.acquire(publisher, fresh.size());
        if (wait > 0) {
          refundEvents(events, publisher, eventCost);
          if (bytes != null) {
            bytes.refund(publisher, byteCost);
          }
          return refused(l, "new_topics", new Refusal(wait, "more than " + l.tier.newTopicsPerMinutePerKey()
            + " new topics per minute from this publisher" + l.suffix() + ": retry in " + wait + " s"));
        }
      }
      for (String k : fresh) {
        recent.put(k, Boolean.TRUE);
      }
    }
    return null;
  }

  /** (credential, topic) pairs remembered now; at most {@link #MAX_RECENT_TOPICS}. */
  int recentTopics() {
    return recent.size();
  }

  private static void refundEvents(PublishRateLimiter events, String publisher, int cost) {
    if (events != null) {
      events.refund(publisher, cost);
    }
  }

  /** Counts a refusal by tier and limit ({@code events}, {@code bytes}, {@code new_topics}). */
  private static Refusal refused(Limits l, String limit, Refusal refusal) {
    io.micrometer.core.instrument.Counter.builder("herald_publisher_tier_refusals")
      .description("Publishes refused by a per-credential limit, by publisher tier (configured names and default) and limit")
      .tag("tier", l.tier.name()).tag("limit", limit)
      .register(io.herald.common.admin.HeraldMetrics.get().registry()).increment();
    return refusal;
  }

  /** The topic names a body names, without validating them (the parser does), bounded by the batch and topic limits. */
  private List<String> topics(JsonObject body) {
    List<String> out = new ArrayList<>();
    if (PublishParser.isBatch(body) && body.getValue("events") instanceof JsonArray list) {
      for (int i = 0; i < Math.min(list.size(), options.maxBatchSize()); i++) {
        if (list.getValue(i) instanceof JsonObject e) {
          addTopics(e, out);
        }
      }
    } else {
      addTopics(body, out);
    }
    return out;
  }

  private void addTopics(JsonObject event, List<String> out) {
    if (event.getValue("topic") instanceof String t) {
      out.add(t);
    } else if (event.getValue("topics") instanceof JsonArray ts) {
      for (int i = 0; i < Math.min(ts.size(), options.maxTopicsPerEvent()); i++) {
        if (ts.getValue(i) instanceof String t) {
          out.add(t);
        }
      }
    }
  }
}
