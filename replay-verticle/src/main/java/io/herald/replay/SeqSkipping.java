package io.herald.replay;

import io.herald.common.Position;
import io.vertx.core.Future;

import java.util.Collection;
import java.util.Map;

/**
 * A store that can leave a hole in topics' sequences: one seq that never gets an event. A read
 * from before the hole cannot go past it without a {@code reset}, so a store marks with it the
 * place where events went elsewhere (to an outage store) and a resume from before must not
 * pass over them silently. A skip also takes log positions without entries (one per call, or
 * per chunk of topics), so that a log reader ({@code readLog}) from before gets a reset too.
 */
interface SeqSkipping {

  /** Takes the next seq of each topic without storing an event; answers the hole of each. */
  Future<Map<String, Position>> skip(Collection<String> topics);
}
