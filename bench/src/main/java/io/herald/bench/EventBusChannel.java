package io.herald.bench;

import io.herald.common.Addresses;
import io.herald.common.HeraldLauncher;
import io.herald.common.config.ClusterOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/**
 * Publishes over the clustered event bus as a JVM producer would: the load tool joins the hub's
 * Hazelcast cluster (the same {@code cluster} options and {@link HeraldLauncher#clusteredVertx}
 * as the roles, so start the hub with {@code --cluster}: {@code bench/herald.sh
 * standalone-cluster} or {@code cluster}) and sends every publish body as a {@link JsonObject}
 * request to {@code herald.publish}; the reply (or reply failure) is the answer. The tool is a
 * cluster member while it runs (it registers no consumer Herald uses) and leaves on close.
 */
final class EventBusChannel implements PublishChannel {

  private final Vertx clustered;
  private final DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(30_000);

  private EventBusChannel(Vertx clustered) {
    this.clustered = clustered;
  }

  /** Joins the cluster {@code cluster} describes (the {@code cluster} section of Herald's config). */
  static Future<EventBusChannel> join(JsonObject cluster) {
    return HeraldLauncher.clusteredVertx(new ClusterOptions(cluster.copy().put("enabled", true))).map(EventBusChannel::new);
  }

  @Override
  public Future<Void> send(int lane, String body) {
    return clustered.eventBus().request(Addresses.PUBLISH, new JsonObject(body), delivery).mapEmpty();
  }

  @Override
  public Future<Void> close() {
    return clustered.close();
  }
}
