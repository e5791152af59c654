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
  private final PublishRateLimiter events;
  private final PublishRateLimiter bytes;
  private final PublishRateLimiter newTopics;
  private final int bytesBurst;
  private final LinkedHashMap<String, Boolean> recent;

  public PublishQuota(NotifierOptions options) {
    this(options, System::nanoTime, MAX_RECENT_TOPICS);
  }

  PublishQuota(NotifierOptions options, LongSupplier nanoClock, int maxRecentTopics) {
    this.options = options;
    this.events = options.publishRatePerKey() > 0
      ? new PublishRateLimiter(options.publishRatePerKey(), options.publishBurst(), PublishRateLimiter.MAX_BUCKETS, nanoClock)
      : null;
    int bps = options.publishBytesPerSecondPerKey();
    this.bytesBurst = (int) Math.min(Integer.MAX_VALUE, Math.max(2L * bps, options.maxBodyBytes()));
    this.bytes = bps > 0 ? new PublishRateLimiter(bps, bytesBurst, PublishRateLimiter.MAX_BUCKETS, nanoClock) : null;
    int perMinute = options.newTopicsPerMinutePerKey();
    this.newTopics = perMinute > 0
      ? new PublishRateLimiter(perMinute / 60.0, perMinute, PublishRateLimiter.MAX_BUCKETS, nanoClock)
      : null;
    this.recent = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > maxRecentTopics;
      }
    };
  }

  /**
   * Takes what {@code body} ({@code bodyBytes} long) costs from {@code publisher}'s limits:
   * null when admitted, else the refusal and nothing taken.
   */
  public Refusal admit(String publisher, JsonObject body, long bodyBytes) {
    int eventCost = 1;
    if (PublishParser.isBatch(body) && body.getValue("events") instanceof JsonArray list) {
      eventCost = Math.max(1, Math.min(list.size(), options.maxBatchSize()));
    }
    int wait = 0;
    String why = null;
    if (events != null) {
      wait = events.acquire(publisher, eventCost);
      if (wait > 0) {
        return new Refusal(wait, "more than " + options.publishRatePerKey() + " events per second (burst "
          + options.publishBurst() + ") from this publisher: retry in " + wait + " s");
      }
    }
    int byteCost = (int) Math.max(1, Math.min(bodyBytes, bytesBurst));
    if (bytes != null) {
      wait = bytes.acquire(publisher, byteCost);
      if (wait > 0) {
        refundEvents(publisher, eventCost);
        return new Refusal(wait, "more than " + options.publishBytesPerSecondPerKey()
          + " bytes per second from this publisher: retry in " + wait + " s");
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
          refundEvents(publisher, eventCost);
          if (bytes != null) {
            bytes.refund(publisher, byteCost);
          }
          return new Refusal(wait, "more than " + options.newTopicsPerMinutePerKey()
            + " new topics per minute from this publisher: retry in " + wait + " s");
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

  private void refundEvents(String publisher, int cost) {
    if (events != null) {
      events.refund(publisher, cost);
    }
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
