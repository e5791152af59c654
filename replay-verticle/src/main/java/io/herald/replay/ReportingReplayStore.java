package io.herald.replay;

import io.herald.common.EventDraft;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Future;

import java.util.List;

/**
 * Optional capability of a {@link ReplayStore}: an append that also says which events it
 * stored and which were idempotent duplicates, so that the replay verticle publishes each
 * stored event exactly once. {@link #append} is defined by it.
 */
public interface ReportingReplayStore extends ReplayStore {

  /** Same contract as {@link #append}, with the stored events told apart. */
  Future<AppendResult> appendReporting(List<EventDraft> drafts);

  @Override
  default Future<List<io.herald.common.Event>> append(List<EventDraft> drafts) {
    return appendReporting(drafts).map(AppendResult::events);
  }
}
