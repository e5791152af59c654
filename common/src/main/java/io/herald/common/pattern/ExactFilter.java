package io.herald.common.pattern;

/** One topic, compared as a string. */
record ExactFilter(String source) implements TopicFilter {

  @Override
  public boolean matches(String topic) {
    return source.equals(topic);
  }

  @Override
  public Kind kind() {
    return Kind.EXACT;
  }

  @Override
  public String literalPrefix() {
    return source;
  }

  @Override
  public String toString() {
    return source;
  }
}
