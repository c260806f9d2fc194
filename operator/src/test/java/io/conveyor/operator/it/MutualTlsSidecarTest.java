package io.conveyor.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.conveyor.etl.v1.BatchAck;
import io.conveyor.etl.v1.PushInit;
import io.conveyor.etl.v1.PushRequest;
import io.conveyor.etl.v1.PushResponse;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.RecordBatch;
import io.conveyor.etl.v1.RecordId;
import io.conveyor.etl.v1.RecordOutcome;
import io.conveyor.etl.v1.SidecarDataPlaneGrpc;
import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.crd.ConveyorSidecar;
import io.conveyor.operator.crd.Pipeline;
import io.conveyor.operator.crd.PipelinePhase;
import io.conveyor.operator.crd.SidecarPhase;
import io.conveyor.operator.testing.OperatorHarness;
import io.conveyor.operator.testing.PodApps;
import io.conveyor.operator.testing.PodCredentials;
import io.conveyor.operator.testing.Pods;
import io.conveyor.operator.testing.SidecarPod;
import io.conveyor.operator.testing.TestOperators;
import io.conveyor.operator.testing.TokenReviews;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.pipeline.PipelineSpec;
import io.conveyor.router.registry.SidecarRecord;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator as it runs by default, {@code SECURITY_MODE=mtls}, with real sidecars as the webhook
 * injects them: each enrols with its pod's projected token (checked by TokenReview, answered in the
 * API server's shape) and the trust bundle written from the CA Secret's root, then registers over
 * mutual TLS under its certificate. A sidecar that proves another pod, and one without TLS, never
 * get in.
 */
class MutualTlsSidecarTest {

  private static final String NS = "secure";
  private static final String SA = "orders";
  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension static final OperatorHarness harness = new OperatorHarness();

  @TempDir static Path files;

  private static KubernetesClient client;
  private static TokenReviews reviews;
  private static SimpleMeterRegistry meters;
  private static ConveyorOperator operator;

  @BeforeAll
  static void startMutualTlsLeader() {
    client = harness.client();
    reviews = TokenReviews.installOn(harness.cluster().server());
    meters = new SimpleMeterRegistry();
    operator =
        harness.start(
            TestOperators.config("op-mtls", Duration.ZERO, true), Clock.systemUTC(), meters);
    await().atMost(OperatorHarness.LEADERSHIP_TIMEOUT).until(operator::serving);
  }

  @Test
  void aSidecarEnrolsWithItsPodsTokenRegistersOverMutualTlsAndGetsItsAssignments()
      throws Exception {
    client.resource(pipeline("orders", "orders", "warehouse")).create();
    Pod pod = runningPod("orders-0", "10.2.0.1");
    long issuedBefore = issued();

    SidecarPod sidecar =
        harness.startSidecar(
            pod,
            "sc-orders-0",
            credentials(pod, pod).security(),
            PodApps.source("orders"),
            PodApps.sink("warehouse"));

    ConveyorSidecar ready = awaitSidecar("orders-0", SidecarPhase.Ready);
    await().atMost(WAIT).until(sidecar::ready);
    // The certificate: from the Secret's CA, naming the pod and the token's service account.
    X509Certificate leaf = sidecar.certificate().orElseThrow().leaf();
    X509Certificate root = operator.certificateAuthority().orElseThrow().root();
    leaf.verify(root.getPublicKey());
    String identity = "spiffe://conveyor.etl/ns/secure/pod/orders-0/sa/orders";
    assertThat(leaf.getSubjectAlternativeNames().stream().map(san -> (Object) san.get(1)).toList())
        .containsExactly((Object) identity);
    assertThat(sidecar.counter("conveyor_sidecar_enrolments_total", "result=\"issued\""))
        .isEqualTo(1);
    assertThat(issued()).isEqualTo(issuedBefore + 1);
    // Registered over mutual TLS: the router recorded the identity its certificate proved.
    RouterCore core = operator.routerCore().orElseThrow();
    SidecarRecord record = core.sidecar("sc-orders-0").orElseThrow();
    assertThat(record.workloadIdentity()).isEqualTo(identity);
    assertThat(sidecar.registrations()).isEqualTo(1);
    // The ConveyorSidecar shows the certificate and the assignments.
    Condition certificate = condition(ready, "CertificateValid");
    String expiry = leaf.getNotAfter().toInstant().toString();
    assertThat(certificate.getStatus()).isEqualTo("True");
    assertThat(certificate.getReason()).isEqualTo("Issued");
    assertThat(ready.getStatus().getCertificateExpiry()).isEqualTo(expiry);
    assertThat(ready.getStatus().getCertificateSerial())
        .isEqualTo(leaf.getSerialNumber().toString(16));
    assertThat(ready.getStatus().getRegistered()).isTrue();
    assertThat(ready.getStatus().getPipelines()).containsExactly("orders");
    awaitPipeline("orders", PipelinePhase.Running);
  }

