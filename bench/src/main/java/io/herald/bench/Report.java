package io.herald.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Turns the JSON results of {@link LoadTool} into one self-contained HTML page (inline SVG, no
 * script, nothing fetched): a side-by-side table per scenario with the Herald/Nchan ratio, and
 * charts of latency and throughput over time and of the saturation steps.
 *
 * <pre>java -cp herald-bench.jar io.herald.bench.Report OUT.html RESULT.json...</pre>
 */
public final class Report {

  private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};

  private Report() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: Report OUT.html RESULT.json...");
      System.exit(2);
    }
    List<JsonObject> results = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      JsonObject o = new JsonObject(Files.readString(Path.of(args[i])));
      o.put("file", Path.of(args[i]).getFileName().toString());
      results.add(o);
    }
    Files.writeString(Path.of(args[0]), html(results));
    System.out.println("wrote " + args[0]);
  }

  /** Rows of the comparison table: label and how to read the value from a result. */
  private static final Object[][] ROWS = {
    {"streams ready", (Function<JsonObject, Object>) r -> at(r, "connections", "ready")},
    {"streams failed", (Function<JsonObject, Object>) r -> at(r, "connections", "failed")},
    {"RSS per stream (bytes)", (Function<JsonObject, Object>) r -> at(r, "memory", "rssPerConnectionBytes")},
    {"JVM heap after GC per stream (bytes)", (Function<JsonObject, Object>) r -> at(r, "memory", "heapPerConnectionBytes")},
    {"events expected", (Function<JsonObject, Object>) r -> at(r, "events", "expected")},
    {"events not delivered within the drain (15 s)", (Function<JsonObject, Object>) r -> at(r, "events", "lost")},
    {"duplicates", (Function<JsonObject, Object>) r -> at(r, "events", "duplicates")},
    {"latency p50 (ms)", (Function<JsonObject, Object>) r -> at(r, "latencyMs", "p50")},
    {"latency p99 (ms)", (Function<JsonObject, Object>) r -> at(r, "latencyMs", "p99")},
    {"latency p99.9 (ms)", (Function<JsonObject, Object>) r -> at(r, "latencyMs", "p999")},
    {"latency max (ms)", (Function<JsonObject, Object>) r -> at(r, "latencyMs", "max")},
    {"deliveries/s (received ÷ (publish time + drain))", (Function<JsonObject, Object>) Report::deliveriesPerSecond},
    {"server CPU per delivery (µs)", (Function<JsonObject, Object>) r -> at(r, "cpu", "serverMicrosPerDelivery")},
    {"server + load-tool CPU per delivery (µs)", (Function<JsonObject, Object>) r -> at(r, "cpu", "serverAndClientMicrosPerDelivery")},
    {"whole-machine CPU per delivery (µs)", (Function<JsonObject, Object>) r -> at(r, "cpu", "machineMicrosPerDelivery")},
    {"server cores busy", (Function<JsonObject, Object>) r -> at(r, "cpu", "serverCoresBusy")},
    {"other processes' cores busy (not server, not load tool)", (Function<JsonObject, Object>) r -> at(r, "cpu", "otherProcessesCoresBusy")},
    {"CPU stolen by the hypervisor (cores)", (Function<JsonObject, Object>) r -> at(r, "cpu", "stealCores")},
    {"load-tool cores busy", (Function<JsonObject, Object>) r -> at(r, "cpu", "clientCoresBusy")},
    {"storm: seconds until all caught up", (Function<JsonObject, Object>) r -> at(r, "storm", "secondsUntilAllCaughtUp")},
    {"storm: exact (no loss, dup, reset)", (Function<JsonObject, Object>) r -> at(r, "storm", "exact")},
    {"saturation: deliveries/s at last passing step", (Function<JsonObject, Object>) r -> at(r, "saturation", "deliveriesPerSecond")},
    {"saturation: p99 there (ms)", (Function<JsonObject, Object>) r -> at(r, "saturation", "p99Ms")},
  };

  /** Received events over publish time plus drain (older results divided by publish time only). */
  static Object deliveriesPerSecond(JsonObject r) {
    JsonObject ev = r.getJsonObject("events");
    JsonObject p = r.getJsonObject("params");
    if (ev == null || p == null || r.getJsonObject("throughput") == null) return null;
    double wall = p.getDouble("durationSeconds", 0.0) + ev.getDouble("drainSeconds", 0.0);
    return wall <= 0 ? null : Math.round(ev.getLong("received") / wall);
  }

  static Object at(JsonObject r, String section, String key) {
    JsonObject s = r.getJsonObject(section);
    return s == null ? null : s.getValue(key);
  }

  static String html(List<JsonObject> results) {
    Map<String, List<JsonObject>> groups = new LinkedHashMap<>();
    for (JsonObject r : results) {
      groups.computeIfAbsent(r.getString("group", r.getString("scenario")), k -> new ArrayList<>()).add(r);
    }
    StringBuilder sb = new StringBuilder();
    sb.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Herald benchmark</title><style>")
      .append("body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}")
      .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}")
      .append("svg{border:1px solid #eee;margin:4px}h2{margin-top:2em}.note{color:#555}</style></head><body>")
      .append("<h1>Herald benchmark</h1><p class=note>").append(results.size()).append(" results. Ratio = first / second column.</p>");
    for (Map.Entry<String, List<JsonObject>> g : groups.entrySet()) {
      List<JsonObject> rs = g.getValue();
      sb.append("<h2>").append(esc(g.getKey())).append("</h2><p class=note>")
        .append(esc(rs.get(0).getJsonObject("params", new JsonObject()).encode())).append("</p>");
      sb.append("<table><tr><th></th>");
      for (JsonObject r : rs) sb.append("<th>").append(esc(r.getString("label"))).append("</th>");
      if (rs.size() == 2) sb.append("<th>ratio</th>");
      sb.append("</tr>");
      for (Object[] row : ROWS) {
        @SuppressWarnings("unchecked") Function<JsonObject, Object> f = (Function<JsonObject, Object>) row[1];
        List<Object> vals = rs.stream().map(f).toList();
        if (vals.stream().allMatch(v -> v == null)) continue;
        sb.append("<tr><td>").append(row[0]).append("</td>");
        for (Object v : vals) sb.append("<td>").append(v == null ? "" : esc(String.valueOf(v))).append("</td>");
        if (rs.size() == 2) {
          String ratio = "";
          if (vals.get(0) instanceof Number x && vals.get(1) instanceof Number y && y.doubleValue() != 0) {
            ratio = String.format(Locale.ROOT, "%.2f", x.doubleValue() / y.doubleValue());
          }
          sb.append("<td>").append(ratio).append("</td>");
        }
        sb.append("</tr>");
      }
      sb.append("</table>");
      if (rs.stream().anyMatch(r -> r.getJsonArray("timeline", new JsonArray()).size() > 0)) {
        sb.append(chart("p99 latency per second (ms)", rs, "timeline", "s", "p99"));
        sb.append(chart("deliveries per second", rs, "timeline", "s", "deliveries"));
      }
      if (rs.stream().anyMatch(r -> r.getJsonArray("steps") != null)) {
        sb.append(chart("saturation: p99 (ms) per offered rate (events/s)", rs, "steps", "rate", "latencyMs.p99"));
        sb.append(chart("saturation: deliveries/s per offered rate (events/s)", rs, "steps", "rate", "throughput.deliveriesPerSecond"));
      }
    }
    return sb.append("</body></html>").toString();
  }

  private static double num(JsonObject o, String path) {
    Object v = o;
    for (String p : path.split("\\.")) {
      v = v instanceof JsonObject j ? j.getValue(p) : null;
    }
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  /** A line chart with one series per result, as inline SVG. */
  static String chart(String title, List<JsonObject> rs, String array, String xKey, String yKey) {
    int w = 520;
    int h = 260;
    int l = 60;
    int b = 30;
    double maxX = 0;
    double maxY = 0;
    for (JsonObject r : rs) {
      for (Object o : r.getJsonArray(array, new JsonArray())) {
        JsonObject p = (JsonObject) o;
        maxX = Math.max(maxX, num(p, xKey));
        maxY = Math.max(maxY, num(p, yKey));
      }
    }
    if (maxX <= 0) maxX = 1;
    if (maxY <= 0) maxY = 1;
    maxY *= 1.1;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">", w, h, w, h));
    sb.append("<text x=\"").append(l).append("\" y=\"14\" font-size=\"13\">").append(esc(title)).append("</text>");
    sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", l, h - b, w - 10, h - b));
    sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"24\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", l, l, h - b));
    for (int i = 0; i <= 4; i++) {
      double v = maxY * i / 4;
      double y = (h - b) - (h - b - 24) * i / 4.0;
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>", l - 4, y + 3, fmt(v)));
      double x = l + (w - 10 - l) * i / 4.0;
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>", x, h - b + 14, fmt(maxX * i / 4)));
    }
    int c = 0;
    for (JsonObject r : rs) {
      String color = COLORS[c % COLORS.length];
      StringBuilder pts = new StringBuilder();
      for (Object o : r.getJsonArray(array, new JsonArray())) {
        JsonObject p = (JsonObject) o;
        double x = l + (w - 10 - l) * num(p, xKey) / maxX;
        double y = (h - b) - (h - b - 24) * num(p, yKey) / maxY;
        if (!Double.isNaN(x) && !Double.isNaN(y)) pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
      }
      sb.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"2\" points=\"").append(pts).append("\"/>");
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"%s\">%s</text>", w - 200, 30 + 14 * c, color, esc(r.getString("label"))));
      c++;
    }
    return sb.append("</svg>").toString();
  }

  private static String fmt(double v) {
    if (v >= 10_000) return String.format(Locale.ROOT, "%.0fk", v / 1000);
    if (v >= 100) return String.format(Locale.ROOT, "%.0f", v);
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static String esc(String s) {
    return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
