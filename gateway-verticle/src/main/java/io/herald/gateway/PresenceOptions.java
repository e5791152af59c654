package io.herald.gateway;

import io.herald.common.config.ConfigException;
import io.herald.common.config.ConfigReader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The presence keys of the {@code gateway} section: the join/leave debounce, listing limits,
 * the token claims and the keys of the presence API. Part of {@link GatewayOptions}.
 */
public final class PresenceOptions {

  /**
   * Seconds a closed connection stays present before its member's {@code leave}: a reconnect of
   * the same member (token subject, or anonymous client address) within it is neither a
   * {@code leave} nor a {@code join}, and a long-poll client polling again within it stays present.
   * 0: leaves at once.
   */
  public static final int DEFAULT_PRESENCE_DEBOUNCE_SECONDS = 5;
  /** Above this many entries on a topic, {@code GET /presence} answers the count only ({@code "listed": false}). */
  public static final int DEFAULT_PRESENCE_MAX_LISTED = 1000;
  /** The subscriber token claim listing the topics (names and patterns) whose presence it may see. */
  public static final String DEFAULT_PRESENCE_CLAIM = "presence";
  /** The subscriber token claim whose value is shown as the connection's {@code info} in presence. */
  public static final String DEFAULT_PRESENCE_INFO_CLAIM = "presence_info";
  /** Largest presence {@code info}, bytes of its JSON; a larger claim is left out. */
  public static final int DEFAULT_PRESENCE_MAX_INFO_BYTES = 256;
  /**
   * Publisher keys that may read the presence API (as {@code Authorization: Bearer} or
   * {@code X-Herald-Key}): the key itself or {@code sha256:<hex>}, like {@code notifier.publisherKeys}.
   * Empty: only subscribers whose token grants presence (and anyone with {@code authMode} none).
   */
  public static final List<String> DEFAULT_PRESENCE_KEYS = List.of();

  private final int presenceDebounceSeconds;
  private final int presenceMaxListed;
  private final String presenceClaim;
  private final String presenceInfoClaim;
  private final int presenceMaxInfoBytes;
  private final List<String> presenceKeys;

  PresenceOptions(ConfigReader r) {
    presenceDebounceSeconds = r.getInt("presenceDebounceSeconds", DEFAULT_PRESENCE_DEBOUNCE_SECONDS, 0, 300);
    presenceMaxListed = r.getInt("presenceMaxListed", DEFAULT_PRESENCE_MAX_LISTED, 0, 1_000_000);
    presenceClaim = r.getString("presenceClaim", DEFAULT_PRESENCE_CLAIM);
    presenceInfoClaim = r.getString("presenceInfoClaim", DEFAULT_PRESENCE_INFO_CLAIM);
    presenceMaxInfoBytes = r.getInt("presenceMaxInfoBytes", DEFAULT_PRESENCE_MAX_INFO_BYTES, 0, 4096);
    presenceKeys = r.getStringList("presenceKeys", DEFAULT_PRESENCE_KEYS);
    for (String k : presenceKeys) {
      if (k.isEmpty() || k.startsWith("sha256:") && !k.substring(7).matches("[0-9a-fA-F]{64}")) {
        throw new ConfigException(r.key("presenceKeys"), "every entry is a key or sha256:<64 hex digits>");
      }
    }
  }

  /** Seconds a closed connection stays present (the join/leave debounce). */
  public int presenceDebounceSeconds() { return presenceDebounceSeconds; }
  /** Most entries {@code GET /presence} lists for one topic; above, the count only. */
  public int presenceMaxListed() { return presenceMaxListed; }
  /** The token claim granting presence on topics. */
  public String presenceClaim() { return presenceClaim; }
  /** The token claim shown as presence {@code info}. */
  public String presenceInfoClaim() { return presenceInfoClaim; }
  public int presenceMaxInfoBytes() { return presenceMaxInfoBytes; }
  /** Publisher keys (or {@code sha256:<hex>} digests) accepted by the presence API. */
  public List<String> presenceKeys() { return presenceKeys; }

  JsonObject toJson() {
    return new JsonObject()
      .put("presenceDebounceSeconds", presenceDebounceSeconds)
      .put("presenceMaxListed", presenceMaxListed)
      .put("presenceClaim", presenceClaim)
      .put("presenceInfoClaim", presenceInfoClaim)
      .put("presenceMaxInfoBytes", presenceMaxInfoBytes)
      .put("presenceKeys", new JsonArray(presenceKeys));
  }
}
