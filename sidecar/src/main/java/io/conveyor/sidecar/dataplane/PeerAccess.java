package io.conveyor.sidecar.dataplane;

import io.conveyor.common.security.DeniedCalls;
import io.conveyor.identity.CallerAuthorization;
import io.conveyor.identity.tls.CallerIdentity;
import io.conveyor.identity.tls.Refusals;
import io.conveyor.sidecar.routing.StageRoute;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Optional;
import java.util.Set;

/**
 * Who may forward a batch into a stage of this sidecar. Under mutual TLS, only a sidecar the router
 * placed upstream of that stage: its certificate's identity must be among the stage's allowed
 * callers, which come with the assignment. Decided before anything else about the call, so a
 * refused caller learns nothing: not this sidecar's id, not whether the pipeline is here.
 */
public sealed interface PeerAccess {

  /** Everyone: a sidecar without mutual TLS ({@code SECURITY_MODE=plaintext}). */
  static PeerAccess open() {
    return new Open();
  }

  static PeerAccess mutualTls(CallerAuthorization rules, DeniedCalls denials) {
    return new MutualTls(rules, denials);
  }

  /**
   * @param stage the stage the batch is for, when this sidecar has it
   * @return the refusal, if the caller may not forward to it
   */
  Optional<StatusRuntimeException> forwardBatch(Optional<StageRoute> stage);

  /**
   * A method asked on the listener that does not serve it (PushRecords from the network,
   * ForwardBatch on the pod's loopback port): PERMISSION_DENIED, counted as a denial.
   */
  StatusRuntimeException notServedHere(String method, String why);

  record Open() implements PeerAccess {
    @Override
    public StatusRuntimeException notServedHere(String method, String why) {
      return Status.PERMISSION_DENIED.withDescription(why).asRuntimeException();
    }

    @Override
    public Optional<StatusRuntimeException> forwardBatch(Optional<StageRoute> stage) {
      return Optional.empty();
    }
  }

  record MutualTls(CallerAuthorization rules, DeniedCalls denials) implements PeerAccess {
    @Override
    public StatusRuntimeException notServedHere(String method, String why) {
      denials.record(method, "PERMISSION_DENIED", CallerIdentity.describeCurrent(), why);
      return Status.PERMISSION_DENIED.withDescription(why).asRuntimeException();
    }

    @Override
    public Optional<StatusRuntimeException> forwardBatch(Optional<StageRoute> stage) {
      Optional<Status> refusal =
          Refusals.statusOf(
              rules.forwardBatch(
                  CallerIdentity.current(),
                  stage.map(StageRoute::allowedCallers).orElse(Set.of())));
      refusal.ifPresent(
          status ->
              denials.record(
                  "ForwardBatch",
                  status.getCode().name(),
                  CallerIdentity.describeCurrent(),
                  status.getDescription()));
      return refusal.map(Status::asRuntimeException);
    }
  }
}
