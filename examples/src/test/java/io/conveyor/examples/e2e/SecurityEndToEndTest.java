package io.conveyor.examples.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.etl.v1.DeregisterSidecarRequest;
import io.conveyor.etl.v1.DiscoveredService;
import io.conveyor.etl.v1.ForwardBatchRequest;
import io.conveyor.etl.v1.HeartbeatRequest;
import io.conveyor.etl.v1.PushInit;
import io.conveyor.etl.v1.PushRequest;
import io.conveyor.etl.v1.PushResponse;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.RecordId;
import io.conveyor.etl.v1.RegisterSidecarRequest;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.SidecarCoordinatorGrpc;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.conveyor.etl.v1.SidecarIdentity;
import io.conveyor.etl.v1.SidecarState;
import io.conveyor.examples.local.PrometheusText;
import io.conveyor.examples.source.RecordPusher;
import io.conveyor.examples.support.DeliveryStats;
import io.conveyor.examples.support.SendRate;
import io.conveyor.examples.support.TestClientTls;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.LiveKeyManager;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The attacks of issue 12, made against the demo topology running with mutual TLS on (the default)
 * by a client with no credentials, with a certificate of another namespace and with a certificate
 * of another pod, both from the real CA. Each is refused with UNAUTHENTICATED or PERMISSION_DENIED,
 * nothing is delivered or taken out, and the real pipeline keeps delivering everything.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityEndToEndTest {

  private static final String DOMAIN = WorkloadIdentity.DEFAULT_TRUST_DOMAIN;
  private static final String SINK_SIDECAR_ID = "pod-b-sidecar";

  /** Who attacks. */
  enum Attacker {
    /** TLS to the port, but no client certificate. */
    NO_CREDENTIALS,
    /** A certificate from the Conveyor CA for a pod of another namespace, named like the sink's. */
    OTHER_NAMESPACE,
    /** A certificate from the Conveyor CA for another pod of the pipeline's namespace. */
    OTHER_POD;

    Optional<WorkloadIdentity> identity() {
      return switch (this) {
        case NO_CREDENTIALS -> Optional.empty();
        case OTHER_NAMESPACE -> Optional.of(WorkloadIdentity.of("intruders", "pod-b", "default"));
        case OTHER_POD -> Optional.of(WorkloadIdentity.of("default", "rogue-0", "default"));
      };
    }

    Status.Code expected() {
      return this == NO_CREDENTIALS ? Status.Code.UNAUTHENTICATED : Status.Code.PERMISSION_DENIED;
    }
  }

  private Topology topology;
  private CertificateAuthority ca;
  private final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    topology = new Topology("security");
    assertThat(topology.cluster.mutualTls()).as("the demo runs with mutual TLS on").isTrue();
    topology.startRouterAndPods();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> topology.podA.sidecarReady() && topology.podB.sidecarReady());
    ca = CertificateAuthority.load(topology.cluster.caDir(), Clock.systemUTC(), new SecureRandom());
  }

  @AfterAll
  void stop() {
    channels.forEach(c -> GrpcServers.shutdown(c, Duration.ofSeconds(1)));
    if (topology != null) {
      topology.close();
    }
  }

  @Test
  @Order(1)
  void theDemoTopologyDeliversEverythingOverMutualTls() throws Exception {
    deliversAll("secure-before", 2_000);
    assertThat(topology.routerMetric("conveyor_router_plaintext")).isEqualTo(0.0);
    // The peer port speaks TLS only: a plaintext client gets no answer from it.
    ManagedChannel plaintext =
        track(
            NettyChannelBuilder.forAddress("127.0.0.1", topology.podB.sidecarPeerPort())
                .usePlaintext()
                .build());
    assertThatThrownBy(
            () ->
                SidecarDataPlaneGrpc.newBlockingStub(plaintext)
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .forwardBatch(intrusion("plaintext")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @ParameterizedTest
  @EnumSource(Attacker.class)
  @Order(2)
  void registeringAsTheSinksPodIsRefused(Attacker attacker) throws Exception {
    RegisterSidecarRequest claim =
        RegisterSidecarRequest.newBuilder()
            .setIdentity(
                SidecarIdentity.newBuilder()
                    .setSidecarId("rogue-" + attacker.name().toLowerCase())
                    .setNamespace("default")
                    .setPodName("pod-b"))
            .setDataPlaneEndpoint("127.0.0.1:1")
            .addServices(
                DiscoveredService.newBuilder()
                    .setDescription(
                        ServiceDescriptor.newBuilder()
                            .setName("demo-sink")
                            .setType(ServiceType.SERVICE_TYPE_SINK))
                    .setGrpcService("conveyor.etl.v1.SinkService")
                    .setEndpoint("127.0.0.1:1"))
            .setState(SidecarState.SIDECAR_STATE_SERVING)
            .build();

    assertRefused(
        attacker,
        () -> coordinator(attacker).registerSidecar(claim),
        "the call claims pod default/pod-b");
    assertThat(topology.routerMetric("conveyor_router_sidecars")).isEqualTo(2.0);
  }

  @ParameterizedTest
  @EnumSource(Attacker.class)
  @Order(3)
  void spoofedHeartbeatsAndDeregistrationsOfTheSinksSidecarAreRefused(Attacker attacker)
      throws Exception {
    assertRefused(
        attacker,
        () ->
            coordinator(attacker)
                .heartbeat(
                    HeartbeatRequest.newBuilder()
                        .setSidecarId(SINK_SIDECAR_ID)
                        .setState(SidecarState.SIDECAR_STATE_DRAINING)
                        .build()),
        "was not registered by pod");
    assertRefused(
        attacker,
        () ->
            coordinator(attacker)
                .deregisterSidecar(
                    DeregisterSidecarRequest.newBuilder()
                        .setSidecarId(SINK_SIDECAR_ID)
                        .setReason("spoofed")
                        .build()),
        "was not registered by pod");
    assertThat(topology.routerMetric("conveyor_router_sidecars")).isEqualTo(2.0);
    assertThat(topology.podB.sidecarReady()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(Attacker.class)
  @Order(4)
  void injectingRecordsIntoTheSinksSidecarIsRefusedAndNothingArrives(Attacker attacker)
      throws Exception {
    String source = "intruder-" + attacker.name().toLowerCase();
    assertRefused(
        attacker,
        () ->
            SidecarDataPlaneGrpc.newBlockingStub(channel(topology.podB.sidecarPeerPort(), attacker))
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .forwardBatch(intrusion(source)),
        "placed upstream");
    assertThat(topology.sinkCount(source, 10).delivered()).isZero();
  }

  @ParameterizedTest
  @EnumSource(Attacker.class)
  @Order(5)
  void pushingRecordsFromTheNetworkIsRefused(Attacker attacker) throws Exception {
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    StreamObserver<PushRequest> requests =
        SidecarDataPlaneGrpc.newStub(channel(topology.podA.sidecarPeerPort(), attacker))
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .pushRecords(
                new StreamObserver<>() {
                  @Override
                  public void onNext(PushResponse value) {
                    ended.complete(new AssertionError("the sidecar answered: " + value));
                  }

                  @Override
                  public void onError(Throwable t) {
                    ended.complete(t);
                  }

                  @Override
                  public void onCompleted() {
                    ended.complete(new AssertionError("the stream completed"));
                  }
                });
    requests.onNext(
        PushRequest.newBuilder()
            .setInit(PushInit.newBuilder().setPipeline("demo").setSourceName("demo-source"))
            .build());
    Throwable error = ended.get(15, TimeUnit.SECONDS);

    assertThat(error).isInstanceOf(StatusRuntimeException.class);
    assertThat(((StatusRuntimeException) error).getStatus().getCode())
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(error).hasMessageContaining("only to the pod's own processes, over loopback");
  }

  @Test
  @Order(6)
  void afterTheAttacksEveryRecordStillArrivesAndEveryRefusalWasCounted() throws Exception {
    deliversAll("secure-after", 2_000);
    assertThat(topology.routerMetric("conveyor_router_denied_calls_total"))
        .as("3 registrations, 3 heartbeats, 3 deregistrations refused")
        .isGreaterThanOrEqualTo(9.0);
    assertThat(
            PrometheusText.metric(
                topology.podB.sidecarMetrics(), "conveyor_sidecar_denied_calls_total"))
        .isGreaterThanOrEqualTo(3.0);
    assertThat(
            PrometheusText.metric(
                topology.podA.sidecarMetrics(), "conveyor_sidecar_denied_calls_total"))
        .isGreaterThanOrEqualTo(3.0);
  }

  private void deliversAll(String source, int records) throws Exception {
    try (RecordPusher pusher = topology.pusher(source, records, SendRate.unlimited())) {
      pusher.start();
      assertThat(pusher.awaitCompletion(Duration.ofSeconds(60))).isTrue();
      DeliveryStats.Snapshot stats = pusher.snapshot();
      assertThat(stats.failed()).isZero();
      assertThat(stats.delivered() + stats.filtered()).isEqualTo(records);
    }
    Topology.SinkCount count = topology.sinkCount(source, records);
    assertThat(count.delivered()).as(count.json()).isEqualTo(records - records / 10);
    assertThat(count.lost()).as(count.json()).isZero();
    assertThat(count.duplicates()).as(count.json()).isZero();
  }

  private static void assertRefused(
      Attacker attacker, ThrowableAssert.ThrowingCallable call, String reasonPart) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(attacker.expected());
              if (attacker != Attacker.NO_CREDENTIALS) {
                assertThat(e.getStatus().getDescription()).contains(reasonPart);
              }
              // Least exposure: a refused caller learns no sidecar's id or endpoint.
              assertThat(String.valueOf(e.getStatus().getDescription()))
                  .doesNotContain(SINK_SIDECAR_ID)
                  .doesNotContain("pod-a-sidecar")
                  .doesNotContain("127.0.0.1");
            });
  }

  private static ForwardBatchRequest intrusion(String source) {
    RecordBatch.Builder batch = RecordBatch.newBuilder().setBatchId("intrusion-" + source);
    for (int i = 0; i < 10; i++) {
      batch.addRecords(
          Record.newBuilder()
              .setId(RecordId.newBuilder().setSourceId(source).setSequence(i))
              .setPayload(ByteString.copyFromUtf8("injected " + i)));
    }
    return ForwardBatchRequest.newBuilder()
        .setPipeline("demo")
        .setStageIndex(2)
        .setStage("demo-sink")
        .setBatch(batch)
        .setOriginSidecarId("pod-a-sidecar")
        .build();
  }

  private SidecarCoordinatorGrpc.SidecarCoordinatorBlockingStub coordinator(Attacker attacker)
      throws Exception {
    int routerPort = Integer.parseInt(topology.cluster.routerEndpoint().split(":")[1]);
    return SidecarCoordinatorGrpc.newBlockingStub(channel(routerPort, attacker))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** TLS to a Conveyor port, trusting the real root, with the attacker's certificate if any. */
  private ManagedChannel channel(int port, Attacker attacker) throws Exception {
    Optional<LiveKeyManager> keys = Optional.empty();
    if (attacker.identity().isPresent()) {
      keys = Optional.of(TestClientTls.keysFor(ca, attacker.identity().get()));
    }
    return track(TestClientTls.channel(ca, DOMAIN, port, keys).build());
  }

  private ManagedChannel track(ManagedChannel channel) {
    channels.add(channel);
    return channel;
  }
}
