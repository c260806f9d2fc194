package io.conveyor.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.conveyor.etl.v1.CertificateServiceGrpc;
import io.conveyor.etl.v1.IssueCertificateRequest;
import io.conveyor.etl.v1.IssueCertificateResponse;
import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.crd.ConveyorSidecar;
import io.conveyor.operator.identity.CaSecret;
import io.conveyor.operator.reconciler.TrustBundlePublisher;
import io.conveyor.operator.testing.OperatorHarness;
import io.conveyor.operator.testing.Pods;
import io.conveyor.operator.testing.TestOperators;
import io.conveyor.operator.testing.TokenReviews;
import io.conveyor.testkit.MutableClock;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayInputStream;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The leader's CA on the CRUD mock server, enrolled with over real gRPC on the router's port: the
 * CA comes from Secret conveyor-ca, the CertificateService checks each sidecar's token with a
 * TokenReview (answered in the API server's shape) and the pod it is bound to, the trust bundle is
 * published in every namespace with injected pods, and ConveyorSidecar shows the pod's certificate.
 */
class OperatorCaTest {

  private static final String NS = "shop";
  private static final String SA = "orders";
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final SecureRandom RANDOM = new SecureRandom();

  @RegisterExtension static final OperatorHarness harness = new OperatorHarness();

  private static KubernetesClient client;
  private static MutableClock clock;
  private static ConveyorOperator operator;
  private static TokenReviews reviews;
  private static ManagedChannel channel;

  @BeforeAll
  static void startLeader() {
    client = harness.client();
    clock = MutableClock.startingNow();
    reviews = TokenReviews.installOn(harness.cluster().server());
    operator = harness.startLeader("op-ca", Duration.ZERO, clock);
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", operator.routerPort().orElseThrow())
            .usePlaintext()
            .build();
  }

  @AfterAll
  static void closeChannel() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void anInjectedPodEnrolsWithACertificateChainingToTheSecretsRoot() throws Exception {
    Pod pod = createPod("orders-0", true);
    reviews.answer("tok-orders-0", bound("orders-0", pod));
    KeyPair keys = CertificateRequests.newKeyPair(RANDOM);

    IssueCertificateResponse response =
        enrol("tok-orders-0", WorkloadIdentity.of(NS, "orders-0", SA), keys);

    X509Certificate root = rootOfSecret();
    X509Certificate leaf = certificate(response.getCertificateChain(0));
    leaf.verify(root.getPublicKey());
    assertThat(leaf.getPublicKey()).isEqualTo(keys.getPublic());
    assertThat(leaf.getSubjectAlternativeNames().stream().map(san -> (Object) san.get(1)).toList())
        .containsExactly((Object) "spiffe://conveyor.etl/ns/shop/pod/orders-0/sa/orders");
    assertThat(certificate(response.getTrustBundle(0))).isEqualTo(root);
    assertThat(operator.certificateAuthority().orElseThrow().root()).isEqualTo(root);

    // The ConveyorSidecar shows it: CertificateValid/Issued and the expiry for -o wide.
    String expiry = leaf.getNotAfter().toInstant().toString();
    ConveyorSidecar cs = awaitCertificate("orders-0", "Issued");
    assertThat(cs.getStatus().getCertificateExpiry()).isEqualTo(expiry);
    assertThat(cs.getStatus().getCertificateSerial())
        .isEqualTo(leaf.getSerialNumber().toString(16));
    assertThat(certificateCondition(cs).getStatus()).isEqualTo("True");
    assertThat(certificateCondition(cs).getMessage()).contains(expiry);

    // Not renewed with less than a quarter of its life left: a warning, still valid.
    clock.advance(Duration.ofHours(19));
    touch(pod);
    assertThat(certificateCondition(awaitCertificate("orders-0", "RenewalOverdue")).getStatus())
        .isEqualTo("True");
    // A renewal puts it right at once.
    IssueCertificateResponse renewed =
        enrol(
            "tok-orders-0",
            WorkloadIdentity.of(NS, "orders-0", SA),
            CertificateRequests.newKeyPair(RANDOM));
    String renewedExpiry =
        certificate(renewed.getCertificateChain(0)).getNotAfter().toInstant().toString();
    assertThat(awaitCertificate("orders-0", "Issued").getStatus().getCertificateExpiry())
        .isEqualTo(renewedExpiry);
    // Past notAfter it has expired.
    clock.advance(Duration.ofHours(25));
    touch(pod);
    assertThat(certificateCondition(awaitCertificate("orders-0", "Expired")).getStatus())
        .isEqualTo("False");
  }

  @Test
  void aPodThatNeverEnrolledIsNotEnrolled() {
    createPod("idle-0", true);

    assertThat(certificateCondition(awaitCertificate("idle-0", "NotEnrolled")).getStatus())
        .isEqualTo("False");
  }

  @Test
  void everyEnrolmentThatDoesNotProveThePodItAsksForIsRefused() {
    Pod orders1 = createPod("orders-1", true);
    Pod orders2 = createPod("orders-2", true);
    Pod billing = createPod("billing", "orders-1", true);
    Pod plain = createPod("plain-1", false);
    Pod deleted = createPod("gone-1", true);
    Pod recreatedOld = createPod("again-1", true);
    WorkloadIdentity orders1Identity = WorkloadIdentity.of(NS, "orders-1", SA);

    reviews.answer("tok-orders-2", bound("orders-2", orders2));
    reviews.answer(
        "tok-billing",
        TokenReviews.boundToken("billing", SA, "orders-1", billing.getMetadata().getUid()));
    reviews.answer(
        "tok-vault",
        TokenReviews.boundToken(
            NS, SA, "orders-1", orders1.getMetadata().getUid(), List.of("vault")));
    reviews.answer("tok-plain", bound("plain-1", plain));
    reviews.answer("tok-gone", bound("gone-1", deleted));
    reviews.answer("tok-again", bound("again-1", recreatedOld));
    client.resource(deleted).delete();
    client.resource(recreatedOld).delete();
    await().atMost(WAIT).until(() -> podGone("again-1"));
    createPod("again-1", true);

    assertRefused("tok-orders-2", orders1Identity, Status.Code.PERMISSION_DENIED);
    assertRefused("tok-billing", orders1Identity, Status.Code.PERMISSION_DENIED);
    assertRefused("tok-vault", orders1Identity, Status.Code.UNAUTHENTICATED);
    assertRefused("tok-unknown", orders1Identity, Status.Code.UNAUTHENTICATED);
    assertRefused(
        "tok-plain", WorkloadIdentity.of(NS, "plain-1", SA), Status.Code.PERMISSION_DENIED);
    assertRefused("tok-gone", WorkloadIdentity.of(NS, "gone-1", SA), Status.Code.PERMISSION_DENIED);
    assertRefused(
        "tok-again", WorkloadIdentity.of(NS, "again-1", SA), Status.Code.PERMISSION_DENIED);

    // Nothing was issued to any of them.
    assertThat(certificateCondition(awaitCertificate("orders-1", "NotEnrolled")).getStatus())
        .isEqualTo("False");
    assertThat(certificateCondition(awaitCertificate("again-1", "NotEnrolled")).getStatus())
        .isEqualTo("False");
  }

  @Test
  void theTrustBundleAppearsWithTheFirstInjectedPodOfANamespaceAndIsKeptRight() throws Exception {
    String ns = "warehouse";
    assertThat(trustBundle(ns)).isNull();

    createPod(ns, "stock-0", true);

    String root = pemOfSecretRoot();
    await().atMost(WAIT).until(() -> holdsRoot(trustBundle(ns), root));
    ConfigMap published = trustBundle(ns);
    assertThat(published.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "conveyor-operator");

    // Deleted: back at once (the ConfigMaps are watched).
    client.resource(published).delete();
    await().atMost(WAIT).until(() -> holdsRoot(trustBundle(ns), root));

    // Edited: put right.
    ConfigMap edited = trustBundle(ns);
    edited.setData(Map.of(TrustBundlePublisher.KEY, "-----BEGIN CERTIFICATE-----\nevil"));
    client.resource(edited).update();
    await().atMost(WAIT).until(() -> holdsRoot(trustBundle(ns), root));

    // Edited and unlabelled (so no longer watched): put right on the next reconcile of a pod there.
    ConfigMap unlabelled = trustBundle(ns);
    unlabelled.getMetadata().setLabels(Map.of());
    unlabelled.setData(Map.of(TrustBundlePublisher.KEY, "stale"));
    client.resource(unlabelled).update();
    createPod(ns, "stock-1", true);
    await().atMost(WAIT).until(() -> holdsRoot(trustBundle(ns), root));
    assertThat(trustBundle(ns).getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "conveyor-operator");

    // Not in a namespace without injected pods.
    createPod("plain-ns", "app-0", false);
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .until(() -> trustBundle("plain-ns") == null);
  }

  // ------------------------------------------------------------------ helpers

  private static IssueCertificateResponse enrol(
      String token, WorkloadIdentity identity, KeyPair keys) {
    return CertificateServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .issueCertificate(
            IssueCertificateRequest.newBuilder()
                .setCsr(ByteString.copyFrom(CertificateRequests.csrFor(identity, keys)))
                .setServiceAccountToken(token)
                .build());
  }

  private static void assertRefused(String token, WorkloadIdentity identity, Status.Code code) {
    StatusRuntimeException refused =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () -> enrol(token, identity, CertificateRequests.newKeyPair(RANDOM)));
    assertThat(refused).as(token).isNotNull();
    assertThat(refused.getStatus().getCode()).as(token).isEqualTo(code);
  }

  private static Pod createPod(String name, boolean injected) {
    return createPod(NS, name, injected);
  }

  private static Pod createPod(String namespace, String name, boolean injected) {
    Pod pod = injected ? Pods.injected(namespace, name, SA) : Pods.plain(namespace, name);
    pod.getSpec().setServiceAccountName(SA);
    return client.resource(pod).create();
  }

  private static String bound(String name, Pod pod) {
    return TokenReviews.boundToken(NS, SA, name, pod.getMetadata().getUid());
  }

  private static boolean podGone(String name) {
    return client.pods().inNamespace(NS).withName(name).get() == null;
  }

  /** An edit of the pod, so that it is reconciled again (after the test clock moved). */
  private static void touch(Pod pod) {
    client
        .pods()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getMetadata().getName())
        .edit(
            p ->
                new PodBuilder(p)
                    .editMetadata()
                    .addToAnnotations("touched", Instant.now().toString())
                    .endMetadata()
                    .build());
  }

  private static ConveyorSidecar awaitCertificate(String name, String reason) {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              ConveyorSidecar cs =
                  client.resources(ConveyorSidecar.class).inNamespace(NS).withName(name).get();
              return cs != null
                  && cs.getStatus() != null
                  && cs.getStatus().getConditions().stream()
                      .anyMatch(
                          c ->
                              c.getType().equals("CertificateValid")
                                  && c.getReason().equals(reason));
            });
    return client.resources(ConveyorSidecar.class).inNamespace(NS).withName(name).get();
  }

  private static Condition certificateCondition(ConveyorSidecar cs) {
    return cs.getStatus().getConditions().stream()
        .filter(c -> c.getType().equals("CertificateValid"))
        .findFirst()
        .orElseThrow();
  }

  private static ConfigMap trustBundle(String namespace) {
    return client
        .configMaps()
        .inNamespace(namespace)
        .withName(TrustBundlePublisher.CONFIG_MAP)
        .get();
  }

  private static boolean holdsRoot(ConfigMap configMap, String rootPem) {
    return configMap != null
        && configMap.getData() != null
        && rootPem.equals(configMap.getData().get(TrustBundlePublisher.KEY));
  }

  private static Secret secret() {
    return client
        .secrets()
        .inNamespace(TestOperators.LEASE_NAMESPACE)
        .withName(CaSecret.NAME)
        .get();
  }

  private static String pemOfSecretRoot() {
    return new String(
        Base64.getDecoder().decode(secret().getData().get(CaSecret.ROOT_KEY)),
        java.nio.charset.StandardCharsets.US_ASCII);
  }

  static X509Certificate rootOfSecret() throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(
                    Base64.getDecoder().decode(secret().getData().get(CaSecret.ROOT_KEY))));
  }

  private static X509Certificate certificate(ByteString der) throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(der.toByteArray()));
  }
}
