package io.conveyor.sidecar.discovery;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The pod's listening TCP sockets, read from {@code /proc/net/tcp} and {@code /proc/net/tcp6} (the
 * sidecar shares the pod's network namespace): which ports listen, and which sockets (inodes) hold
 * each. Lets discovery skip closed ports without connecting, and tell a listener it already probed
 * from a new one on the same port.
 *
 * <p>All or nothing: a table that cannot be read whole (other than a missing {@code tcp6} on a host
 * without IPv6) gives no answer, and the scanner then connects to every port as without it.
 */
final class ListeningSockets {

  private static final String LISTEN = " 0A ";

  private final Path procNet;

  ListeningSockets(Path procNet) {
    this.procNet = procNet;
  }

  static ListeningSockets ofThisProcess() {
    return new ListeningSockets(Path.of("/proc/net"));
  }

  /** Port → inodes of its listening sockets; empty when the tables cannot be trusted. */
  Optional<Map<Integer, Set<Long>>> read() {
    Map<Integer, Set<Long>> listening = new HashMap<>();
    try {
      parse(procNet.resolve("tcp"), listening);
      try {
        parse(procNet.resolve("tcp6"), listening);
      } catch (NoSuchFileException e) {
        // no IPv6 on this host: every listener is in tcp
      }
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    return Optional.of(listening);
  }

  /**
   * Adds the listening sockets of one table to {@code into}. A line: {@code sl local_address
   * rem_address st ... inode ...}, the local address as hex {@code ADDR:PORT}.
   *
   * @throws RuntimeException for a line that does not have that shape
   */
  static void parse(Path table, Map<Integer, Set<Long>> into) throws IOException {
    try (Stream<String> lines = Files.lines(table)) {
      lines
          .skip(1) // the header
          .filter(line -> line.contains(LISTEN)) // only the state field can read " 0A "
          .forEach(line -> add(line, into));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static void add(String line, Map<Integer, Set<Long>> into) {
    String[] fields = line.trim().split("\\s+");
    if (fields.length < 10 || !fields[3].equals(LISTEN.trim())) {
      throw new IllegalArgumentException("not a socket table line: " + line);
    }
    String local = fields[1];
    int port = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
    into.computeIfAbsent(port, p -> new HashSet<>()).add(Long.parseLong(fields[9]));
  }
}
