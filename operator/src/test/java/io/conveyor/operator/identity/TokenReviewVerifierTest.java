package io.conveyor.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.conveyor.identity.EnrolmentCredential;
import io.conveyor.identity.EnrolmentRefusedException;
import io.conveyor.identity.EnrolmentRefusedException.Kind;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.operator.KubernetesClients;
import io.conveyor.operator.crd.ConveyorLabels;
import io.conveyor.operator.testing.RbacAudit;
import io.conveyor.operator.testing.TokenReviews;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator's enrolment check against the fabric8 mock API server: pods in its CRUD store, and
 * TokenReviews answered by a fake authenticator in the shape a real API server answers them (a
 * TokenReview is not stored, so the CRUD server cannot answer it).
 */
@EnableKubernetesMockClient(crud = true)
class TokenReviewVerifierTest {

  private static final String TOKEN_REVIEWS = TokenReviews.PATH;
  private static final String NOT_AUTHENTICATED = TokenReviews.NOT_AUTHENTICATED;

  KubernetesMockServer server;
  KubernetesClient client;

  private final List<RecordedRequest> requests = new ArrayList<>();

  /** What the fake authenticator answers for each token: the TokenReview's status, as JSON. */
  private TokenReviews statusByToken;

  private KubernetesClient operatorClient;
  private TokenReviewVerifier verifier;

  @BeforeEach
  void setUp() {
    statusByToken = TokenReviews.installOn(server);
    // The operator's client, and the bounded one the leader gives the verifier (no retries).
    operatorClient = KubernetesClients.create(client.getConfiguration());
    verifier =
        new TokenReviewVerifier(
            KubernetesClients.forEnrolment(operatorClient), WorkloadIdentity.DEFAULT_TRUST_DOMAIN);
  }

  @AfterEach
  void auditRbac() {
    operatorClient.close();
    RbacAudit.check(recorded());
  }

  @Test
  void aTokenBoundToTheRequestedInjectedPodProvesItsIdentity() throws Exception {
    String uid = createPod("shop", "orders-0", "orders", true);
    statusByToken.answer(
        "tok-orders-0", TokenReviews.boundToken("shop", "orders", "orders-0", uid));

    WorkloadIdentity proved =
        verifier.verify(saToken("tok-orders-0"), WorkloadIdentity.of("shop", "orders-0", "orders"));

    assertThat(proved).isEqualTo(WorkloadIdentity.of("shop", "orders-0", "orders"));
    List<RecordedRequest> reviews = operatorRequests("POST", TOKEN_REVIEWS);
    assertThat(reviews).hasSize(1);
    TokenReview sent =
        Serialization.unmarshal(TokenReviews.body(reviews.get(0)), TokenReview.class);
    assertThat(sent.getApiVersion()).isEqualTo("authentication.k8s.io/v1");
    assertThat(sent.getKind()).isEqualTo("TokenReview");
    assertThat(sent.getSpec().getToken()).isEqualTo("tok-orders-0");
    assertThat(sent.getSpec().getAudiences()).containsExactly("conveyor.etl");
    assertThat(operatorRequests("GET", "/api/v1/namespaces/shop/pods/orders-0")).hasSize(1);
  }

  @Test
  void aReviewThatSaysUnauthenticatedIsRefusedWithoutLookingAtThePod() {
    createPod("shop", "orders-0", "orders", true);
    statusByToken.answer("tok-forged", NOT_AUTHENTICATED);

    assertRefused("tok-forged", WorkloadIdentity.of("shop", "orders-0", "orders"))
        .isEqualTo(Kind.UNAUTHENTICATED);
    assertThat(operatorRequests("GET", "/api/v1/namespaces/shop/pods/orders-0")).isEmpty();
  }

