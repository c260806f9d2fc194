package io.conveyor.sidecar.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ListeningSocketsTest {

  private static final String HEADER =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout"
          + " inode\n";

  @TempDir Path dir;

  private static String line(String local, String state, long inode) {
    return "   0: "
        + local
        + " 00000000:0000 "
        + state
        + " 00000000:00000000 00:00000000 00000000  1000        0 "
        + inode
        + " 1 0000000000000000 100 0 0 10 0\n";
  }

  private ListeningSockets tables(String tcp, String tcp6) throws IOException {
    if (tcp != null) {
      Files.writeString(dir.resolve("tcp"), tcp);
    }
    if (tcp6 != null) {
      Files.writeString(dir.resolve("tcp6"), tcp6);
    }
    return new ListeningSockets(dir);
  }

  @Test
  void listeningSocketsAreReadWithTheirPortAndInodesOthersAreNot() throws IOException {
    ListeningSockets sockets =
        tables(
            HEADER
                + line("00000000:07E8", "0A", 1597)
                + line("0100007F:C351", "0A", 88213)
                + line("0100007F:ABA1", "01", 99999), // an established connection
            HEADER
                + line("00000000000000000000000001000000:C352", "0A", 4242)
                + line("00000000000000000000000000000000:C351", "0A", 4243)); // same port, v6

    assertThat(sockets.read())
        .hasValue(Map.of(2024, Set.of(1597L), 50001, Set.of(88213L, 4243L), 50002, Set.of(4242L)));
  }

  @Test
  void aHostWithoutIpv6HasNoTcp6Table() throws IOException {
    assertThat(tables(HEADER + line("0100007F:C351", "0A", 7), null).read())
        .hasValue(Map.of(50001, Set.of(7L)));
  }

  @Test
  void aTableThatCannotBeReadWholeGivesNoAnswer() throws IOException {
    assertThat(tables(null, HEADER + line("0100007F:C351", "0A", 7)).read())
        .as("no tcp table")
        .isEmpty();
    assertThat(
            tables(HEADER + line("0100007F:C351", "0A", 7), HEADER + "   1: garbage 0A \n").read())
        .as("a malformed line")
        .isEmpty();
  }

  @Test
  void thisProcessesListenerIsInItsTable() throws IOException {
    assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "needs Linux's socket table");
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));

      assertThat(ListeningSockets.ofThisProcess().read())
          .hasValueSatisfying(ports -> assertThat(ports).containsKey(listener.getLocalPort()));
    }
  }
}
