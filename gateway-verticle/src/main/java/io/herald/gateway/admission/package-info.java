/**
 * Who may open a stream, and how many: subscriber authentication and topic grants
 * ({@link io.herald.gateway.admission.SubscriberAuth}), subscriber tiers and their limits
 * ({@link io.herald.gateway.admission.SubscriberTiers}), connection and reconnect limits per
 * address and user ({@link io.herald.gateway.admission.ConnectionLimiter}), and their
 * cluster-wide count ({@link io.herald.gateway.admission.ClusterUsers}). Transport-independent:
 * every transport admits through these before it opens a stream.
 */
package io.herald.gateway.admission;
