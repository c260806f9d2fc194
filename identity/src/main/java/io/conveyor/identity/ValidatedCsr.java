package io.conveyor.identity;

import java.security.PublicKey;

/**
 * A CSR that {@link CsrValidator} accepted: the public key it proved possession of and the identity
 * it may be issued for. Only the validator makes these, so the CA cannot be handed an unchecked
 * request.
 */
public final class ValidatedCsr {

  private final WorkloadIdentity identity;
  private final PublicKey publicKey;

  ValidatedCsr(WorkloadIdentity identity, PublicKey publicKey) {
    this.identity = identity;
    this.publicKey = publicKey;
  }

  public WorkloadIdentity identity() {
    return identity;
  }

  public PublicKey publicKey() {
    return publicKey;
  }
}
