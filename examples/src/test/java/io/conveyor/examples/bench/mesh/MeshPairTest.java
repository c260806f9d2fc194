package io.conveyor.examples.bench.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.examples.direct.DirectPipelineDriver;
import io.conveyor.examples.direct.DirectSettings;
import io.conveyor.examples.sink.DemoSink;
import io.conveyor.examples.sink.SequenceLedger;
import io.conveyor.examples.sink.SinkSettings;
import io.conveyor.examples.support.DeliveryStats;
import io.conveyor.examples.support.ServiceHost;
import io.conveyor.examples.support.TestClientTls;
import io.conveyor.examples.support.WorkloadSettings;
import io.conveyor.examples.transform.DemoTransform;
import io.conveyor.examples.transform.TransformSettings;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.LiveKeyManager;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark's mesh baseline with real HAProxy processes (skipped where {@code haproxy} is not
 * installed; {@code .ci/run} installs it): the direct pipeline's sink calls go through pod A's
 * proxy and pod B's proxy, which speak mutual TLS to each other.
 */
class MeshPairTest {

  private static final String DOMAIN = WorkloadIdentity.DEFAULT_TRUST_DOMAIN;

  @TempDir Path folder;

  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<ServiceHost> hosts = new ArrayList<>();
  private Path haproxy;
  private CertificateAuthority ca;
  private MeshPair mesh;
  private DemoSink sink;
  private ServiceHost transformHost;

  @BeforeEach
  void start() throws Exception {
    Optional<Path> binary = HaproxyBinary.find();
    Assumptions.assumeTrue(
        binary.isPresent(),
        "haproxy is not on PATH: the mesh baseline cannot run here (apt-get install haproxy)");
    haproxy = binary.get();
    ca = CertificateAuthority.create(DOMAIN, Clock.systemUTC(), new SecureRandom());
    sink = new DemoSink(SinkSettings.defaults());
    ServiceHost sinkHost = serve(sink);
    transformHost = serve(new DemoTransform(TransformSettings.defaults()));
    mesh = MeshPair.start(haproxy, folder, Optional.of(ca), 2, sinkHost.port());
  }

  @AfterEach
  void stop() {
    // The proxies first and always: they are processes that would outlive the test JVM.
    if (mesh != null) {
      mesh.close();
    }
    channels.forEach(c -> GrpcServers.shutdown(c, Duration.ofSeconds(1)));
    hosts.forEach(h -> h.close(Duration.ZERO));
  }

  @Test
  void everyRecordReachesTheSinkThroughBothProxies() throws InterruptedException {
    long records = 10_000;
    WorkloadSettings workload =
        WorkloadSettings.defaults("mesh-test")
            .withRecords(records)
            .withBatchSize(500)
            .withRecordBytes(100);
    try (DirectPipelineDriver driver =
        new DirectPipelineDriver(
            plaintext(transformHost.port()),
            // The only way to the sink: proxy A, then proxy B over mutual TLS.
            plaintext(mesh.outboundPort()),
            DirectSettings.defaults(workload)
                .withWindow(8)
                .withCallTimeout(Duration.ofSeconds(10)))) {
      driver.start();
      assertThat(driver.awaitCompletion(Duration.ofSeconds(120)))
          .as("complete: %s", driver.snapshot().line())
          .isTrue();
      DeliveryStats.Snapshot s = driver.snapshot();
      assertThat(s.failed()).isZero();
      assertThat(s.delivered()).isEqualTo(9_000); // a tenth are filtered by the transform
    }
    SequenceLedger.Report report =
        sink.ledger().report(records, 10, Optional.empty(), OptionalInt.empty());
    assertThat(report.delivered()).isEqualTo(9_000);
    assertThat(report.lost()).isZero();
    assertThat(report.duplicates()).isZero();
    assertThat(mesh.proxies()).allMatch(MeshProxy::isAlive);
  }

  @Test
  void podBsProxyServesAPeerWithAWorkloadCertificateAndRefusesOneWithout() throws Exception {
    HealthCheckRequest probe = HealthCheckRequest.getDefaultInstance();
    // Control: the same trust, with a workload certificate from the mesh's CA, gets through to the
    // sink's health service (and proxy B's certificate passes a workload trust check).
    assertThat(
            health(tls(mesh.inboundPort(), Optional.of(workloadKeys()))).check(probe).getStatus())
        .isEqualTo(ServingStatus.SERVING);

    assertThatThrownBy(() -> health(tls(mesh.inboundPort(), Optional.empty())).check(probe))
        .as("a TLS client without a certificate")
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThatThrownBy(() -> health(plaintext(mesh.inboundPort())).check(probe))
        .as("a plaintext client")
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  private LiveKeyManager workloadKeys() throws Exception {
    return TestClientTls.keysFor(ca, WorkloadIdentity.of("default", "pod-c", "default"));
  }

  private static HealthGrpc.HealthBlockingStub health(ManagedChannel channel) {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private ManagedChannel tls(int port, Optional<LiveKeyManager> keys) {
    return track(TestClientTls.channel(ca, DOMAIN, port, keys).build());
  }

  private ManagedChannel plaintext(int port) {
    return track(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build());
  }

  private ManagedChannel track(ManagedChannel channel) {
    channels.add(channel);
    return channel;
  }

  private ServiceHost serve(io.grpc.BindableService service) {
    ServiceHost host =
        ServiceHost.start(
            NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), service);
    hosts.add(host);
    return host;
  }
}
