package io.conveyor.operator.identity;

import io.conveyor.identity.EnrolmentCredential;
import io.conveyor.identity.EnrolmentRefusedException;
import io.conveyor.identity.EnrolmentRefusedException.Kind;
import io.conveyor.identity.EnrolmentVerifier;
import io.conveyor.identity.IdentityFormatException;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.operator.crd.ConveyorLabels;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The operator's enrolment check, as istiod does it: the sidecar's projected ServiceAccount token
 * goes to the API server in a TokenReview for audience {@value #AUDIENCE}; the namespace and
 * service account come from the reviewed username, the pod from the bound token's claims; then that
 * pod must still exist with the UID the token was issued for and be one the webhook injected. Token
 * validation itself (signature, expiry, the pod's binding) is the API server's.
 *
 * <p>Each call makes at most two API requests (create TokenReview, get Pod), each bounded by the
 * client's request timeout; give it a client from {@link
 * io.conveyor.operator.KubernetesClients#forEnrolment}, which does not retry for seconds. When the
 * API server cannot answer, the enrolment is UNAVAILABLE: the sidecar retries with backoff, and
 * nothing is decided on a guess.
 *
 * <p>Refusal messages go back to the caller: they name only the identity its own token proves, or
 * the pod its own token is bound to, never another workload.
 */
public final class TokenReviewVerifier implements EnrolmentVerifier {

  /** The audience of the projected token the webhook mounts into injected pods. */
  public static final String AUDIENCE = "conveyor.etl";

  private final KubernetesClient client;
  private final String trustDomain;
  private final Consumer<BoundPodToken> proved;

  /**
   * @param client the operator's client (it needs {@code create tokenreviews} and {@code get pods})
   * @param trustDomain the trust domain this CA issues under
   * @throws IdentityFormatException if the trust domain is not a valid one
   */
  public TokenReviewVerifier(KubernetesClient client, String trustDomain) {
    this(client, trustDomain, pod -> {});
  }

  /**
   * As {@link #TokenReviewVerifier(KubernetesClient, String)}, telling {@code issued} which pod
   * each accepted call proved, so that it can record the certificate issued to that pod's UID.
   */
  public TokenReviewVerifier(
      KubernetesClient client, String trustDomain, IssuedCertificates issued) {
    this(client, trustDomain, issued::verified);
  }

  private TokenReviewVerifier(
      KubernetesClient client, String trustDomain, Consumer<BoundPodToken> proved) {
    this.proved = Objects.requireNonNull(proved, "proved");
    this.client = Objects.requireNonNull(client, "client");
    // Validated here, by the identity's own rule, so that a bad configuration fails at start and
    // not as a refusal of every sidecar.
    new WorkloadIdentity(trustDomain, "validate", "validate", "validate");
    this.trustDomain = trustDomain;
  }

  @Override
  public WorkloadIdentity verify(EnrolmentCredential credential, WorkloadIdentity requested)
      throws EnrolmentRefusedException {
    if (!(credential instanceof EnrolmentCredential.ServiceAccountToken serviceAccountToken)) {
      // A bootstrap token proves only that its holder was given it, not which pod it is.
      throw new EnrolmentRefusedException(
          Kind.UNAUTHENTICATED,
          "a bootstrap token is not accepted in a cluster: present the pod's ServiceAccount token"
              + " (audience \""
              + AUDIENCE
              + "\")");
    }
    String token = serviceAccountToken.jwt();
    if (token == null || token.isBlank()) {
      throw new EnrolmentRefusedException(
          Kind.UNAUTHENTICATED, "the ServiceAccount token is empty");
    }

    BoundPodToken bound = BoundPodToken.fromReview(review(token).getStatus(), AUDIENCE);
    WorkloadIdentity proved = provedIdentity(bound);
    if (!proved.equals(requested)) {
      throw new EnrolmentRefusedException(
          Kind.PERMISSION_DENIED,
          "the ServiceAccount token proves " + proved + ", not the identity the CSR asks for");
    }
    requireLivePod(bound);
    this.proved.accept(bound);
    return proved;
  }

  private TokenReview review(String token) throws EnrolmentRefusedException {
    TokenReview review =
        new TokenReviewBuilder()
            .withNewSpec()
            .withToken(token)
            .withAudiences(List.of(AUDIENCE))
            .endSpec()
            .build();
    try {
      return client.authentication().v1().tokenReviews().create(review);
    } catch (KubernetesClientException e) {
      throw new EnrolmentRefusedException(
          Kind.UNAVAILABLE, "cannot check the token now: the API server did not answer", e);
    }
  }

  private WorkloadIdentity provedIdentity(BoundPodToken bound) throws EnrolmentRefusedException {
    try {
      return new WorkloadIdentity(
          trustDomain, bound.namespace(), bound.podName(), bound.serviceAccount());
    } catch (IdentityFormatException e) {
      // Only an API server that is not Kubernetes' could name such a pod or account.
      throw new EnrolmentRefusedException(
          Kind.UNAUTHENTICATED, "the reviewed token names no valid workload: " + e.getMessage());
    }
  }

  /** The bound pod is still the same pod (same UID), runs as the token's account, and injected. */
  private void requireLivePod(BoundPodToken bound) throws EnrolmentRefusedException {
    String pod = bound.namespace() + "/" + bound.podName();
    Pod current;
    try {
      current = client.pods().inNamespace(bound.namespace()).withName(bound.podName()).get();
    } catch (KubernetesClientException e) {
      throw new EnrolmentRefusedException(
          Kind.UNAVAILABLE, "cannot check pod " + pod + " now: the API server did not answer", e);
    }
    if (current == null) {
      throw new EnrolmentRefusedException(
          Kind.PERMISSION_DENIED, "the token's pod " + pod + " no longer exists");
    }
    if (!bound.podUid().equals(current.getMetadata().getUid())) {
      throw new EnrolmentRefusedException(
          Kind.PERMISSION_DENIED,
          "the token was issued to an earlier pod named " + pod + ", which was re-created since");
    }
    String account = current.getSpec() == null ? null : current.getSpec().getServiceAccountName();
    if (!bound.serviceAccount().equals(account)) {
      throw new EnrolmentRefusedException(
          Kind.PERMISSION_DENIED,
          "pod " + pod + " does not run as service account " + bound.serviceAccount());
    }
    var labels = current.getMetadata().getLabels();
    if (labels == null || !"true".equals(labels.get(ConveyorLabels.INJECTED))) {
      throw new EnrolmentRefusedException(
          Kind.PERMISSION_DENIED,
          "pod "
              + pod
              + " is not injected by Conveyor (label "
              + ConveyorLabels.INJECTED_SELECTOR
              + ")");
    }
  }
}
