package io.conveyor.identity;

/**
 * Decides which workload a credential presented at enrolment belongs to. In a cluster the operator
 * answers with a TokenReview and the bound pod; standalone, the router compares a bootstrap token.
 * The certificate service then requires the CSR to name exactly the identity returned.
 */
public interface EnrolmentVerifier {

  /**
   * @param credential what the caller presented
   * @param requested the identity the caller's CSR asks for (not yet trusted)
   * @return the identity the credential proves; a verifier that cannot tell which pod the caller is
   *     (a bootstrap token) returns {@code requested} once the credential is good
   * @throws EnrolmentRefusedException UNAUTHENTICATED when the credential proves nothing,
   *     PERMISSION_DENIED when it proves an identity that may not have a certificate (another pod,
   *     a pod not injected, a deleted pod)
   */
  WorkloadIdentity verify(EnrolmentCredential credential, WorkloadIdentity requested)
      throws EnrolmentRefusedException;
}
