package io.herald.testsupport;

import io.vertx.core.http.HttpClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of Herald role processes as docs/clustering.md runs it: each role's fat jar in a JVM
 * of its own with {@code --cluster}, joined over Hazelcast on loopback under a cluster name of
 * this test's own. The test's {@code HERALD_*} variables are dropped, each process gets a free
 * admin port, and the per-address limits are lifted (every test client comes from 127.0.0.1).
 *
 * <p>Each process gets a Hazelcast port of its own from a block this cluster takes, and every
 * member lists the whole block: left to the default ({@code 5701} and up, joined through
 * {@code 127.0.0.1}, which Hazelcast tries on its first three ports), the nodes of a cluster that
 * starts while another test's cluster holds those ports would each form a cluster of their own.
 * A process's output (both streams) goes to {@code <logs>/<prefix>-<name>.log}.
 *
 * <p>Close it in {@code @AfterEach}: every process it started is killed with SIGKILL.
 */
public final class RoleCluster implements AutoCloseable {

  private final Path root;
  private final Path logs;
  private final String prefix;
  private final String clusterName;
  private final List<String> jvmFlags;
  private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
  /** Members of one cluster at most (a restarted process takes a port of the block again). */
  private static final int HAZELCAST_PORTS = 10;
  /** The Hazelcast ports of this cluster's members, handed out in turn by {@link #builder}. */
  private final List<Integer> hazelcastPorts = Ports.freePorts(HAZELCAST_PORTS);
  /** {@code HERALD_CLUSTER_MEMBERS} of every process: the whole block. */
  private final String members = String.join(",", hazelcastPorts.stream().map(p -> "127.0.0.1:" + p).toList());
  private final java.util.concurrent.atomic.AtomicInteger built = new java.util.concurrent.atomic.AtomicInteger();

  /**
   * @param root     the repository root, against which role jars are resolved
   * @param logs     the folder of the processes' logs (created when missing)
   * @param prefix   starts every log name and the cluster name, to tell tests apart
   * @param jvmFlags extra JVM flags of every process (e.g. {@code -Xmx256m})
   */
  public RoleCluster(Path root, Path logs, String prefix, List<String> jvmFlags) {
    this.root = root;
    this.logs = logs;
    this.prefix = prefix;
    this.clusterName = "herald-" + prefix + "-it-" + ProcessHandle.current().pid();
    this.jvmFlags = List.copyOf(jvmFlags);
  }

  /**
   * For tests of a module of this repository (Maven runs them in the module's folder): jars
   * resolved against {@code ..}, logs in {@code target/it-logs}, {@code -Xmx256m} and, as for the
   * all-in-one hub of the tests, the serial collector and the C1 compiler only: five or six JVMs
   * that start at once on two cores form their cluster sooner without C2 compiling and parallel
   * collector threads, and no test here measures speed.
   */
  public static RoleCluster fromModule(String prefix) {
    return new RoleCluster(Path.of(".."), Path.of("target", "it-logs"), prefix,
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
  }

  /** The Hazelcast cluster name every process joins. */
  public String clusterName() {
    return clusterName;
  }

  /** Where a process's logs are, as a glob for failure messages. */
  public String logGlob() {
    return logs.resolve(prefix + "-*.log").toString();
  }

  /**
   * The last {@code max} WARN and ERROR lines of the role started as {@code name}, for failure
   * messages: what the process said about a refusal the client only saw as a code.
   */
  public String warnings(String name, int max) {
    Path log = logs.resolve(prefix + "-" + name + ".log");
    try (java.util.stream.Stream<String> lines = Files.lines(log)) {
      List<String> found = lines.filter(l -> l.contains(" WARN ") || l.contains(" ERROR "))
        .collect(java.util.stream.Collectors.toList());
      return log + ", its last warnings:\n" + String.join("\n", found.subList(Math.max(0, found.size() - max), found.size()));
    } catch (IOException | java.io.UncheckedIOException e) {
      return log + " (unreadable: " + e.getMessage() + ")";
    }
  }

  /**
   * The command for one role's jar ({@code jar} relative to the repository root), not started:
   * callers may add to its environment (which overrides the defaults) and {@link #start(ProcessBuilder)} it.
   */
  public ProcessBuilder builder(String jar, String name) throws IOException {
    Files.createDirectories(logs);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    command.add("-Dhazelcast.wait.seconds.before.join=0");
    command.addAll(List.of("-jar", root.resolve(jar).toString(), "--cluster"));
    ProcessBuilder pb = new ProcessBuilder(command)
      .redirectErrorStream(true).redirectOutput(logs.resolve(prefix + "-" + name + ".log").toFile())
      .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("HERALD_"));
    env.put("HERALD_CLUSTER_NAME", clusterName);
    // The block's ports in turn; a port whose process still runs is skipped by Hazelcast's auto-increment.
    env.put("HERALD_CLUSTER_PORT", String.valueOf(hazelcastPorts.get(built.getAndIncrement() % HAZELCAST_PORTS)));
    env.put("HERALD_CLUSTER_MEMBERS", members);
    env.put("HERALD_ADMIN_PORT", String.valueOf(Ports.freePort()));
    env.put("HERALD_ADMIN_WARM_UP_MILLIS", "0");
    env.put("HERALD_GATEWAY_MAX_CONNECTIONS_PER_IP", "100000");
    env.put("HERALD_GATEWAY_CONNECT_ATTEMPTS_PER_IP_PER_MINUTE", "1000000");
    return pb;
  }

