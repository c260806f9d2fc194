package io.conveyor.sidecar.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ListeningSocketsTest {

  private static final String HEADER =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout"
          + " inode";

  @Test
  void listeningSocketsAreReadWithTheirPortAndInodeOthersAreNot() {
    Map<Integer, Long> listening = new HashMap<>();

    ListeningSockets.parse(
        List.of(
            HEADER,
            "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0"
                + "        0 1597 1 000000008f969299 100 0 0 10 0",
            "   1: 0100007F:C351 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000"
                + "        0 88213 1 0000000000000000 100 0 0 10 0",
            "   2: 0100007F:ABA1 0100007F:A172 01 00000000:00000000 03:000004EC 00000000     0"
                + "        0 99999 3 00000000f5c91ed6"),
        listening);
    ListeningSockets.parse(
        List.of(
            HEADER,
            "   0: 00000000000000000000000001000000:C352 00000000000000000000000000000000:0000 0A"
                + " 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000"),
        listening);

    assertThat(listening)
        .containsOnly(Map.entry(2024, 1597L), Map.entry(50001, 88213L), Map.entry(50002, 4242L));
  }

  @Test
  void withoutTheTablesThereIsNoAnswer(@TempDir Path empty) {
    assertThat(new ListeningSockets(empty).read()).isEmpty();
  }

  @Test
  void oneTableIsEnough(@TempDir Path dir) throws IOException {
    Files.writeString(
        dir.resolve("tcp"),
        HEADER
            + "\n   0: 0100007F:C351 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
            + "     0        0 7 1 0000000000000000 100 0 0 10 0\n");

    assertThat(new ListeningSockets(dir).read()).hasValue(Map.of(50001, 7L));
  }

  @Test
  void thisProcessesListenerIsInItsTable() throws IOException {
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));

      assertThat(ListeningSockets.ofThisProcess().read())
          .hasValueSatisfying(ports -> assertThat(ports).containsKey(listener.getLocalPort()));
    }
  }
}
