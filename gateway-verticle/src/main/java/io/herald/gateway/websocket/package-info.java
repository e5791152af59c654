/**
 * The WebSocket transport ({@code /ws}): the stream, the RFC 6455 message-size cap with its
 * closing handshake, and permessage-deflate shared across streams.
 */
package io.herald.gateway.websocket;
