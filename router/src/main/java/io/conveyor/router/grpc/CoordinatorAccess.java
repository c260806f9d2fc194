package io.conveyor.router.grpc;

import io.conveyor.common.security.DeniedCalls;
import io.conveyor.identity.AuthorizationDecision;
import io.conveyor.identity.CallerAuthorization;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.identity.tls.CallerIdentity;
import io.conveyor.identity.tls.Refusals;
import io.conveyor.router.registry.SidecarRecord;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Optional;

/**
 * Who may make which SidecarCoordinator call. Under mutual TLS, the pod its client certificate
 * names: a registration only for that pod, and calls naming a sidecar id only for the sidecar that
 * pod registered. Without mutual TLS ({@code SECURITY_MODE=plaintext}) everyone, as before.
 *
 * <p>Each refusal is counted and logged by {@link DeniedCalls}; the status message goes back to the
 * caller and names nothing but its own claims and identity.
 */
public sealed interface CoordinatorAccess {

  /** Every call allowed: a router without mutual TLS. */
  static CoordinatorAccess open() {
    return new Open();
  }

  /** Calls allowed only to the identities {@code rules} accepts. */
  static CoordinatorAccess mutualTls(CallerAuthorization rules, DeniedCalls denials) {
    return new MutualTls(rules, denials);
  }

  /**
   * A registration claiming {@code namespace}/{@code pod}: the refusal, if any; else the identity
   * to record for the sidecar ("" without mutual TLS).
   */
  Result register(String namespace, String pod);

  /** Before a call naming a sidecar id is looked up: refused if the caller proves no workload. */
  Optional<StatusRuntimeException> beforeLookup(String method);

  /** A call naming a sidecar the router knows: refused unless the caller's pod registered it. */
  Optional<StatusRuntimeException> ownSidecar(String method, SidecarRecord record);

  /** Records a refusal decided elsewhere (a foreign claim found by the registry). */
  void refused(String method, Status status);

  /** What a registration may go on with. */
  record Result(Optional<StatusRuntimeException> refusal, String identity) {}

  record Open() implements CoordinatorAccess {
    @Override
    public Result register(String namespace, String pod) {
      return new Result(Optional.empty(), "");
    }

    @Override
    public Optional<StatusRuntimeException> beforeLookup(String method) {
      return Optional.empty();
    }

    @Override
    public Optional<StatusRuntimeException> ownSidecar(String method, SidecarRecord record) {
      return Optional.empty();
    }

    @Override
    public void refused(String method, Status status) {}
  }

  record MutualTls(CallerAuthorization rules, DeniedCalls denials) implements CoordinatorAccess {
    @Override
    public Result register(String namespace, String pod) {
      Optional<WorkloadIdentity> caller = CallerIdentity.current();
      Optional<StatusRuntimeException> refusal =
          enforce("RegisterSidecar", rules.coordinatorCall(caller, namespace, pod));
      return new Result(refusal, caller.map(WorkloadIdentity::toUri).orElse(""));
    }

    @Override
    public Optional<StatusRuntimeException> beforeLookup(String method) {
      return enforce(method, rules.anyWorkload(CallerIdentity.current()));
    }

    @Override
    public Optional<StatusRuntimeException> ownSidecar(String method, SidecarRecord record) {
      return enforce(
          method,
          rules.ownSidecar(
              CallerIdentity.current(),
              record.sidecarId(),
              record.namespace(),
              record.podName() == null ? "" : record.podName()));
    }

    @Override
    public void refused(String method, Status status) {
      denials.record(
          method,
          status.getCode().name(),
          CallerIdentity.describeCurrent(),
          String.valueOf(status.getDescription()));
    }

    private Optional<StatusRuntimeException> enforce(
        String method, AuthorizationDecision decision) {
      Optional<Status> refusal = Refusals.statusOf(decision);
      refusal.ifPresent(status -> refused(method, status));
      return refusal.map(Status::asRuntimeException);
    }
  }
}
