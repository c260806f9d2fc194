package io.conveyor.sidecar.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.BindException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Scans that read the socket table: fewer connections to listeners that are not Conveyor's. */
class SocketTableScanTest {

  private final int port = FreePorts.anyFreePort();
  private final ExecutorService pool = Executors.newFixedThreadPool(2);
  private final PortScanner scanner =
      new PortScanner(
          new PortProber("127.0.0.1", 2_000, PortScannerTest::channel),
          port,
          port,
          Set.of(),
          pool,
          Optional.of(ListeningSockets.ofThisProcess()));

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  private String reasonOfOneScan() throws InterruptedException {
    PortScanner.Scan scan = scanner.scan();
    assertThat(scan.services()).isEmpty();
    assertThat(scan.skipped()).hasSize(1);
    return scan.skipped().get(0).skippedBecause();
  }

  @Test
  void aListenerThatIsNotGrpcIsLeftAloneWhileTheSameSocketHoldsThePort() throws Exception {
    try (Listeners first = new Listeners()) {
      AtomicInteger connections = first.countingResets(port);
      // How the call fails (reset during connect, or UNAVAILABLE) may vary: same answer.
      assertThat(reasonOfOneScan()).startsWith(PortProber.NOT_GRPC);
      assertThat(reasonOfOneScan()).startsWith(PortProber.NOT_GRPC);
      int afterTwoScans = connections.get();
      assertThat(afterTwoScans).isPositive();

      // The next RECHECK_EVERY - 1 scans answer from the table; the one after probes again.
      for (int scan = 1; scan < PortScanner.RECHECK_EVERY; scan++) {
        assertThat(reasonOfOneScan())
            .as("scan %d after settling", scan)
            .startsWith(PortProber.NOT_GRPC);
      }
      assertThat(connections).as("settled after two answers").hasValue(afterTwoScans);

      reasonOfOneScan();
      assertThat(connections.get()).as("probed again as a safety net").isGreaterThan(afterTwoScans);
    }

    try (Listeners second = new Listeners()) {
      // A new socket on the same port, once the old one's last connections let go of it.
      AtomicInteger connections =
          await()
              .atMost(Duration.ofSeconds(20))
              .ignoreException(BindException.class)
              .until(() -> second.countingResets(port), Objects::nonNull);
      reasonOfOneScan();
      assertThat(connections.get()).as("a new listener is probed").isPositive();
    }
  }

  @Test
  void aPortNobodyListensOnIsClosed() throws InterruptedException {
    PortScanner.Scan scan = scanner.scan();

    assertThat(scan.services()).isEmpty();
    assertThat(scan.skipped()).isEmpty();
    assertThat(scan.inconclusive()).isFalse();
  }
}
