package io.conveyor.identity;

/**
 * A certificate signing request the CA will not sign. The reason is for the boundary that turns it
 * into a status; the message says what was wrong, in terms the requester can act on, and names
 * nothing but the requester's own request and identity.
 */
public final class CsrRejectedException extends Exception {

  /** Why a CSR was refused. */
  public enum Reason {
    /** The key is not EC P-256 or RSA of at least 2048 bits. */
    WRONG_KEY_TYPE,
    /** The CSR's self-signature does not verify, or uses an algorithm not accepted. */
    BAD_SIGNATURE,
    /** The CSR asks for a name other than exactly the identity the requester proved. */
    NAME_MISMATCH,
    /** The CSR is larger than the bound; it was not parsed. */
    TOO_LARGE,
    /** The bytes are not a well-formed PKCS#10 request. */
    MALFORMED
  }

  private final Reason reason;

  public CsrRejectedException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public CsrRejectedException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
