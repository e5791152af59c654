/**
 * The SockJS event-bus bridge ({@code /eventbus}): vertx-web's SockJS handler with Herald's
 * admission, topics and cursors, and its heartbeat.
 */
package io.herald.gateway.sockjs;
