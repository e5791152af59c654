package io.herald.common.config;

/** A configuration value that cannot be used; the message names the key, e.g. {@code gateway.port}. */
public final class ConfigException extends RuntimeException {

  private final String key;

  public ConfigException(String key, String problem) {
    super(key + ": " + problem);
    this.key = key;
  }

  /**
   * The error of a server that could not listen on {@code host:port}, set by {@code section.key}:
   * a port in use names the port, the key and its environment variable, so the one line the
   * launcher prints says what to change; any other cause is kept as it is.
   */
  public static Throwable listenFailed(String section, String key, String host, int port, Throwable cause) {
    String message = String.valueOf(cause.getMessage());
    if (cause instanceof java.net.BindException || message.contains("Address already in use") || message.contains("error(-98)")) {
      return new ConfigException(section + "." + key, "port " + port + " on " + host
        + " is already in use by another process: stop it, or set another port with " + section + "." + key
        + " (" + ConfigLoader.envName(section, key) + ")");
    }
    return cause;
  }

  /** The full dotted key, e.g. {@code gateway.port}. */
  public String key() {
    return key;
  }
}
