package io.conveyor.sidecar.discovery;

import static io.conveyor.sidecar.discovery.ConveyorServices.describing;
import static io.conveyor.sidecar.discovery.ConveyorServices.sink;
import static io.conveyor.sidecar.discovery.ConveyorServices.source;
import static io.conveyor.sidecar.discovery.ConveyorServices.transform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ServiceHealth;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.SinkServiceGrpc;
import io.conveyor.etl.v1.SourceServiceGrpc;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scan over real listeners on consecutive loopback ports: real Conveyor services (with and
 * without reflection, healthy or not), a gRPC server with no Conveyor service, an HTTP/1.1 server,
 * a TLS server, a silent and a resetting socket, the sidecar's own port and closed ports.
 */
class PortScannerTest {

  /**
   * Per-port deadline of the scans. 1 s (the sidecar's default) was missed by probes of real
   * services while a loaded 2-core machine ran eight of them at once, and the scan then missed
   * those services.
   */
  private static final long PROBE_TIMEOUT_MS = 2_000;

  // Offsets in the scan range.
  private static final int TRANSFORM = 0;
  private static final int SINK_WITHOUT_REFLECTION = 1;
  private static final int NOT_CONVEYOR = 2;
  private static final int HTTP = 3;
  private static final int TLS = 4;
  private static final int SILENT = 5;
  private static final int RESETTING = 6;
  private static final int OWN_PORT = 7;
  private static final int CLOSED = 8;
  private static final int SOURCE_NOT_SERVING = 9;
  private static final int V1ALPHA_ONLY = 10;
  private static final int SERVER_NOT_SERVING = 11;
  private static final int NOT_CONVEYOR_WITHOUT_REFLECTION = 12;
  private static final int UNUSABLE_NAME = 13;
  private static final int MISLABELLED_TYPE = 14;
  private static final int ALSO_CLOSED = 15;
  private static final int RANGE = 16;

  @TempDir static Path tempDir;

  private static Listeners listeners;
  private static int first;
  private static ExecutorService probePool;

  @BeforeAll
  static void startListeners() throws Exception {
    SelfSignedTls tls = SelfSignedTls.generate(tempDir);
    for (int attempt = 1; ; attempt++) {
      first = FreePorts.block(RANGE);
      listeners = new Listeners();
      try {
        startAll(tls);
        break;
      } catch (IOException e) {
        listeners.close(); // a port of the block was taken meanwhile: another block
        if (attempt == 5) {
          throw e;
        }
      }
    }
    assertRealTls(tls);
    assertRealHttp();
    probePool = Executors.newFixedThreadPool(8);
    // Loads the probe's client side (channel, reflection, health) once, with time to spare: the
    // first probes of a cold JVM are much slower than the deadline the tests are about.
    assertThat(
            new PortProber("127.0.0.1", 30_000, PortScannerTest::channel)
                .probe(port(TRANSFORM))
                .services())
        .extracting(s -> s.getDescription().getName())
        .containsExactly("mask-pii");
  }

  private static void startAll(SelfSignedTls tls) throws IOException {
    listeners.grpc(port(TRANSFORM), Listeners.Extras.STANDARD, Map.of(), transform("mask-pii"));
    listeners.grpc(
        port(SINK_WITHOUT_REFLECTION), Listeners.Extras.NONE, Map.of(), sink("warehouse"));
    listeners.grpc(
        port(NOT_CONVEYOR),
        Listeners.Extras.STANDARD,
        Map.of("", ServingStatus.SERVING),
        new SidecarCoordinatorGrpc.SidecarCoordinatorImplBase() {});
    listeners.http(port(HTTP));
    listeners.tls(port(TLS), tls.server);
    listeners.silent(port(SILENT));
    listeners.resetting(port(RESETTING));
    listeners.grpc(port(OWN_PORT), Listeners.Extras.STANDARD, Map.of(), transform("own-port"));
    listeners.grpc(
        port(SOURCE_NOT_SERVING),
        Listeners.Extras.STANDARD,
        Map.of(
            "", ServingStatus.SERVING, SourceServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING),
        source("orders"));
    listeners.grpc(
        port(V1ALPHA_ONLY),
        Listeners.Extras.V1ALPHA_REFLECTION_ONLY,
        Map.of(TransformServiceGrpc.SERVICE_NAME, ServingStatus.SERVING),
        transform("geo-enrich"));
    listeners.grpc(
        port(SERVER_NOT_SERVING),
        Listeners.Extras.STANDARD,
        Map.of("", ServingStatus.NOT_SERVING),
        sink("archive"));
    listeners.grpc(
        port(NOT_CONVEYOR_WITHOUT_REFLECTION),
        Listeners.Extras.HEALTH_ONLY,
        Map.of("", ServingStatus.SERVING));
    listeners.grpc(port(UNUSABLE_NAME), Listeners.Extras.STANDARD, Map.of(), transform("Mask PII"));
    listeners.grpc(
        port(MISLABELLED_TYPE),
        Listeners.Extras.STANDARD,
        Map.of(SinkServiceGrpc.SERVICE_NAME, ServingStatus.SERVING),
        sink(describing("audit-log", ServiceType.SERVICE_TYPE_TRANSFORM)));
  }

