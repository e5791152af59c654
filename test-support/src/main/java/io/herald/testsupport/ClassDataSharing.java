package io.herald.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts the fat jars of the integration tests from a class-data archive of their own (the JDK's
 * dynamic AppCDS), which the suite makes as it goes: a hub reached {@code /ready} in 1.2-1.3 s
 * instead of 1.9-2.2 s on a 2-core machine, and the suite starts over a hundred of them.
 *
 * <p>The first process of a jar started here records the archive: it runs with
 * {@code -XX:ArchiveClassesAtExit}, and its harness stops it through {@link #stop(Process)}, which
 * lets it exit on SIGTERM (the JVM writes the archive on the way out) before the usual SIGKILL.
 * The archive is kept when that process exited on SIGTERM, else the next process records it
 * again (after a kill by its test always, after an exit by itself or a hang up to three times);
 * processes started while one records run without an archive. The archive is
 * named after the jar's size and time, so a rebuilt jar gets a new one. What the tests check is
 * the same with or without it: a process that cannot use an archive starts without one, silently
 * ({@code -Xlog:cds=off}), as the JVM's default {@code -Xshare:auto} does.
 *
 * <p>Only for the {@code java} of this JVM and commands that choose no archive of their own.
 */
public final class ClassDataSharing {

  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private static final List<String> QUIET = List.of("-Xlog:cds=off", "-Xlog:cds+dynamic=off");
  /** Recordings of a jar that may fail (the process exited by itself or hung) before its processes stop trying. */
  private static final int MAX_FAILURES = 3;
  /** The JVM's exit status after SIGTERM (128 + 15): the recording ran until it was stopped. */
  private static final int STOPPED = 143;
  /** After SIGKILL (128 + 9). */
  private static final int KILLED = 137;
  /** Ends the name of an archive a process of this JVM is recording (see {@link #temporary}). */
  private static final String RECORDING_SUFFIX = "." + ProcessHandle.current().pid() + ".tmp";

  private static final Map<Path, Integer> failures = new HashMap<>();
  /** Recording processes, to the archive they write (a temporary file until they exit). */
  private static final Map<Process, Path> recorders = new HashMap<>();

  private ClassDataSharing() {
  }

  /** Starts {@code pb}, from the archive of its jar when there is one, or recording it when none is being recorded. */
  public static Process start(ProcessBuilder pb) throws IOException {
    List<String> command = pb.command();
    int jarAt = command.indexOf("-jar");
    if (jarAt < 0 || jarAt + 1 >= command.size() || !command.get(0).equals(JAVA)
      || command.stream().anyMatch(a -> a.startsWith("-XX:SharedArchiveFile") || a.startsWith("-XX:AOT") || a.startsWith("-Xshare"))) {
      return pb.start();
    }
    Path jar = Path.of(command.get(jarAt + 1)).toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      return pb.start();
    }
    Path archive = jar.resolveSibling("cds").resolve(jar.getFileName() + "-" + Files.size(jar) + "-"
      + Files.getLastModifiedTime(jar).toMillis() + ".jsa");
    List<String> options = new ArrayList<>(QUIET);
    Path recording = null;
    synchronized (ClassDataSharing.class) {
      // A recording process that ended without stop() (killed, or stopped by its test) leaves its archive or nothing.
      List.copyOf(recorders.keySet()).stream().filter(r -> !r.isAlive()).forEach(r -> settle(r, recorders.remove(r)));
      if (Files.isRegularFile(archive)) {
        options.add("-XX:SharedArchiveFile=" + archive);
      } else if (!recorders.containsValue(temporary(archive)) && failures.getOrDefault(archive, 0) < MAX_FAILURES) {
        Files.createDirectories(archive.getParent());
        Files.deleteIfExists(temporary(archive));
        recording = temporary(archive);
        options.add("-XX:ArchiveClassesAtExit=" + recording);
      } else {
        return pb.start();
      }
      List<String> withOptions = new ArrayList<>(command.subList(0, jarAt));
      withOptions.addAll(options);
      withOptions.addAll(command.subList(jarAt, command.size()));
      List<String> asked = List.copyOf(command);
      Process p;
      try {
        p = pb.command(withOptions).start();
      } finally {
        // The caller's builder keeps its command: what it reads back is what it asked for.
        pb.command(new ArrayList<>(asked));
      }
      if (recording != null) {
        recorders.put(p, recording);
      }
      return p;
    }
  }

  /**
   * Stops a process started by {@link #start}: a recording one gets SIGTERM and up to 15 s to
   * write its archive, the rest nothing; the caller kills what is left as it always did. Call it
   * where a test is done with the process, not where the test means to crash it.
   */
  public static void stop(Process p) {
    Path recording;
    synchronized (ClassDataSharing.class) {
      recording = recorders.remove(p);
    }
    if (recording == null) {
      return;
    }
    try {
      p.destroy();
      p.waitFor(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    settle(p, recording);
  }

  /** Keeps the archive of a recording process that exited on SIGTERM; drops anything else it left. */
  private static void settle(Process p, Path recording) {
    String name = recording.getFileName().toString();
    Path archive = recording.resolveSibling(name.substring(0, name.length() - RECORDING_SUFFIX.length()));
    try {
      if (!p.isAlive() && p.exitValue() == STOPPED && Files.isRegularFile(recording) && Files.size(recording) > 0) {
        Files.move(recording, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return;
      }
      Files.deleteIfExists(recording);
      if (p.isAlive() || p.exitValue() != KILLED) {
        // A process its test kills (a crash) wrote nothing and tells nothing; one that exited or hung did.
        synchronized (ClassDataSharing.class) {
          failures.merge(archive, 1, Integer::sum);
        }
      }
    } catch (IOException e) {
      // No archive this time: the next process records one.
    }
  }

  /**
   * Where a process of this JVM records {@code archive}: a name of this JVM's own, since the
   * integration tests run in two JVMs at once and both may record the same jar's archive (the
   * last to finish replaces the other's, whole, by an atomic move).
   */
  private static Path temporary(Path archive) {
    return archive.resolveSibling(archive.getFileName() + RECORDING_SUFFIX);
  }
}
