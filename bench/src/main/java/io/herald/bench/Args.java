package io.herald.bench;

import java.util.HashMap;
import java.util.Map;

/** {@code --key value} command-line options, with typed getters and defaults. */
final class Args {

  private final Map<String, String> values = new HashMap<>();

  Args(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("expected --option, got " + a);
      }
      String key = a.substring(2);
      int eq = key.indexOf('=');
      if (eq > 0) {
        values.put(key.substring(0, eq), key.substring(eq + 1));
      } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
        values.put(key, argv[++i]);
      } else {
        values.put(key, "true");
      }
    }
  }

  String str(String key, String def) {
    return values.getOrDefault(key, def);
  }

  int integer(String key, int def) {
    String v = values.get(key);
    return v == null ? def : Integer.parseInt(v.replace("_", ""));
  }

  double dbl(String key, double def) {
    String v = values.get(key);
    return v == null ? def : Double.parseDouble(v);
  }

  boolean flag(String key, boolean def) {
    String v = values.get(key);
    return v == null ? def : Boolean.parseBoolean(v);
  }

  boolean has(String key) {
    return values.containsKey(key);
  }
}
