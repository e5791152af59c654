package io.herald.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Loopback ports for tests: never a fixed one (other people's tests run on the same machine at
 * the same time), always one the kernel just handed out.
 */
public final class Ports {

  private Ports() {
  }

  /**
   * A loopback port that is free now. Another process may take it before the caller binds it;
   * callers that start a server themselves should bind port 0 and read the port back instead.
   */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
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
