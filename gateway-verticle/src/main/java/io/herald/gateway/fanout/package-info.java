/**
 * From a topic to the streams that hold it: one event-bus consumer per locally held topic
 * ({@link io.herald.gateway.fanout.Subscriptions}), per-topic order and gap filling
 * ({@link io.herald.gateway.fanout.TopicChannel}), and the event encoded once and shared by
 * every stream ({@link io.herald.gateway.fanout.EncodedEvent}). Streams implement
 * {@link io.herald.gateway.fanout.Subscriber}.
 */
package io.herald.gateway.fanout;
