package io.conveyor.examples.local;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A run of consecutive free loopback ports. Discovery scans a range, so a simulated pod needs its
 * ports next to each other; the OS hands out only single ephemeral ports, so blocks are found by
 * trying random bases below the ephemeral range and binding every port of the block.
 */
public record PortBlock(int first, int count) {

  private static final int LOW = 20_000;
  private static final int HIGH = 32_000; // below Linux's default ephemeral range (32768+)
  private static final SplittableRandom RANDOM = new SplittableRandom();

  public static synchronized PortBlock allocate(int count) {
    for (int attempt = 0; attempt < 200; attempt++) {
      int first = LOW + RANDOM.nextInt(HIGH - LOW - count);
      if (allFree(first, count)) {
        return new PortBlock(first, count);
      }
    }
    throw new IllegalStateException(
        "no block of " + count + " free ports found in " + LOW + "-" + HIGH);
  }

  public int port(int index) {
    if (index < 0 || index >= count) {
      throw new IndexOutOfBoundsException("port " + index + " of a block of " + count);
    }
    return first + index;
  }

  public int last() {
    return first + count - 1;
  }

  private static boolean allFree(int first, int count) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int port = first; port < first + count; port++) {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(false);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        held.add(socket);
      }
      return true;
    } catch (IOException e) {
      return false;
    } finally {
      for (ServerSocket socket : held) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // closing a socket we only bound to test the port
        }
      }
    }
  }
}
