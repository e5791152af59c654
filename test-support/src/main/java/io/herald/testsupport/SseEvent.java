package io.herald.testsupport;

/** One dispatched SSE event as a WHATWG EventSource would see it. */
public record SseEvent(String id, String type, String data) {
}