  @AfterAll
  static void stopListeners() {
    if (listeners != null) {
      listeners.close();
    }
    if (probePool != null) {
      probePool.shutdownNow();
    }
  }

  @Test
  void findsExactlyTheConveyorServicesWithinAFewSeconds() throws InterruptedException {
    long started = System.nanoTime();
    PortScanner.Scan scan = scanner(first, first + RANGE - 1, Set.of(port(OWN_PORT))).scan();
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(scan.services())
        .extracting(
            s -> s.getDescription().getName(),
            s -> s.getDescription().getType(),
            DiscoveredService::getGrpcService,
            DiscoveredService::getEndpoint,
            DiscoveredService::getHealth)
        .containsExactly(
            tuple(
                "mask-pii",
                ServiceType.SERVICE_TYPE_TRANSFORM,
                TransformServiceGrpc.SERVICE_NAME,
                endpoint(TRANSFORM),
                ServiceHealth.SERVICE_HEALTH_SERVING),
            tuple(
                "warehouse",
                ServiceType.SERVICE_TYPE_SINK,
                SinkServiceGrpc.SERVICE_NAME,
                endpoint(SINK_WITHOUT_REFLECTION),
                ServiceHealth.SERVICE_HEALTH_SERVING),
            tuple(
                "orders",
                ServiceType.SERVICE_TYPE_SOURCE,
                SourceServiceGrpc.SERVICE_NAME,
                endpoint(SOURCE_NOT_SERVING),
                ServiceHealth.SERVICE_HEALTH_NOT_SERVING),
            tuple(
                "geo-enrich",
                ServiceType.SERVICE_TYPE_TRANSFORM,
                TransformServiceGrpc.SERVICE_NAME,
                endpoint(V1ALPHA_ONLY),
                ServiceHealth.SERVICE_HEALTH_SERVING),
            tuple(
                "archive",
                ServiceType.SERVICE_TYPE_SINK,
                SinkServiceGrpc.SERVICE_NAME,
                endpoint(SERVER_NOT_SERVING),
                ServiceHealth.SERVICE_HEALTH_NOT_SERVING),
            // Describe said TRANSFORM, but it implements SinkService: the implemented service wins.
            tuple(
                "audit-log",
                ServiceType.SERVICE_TYPE_SINK,
                SinkServiceGrpc.SERVICE_NAME,
                endpoint(MISLABELLED_TYPE),
                ServiceHealth.SERVICE_HEALTH_SERVING));
    assertThat(scan.services().get(0).getDescription().getMaxBatchSize()).isEqualTo(200);
    // A silent socket costs one probe deadline; everything else is much quicker.
    assertThat(took).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void skipsEveryOtherListenerAndSaysWhy() throws InterruptedException {
    PortScanner.Scan scan = scanner(first, first + RANGE - 1, Set.of(port(OWN_PORT))).scan();

    Map<Integer, String> reasons =
        scan.skipped().stream()
            .collect(Collectors.toMap(ProbeResult::port, ProbeResult::skippedBecause));
    assertThat(reasons.keySet())
        .as("closed ports and the sidecar's own port are not reported as skipped listeners")
        .containsExactlyInAnyOrder(
            port(NOT_CONVEYOR),
            port(HTTP),
            port(TLS),
            port(SILENT),
            port(RESETTING),
            port(NOT_CONVEYOR_WITHOUT_REFLECTION),
            port(UNUSABLE_NAME));
    assertThat(reasons.get(port(NOT_CONVEYOR))).isEqualTo("no Conveyor service");
    assertThat(reasons.get(port(NOT_CONVEYOR_WITHOUT_REFLECTION))).isEqualTo("no Conveyor service");
    assertThat(reasons.get(port(UNUSABLE_NAME))).isEqualTo("no Conveyor service");
    assertThat(reasons.get(port(SILENT))).startsWith("not a plaintext gRPC server");
    assertThat(reasons.get(port(HTTP))).startsWith("not a plaintext gRPC server");
    assertThat(reasons.get(port(TLS))).startsWith("not a plaintext gRPC server");
    assertThat(reasons.get(port(RESETTING))).startsWith("not a plaintext gRPC server");
  }

  @Test
  void theSidecarsOwnPortIsNeverProbed() throws InterruptedException {
    int own = port(OWN_PORT);

    PortScanner.Scan skipped = scanner(own, own, Set.of(own)).scan();
    PortScanner.Scan probed = scanner(own, own, Set.of()).scan();

    assertThat(skipped.services()).isEmpty();
    assertThat(skipped.skipped()).isEmpty();
    // Proof that only the skip kept it out: the port does hold a Conveyor service.
    assertThat(probed.services())
        .extracting(s -> s.getDescription().getName())
        .containsExactly("own-port");
  }

  @Test
  void eachHostileListenerIsGivenUpWithinTheProbeDeadline() {
    PortProber prober = new PortProber("127.0.0.1", PROBE_TIMEOUT_MS, PortScannerTest::channel);

    for (int offset : List.of(HTTP, TLS, SILENT, RESETTING)) {
      long started = System.nanoTime();
      ProbeResult result = prober.probe(port(offset));
      Duration took = Duration.ofNanos(System.nanoTime() - started);

      assertThat(result.services()).isEmpty();
      assertThat(result.closed()).isFalse();
      assertThat(took)
          .as("probe of port %d", port(offset))
          .isLessThan(Duration.ofMillis(PROBE_TIMEOUT_MS + 1_000));
    }
  }

  @Test
  void aRangeOfClosedPortsIsScannedQuicklyAsRefusedNotWaitedOut() throws InterruptedException {
    // Closed ports must be answered by the connection being refused, not by waiting out the probe
    // deadline: no port times out. Another process on the machine may bind a port of the block
    // between the check and the scan; a port the scan reports that is in use after it is that
    // interference, not a scanner error, and the scan is repeated on a new block.
    PortScanner.Scan scan = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int closedFirst = FreePorts.block(200);
      scan = scanner(closedFirst, closedFirst + 199, Set.of()).scan();
      boolean interfered =
          scan.skipped().stream().anyMatch(r -> !FreePorts.isFree(r.port()))
              || scan.timedOutPorts().stream().anyMatch(port -> !FreePorts.isFree(port));
      if (!interfered) {
        break;
      }
    }

    assertThat(scan.services()).isEmpty();
    assertThat(scan.skipped()).isEmpty();
    assertThat(scan.timedOutPorts()).as("closed ports are refused at once").isEmpty();
  }