  @Test
  void aTokenForAnotherAudienceIsRefused() {
    String uid = createPod("shop", "orders-0", "orders", true);
    WorkloadIdentity requested = WorkloadIdentity.of("shop", "orders-0", "orders");
    // An audience-aware API server refuses it outright.
    statusByToken.answer(
        "tok-vault",
        "{\"user\":{},\"error\":\"[invalid bearer token, token audiences [\\\"vault\\\"] is"
            + " invalid for the target audiences [\\\"conveyor.etl\\\"]]\"}");
    // An authenticator that ignores audiences: an empty list means "good for the API server only".
    statusByToken.answer(
        "tok-api-server", TokenReviews.boundToken("shop", "orders", "orders-0", uid, List.of()));
    // One that answers with an audience, but not ours.
    statusByToken.answer(
        "tok-other-audience",
        TokenReviews.boundToken(
            "shop", "orders", "orders-0", uid, List.of("https://kubernetes.default.svc")));

    assertRefused("tok-vault", requested).isEqualTo(Kind.UNAUTHENTICATED);
    assertRefused("tok-api-server", requested).isEqualTo(Kind.UNAUTHENTICATED);
    assertRefused("tok-other-audience", requested).isEqualTo(Kind.UNAUTHENTICATED);
  }

  @Test
  void aTokenOfAnotherNamespaceIsRefusedNamingOnlyTheCallersOwnIdentity() {
    createPod("shop", "orders-0", "orders", true);
    String otherUid = createPod("billing", "orders-0", "orders", true);
    statusByToken.answer(
        "tok-billing", TokenReviews.boundToken("billing", "orders", "orders-0", otherUid));

    EnrolmentRefusedException refused =
        refusal("tok-billing", WorkloadIdentity.of("shop", "orders-0", "orders"));

    assertThat(refused.kind()).isEqualTo(Kind.PERMISSION_DENIED);
    assertThat(refused.getMessage())
        .contains("spiffe://conveyor.etl/ns/billing/pod/orders-0/sa/orders")
        .doesNotContain("/ns/shop/")
        .doesNotContain(otherUid);
  }

  @Test
  void aTokenOfAnotherPodIsRefused() {
    createPod("shop", "orders-0", "orders", true);
    String otherUid = createPod("shop", "orders-1", "orders", true);
    statusByToken.answer(
        "tok-orders-1", TokenReviews.boundToken("shop", "orders", "orders-1", otherUid));

    EnrolmentRefusedException refused =
        refusal("tok-orders-1", WorkloadIdentity.of("shop", "orders-0", "orders"));

    assertThat(refused.kind()).isEqualTo(Kind.PERMISSION_DENIED);
    assertThat(refused.getMessage()).doesNotContain("pod/orders-0");
  }

  @Test
  void aTokenOfAnotherServiceAccountOrTrustDomainIsRefused() {
    String uid = createPod("shop", "orders-0", "orders", true);
    statusByToken.answer(
        "tok-orders-0", TokenReviews.boundToken("shop", "orders", "orders-0", uid));

    assertRefused("tok-orders-0", WorkloadIdentity.of("shop", "orders-0", "admin"))
        .isEqualTo(Kind.PERMISSION_DENIED);
    assertRefused(
            "tok-orders-0", new WorkloadIdentity("evil.example", "shop", "orders-0", "orders"))
        .isEqualTo(Kind.PERMISSION_DENIED);
  }

  @Test
  void theTokenOfADeletedPodIsRefused() {
    String uid = createPod("shop", "orders-0", "orders", true);
    statusByToken.answer(
        "tok-orders-0", TokenReviews.boundToken("shop", "orders", "orders-0", uid));
    client.pods().inNamespace("shop").withName("orders-0").delete();

    EnrolmentRefusedException refused =
        refusal("tok-orders-0", WorkloadIdentity.of("shop", "orders-0", "orders"));

    assertThat(refused.kind()).isEqualTo(Kind.PERMISSION_DENIED);
    assertThat(refused.getMessage()).contains("shop/orders-0").contains("no longer exists");
  }

  @Test
  void theTokenOfAPodReCreatedUnderTheSameNameIsRefused() {
    String oldUid = createPod("shop", "orders-0", "orders", true);
    statusByToken.answer(
        "tok-orders-0", TokenReviews.boundToken("shop", "orders", "orders-0", oldUid));
    client.pods().inNamespace("shop").withName("orders-0").delete();
    String newUid = createPod("shop", "orders-0", "orders", true);
    assertThat(newUid).isNotEqualTo(oldUid);

    EnrolmentRefusedException refused =
        refusal("tok-orders-0", WorkloadIdentity.of("shop", "orders-0", "orders"));

    assertThat(refused.kind()).isEqualTo(Kind.PERMISSION_DENIED);
    assertThat(refused.getMessage()).contains("re-created").doesNotContain(newUid);
  }

