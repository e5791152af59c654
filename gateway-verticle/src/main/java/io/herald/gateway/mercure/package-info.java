/**
 * The Mercure hub at {@code /.well-known/mercure} on the gateway: its options
 * ({@link io.herald.gateway.mercure.MercureOptions}, the {@code gateway.mercure*} keys), its
 * tokens ({@link io.herald.gateway.mercure.MercureAuth}: the 0.x and hub-1.0 {@code mercure}
 * claim and RFC 9068 access tokens, to {@link io.herald.gateway.mercure.MercureClaims} whose
 * selectors are {@link io.herald.common.pattern.TopicFilter}s), RFC 6750 refusals
 * ({@link io.herald.gateway.mercure.MercureError}) and the publish side
 * ({@link io.herald.gateway.mercure.MercurePublish}, handing updates to the notifier on the event
 * bus), the subscribe side ({@link io.herald.gateway.mercure.MercureSubscribe}, streams that are
 * {@link io.herald.gateway.mercure.MercureConnection}s of the gateway), the active subscriptions
 * ({@link io.herald.gateway.mercure.MercureSubscriptions}: subscription events and the
 * subscription API, on the gateway's presence);
 * {@link io.herald.gateway.mercure.MercureHub} mounts the routes.
 */
package io.herald.gateway.mercure;
