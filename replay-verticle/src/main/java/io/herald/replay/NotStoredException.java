package io.herald.replay;

/**
 * A store call that certainly stored nothing: the server refused it, or it never reached the
 * server (no connection). Unlike a timeout or a connection lost mid-call, which leave open
 * whether the server ran the call, an append that failed so may be taken elsewhere without
 * storing the event twice.
 */
final class NotStoredException extends RuntimeException {

  NotStoredException(String message) {
    super(message, null, false, false);
  }
}
