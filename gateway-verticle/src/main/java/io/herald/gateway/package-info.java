/**
 * The gateway role: the verticle, its options and statistics, and what every transport shares:
 * admission of a request into a stream ({@link io.herald.gateway.SseGateway}, the front door of
 * every transport, with its request parsing, admission, opening and CORS in
 * {@code SubscribeParams}, {@code StreamAdmission}, {@code StreamOpener} and {@code GatewayCors})
 * and the transport-independent stream with its resume and replay
 * ({@link io.herald.gateway.Connection}, with {@code TopicPositions}, {@code ConnectionResume},
 * {@code ConnectionWrites} and {@code UpdateFilter}). Transports live in {@code sse}, {@code websocket},
 * {@code poll} and {@code sockjs}; admission and auth in {@code admission}; topic fan-out in
 * {@code fanout}.
 */
package io.herald.gateway;
