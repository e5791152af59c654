/**
 * Presence: who is subscribed to each topic, cluster-wide, with debounced {@code join} and
 * {@code leave} frames for the subscribers that ask for them and an HTTP API for the list and
 * the counts. {@link io.herald.gateway.presence.PresenceRegistry} is the pure logic (entries,
 * debounce), {@link io.herald.gateway.presence.PresenceStore} the cluster-wide storage,
 * {@link io.herald.gateway.presence.Presence} the process-wide glue and
 * {@link io.herald.gateway.presence.PresenceWatch} the per-instance delivery of the frames.
 */
package io.herald.gateway.presence;
