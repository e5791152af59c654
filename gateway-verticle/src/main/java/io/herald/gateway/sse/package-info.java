/**
 * The Server-Sent Events transport ({@code GET /events}): the stream, its frames, the raw chunk
 * path below Vert.x's HTTP encoder, and gzip.
 */
package io.herald.gateway.sse;
