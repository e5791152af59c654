package io.herald.common;

import java.util.Objects;

/**
 * A place in one topic's history: the store epoch and the sequence number of the last event
 * seen there. Sequence 0 means "before the first event". Two positions of different epochs
 * cannot be compared: a changed epoch means the history they belong to was lost or reset.
 */
public record Position(String epoch, long seq) {

  public Position {
    Objects.requireNonNull(epoch, "epoch");
    if (seq < 0) {
      throw new IllegalArgumentException("seq must be >= 0");
    }
  }
}