  /** Starts a command from {@link #builder}; it is killed on {@link #close()}. */
  public Process start(ProcessBuilder pb) throws IOException {
    Process p = ClassDataSharing.start(pb);
    processes.add(p);
    return p;
  }

  /** Starts one role's jar with {@code env} over the defaults. */
  public Process start(String jar, String name, Map<String, String> env) throws IOException {
    ProcessBuilder pb = builder(jar, name);
    pb.environment().putAll(env);
    return start(pb);
  }

  /** The processes started and not {@link #kill killed}, in start order (a snapshot). */
  public List<Process> processes() {
    synchronized (processes) {
      return List.copyOf(processes);
    }
  }

  /**
   * Kills {@code p} with SIGKILL (no clean end for anything it serves), waits until it is gone,
   * and stops counting it among the processes that must be alive.
   */
  public void kill(Process p) throws InterruptedException {
    p.destroyForcibly();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      throw new AssertionError("process " + p.pid() + " still alive 10 s after SIGKILL");
    }
    processes.remove(p);
  }

  /** Fails at once when one of the processes (not killed on purpose) has exited. */
  public void assertAlive() {
    for (Process p : processes()) {
      if (!p.isAlive()) {
        throw new AssertionError("a role process exited with " + p.exitValue() + "; see " + logGlob());
      }
    }
  }

  /**
   * Opens an SSE stream on {@code port} once the gateway serves it (it answers 503 until the
   * replay role is in reach, and a first line comes), within {@code timeout}; fails at once when
   * a role process has exited.
   */
  public SseClient subscribeWhenReady(HttpClient http, int port, String path, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Throwable last = null;
    while (System.nanoTime() < deadline) {
      assertAlive();
      if (Ports.accepts(port)) {
        try {
          SseClient c = SseClient.open(http, port, path);
          c.await(l -> !l.isEmpty(), Duration.ofSeconds(10));
          return c;
        } catch (Exception | AssertionError e) {
          last = e;
        }
      }
      Thread.sleep(250);
    }
    throw new AssertionError("gateway on " + port + " did not serve " + path + " in " + timeout.toSeconds() + " s", last);
  }

  /**
   * Opens an SSE stream on {@code port} with request {@code headers} (name, value, ...) once the
   * gateway answers it with 200 (503 until the replay role is in reach), within {@code timeout};
   * fails at once when a role process has exited.
   */
  public SseClient openWhenServed(HttpClient http, int port, String path, Duration timeout, String... headers) throws Exception {
    SseClient[] opened = new SseClient[1];
    retryUntilDone("gateway on " + port + " serving " + path, timeout, () -> {
      if (!Ports.accepts(port)) {
        return "not listening";
      }
      try {
        opened[0] = SseClient.open(http, port, path, headers);
        return null;
      } catch (Exception e) {
        return e.toString();
      }
    });
    return opened[0];
  }

  /**
   * Calls {@code attempt} every 250 ms until it answers null (done), within {@code timeout}; an
   * answer is why it is not done yet, and the last one is in the failure. Fails at once when a
   * role process has exited. For what a cluster needs before it serves (forming, handler maps
   * reaching every node), never to assert on time.
   */
  public void retryUntilDone(String what, Duration timeout, java.util.concurrent.Callable<String> attempt) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      assertAlive();
      String notYet = attempt.call();
      if (notYet == null) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not done in " + timeout.toSeconds() + " s: " + notYet + "; see " + logGlob());
      }
      Thread.sleep(250);
    }
  }

  /** Kills (SIGKILL) every process still running, after a recording one wrote its class-data archive ({@link ClassDataSharing#stop}), and waits for each, at most 10 s. */
  @Override
  public void close() throws InterruptedException {
    List<Process> all = processes();
    all.forEach(ClassDataSharing::stop);
    all.forEach(p -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    });
    for (Process p : all) {
      p.waitFor(10, TimeUnit.SECONDS);
    }
    processes.clear();
  }
}
