package io.conveyor.identity.tls;

import io.conveyor.identity.AuthorizationDecision;
import io.grpc.Status;
import java.util.Optional;

/** Authorization decisions as the gRPC status a refused call gets: same code, same message. */
public final class Refusals {

  private Refusals() {}

  /** The status to refuse the call with; empty when the decision allows it. */
  public static Optional<Status> statusOf(AuthorizationDecision decision) {
    if (!(decision instanceof AuthorizationDecision.Denied denied)) {
      return Optional.empty();
    }
    Status code =
        denied.code() == AuthorizationDecision.Code.UNAUTHENTICATED
            ? Status.UNAUTHENTICATED
            : Status.PERMISSION_DENIED;
    return Optional.of(code.withDescription(denied.message()));
  }
}
