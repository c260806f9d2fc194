package io.conveyor.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.conveyor.etl.v1.CertificateServiceGrpc;
import io.conveyor.etl.v1.IssueCertificateRequest;
import io.conveyor.etl.v1.IssueCertificateResponse;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.crd.ConveyorSidecar;
import io.conveyor.operator.identity.CaSecret;
import io.conveyor.operator.testing.OperatorHarness;
import io.conveyor.operator.testing.Pods;
import io.conveyor.operator.testing.TestOperators;
import io.conveyor.operator.testing.TokenReviews;
import io.conveyor.testkit.MutableClock;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayInputStream;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The CA across leaders: one root for all of them, and a broken Secret stops the leader. */
class CaFailoverTest {

  private static final String NS = "shop";
  private static final String SA = "orders";
  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension final OperatorHarness harness = new OperatorHarness();

  private final MutableClock clock = MutableClock.startingNow();

  @Test
  void aNewLeaderIssuesUnderTheSameRootAndKeepsThePodsCertificateInItsStatus() throws Exception {
    KubernetesClient client = harness.client();
    TokenReviews reviews = TokenReviews.installOn(harness.cluster().server());
    Pod pod = client.resource(Pods.injected(NS, "orders-0", SA)).create();
    reviews.answer(
        "tok-orders-0", TokenReviews.boundToken(NS, SA, "orders-0", pod.getMetadata().getUid()));

    ConveyorOperator first = harness.startLeader("op-first", Duration.ZERO, clock);
    X509Certificate firstRoot = first.certificateAuthority().orElseThrow().root();
    X509Certificate firstLeaf = enrol(first, "tok-orders-0");
    firstLeaf.verify(firstRoot.getPublicKey());
    String expiry = firstLeaf.getNotAfter().toInstant().toString();
    await().atMost(WAIT).until(() -> expiry.equals(certificateExpiry(client)));
    first.close(Duration.ofSeconds(10));

    ConveyorOperator second = harness.startLeader("op-second", Duration.ZERO, clock);

    CertificateAuthority ca = second.certificateAuthority().orElseThrow();
    assertThat(ca.root()).isEqualTo(firstRoot);
    enrol(second, "tok-orders-0").verify(firstRoot.getPublicKey());
  }

  @Test
  void aStatusRecordedByAnEarlierLeaderStandsUntilTheSidecarRenews() {
    KubernetesClient client = harness.client();
    TokenReviews reviews = TokenReviews.installOn(harness.cluster().server());
    Pod pod = client.resource(Pods.injected(NS, "orders-0", SA)).create();
    reviews.answer(
        "tok-orders-0", TokenReviews.boundToken(NS, SA, "orders-0", pod.getMetadata().getUid()));
    ConveyorOperator first = harness.startLeader("op-first", Duration.ZERO, clock);
    String expiry = enrolExpiry(first);
    await().atMost(WAIT).until(() -> expiry.equals(certificateExpiry(client)));
    first.close(Duration.ofSeconds(10));

    harness.startLeader("op-second", Duration.ZERO, clock);

    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                expiry.equals(certificateExpiry(client))
                    && "Issued".equals(certificateReason(client)));
  }

  @Test
  void aMalformedCaSecretKeepsTheLeaderFromServingAndIsLeftAsItIs() {
    KubernetesClient client = harness.client();
    Secret broken =
        client
            .resource(
                new SecretBuilder()
                    .withNewMetadata()
                    .withNamespace(TestOperators.LEASE_NAMESPACE)
                    .withName(CaSecret.NAME)
                    .endMetadata()
                    .addToData(
                        CaSecret.ROOT_KEY, Base64.getEncoder().encodeToString(new byte[] {1}))
                    .addToData(CaSecret.KEY_KEY, Base64.getEncoder().encodeToString(new byte[] {2}))
                    .build())
            .create();

    ConveyorOperator operator = harness.start("op-broken", Duration.ZERO, clock);

    // It wins the lease and gives it up within milliseconds, again and again (backing off): wait
    // for two such terms rather than try to catch it leading.
    await().atMost(WAIT).until(() -> operator.failedTerms() >= 2);
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .until(() -> !operator.serving());
    assertThat(operator.readiness().ok()).isFalse();
    assertThat(operator.certificateAuthority()).isEmpty();
    Secret after =
        client.secrets().inNamespace(TestOperators.LEASE_NAMESPACE).withName(CaSecret.NAME).get();
    assertThat(after.getData()).isEqualTo(broken.getData());
    assertThat(after.getMetadata().getResourceVersion())
        .isEqualTo(broken.getMetadata().getResourceVersion());
  }

  private static String certificateExpiry(KubernetesClient client) {
    ConveyorSidecar cs =
        client.resources(ConveyorSidecar.class).inNamespace(NS).withName("orders-0").get();
    return cs == null || cs.getStatus() == null ? null : cs.getStatus().getCertificateExpiry();
  }

  private static String certificateReason(KubernetesClient client) {
    ConveyorSidecar cs =
        client.resources(ConveyorSidecar.class).inNamespace(NS).withName("orders-0").get();
    return cs == null || cs.getStatus() == null
        ? null
        : cs.getStatus().getConditions().stream()
            .filter(c -> c.getType().equals("CertificateValid"))
            .map(c -> c.getReason())
            .findFirst()
            .orElse(null);
  }

  private static String enrolExpiry(ConveyorOperator operator) {
    try {
      return enrol(operator, "tok-orders-0").getNotAfter().toInstant().toString();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static X509Certificate enrol(ConveyorOperator operator, String token) throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", operator.routerPort().orElseThrow())
            .usePlaintext()
            .build();
    try {
      IssueCertificateResponse response =
          CertificateServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(20, TimeUnit.SECONDS)
              .issueCertificate(
                  IssueCertificateRequest.newBuilder()
                      .setCsr(
                          ByteString.copyFrom(
                              CertificateRequests.csrFor(
                                  WorkloadIdentity.of(NS, "orders-0", SA),
                                  CertificateRequests.newKeyPair(new SecureRandom()))))
                      .setServiceAccountToken(token)
                      .build());
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(
                  new ByteArrayInputStream(response.getCertificateChain(0).toByteArray()));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
