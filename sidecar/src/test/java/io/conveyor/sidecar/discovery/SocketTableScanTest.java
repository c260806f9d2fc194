package io.conveyor.sidecar.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Scans that read the socket table: fewer connections to listeners that are not Conveyor's. */
class SocketTableScanTest {

  private static final Duration SETTLE_AFTER = Duration.ofSeconds(10);
  private static final Duration RECHECK_EVERY = Duration.ofSeconds(60);

  private final int port = FreePorts.anyFreePort();
  private final ExecutorService pool = Executors.newFixedThreadPool(2);
  private final AtomicLong nanos = new AtomicLong();
  private final PortScanner scanner =
      new PortScanner(
          new PortProber("127.0.0.1", 2_000, PortScannerTest::channel),
          port,
          port,
          Set.of(),
          pool,
          Optional.of(
              new PortScanner.SocketTable(
                  ListeningSockets.ofThisProcess(), SETTLE_AFTER, RECHECK_EVERY, nanos::get)));

  @BeforeEach
  void onLinux() {
    assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "needs Linux's socket table");
  }

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  private void later(Duration by) {
    nanos.addAndGet(by.toNanos());
  }

  /** One scan of the port; the listener there is never Conveyor's, for one reason or another. */
  private void scanIsNotGrpc() throws InterruptedException {
    PortScanner.Scan scan = scanner.scan();
    assertThat(scan.services()).isEmpty();
    assertThat(scan.skipped())
        .singleElement()
        // How the call fails (a reset during connect, or UNAVAILABLE) varies: the same answer.
        .satisfies(r -> assertThat(r.skippedBecause()).startsWith(PortProber.NOT_GRPC));
  }

  @Test
  void aListenerThatIsNotGrpcIsLeftAloneWhileTheSameSocketHoldsThePort() throws Exception {
    try (Listeners first = new Listeners()) {
      AtomicInteger connections = first.resetting(port);
      scanIsNotGrpc();
      later(SETTLE_AFTER);
      scanIsNotGrpc();
      int settled = connections.get();
      assertThat(settled).isPositive();

      for (int scan = 0; scan < 5; scan++) {
        later(RECHECK_EVERY.dividedBy(10));
        scanIsNotGrpc();
      }
      assertThat(connections).as("settled: answered from the table").hasValue(settled);

      later(RECHECK_EVERY);
      scanIsNotGrpc();
      assertThat(connections.get()).as("probed again as a safety net").isGreaterThan(settled);
    }

    try (Listeners second = new Listeners()) {
      // A new socket on the same port, once the old one's last connections let go of it.
      AtomicInteger connections =
          await()
              .atMost(Duration.ofSeconds(20))
              .ignoreException(BindException.class)
              .until(() -> second.resetting(port), Objects::nonNull);
      later(Duration.ofSeconds(1));
      PortScanner.Scan scan = scanner.scan();
      assertThat(connections.get()).as("a new listener is probed").isPositive();
      assertThat(scan.replacedPorts()).containsExactly(port);
    }
  }

  @Test
  void twoQuickAnswersDoNotSettleAListener() throws Exception {
    // A gRPC server starting up may answer UNAVAILABLE twice within the fast retries.
    try (Listeners listeners = new Listeners()) {
      AtomicInteger connections = listeners.resetting(port);
      scanIsNotGrpc();
      later(Duration.ofSeconds(1));
      scanIsNotGrpc();
      int afterTwo = connections.get();

      later(Duration.ofSeconds(2));
      scanIsNotGrpc();

      assertThat(connections.get()).isGreaterThan(afterTwo);
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