  @Test
  void aProbeSaysClosedForAClosedPort() {
    ProbeResult result =
        new PortProber("127.0.0.1", PROBE_TIMEOUT_MS, PortScannerTest::channel).probe(port(CLOSED));

    assertThat(result.closed()).isTrue();
    assertThat(result.services()).isEmpty();
  }

  // ------------------------------------------------------------------ helpers

  private static PortScanner scanner(int from, int to, Set<Integer> own) {
    return new PortScanner(
        new PortProber("127.0.0.1", PROBE_TIMEOUT_MS, PortScannerTest::channel),
        from,
        to,
        own,
        probePool);
  }

  /** Like the sidecar's probe channels: plaintext, callbacks on the I/O thread, no retries. */
  static ManagedChannel channel(String endpoint) {
    return NettyChannelBuilder.forTarget(endpoint)
        .usePlaintext()
        .directExecutor()
        .disableRetry()
        .maxInboundMessageSize(1 << 20)
        .build();
  }

  private static int port(int offset) {
    return first + offset;
  }

  private static String endpoint(int offset) {
    return "127.0.0.1:" + port(offset);
  }

  private static void assertRealTls(SelfSignedTls tls) throws IOException {
    try (SSLSocket socket =
        (SSLSocket) tls.client.getSocketFactory().createSocket("127.0.0.1", port(TLS))) {
      socket.setSoTimeout(5_000);
      socket.startHandshake();
      assertThat(socket.getSession().getProtocol()).startsWith("TLS");
    }
  }

  private static void assertRealHttp() throws IOException {
    HttpURLConnection connection =
        (HttpURLConnection)
            URI.create("http://127.0.0.1:" + port(HTTP) + "/").toURL().openConnection();
    connection.setConnectTimeout(5_000);
    connection.setReadTimeout(5_000);
    assertThat(connection.getResponseCode()).isEqualTo(200);
    connection.disconnect();
  }
}
