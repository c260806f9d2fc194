package io.conveyor.sidecar.routing;

/** Another pod's sidecar that runs a stage. */
public record RemoteTarget(String sidecarId, String endpoint, String podName, String identity) {

  /** A target known by no certificate: the router runs without mutual TLS. */
  public RemoteTarget(String sidecarId, String endpoint, String podName) {
    this(sidecarId, endpoint, podName, "");
  }
}
