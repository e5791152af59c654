/**
 * The gateway role: the verticle, its options and statistics, and what every transport shares:
 * admission of a request into a stream ({@link io.herald.gateway.SseGateway}, the front door of
 * every transport) and the transport-independent stream with its resume and replay
 * ({@link io.herald.gateway.Connection}). Transports live in {@code sse}, {@code websocket},
 * {@code poll} and {@code sockjs}; admission and auth in {@code admission}; topic fan-out in
 * {@code fanout}.
 */
package io.herald.gateway;