  @Test
  void aSidecarWithATokenBoundToAnotherPodGetsNoCertificateAndNeverRegisters() {
    Pod victim = runningPod("billing-0", "10.2.0.2");
    Pod rogue = runningPod("rogue-0", "10.2.0.3");
    double refusedBefore = refused("permission_denied");

    // The rogue pod's sidecar presents a token the API server binds to billing-0.
    SidecarPod sidecar =
        harness.startSidecar(
            rogue, "sc-rogue-0", credentials(victim, victim).security(), PodApps.sink("billing"));

    await()
        .atMost(WAIT)
        .until(
            () ->
                sidecar.counter("conveyor_sidecar_enrolments_total", "result=\"permission_denied\"")
                    >= 1);
    assertThat(refused("permission_denied")).isGreaterThan(refusedBefore);
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                sidecar.certificate().isEmpty()
                    && !sidecar.isRegistered()
                    && !sidecar.ready()
                    && operator.routerCore().orElseThrow().sidecar("sc-rogue-0").isEmpty());
    assertThat(sidecar.counter("conveyor_sidecar_enrolments_total", "result=\"issued\"")).isZero();
    // Nothing was issued in either pod's name, and the rogue is not Ready.
    assertThat(certificateReason("rogue-0")).isEqualTo("NotEnrolled");
    assertThat(certificateReason("billing-0")).isEqualTo("NotEnrolled");
    assertThat(get("rogue-0").getStatus().getPhase()).isNotEqualTo(SidecarPhase.Ready);
  }

  @Test
  void aPlaintextSidecarCannotRegisterWithTheMutualTlsLeader() {
    Pod pod = runningPod("plain-0", "10.2.0.4");

    SidecarPod sidecar = harness.startSidecar(pod, "sc-plain-0", PodApps.source("plain"));

    // It tries (its registration fails: the router's port speaks only TLS) and never gets in.
    await()
        .atMost(WAIT)
        .until(
            () -> sidecar.counter("conveyor_sidecar_registrations_total", "result=\"error\"") >= 1);
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                !sidecar.isRegistered()
                    && !sidecar.ready()
                    && operator.routerCore().orElseThrow().sidecar("sc-plain-0").isEmpty());
    assertThat(sidecar.registrations()).isZero();
    ConveyorSidecar cs = get("plain-0");
    assertThat(cs.getStatus().getPhase()).isNotEqualTo(SidecarPhase.Ready);
    assertThat(cs.getStatus().getRegistered()).isNotEqualTo(Boolean.TRUE);
  }

  @Test
  void recordsFlowFromASourcePodToASinkPodOverMutualTls() throws Exception {
    client.resource(pipeline("shipments", "shipper", "ledger")).create();
    // Both on loopback: the data plane endpoints are the pods' IPs, and the sidecars run here.
    Pod shipperPod = runningPod("shipper-0", "127.0.0.1");
    Pod ledgerPod = runningPod("ledger-0", "127.0.0.1");
    SidecarPod shipper =
        harness.startSidecar(
            shipperPod,
            "sc-shipper-0",
            credentials(shipperPod, shipperPod).security(),
            PodApps.source("shipper"));
    SidecarPod ledger =
        harness.startSidecar(
            ledgerPod,
            "sc-ledger-0",
            credentials(ledgerPod, ledgerPod).security(),
            PodApps.sink("ledger"));
    awaitSidecar("shipper-0", SidecarPhase.Ready);
    awaitSidecar("ledger-0", SidecarPhase.Ready);
    awaitPipeline("shipments", PipelinePhase.Running);

    // The source pushes into its own sidecar on loopback; the batch crosses to the sink pod's
    // sidecar over mutual TLS (each checks the other's certificate) and is written there.
    RecordBatch batch = batch("shipments-1", 20);
    BatchAck ack;
    ManagedChannel local =
        NettyChannelBuilder.forAddress("127.0.0.1", shipper.grpcPort()).usePlaintext().build();
    try {
      ack = push(local, "shipments", "shipper", batch);
    } finally {
      local.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    assertThat(ack.getResult().getOutcomesList())
        .hasSize(20)
        .containsOnly(RecordOutcome.RECORD_OUTCOME_DELIVERED);
    assertThat(ledger.written()).containsExactlyElementsOf(batch.getRecordsList());
    assertThat(shipper.written()).isEmpty();
  }

  // ------------------------------------------------------------------ helpers

  private static RecordBatch batch(String id, int records) {
    RecordBatch.Builder batch = RecordBatch.newBuilder().setBatchId(id);
    for (int i = 0; i < records; i++) {
      batch.addRecords(
          Record.newBuilder()
              .setId(RecordId.newBuilder().setSourceId("shipper-0").setSequence(i))
              .setPayload(ByteString.copyFromUtf8("shipment " + i)));
    }
    return batch.build();
  }

  /**
   * Pushes {@code batch} into {@code pipeline} as source {@code source}, the way a source does:
   * opens the stream, waits for it to be ready, sends, and returns the ack. The sidecar learns its
   * pipeline from the router's assignments, so a stream it cannot open yet is tried again.
   */
  private static BatchAck push(
      ManagedChannel channel, String pipeline, String source, RecordBatch batch) {
    AtomicReference<BatchAck> ack = new AtomicReference<>();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .until(
            () -> {
              ack.set(pushOnce(channel, pipeline, source, batch));
              return true;
            });
    return ack.get();
  }

  private static BatchAck pushOnce(
      ManagedChannel channel, String pipeline, String source, RecordBatch batch)
      throws InterruptedException {
    BlockingQueue<Object> responses = new LinkedBlockingQueue<>();
    StreamObserver<PushRequest> requests =
        SidecarDataPlaneGrpc.newStub(channel)
            .pushRecords(
                new StreamObserver<>() {
                  @Override
                  public void onNext(PushResponse response) {
                    responses.add(response);
                  }

                  @Override
                  public void onError(Throwable error) {
                    responses.add(error);
                  }

                  @Override
                  public void onCompleted() {
                    responses.add(new IllegalStateException("the push stream ended"));
                  }
                });
    try {
      requests.onNext(
          PushRequest.newBuilder()
              .setInit(PushInit.newBuilder().setPipeline(pipeline).setSourceName(source))
              .build());
      nextResponse(responses, PushResponse::hasReady);
      requests.onNext(PushRequest.newBuilder().setBatch(batch).build());
      return nextResponse(responses, PushResponse::hasAck).getAck();
    } finally {
      requests.onCompleted();
    }
  }

  /** The next response that passes {@code wanted}, skipping others (credits, backpressure). */
  private static PushResponse nextResponse(
      BlockingQueue<Object> responses, Predicate<PushResponse> wanted) throws InterruptedException {
    while (true) {
      Object next = responses.poll(10, TimeUnit.SECONDS);
      if (next == null) {
        throw new AssertionError("no answer from the sidecar within 10 s");
      }
      if (next instanceof Throwable error) {
        throw new AssertionError("the push stream failed: " + error, error);
      }
      PushResponse response = (PushResponse) next;
      if (wanted.test(response)) {
        return response;
      }
    }
  }

  /**
   * The files the kubelet would mount into {@code pod}: a projected token that the API server binds
   * to {@code boundTo} (the pod itself, unless the test steals another pod's token), and the trust
   * bundle from the leader's root.
   */
  private static PodCredentials credentials(Pod pod, Pod boundTo) {
    String name = boundTo.getMetadata().getName();
    String uid = boundTo.getMetadata().getUid();
    String token = PodCredentials.projectedToken(NS, SA, name, uid);
    reviews.answer(token, TokenReviews.boundToken(NS, SA, name, uid));
    return PodCredentials.write(
        files, token, operator.certificateAuthority().orElseThrow().rootPem());
  }

  private static Pod runningPod(String name, String ip) {
    Pod pod = client.resource(Pods.injected(NS, name, SA)).create();
    pod.setStatus(Pods.running(ip, true));
    return client.resource(pod).updateStatus();
  }

  private static Pipeline pipeline(String name, String source, String sink) {
    Pipeline pipeline = new Pipeline();
    pipeline.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    pipeline.setSpec(new PipelineSpec(source, List.of(), sink, null));
    return pipeline;
  }

  private static long issued() {
    Counter counter = meters.find("conveyor_router_certificates_issued_total").counter();
    return counter == null ? 0 : (long) counter.count();
  }

  private static double refused(String reason) {
    Counter counter =
        meters.find("conveyor_router_certificates_refused_total").tag("reason", reason).counter();
    return counter == null ? 0 : counter.count();
  }

  private static ConveyorSidecar get(String name) {
    return client.resources(ConveyorSidecar.class).inNamespace(NS).withName(name).get();
  }

  private static ConveyorSidecar awaitSidecar(String name, SidecarPhase phase) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              ConveyorSidecar cs = get(name);
              assertThat(cs).as("ConveyorSidecar %s", name).isNotNull();
              assertThat(cs.getStatus()).as("status of %s", name).isNotNull();
              assertThat(cs.getStatus().getPhase()).as("phase of %s", name).isEqualTo(phase);
            });
    return get(name);
  }

  private static void awaitPipeline(String name, PipelinePhase phase) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              Pipeline p = client.resources(Pipeline.class).inNamespace(NS).withName(name).get();
              assertThat(p.getStatus()).isNotNull();
              assertThat(p.getStatus().getPhase()).isEqualTo(phase);
            });
  }

  private static String certificateReason(String name) {
    ConveyorSidecar cs = get(name);
    return cs == null || cs.getStatus() == null
        ? null
        : cs.getStatus().getConditions().stream()
            .filter(c -> c.getType().equals("CertificateValid"))
            .map(Condition::getReason)
            .findFirst()
            .orElse(null);
  }

  private static Condition condition(ConveyorSidecar cs, String type) {
    return cs.getStatus().getConditions().stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow();
  }
}