  @Test
  void theTokenOfAPodThatIsNotInjectedIsRefused() {
    String plainUid = createPod("shop", "plain-0", "orders", false);
    statusByToken.answer(
        "tok-plain", TokenReviews.boundToken("shop", "orders", "plain-0", plainUid));
    Pod optedOut =
        client
            .pods()
            .resource(
                pod("shop", "opted-out-0", "orders", Map.of(ConveyorLabels.INJECTED, "false")))
            .create();
    statusByToken.answer(
        "tok-opted-out",
        TokenReviews.boundToken("shop", "orders", "opted-out-0", optedOut.getMetadata().getUid()));

    assertRefused("tok-plain", WorkloadIdentity.of("shop", "plain-0", "orders"))
        .isEqualTo(Kind.PERMISSION_DENIED);
    assertRefused("tok-opted-out", WorkloadIdentity.of("shop", "opted-out-0", "orders"))
        .isEqualTo(Kind.PERMISSION_DENIED);
  }

  @Test
  void aPodThatRunsAsAnotherServiceAccountThanTheTokensIsRefused() {
    String uid = createPod("shop", "orders-0", "default", true);
    statusByToken.answer(
        "tok-orders-0", TokenReviews.boundToken("shop", "orders", "orders-0", uid));

    assertRefused("tok-orders-0", WorkloadIdentity.of("shop", "orders-0", "orders"))
        .isEqualTo(Kind.PERMISSION_DENIED);
  }

  @Test
  void aTokenThatIsNotABoundServiceAccountTokenIsRefused() {
    String uid = createPod("shop", "orders-0", "orders", true);
    WorkloadIdentity requested = WorkloadIdentity.of("shop", "orders-0", "orders");
    // A person's OIDC token that happens to carry our audience.
    statusByToken.answer(
        "tok-alice",
        "{\"authenticated\":true,\"user\":{\"username\":\"alice@example.com\",\"groups\":"
            + "[\"system:authenticated\"],\"extra\":{\""
            + BoundPodToken.POD_NAME_EXTRA
            + "\":[\"orders-0\"],\""
            + BoundPodToken.POD_UID_EXTRA
            + "\":[\""
            + uid
            + "\"]}},\"audiences\":[\"conveyor.etl\"]}");
    statusByToken.answer(
        "tok-node",
        TokenReviews.boundToken("shop", "orders", "orders-0", uid)
            .replace("system:serviceaccount:shop:orders", "system:node:node-1"));
    statusByToken.answer(
        "tok-truncated",
        TokenReviews.boundToken("shop", "orders", "orders-0", uid)
            .replace("system:serviceaccount:shop:orders", "system:serviceaccount:shop"));
    // A ServiceAccount token not bound to a pod (a TokenRequest for the account alone).
    statusByToken.answer(
        "tok-unbound",
        TokenReviews.boundToken("shop", "orders", "orders-0", uid)
            .replace(BoundPodToken.POD_NAME_EXTRA, "authentication.kubernetes.io/x"));

    for (String token : List.of("tok-alice", "tok-node", "tok-truncated", "tok-unbound")) {
      assertRefused(token, requested).as(token).isEqualTo(Kind.UNAUTHENTICATED);
    }
  }

  @Test
  void aBootstrapTokenIsNotACredentialInACluster() {
    createPod("shop", "orders-0", "orders", true);

    EnrolmentRefusedException refused =
        catchThrowableOfType(
            EnrolmentRefusedException.class,
            () ->
                verifier.verify(
                    new EnrolmentCredential.BootstrapToken("s3cret"),
                    WorkloadIdentity.of("shop", "orders-0", "orders")));

    assertThat(refused.kind()).isEqualTo(Kind.UNAUTHENTICATED);
    assertThat(refused.getMessage()).doesNotContain("s3cret");
    assertThat(operatorRequests("POST", TOKEN_REVIEWS)).isEmpty();
  }

