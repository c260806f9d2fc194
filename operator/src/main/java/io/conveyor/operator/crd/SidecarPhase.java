package io.conveyor.operator.crd;

/**
 * {@code status.phase} of a ConveyorSidecar. The constants are spelled as they appear in the API
 * (Kubernetes phases are PascalCase), so the generated CRD lists exactly these values.
 */
public enum SidecarPhase {
  /** The pod or its sidecar is starting, or the sidecar has not registered with the router yet. */
  Pending,
  /**
   * Registered with the router, not yet serving: the pod, the sidecar or its services are not
   * ready.
   */
  Registered,
  /** Registered, serving, pod and sidecar ready, every discovered service healthy. */
  Ready,
  /** Was ready (or has a service failing its checks) and no longer is. */
  Degraded,
  /** The router dropped the sidecar (missed heartbeats, or it left) while its pod still runs. */
  Lost,
  /** The pod is being deleted or has finished, or the sidecar is draining. */
  Terminating
}
