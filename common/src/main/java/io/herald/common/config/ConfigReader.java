package io.herald.common.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads one section of the configuration into typed values, naming the full key in every
 * error. Values may be JSON-typed (from the file) or strings (from environment variables):
 * {@code "8080"} is accepted for an integer, {@code "a,b"} for a list. After reading every
 * key it knows, an options class calls {@link #rejectUnknown()} so that a misspelt key fails
 * the start instead of being ignored.
 */
public final class ConfigReader {

  private final String section;
  private final JsonObject json;
  private final Set<String> read = new HashSet<>();

  public ConfigReader(String section, JsonObject json) {
    this.section = section;
    this.json = json == null ? new JsonObject() : json;
  }

  public String key(String name) {
    return section + "." + name;
  }

  public boolean has(String name) {
    return json.getValue(name) != null;
  }

  public int getInt(String name, int def, int min, int max) {
    long v = getLong(name, def, min, max);
    return (int) v;
  }

  public long getLong(String name, long def, long min, long max) {
    read.add(name);
    Object v = json.getValue(name);
    long value;
    if (v == null) {
      value = def;
    } else if (v instanceof Integer || v instanceof Long) {
      value = ((Number) v).longValue();
    } else if (v instanceof java.math.BigInteger big) {
      if (big.bitLength() > 63) {
        throw new ConfigException(key(name), "must be between " + min + " and " + max + ", got " + big);
      }
      value = big.longValue();
    } else if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
      && Math.abs(n.doubleValue()) < 9.0e15) {
      value = n.longValue();
    } else if (v instanceof String s) {
      try {
        value = Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(key(name), "must be an integer, got \"" + s + "\"");
      }
    } else {
      throw new ConfigException(key(name), "must be an integer, got " + v);
    }
    if (value < min || value > max) {
      throw new ConfigException(key(name), "must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  public boolean getBoolean(String name, boolean def) {
    read.add(name);
    Object v = json.getValue(name);
    if (v == null) {
      return def;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s) {
      if (s.trim().equalsIgnoreCase("true")) return true;
      if (s.trim().equalsIgnoreCase("false")) return false;
    }
    throw new ConfigException(key(name), "must be true or false, got " + v);
  }

  /** A non-empty string. */
  public String getString(String name, String def) {
    read.add(name);
    Object v = json.getValue(name);
    if (v == null) {
      return def;
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw new ConfigException(key(name), "must be a non-empty string, got " + v);
    }
    return s;
  }

  /** A string that may be absent or empty (null when so). */
  public String getOptionalString(String name) {
    read.add(name);
    Object v = json.getValue(name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new ConfigException(key(name), "must be a string, got " + v);
    }
    return s.isBlank() ? null : s;
  }

  public String getOneOf(String name, String def, String... allowed) {
    String v = getString(name, def);
    for (String a : allowed) {
      if (a.equals(v)) {
        return v;
      }
    }
    throw new ConfigException(key(name), "must be one of " + String.join(", ", allowed) + ", got \"" + v + "\"");
  }

  /** A list of non-empty strings: a JSON array, or a comma-separated string. */
  public List<String> getStringList(String name, List<String> def) {
    read.add(name);
    Object v = json.getValue(name);
    if (v == null) {
      return def;
    }
    List<String> out = new ArrayList<>();
    if (v instanceof JsonArray arr) {
      for (Object o : arr) {
        if (!(o instanceof String s) || s.isBlank()) {
          throw new ConfigException(key(name), "must be a list of non-empty strings, got " + arr.encode());
        }
        out.add(s.trim());
      }
    } else if (v instanceof String s) {
      for (String part : s.split(",")) {
        if (!part.isBlank()) {
          out.add(part.trim());
        }
      }
    } else {
      throw new ConfigException(key(name), "must be a list of strings, got " + v);
    }
    return List.copyOf(out);
  }

  /** A nested object, or an empty one. */
  public JsonObject getObject(String name) {
    read.add(name);
    Object v = json.getValue(name);
    if (v == null) {
      return new JsonObject();
    }
    if (!(v instanceof JsonObject o)) {
      throw new ConfigException(key(name), "must be an object, got " + v);
    }
    return o;
  }

  /** Fails on the first key of the section that no getter asked for. */
  public void rejectUnknown() {
    for (String name : json.fieldNames()) {
      if (!read.contains(name)) {
        throw new ConfigException(key(name), "unknown key (known: " + String.join(", ", new java.util.TreeSet<>(read)) + ")");
      }
    }
  }
}