  @Test
  void anApiServerThatDoesNotAnswerTheReviewMakesEnrolmentUnavailable() {
    String uid = createPod("shop", "orders-0", "orders", true);
    statusByToken.answer(
        "tok-orders-0", TokenReviews.boundToken("shop", "orders", "orders-0", uid));
    statusByToken.down(true);

    EnrolmentRefusedException refused =
        refusal("tok-orders-0", WorkloadIdentity.of("shop", "orders-0", "orders"));

    assertThat(refused.kind()).isEqualTo(Kind.UNAVAILABLE);
    assertThat(refused.getCause()).isInstanceOf(KubernetesClientException.class);
  }

  @Test
  void anApiServerAnswering503IsAskedOnceNotRetriedForSeconds() {
    String uid = createPod("shop", "orders-0", "orders", true);
    statusByToken.answer(
        "tok-orders-0", TokenReviews.boundToken("shop", "orders", "orders-0", uid));
    statusByToken.down(true);

    long start = System.nanoTime();
    EnrolmentRefusedException refused =
        refusal("tok-orders-0", WorkloadIdentity.of("shop", "orders-0", "orders"));
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(refused.kind()).isEqualTo(Kind.UNAVAILABLE);
    // fabric8's default would ask eleven times over about 21 s.
    assertThat(operatorRequests("POST", TOKEN_REVIEWS)).hasSize(1);
    assertThat(took).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void anApiServerThatDoesNotAnswerThePodLookupMakesEnrolmentUnavailable() {
    String uid = createPod("shop", "orders-0", "orders", true);
    statusByToken.answer(
        "tok-orders-0", TokenReviews.boundToken("shop", "orders", "orders-0", uid));
    server
        .expect()
        .get()
        .withPath("/api/v1/namespaces/shop/pods/orders-0")
        .andReturn(500, "etcdserver: request timed out")
        .always();

    EnrolmentRefusedException refused =
        refusal("tok-orders-0", WorkloadIdentity.of("shop", "orders-0", "orders"));

    assertThat(refused.kind()).isEqualTo(Kind.UNAVAILABLE);
    assertThat(refused.getCause()).isInstanceOf(KubernetesClientException.class);
  }

  // --- helpers ---

  private org.assertj.core.api.AbstractComparableAssert<?, Kind> assertRefused(
      String token, WorkloadIdentity requested) {
    return assertThat(refusal(token, requested).kind());
  }

  private EnrolmentRefusedException refusal(String token, WorkloadIdentity requested) {
    EnrolmentRefusedException refused =
        catchThrowableOfType(
            EnrolmentRefusedException.class, () -> verifier.verify(saToken(token), requested));
    assertThat(refused).as("refusal of " + token + " for " + requested).isNotNull();
    return refused;
  }

  private static EnrolmentCredential saToken(String jwt) {
    return new EnrolmentCredential.ServiceAccountToken(jwt);
  }

  /** Creates a pod in the mock server's store and returns the UID the server gave it. */
  private String createPod(String namespace, String name, String serviceAccount, boolean injected) {
    Map<String, String> labels =
        injected ? Map.of(ConveyorLabels.INJECTED, "true", "app", name) : Map.of("app", name);
    Pod created = client.pods().resource(pod(namespace, name, serviceAccount, labels)).create();
    return created.getMetadata().getUid();
  }

  private static Pod pod(
      String namespace, String name, String serviceAccount, Map<String, String> labels) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName(serviceAccount)
        .addNewContainer()
        .withName("app")
        .withImage("shop/orders:1")
        .endContainer()
        .endSpec()
        .build();
  }

  /** Every request the server received so far (kept for the RBAC audit), oldest first. */
  private List<RecordedRequest> recorded() {
    try {
      RecordedRequest request;
      while ((request = server.takeRequest(1, TimeUnit.MILLISECONDS)) != null) {
        requests.add(request);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return List.copyOf(requests);
  }

  private List<RecordedRequest> operatorRequests(String method, String path) {
    return recorded().stream()
        .filter(r -> KubernetesClients.USER_AGENT.equals(r.getHeader("User-Agent")))
        .filter(r -> r.getMethod().equals(method) && r.getPath().equals(path))
        .toList();
  }
}
