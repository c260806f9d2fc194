package io.conveyor.sidecar.routing;

/** Another pod's sidecar that runs a stage. */
public record RemoteTarget(String sidecarId, String endpoint, String podName) {}
