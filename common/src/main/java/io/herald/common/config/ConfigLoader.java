package io.herald.common.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Loads Herald's configuration: one JSON document with a section per role ({@code gateway},
 * {@code notifier}, {@code replay}, {@code cluster}, {@code admin}), from a file named by {@code --config} or
 * {@code HERALD_CONFIG}, else the defaults packaged from {@code config/herald.json}. Environment
 * variables override single keys: {@code HERALD_<SECTION>_<KEY>} with the key in upper snake
 * case, e.g. {@code HERALD_GATEWAY_PORT=9090} or {@code HERALD_GATEWAY_HEARTBEAT_SECONDS=5}.
 */
public final class ConfigLoader {

  /** The sections a configuration may have. */
  public static final Set<String> SECTIONS = Set.of("gateway", "notifier", "replay", "cluster", "admin", "tracing");

  /** Classpath name of the packaged defaults (from the {@code config} module). */
  public static final String DEFAULT_RESOURCE = "herald.json";

  private ConfigLoader() {
  }

  /**
   * Reads the file at {@code path}, or the packaged defaults when {@code path} is null, then
   * applies the environment overrides. Unknown sections fail with the section's name.
   */
  public static JsonObject load(String path, Map<String, String> env) {
    JsonObject root = path == null ? readResource(DEFAULT_RESOURCE) : readFile(path);
    for (String section : root.fieldNames()) {
      if (!SECTIONS.contains(section)) {
        throw new ConfigException(section, "unknown section (known: " + String.join(", ", new java.util.TreeSet<>(SECTIONS)) + ")");
      }
      if (!(root.getValue(section) instanceof JsonObject)) {
        throw new ConfigException(section, "must be an object");
      }
    }
    return applyEnv(root, env);
  }

  /** Returns a copy of {@code root} with every {@code HERALD_<SECTION>_<KEY>} variable applied. */
  public static JsonObject applyEnv(JsonObject root, Map<String, String> env) {
    JsonObject out = root.copy();
    for (Map.Entry<String, String> e : env.entrySet()) {
      String name = e.getKey();
      if (!name.startsWith("HERALD_")) {
        continue;
      }
      for (String section : SECTIONS) {
        String prefix = "HERALD_" + section.toUpperCase(Locale.ROOT) + "_";
        if (name.startsWith(prefix) && name.length() > prefix.length()) {
          String key = camel(name.substring(prefix.length()));
          JsonObject sec = out.getJsonObject(section);
          if (sec == null) {
            sec = new JsonObject();
            out.put(section, sec);
          }
          sec.put(key, e.getValue());
        }
      }
    }
    return out;
  }

  /** {@code HEARTBEAT_SECONDS} to {@code heartbeatSeconds}. */
  static String camel(String upperSnake) {
    StringBuilder sb = new StringBuilder();
    boolean upper = false;
    for (char c : upperSnake.toLowerCase(Locale.ROOT).toCharArray()) {
      if (c == '_') {
        upper = true;
      } else {
        sb.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return sb.toString();
  }

  /** The environment variable that overrides {@code section.key}. */
  public static String envName(String section, String key) {
    StringBuilder sb = new StringBuilder("HERALD_").append(section.toUpperCase(Locale.ROOT)).append('_');
    for (char c : key.toCharArray()) {
      if (Character.isUpperCase(c)) {
        sb.append('_');
      }
      sb.append(Character.toUpperCase(c));
    }
    return sb.toString();
  }

  private static JsonObject readFile(String path) {
    try {
      return parse(Files.readString(Path.of(path), StandardCharsets.UTF_8), path);
    } catch (IOException e) {
      throw new ConfigException("config", "cannot read " + path + ": " + e.getMessage());
    }
  }

  private static JsonObject readResource(String name) {
    try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        return new JsonObject();
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "classpath:" + name);
    } catch (IOException e) {
      throw new ConfigException("config", "cannot read classpath:" + name + ": " + e.getMessage());
    }
  }

  private static JsonObject parse(String text, String where) {
    try {
      return new JsonObject(text);
    } catch (DecodeException e) {
      throw new ConfigException("config", where + " is not valid JSON: " + e.getMessage());
    }
  }
}
