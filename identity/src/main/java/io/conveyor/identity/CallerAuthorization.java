package io.conveyor.identity;

import static io.conveyor.identity.AuthorizationDecision.Code.PERMISSION_DENIED;
import static io.conveyor.identity.AuthorizationDecision.Code.UNAUTHENTICATED;

import io.conveyor.identity.AuthorizationDecision.Denied;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Optional;
import java.util.Set;

/**
 * Who may make which Conveyor call, decided on plain inputs: the identity the caller's certificate
 * proved (empty when it presented none that verified) and what the call claims. The gRPC
 * interceptors that later feed it only translate.
 *
 * <p>Denial messages go back to the caller, so they name only the caller's own identity and its own
 * claims, never another sidecar (least exposure: a refused caller must not learn who is allowed).
 */
public final class CallerAuthorization {

  private final String trustDomain;

  /** Decisions for identities under {@code trustDomain}; any other trust domain is refused. */
  public CallerAuthorization(String trustDomain) {
    // The identity rules validate the trust domain, so a typo fails here and not per call.
    new WorkloadIdentity(trustDomain, "probe", "probe", "probe");
    this.trustDomain = trustDomain;
  }

  /**
   * {@code RegisterSidecar}, {@code Heartbeat}, {@code WatchAssignments}, {@code
   * DeregisterSidecar}: the certificate must name the namespace and pod the call claims to be.
   */
  public AuthorizationDecision coordinatorCall(
      Optional<WorkloadIdentity> caller, String claimedNamespace, String claimedPod) {
    Optional<Denied> unverified = requireOurs(caller);
    if (unverified.isPresent()) {
      return unverified.get();
    }
    WorkloadIdentity identity = caller.orElseThrow();
    if (!identity.namespace().equals(claimedNamespace) || !identity.podName().equals(claimedPod)) {
      return new Denied(
          PERMISSION_DENIED,
          "the call claims pod "
              + claimedNamespace
              + "/"
              + claimedPod
              + " but the client certificate names "
              + identity.namespace()
              + "/"
              + identity.podName());
    }
    return AuthorizationDecision.ALLOWED;
  }

  /**
   * {@code Heartbeat}, {@code WatchAssignments}, {@code DeregisterSidecar}: they name a sidecar by
   * id, and the certificate must name the pod that registered it. The refusal names only the id the
   * caller sent and the caller's own pod, never the pod that owns the id.
   */
  public AuthorizationDecision ownSidecar(
      Optional<WorkloadIdentity> caller, String sidecarId, String ownerNamespace, String ownerPod) {
    Optional<Denied> unverified = requireOurs(caller);
    if (unverified.isPresent()) {
      return unverified.get();
    }
    WorkloadIdentity identity = caller.orElseThrow();
    if (!identity.namespace().equals(ownerNamespace) || !identity.podName().equals(ownerPod)) {
      return new Denied(
          PERMISSION_DENIED,
          "the sidecar this call names was not registered by pod "
              + identity.namespace()
              + "/"
              + identity.podName());
    }
    return AuthorizationDecision.ALLOWED;
  }

  /**
   * Any call that needs a verified workload before anything is looked up: an unknown sidecar id
   * must not be told apart from a known one for an unauthenticated caller.
   */
  public AuthorizationDecision anyWorkload(Optional<WorkloadIdentity> caller) {
    return requireOurs(caller)
        .map(AuthorizationDecision.class::cast)
        .orElse(AuthorizationDecision.ALLOWED);
  }

  /**
   * {@code ForwardBatch}: only from a sidecar the router placed upstream of the stage the batch is
   * for. {@code placedUpstream} is the set the router sent this sidecar with that assignment; empty
   * when it has none (then nobody may forward to it).
   */
  public AuthorizationDecision forwardBatch(
      Optional<WorkloadIdentity> caller, Set<WorkloadIdentity> placedUpstream) {
    Optional<Denied> unverified = requireOurs(caller);
    if (unverified.isPresent()) {
      return unverified.get();
    }
    if (!placedUpstream.contains(caller.orElseThrow())) {
      return new Denied(
          PERMISSION_DENIED,
          caller.orElseThrow().toUri() + " is not placed upstream of this stage");
    }
    return AuthorizationDecision.ALLOWED;
  }

  /**
   * {@code PushRecords}: only the pod's own sources, which reach the sidecar over loopback; never
   * from the network, certificate or not.
   */
  public AuthorizationDecision pushRecords(boolean peerIsLoopback) {
    if (!peerIsLoopback) {
      return new Denied(
          PERMISSION_DENIED,
          "PushRecords is served only to the pod's own processes, over loopback");
    }
    return AuthorizationDecision.ALLOWED;
  }

  /**
   * Whether a transport peer address is a loopback address. Anything that is not an IP socket
   * address (an in-process or Unix-domain peer, an unresolved name) is not loopback: the rule fails
   * closed.
   */
  public static boolean isLoopback(SocketAddress peer) {
    return peer instanceof InetSocketAddress inet
        && inet.getAddress() != null
        && inet.getAddress().isLoopbackAddress();
  }

  private Optional<Denied> requireOurs(Optional<WorkloadIdentity> caller) {
    if (caller.isEmpty()) {
      return Optional.of(
          new Denied(UNAUTHENTICATED, "a client certificate from the Conveyor CA is required"));
    }
    if (!caller.get().trustDomain().equals(trustDomain)) {
      return Optional.of(
          new Denied(
              PERMISSION_DENIED,
              "the client certificate names trust domain "
                  + caller.get().trustDomain()
                  + ", not "
                  + trustDomain));
    }
    return Optional.empty();
  }
}
