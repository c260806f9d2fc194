package io.conveyor.examples.local;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A run of consecutive free loopback ports. Discovery scans a range, so a simulated pod needs its
 * ports next to each other; the OS hands out only single ephemeral ports, so blocks are found by
 * trying random bases below the ephemeral range and binding every port of the block.
 *
 * <p>A block is free when it is handed out, but its processes bind it later. So a block handed out
 * in this JVM is never handed out again, nor one overlapping it: otherwise a second pod's block,
 * taken before the first pod's sidecar bound its port, could hold that port (seen in CI: a pod's
 * app took another pod's sidecar port, the sidecar could not bind, and its source pushed into the
 * app). The range holds 1,200 blocks of ten, far more than a test run takes.
 */
public record PortBlock(int first, int count) {

  private static final int LOW = 20_000;
  private static final int HIGH = 32_000; // below Linux's default ephemeral range (32768+)
  private static final SplittableRandom RANDOM = new SplittableRandom();

  /** Every port of every block handed out in this JVM. */
  private static final BitSet HANDED_OUT = new BitSet(HIGH);

  public static synchronized PortBlock allocate(int count) {
    for (int attempt = 0; attempt < 200; attempt++) {
      int first = LOW + RANDOM.nextInt(HIGH - LOW - count);
      if (HANDED_OUT.get(first, first + count).isEmpty() && allFree(first, count)) {
        HANDED_OUT.set(first, first + count);
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
