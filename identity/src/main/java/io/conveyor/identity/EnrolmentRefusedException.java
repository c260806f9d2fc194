package io.conveyor.identity;

/**
 * A credential that earns no certificate. The kind is for the boundary that turns it into a gRPC
 * status; the message, sent to the caller, names only the caller's own credential and request.
 */
public final class EnrolmentRefusedException extends Exception {

  /** How the refusal is answered. */
  public enum Kind {
    /** The credential proves nothing (bad, expired, wrong audience, wrong token). */
    UNAUTHENTICATED,
    /** The credential proves an identity that may not be issued this certificate. */
    PERMISSION_DENIED,
    /** The verifier could not decide now (the API server did not answer): try again later. */
    UNAVAILABLE
  }

  private final Kind kind;

  public EnrolmentRefusedException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public EnrolmentRefusedException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
