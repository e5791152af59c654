package io.herald.gateway.presence;

import io.vertx.core.json.JsonObject;

/**
 * One connection on one topic: who (the token's {@code subject}, null when anonymous), which
 * connection ({@code connection}, unique within its {@code node}), over which {@code transport},
 * on which gateway {@code node}, {@code since} when (epoch ms), and the client's {@code info}
 * from the token's presence info claim (null when there is none; at most
 * {@code gateway.presenceMaxInfoBytes} encoded).
 */
public record PresenceEntry(String topic, String subject, long connection, String transport, String node, long since,
                            JsonObject info) {

  /** The entry's JSON in the API and in the store. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("topic", topic).put("subject", subject).put("anonymous", subject == null)
      .put("connection", node + "/" + connection).put("transport", transport).put("node", node).put("since", since);
    if (info != null) {
      json.put("info", info);
    }
    return json;
  }
}
