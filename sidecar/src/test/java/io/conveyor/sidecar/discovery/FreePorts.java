package io.conveyor.sidecar.discovery;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Blocks of consecutive free ports on loopback, for scan ranges. */
final class FreePorts {

  private static final int ATTEMPTS = 200;

  private FreePorts() {}

  /**
   * The first of {@code count} consecutive ports that were all free a moment ago. A port the OS
   * hands out for port 0 starts each candidate block, so blocks come from the ephemeral range and
   * vary between runs; a block with a port in use is dropped and another tried.
   */
  static int block(int count) {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      int first = anyFreePort();
      if (first + count - 1 > 65_535) {
        continue;
      }
      boolean free = true;
      for (int port = first; port < first + count && free; port++) {
        free = isFree(port);
      }
      if (free) {
        return first;
      }
    }
    throw new IllegalStateException(
        "no " + count + " consecutive free ports after " + ATTEMPTS + " attempts");
  }

  static int anyFreePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("cannot bind an ephemeral port on loopback", e);
    }
  }

  static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
