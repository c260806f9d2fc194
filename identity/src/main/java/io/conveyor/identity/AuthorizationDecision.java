package io.conveyor.identity;

/**
 * What {@link CallerAuthorization} decided for one call. The boundary turns a denial into a gRPC
 * status with the same code and message; the message is meant for the caller and names nothing but
 * the caller's own identity and claims.
 */
public sealed interface AuthorizationDecision {

  /** The call may proceed. */
  record Allowed() implements AuthorizationDecision {}

  /** The call is refused. */
  record Denied(Code code, String message) implements AuthorizationDecision {}

  /** The two ways a call is refused, named as the gRPC status codes they become. */
  enum Code {
    /** No verified identity: the caller presented no certificate (or none that verified). */
    UNAUTHENTICATED,
    /** A verified identity that may not make this call. */
    PERMISSION_DENIED
  }

  AuthorizationDecision ALLOWED = new Allowed();

  default boolean isAllowed() {
    return this instanceof Allowed;
  }
}
