package io.herald.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ports for tests: never a fixed one (other people's tests run on the same machine at the same
 * time), never one handed out twice by this JVM.
 */
public final class Ports {

  /** Ports handed out by {@link #freePort} (below the kernel's ephemeral range) start here. */
  public static final int PORT_RANGE_START = 20_000;
  /** ... and end before here: Linux's ephemeral range starts at 32768. */
  public static final int PORT_RANGE_END = 32_768;
  private static final AtomicInteger NEXT_PORT = new AtomicInteger(
    (int) ((ProcessHandle.current().pid() * 7919 + System.nanoTime()) % (PORT_RANGE_END - PORT_RANGE_START)));

  private Ports() {
  }

  /**
   * A port for a server the test starts, often in a process of its own. Not the kernel's pick
   * ({@code new ServerSocket(0)}): that comes from the ephemeral range, where every outgoing
   * connection of every process on the machine also takes its port, so between the pick and the
   * child's bind another connection could take it (seen in CI: a role exited on "port already in
   * use"). Below the ephemeral range only listeners take ports; this JVM walks the range from a
   * per-process starting point, never hands out a port twice, and checks that each is free now.
   */
  public static int freePort() {
    int span = PORT_RANGE_END - PORT_RANGE_START;
    for (int tries = 0; tries < span; tries++) {
      int port = PORT_RANGE_START + Math.floorMod(NEXT_PORT.getAndIncrement(), span);
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(false);
        s.bind(new InetSocketAddress("0.0.0.0", port));
        return port;
      } catch (IOException taken) {
        // in use: the next one
      }
    }
    throw new UncheckedIOException(new IOException("no free port in " + PORT_RANGE_START + "-" + PORT_RANGE_END));
  }

  /** {@code n} ports of {@link #freePort}, e.g. a block for the Hazelcast members of one test cluster. */
  public static java.util.List<Integer> freePorts(int n) {
    return java.util.stream.IntStream.range(0, n).mapToObj(i -> freePort()).toList();
  }

  /** Whether something accepts a TCP connection on 127.0.0.1:{@code port} within 500 ms. */
  public static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
