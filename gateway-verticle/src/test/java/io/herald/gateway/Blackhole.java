package io.herald.gateway;

import io.herald.testsupport.RequiredTools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A loopback client address whose packets the kernel drops, both ways: a client that vanished
 * without a word (a laptop closed, a mobile network gone), on a single machine. Connections are
 * made from {@link #CLIENT} while it works; {@link #start()} makes it a black hole, {@link #close()}
 * undoes everything it did.
 *
 * <p>How: a {@code clsact} qdisc on {@code lo} and, on its ingress, a classic BPF filter that
 * matches IPv4 packets from or to {@link #CLIENT} and redirects them to an {@code ifb} device of
 * its own that stays down, which drops them (the kernel may lack {@code act_gact}, the plain drop
 * action; {@code act_mirred} is the usual companion of {@code clsact}). Other loopback traffic
 * passes untouched. Needs {@code tc} and {@code ip} (iproute2) and {@code CAP_NET_ADMIN} (root).
 *
 * <p>Without them the test is skipped with a message, except under {@code HERALD_REQUIRE_TOOLS=1}
 * (set by {@code scripts/test.sh}, which installs iproute2): there it fails, so CI never passes by
 * skipping.
 */
final class Blackhole implements AutoCloseable {

  /** The client address to make vanish. */
  static final String CLIENT = "127.0.0.77";

  private static final String DEVICE = "heraldbh0";
  private static final String PREF = "49177";
  /**
   * cBPF, offsets from the Ethernet header (cls_bpf pushes it back at ingress): IPv4 source (26)
   * or destination (30) 127.0.0.77 (0x7f00004d) matches (-1), anything else does not (0).
   */
  private static final String BYTECODE = "6,32 0 0 30,21 3 0 2130706509,32 0 0 26,21 1 0 2130706509,6 0 0 0,6 0 0 4294967295";

  private static final java.util.Map<String, String> TOOLS = new java.util.concurrent.ConcurrentHashMap<>();

  private boolean addedQdisc;
  private boolean addedDevice;
  private boolean addedFilter;

  /** Checks the tools (skipping or failing, see the class comment) and clears what a crashed run may have left. */
  static Blackhole prepare() {
    require("tc");
    require("ip");
    require("ss");
    Blackhole b = new Blackhole();
    run(false, "tc", "filter", "del", "dev", "lo", "ingress", "pref", PREF);
    run(false, "ip", "link", "del", DEVICE);
    return b;
  }

  /** From now on, packets from and to {@link #CLIENT} are dropped. */
  void start() {
    String qdiscs = run(true, "tc", "qdisc", "show", "dev", "lo");
    if (!qdiscs.contains("clsact")) {
      runOrMissing("tc", "qdisc", "add", "dev", "lo", "clsact");
      addedQdisc = true;
    }
    runOrMissing("ip", "link", "add", DEVICE, "type", "ifb");
    addedDevice = true;
    runOrMissing("tc", "filter", "add", "dev", "lo", "ingress", "pref", PREF, "protocol", "ip", "bpf", "bytecode", BYTECODE,
      "action", "mirred", "egress", "redirect", "dev", DEVICE);
    addedFilter = true;
  }

  /**
   * Server-side TCP connections to {@link #CLIENT} still established, from {@code ss}: the
   * gateway's sockets (local port {@code port}), not the client's.
   */
  static int establishedTo(int port) {
    String out = run(true, "ss", "-tnH", "state", "established", "src", "127.0.0.1:" + port, "dst", CLIENT);
    return (int) out.lines().filter(l -> !l.isBlank()).count();
  }

  @Override
  public void close() {
    if (addedFilter) {
      run(false, "tc", "filter", "del", "dev", "lo", "ingress", "pref", PREF);
    }
    if (addedDevice) {
      run(false, "ip", "link", "del", DEVICE);
    }
    if (addedQdisc) {
      run(false, "tc", "qdisc", "del", "dev", "lo", "clsact");
    }
  }

  /** The capability's absence: {@link RequiredTools#missing} (a failure under scripts/test.sh). */
  static void missing(String message) {
    RequiredTools.missing(message + " (scripts/test.sh installs iproute2 and runs the tests as root)");
  }

  /** Finds {@code tool} on PATH or in the sbin directories (not on every user's PATH). */
  private static void require(String tool) {
    TOOLS.put(tool, RequiredTools.command(tool, "apt-get install iproute2").toString());
  }

  private static void runOrMissing(String... command) {
    try {
      exec(command, true);
    } catch (IllegalStateException e) {
      missing("cannot make " + CLIENT + " a black hole (needs CAP_NET_ADMIN, clsact, cls_bpf, act_mirred and ifb): "
        + e.getMessage());
    }
  }

  private static String run(boolean mustSucceed, String... command) {
    try {
      return exec(command, mustSucceed);
    } catch (IllegalStateException e) {
      if (mustSucceed) {
        throw e;
      }
      return "";
    }
  }

  private static String exec(String[] command, boolean mustSucceed) {
    List<String> cmd = new ArrayList<>(List.of(command));
    cmd.set(0, TOOLS.getOrDefault(cmd.get(0), cmd.get(0)));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + ": still running after 10 s");
      }
      if (p.exitValue() != 0 && mustSucceed) {
        throw new IllegalStateException(String.join(" ", cmd) + " exited with " + p.exitValue() + ": " + out.trim());
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(String.join(" ", cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(String.join(" ", cmd) + ": interrupted", e);
    }
  }
}
