package io.herald.bench;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * What differs between the servers under test: where a client subscribes, how an event is
 * published, and how a stream says it is subscribed.
 */
enum Target {

  /** Herald: {@code GET /events?topic=}, {@code POST /publish} and {@code /publish/batch}, {@code herald.ready}. */
  HERALD {
    @Override
    String subscribePath(String topic) {
      return "/events?topic=" + enc(topic);
    }

    @Override
    boolean readyEvent() {
      return true;
    }

    @Override
    int maxBatch() {
      return 100;
    }
  },

  /** nginx + Nchan: {@code GET /sub?id=} (EventSource), {@code POST /pub?id=} with the raw body. */
  NCHAN {
    @Override
    String subscribePath(String topic) {
      return "/sub?id=" + enc(topic);
    }

    @Override
    boolean readyEvent() {
      return false;
    }

    @Override
    int maxBatch() {
      return 1;
    }
  };

  abstract String subscribePath(String topic);

  /** True when the stream sends an event once subscribed; otherwise the 200 answer is taken as subscribed. */
  abstract boolean readyEvent();

  /** Most events in one publish request. */
  abstract int maxBatch();

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
