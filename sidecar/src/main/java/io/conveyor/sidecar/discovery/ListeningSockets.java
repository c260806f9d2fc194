package io.conveyor.sidecar.discovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pod's listening TCP sockets, read from {@code /proc/net/tcp} and {@code /proc/net/tcp6} (the
 * sidecar shares the pod's network namespace): which ports listen, and which socket (inode) holds
 * each. Lets discovery skip closed ports without connecting, and tell a listener it already probed
 * from a new one on the same port.
 */
final class ListeningSockets {

  private static final String LISTEN = "0A";

  private final Path procNet;

  ListeningSockets(Path procNet) {
    this.procNet = procNet;
  }

  static ListeningSockets ofThisProcess() {
    return new ListeningSockets(Path.of("/proc/net"));
  }

  /** Port → inode of its listening socket; empty when the tables cannot be read (not Linux). */
  Optional<Map<Integer, Long>> read() {
    Map<Integer, Long> listening = new HashMap<>();
    boolean readAny = false;
    for (String table : List.of("tcp", "tcp6")) {
      Path file = procNet.resolve(table);
      try {
        parse(Files.readAllLines(file), listening);
        readAny = true;
      } catch (IOException | RuntimeException e) {
        // tcp6 is absent on hosts without IPv6; with neither table, fall back to connecting.
      }
    }
    return readAny ? Optional.of(listening) : Optional.empty();
  }

  /**
   * Adds the listening sockets of one table to {@code into}. A line: {@code sl local_address
   * rem_address st ... inode ...}, the local address as hex {@code ADDR:PORT}.
   */
  static void parse(List<String> lines, Map<Integer, Long> into) {
    for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
      String[] fields = line.trim().split("\\s+");
      if (fields.length < 10 || !fields[3].equals(LISTEN)) {
        continue;
      }
      String local = fields[1];
      int port = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
      into.putIfAbsent(port, Long.parseLong(fields[9]));
    }
  }
}
