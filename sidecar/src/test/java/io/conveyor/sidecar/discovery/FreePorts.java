package io.conveyor.sidecar.discovery;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Blocks of consecutive free ports on loopback, for scan ranges, taken below the OS's ephemeral
 * range. Inside that range a port that is closed now does not stay so: the OS hands it out as the
 * local port of outgoing connections (so a listener may fail to bind it), and a connect to a closed
 * port there can pick that very port as its source and connect to itself (a TCP "self-connect"),
 * which a scan then sees as a listener. Both made scans of closed ports flaky.
 */
public final class FreePorts {

  private static final int ATTEMPTS = 200;
  private static final int LOWEST = 10_000;

  private FreePorts() {}

  /**
   * The first of {@code count} consecutive ports that were all free a moment ago. Blocks start at a
   * random port, so they vary between runs; a block with a port in use is dropped and another
   * tried.
   */
  static int block(int count) {
    int below = ephemeralLow();
    boolean roomBelow = below - count > LOWEST;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      // Where the ephemeral range starts too low to leave room, blocks come from it as before.
      int first =
          roomBelow ? ThreadLocalRandom.current().nextInt(LOWEST, below - count) : osAssignedPort();
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

  /** One free port, below the ephemeral range (see the class comment). */
  public static int anyFreePort() {
    return block(1);
  }

  private static int osAssignedPort() {
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

  /** The lowest ephemeral port: Linux says in /proc; 32768 (Linux's default) elsewhere. */
  private static int ephemeralLow() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      return Math.min(32_768, Integer.parseInt(range.split("\\s+")[0]));
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
