package io.herald.notifier;

import io.herald.common.TopicPattern;

import java.util.ArrayList;
import java.util.List;

/**
 * The topics a publisher may publish to: a set of {@link TopicPattern}s (exact names, {@code *}
 * within a segment, {@code {sub}} for a JWT's subject: the same syntax as the subscribers'
 * {@code topics} claim). Immutable and thread-safe.
 */
public final class TopicPatterns {

  /** Allows every topic: the grant of an unrestricted publisher key. */
  public static final TopicPatterns ANY = new TopicPatterns(List.of(), null, true);

  private final List<TopicPattern> patterns;
  private final String subject;
  private final boolean any;

  private TopicPatterns(List<TopicPattern> patterns, String subject, boolean any) {
    this.patterns = patterns;
    this.subject = subject;
    this.any = any;
  }

  /** True when {@code pattern} is a well-formed topic pattern (may contain {@code {sub}}). */
  public static boolean isValid(String pattern) {
    try {
      TopicPattern.compile(pattern);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * The patterns, with {@code {sub}} standing for {@code subject}; a malformed pattern is
   * dropped (it allows nothing), and so, in effect, is one naming {@code {sub}} without a subject.
   */
  public static TopicPatterns of(List<String> patterns, String subject) {
    List<TopicPattern> out = new ArrayList<>(patterns.size());
    for (String p : patterns) {
      if (isValid(p)) {
        out.add(TopicPattern.compile(p));
      }
    }
    return new TopicPatterns(List.copyOf(out), subject, false);
  }

  /** True when {@code topic} matches one of the patterns. */
  public boolean allows(String topic) {
    if (any) {
      return true;
    }
    for (TopicPattern p : patterns) {
      if (p.matches(topic, subject)) {
        return true;
      }
    }
    return false;
  }

  /** The first of {@code topics} not allowed, or null when all are. */
  public String firstDenied(Iterable<String> topics) {
    for (String t : topics) {
      if (!allows(t)) {
        return t;
      }
    }
    return null;
  }
}
