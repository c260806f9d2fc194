package io.conveyor.router.identity;

import io.conveyor.identity.EnrolmentCredential;
import io.conveyor.identity.EnrolmentRefusedException;
import io.conveyor.identity.EnrolmentRefusedException.Kind;
import io.conveyor.identity.EnrolmentVerifier;
import io.conveyor.identity.WorkloadIdentity;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The standalone router's enrolment check: the caller must present the bootstrap token the router
 * was given. The token proves only that the caller was given it, not which pod it is, so the
 * identity issued is the one the CSR asks for (see identity.proto).
 */
public final class BootstrapTokenVerifier implements EnrolmentVerifier {

  private final byte[] expected;

  public BootstrapTokenVerifier(EnrolmentCredential.BootstrapToken token) {
    if (token.secret().isEmpty()) {
      throw new IllegalArgumentException("the bootstrap token is empty");
    }
    this.expected = token.secret().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public WorkloadIdentity verify(EnrolmentCredential credential, WorkloadIdentity requested)
      throws EnrolmentRefusedException {
    if (credential instanceof EnrolmentCredential.ServiceAccountToken) {
      throw new EnrolmentRefusedException(
          Kind.UNAUTHENTICATED,
          "this router runs standalone and takes only its bootstrap token, not a ServiceAccount"
              + " token");
    }
    EnrolmentCredential.BootstrapToken token = (EnrolmentCredential.BootstrapToken) credential;
    // Constant time: how long the comparison takes says nothing about how much matched.
    if (!MessageDigest.isEqual(expected, token.secret().getBytes(StandardCharsets.UTF_8))) {
      throw new EnrolmentRefusedException(
          Kind.UNAUTHENTICATED, "the bootstrap token is not the one this router was given");
    }
    return requested;
  }
}
