package io.conveyor.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import io.conveyor.router.pipeline.PipelineSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leader failover under mutual TLS: the new leader loads the same root from Secret conveyor-ca, so
 * a sidecar enrolled with the old leader trusts its router certificate and is trusted by it; it
 * registers again over mutual TLS with the certificate it holds, without enrolling again.
 */
class MutualTlsFailoverTest {

  private static final String NS = "secure-fleet";
  private static final String SA = "probe";
  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension final OperatorHarness harness = new OperatorHarness();

  @TempDir Path files;

  @Test
  void aNewLeaderServesUnderTheSameRootAndTheSidecarRegistersAgainWithoutReEnrolling()
      throws Exception {
    KubernetesClient client = harness.client();
    TokenReviews reviews = TokenReviews.installOn(harness.cluster().server());
    SimpleMeterRegistry metersA = new SimpleMeterRegistry();
    SimpleMeterRegistry metersB = new SimpleMeterRegistry();
    // The warm-up keeps the statuses from flapping while the sidecar re-registers.
    Duration warmUp = Duration.ofSeconds(10);
    ConveyorOperator a =
        harness.start(TestOperators.config("replica-a", warmUp, true), Clock.systemUTC(), metersA);
    ConveyorOperator b =
        harness.start(TestOperators.config("replica-b", warmUp, true), Clock.systemUTC(), metersB);
    await().atMost(OperatorHarness.LEADERSHIP_TIMEOUT).until(() -> a.serving() || b.serving());
    ConveyorOperator leader = a.serving() ? a : b;
    ConveyorOperator standby = leader == a ? b : a;
    MeterRegistry standbyMeters = standby == a ? metersA : metersB;
    X509Certificate root = leader.certificateAuthority().orElseThrow().root();

    client.resource(pipeline("telemetry", "probe", "archive")).create();
    Pod pod = client.resource(Pods.injected(NS, "probe-0", SA)).create();
    pod.setStatus(Pods.running("10.4.0.1", true));
    pod = client.resource(pod).updateStatus();
    String token = PodCredentials.projectedToken(NS, SA, "probe-0", pod.getMetadata().getUid());
    reviews.answer(token, TokenReviews.boundToken(NS, SA, "probe-0", pod.getMetadata().getUid()));
    PodCredentials credentials =
        PodCredentials.write(files, token, leader.certificateAuthority().orElseThrow().rootPem());
    String identity = "spiffe://conveyor.etl/ns/secure-fleet/pod/probe-0/sa/probe";

    SidecarPod sidecar =
        harness.startSidecar(
            pod,
            "sc-probe-0",
            credentials.security(),
            PodApps.source("probe"),
            PodApps.sink("archive"));
    awaitSidecar(client, "probe-0", SidecarPhase.Ready);
    assertThat(leader.routerCore().orElseThrow().sidecar("sc-probe-0").orElseThrow())
        .extracting(r -> r.workloadIdentity())
        .isEqualTo(identity);
    X509Certificate leaf = sidecar.certificate().orElseThrow().leaf();
    String expiry = leaf.getNotAfter().toInstant().toString();

    // The leader stops: it releases the Lease and the standby takes over with the Secret's CA.
    leader.close(Duration.ofSeconds(10));
    await().atMost(OperatorHarness.LEADERSHIP_TIMEOUT).until(standby::serving);
    assertThat(standby.certificateAuthority().orElseThrow().root()).isEqualTo(root);

    // The sidecar finds it through the Service and registers again over mutual TLS, with the
    // certificate the old leader issued: no second enrolment.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(standby.routerCore().orElseThrow().sidecar("sc-probe-0"))
                  .hasValueSatisfying(r -> assertThat(r.workloadIdentity()).isEqualTo(identity));
              assertThat(sidecar.isRegistered()).isTrue();
            });
    assertThat(sidecar.registrations()).isEqualTo(2);
    assertThat(sidecar.counter("conveyor_sidecar_enrolments_total", "result=\"issued\""))
        .isEqualTo(1);
    assertThat(sidecar.certificate().orElseThrow().leaf()).isEqualTo(leaf);
    Counter issuedByStandby =
        standbyMeters.find("conveyor_router_certificates_issued_total").counter();
    assertThat(issuedByStandby == null ? 0 : issuedByStandby.count()).isZero();

    ConveyorSidecar ready = awaitSidecar(client, "probe-0", SidecarPhase.Ready);
    assertThat(ready.getStatus().getCertificateExpiry()).isEqualTo(expiry);
    assertThat(ready.getStatus().getPipelines()).containsExactly("telemetry");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              Pipeline p =
                  client.resources(Pipeline.class).inNamespace(NS).withName("telemetry").get();
              assertThat(p.getStatus()).isNotNull();
              assertThat(p.getStatus().getPhase()).isEqualTo(PipelinePhase.Running);
            });
  }

  private static Pipeline pipeline(String name, String source, String sink) {
    Pipeline pipeline = new Pipeline();
    pipeline.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    pipeline.setSpec(new PipelineSpec(source, List.of(), sink, null));
    return pipeline;
  }

  private static ConveyorSidecar awaitSidecar(
      KubernetesClient client, String name, SidecarPhase phase) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              ConveyorSidecar cs =
                  client.resources(ConveyorSidecar.class).inNamespace(NS).withName(name).get();
              assertThat(cs).isNotNull();
              assertThat(cs.getStatus()).isNotNull();
              assertThat(cs.getStatus().getPhase()).isEqualTo(phase);
            });
    return client.resources(ConveyorSidecar.class).inNamespace(NS).withName(name).get();
  }
}
