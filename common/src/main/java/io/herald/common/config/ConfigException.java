package io.herald.common.config;

/** A configuration value that cannot be used; the message names the key, e.g. {@code gateway.port}. */
public final class ConfigException extends RuntimeException {

  private final String key;

  public ConfigException(String key, String problem) {
    super(key + ": " + problem);
    this.key = key;
  }

  /** The full dotted key, e.g. {@code gateway.port}. */
  public String key() {
    return key;
  }
}
