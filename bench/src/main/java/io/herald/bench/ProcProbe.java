package io.herald.bench;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads what a server process costs from {@code /proc}: resident memory (VmRSS) and CPU time
 * (utime + stime), summed over the given processes and their direct children (nginx's workers),
 * and, for a JVM, the heap in use after a full GC (and NMT's "Other", where Netty's direct
 * buffers live, when the JVM runs with {@code -XX:NativeMemoryTracking=summary}) through jcmd.
 */
final class ProcProbe {

  /** Linux clock ticks per second of /proc/PID/stat; 100 on every usual kernel. */
  private static final double TICKS_PER_SECOND = 100.0;
  /** G1 ("garbage-first heap"), Parallel (PSYoungGen, ParOldGen), Serial (generations): summed. */
  private static final Pattern HEAP_USED = Pattern.compile(
    "(?:heap|PSYoungGen|ParOldGen|generation)\\s+total\\s+\\d+K,\\s+used\\s+(\\d+)K");
  private static final Pattern NMT_OTHER = Pattern.compile("-\\s+Other \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");

  private final List<Long> roots;
  private final boolean jvm;

  ProcProbe(List<Long> roots, boolean jvm) {
    this.roots = roots;
    this.jvm = jvm;
  }

  static ProcProbe parse(String pids, boolean jvm) {
    List<Long> list = new ArrayList<>();
    if (pids != null && !pids.isBlank()) {
      for (String p : pids.split(",")) {
        list.add(Long.parseLong(p.trim()));
      }
    }
    return new ProcProbe(list, jvm);
  }

  /** The pids given. */
  List<Long> roots() {
    return roots;
  }

  boolean enabled() {
    return !roots.isEmpty();
  }

  /** The given processes and their children. */
  List<Long> processes() {
    List<Long> all = new ArrayList<>(roots);
    if (roots.isEmpty()) {
      return all;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path d : dirs) {
        String[] f = statFields(d.resolve("stat"));
        if (f != null && roots.contains(Long.parseLong(f[1]))) {
          all.add(Long.parseLong(d.getFileName().toString()));
        }
      }
    } catch (IOException ignored) {
      // the list of roots alone
    }
    return all;
  }

  /** Fields of /proc/PID/stat after the command name: [0] = state, [1] = ppid, [11] = utime, [12] = stime. */
  private static String[] statFields(Path stat) {
    try {
      String s = Files.readString(stat);
      return s.substring(s.lastIndexOf(')') + 2).split(" ");
    } catch (IOException | RuntimeException gone) {
      return null;
    }
  }

  /** Resident set size in KiB, summed. */
  long rssKib() {
    long total = 0;
    for (long pid : processes()) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
          if (line.startsWith("VmRSS:")) {
            total += Long.parseLong(line.replaceAll("[^0-9]", ""));
          }
        }
      } catch (IOException | RuntimeException gone) {
        // exited
      }
    }
    return total;
  }

  /** CPU seconds (user + system) used so far, summed. */
  double cpuSeconds() {
    long ticks = 0;
    for (long pid : processes()) {
      String[] f = statFields(Path.of("/proc/" + pid + "/stat"));
      if (f != null) {
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
      }
    }
    return ticks / TICKS_PER_SECOND;
  }

  /** CPU seconds all processes of the machine have used (busy time in /proc/stat, all cores). */
  static double machineCpuSeconds() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      for (int i = 1; i < f.length && i <= 7; i++) {
        if (i != 4 && i != 5) busy += Long.parseLong(f[i]); // user nice system irq softirq: not idle, iowait, steal
      }
      return busy / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** CPU seconds the hypervisor gave to others while this machine wanted them (steal in /proc/stat). */
  static double stealSeconds() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      return f.length > 8 ? Long.parseLong(f[8]) / TICKS_PER_SECOND : 0;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * Bytes the loopback interface has carried so far ({@code lo} in /proc/net/dev, received side:
   * on loopback every byte sent is received once). With the load tool and the server alone on
   * loopback, a phase's difference is the bytes on the wire, HTTP framing and headers included.
   */
  static long loopbackBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/net/dev"))) {
        String t = line.trim();
        if (t.startsWith("lo:")) {
          return Long.parseLong(t.substring(3).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  /** The 1-minute load average. */
  static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** This load process's own CPU seconds, to tell a client-bound run from a server-bound one. */
  static double selfCpuSeconds() {
    String[] f = statFields(Path.of("/proc/self/stat"));
    return f == null ? 0 : (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
  }

  /** RSS, and for JVMs heap after a full GC (and NMT "Other"); never fails, fields are left out. */
  JsonObject memory(boolean gc) {
    JsonObject o = new JsonObject().put("rssKib", rssKib());
    if (!jvm || !gc) {
      return o;
    }
    // rssKib is the RSS as the server left it; rssAfterGcKib is read again after the full GC
    // forced here to read the live heap (it touches pages the server had not: the pessimistic one).
    long heap = 0;
    long other = 0;
    boolean any = false;
    for (long pid : roots) {
      jcmd(pid, "GC.run");
      Matcher m = HEAP_USED.matcher(jcmd(pid, "GC.heap_info"));
      while (m.find()) {
        heap += Long.parseLong(m.group(1));
        any = true;
      }
      Matcher n = NMT_OTHER.matcher(jcmd(pid, "VM.native_memory", "summary"));
      if (n.find()) {
        other += Long.parseLong(n.group(2));
      }
    }
    if (any) {
      o.put("heapAfterGcKib", heap);
    }
    if (other > 0) {
      o.put("nmtOtherCommittedKib", other);
    }
    o.put("rssAfterGcKib", rssKib());
    return o;
  }

  private static String jcmd(long pid, String... command) {
    List<String> cmd = new ArrayList<>();
    cmd.add("jcmd");
    cmd.add(Long.toString(pid));
    cmd.addAll(List.of(command));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      p.waitFor(30, TimeUnit.SECONDS);
      return new String(out);
    } catch (IOException | InterruptedException e) {
      return "";
    }
  }
}
