/**
 * The long-polling transport ({@code GET /poll}): one page of events per request.
 */
package io.herald.gateway.poll;
