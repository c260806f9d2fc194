package io.conveyor.podtest.spec;

import java.time.Duration;

/** One probe, its port resolved by name, with the kubelet's defaults filled in. */
public record ProbePlan(
    Kind kind,
    int port,
    String path,
    String grpcService,
    Duration initialDelay,
    Duration period,
    Duration timeout,
    int failureThreshold,
    int successThreshold) {

  /** How the probe is made against the pod IP. */
  public enum Kind {
    HTTP,
    HTTPS,
    TCP,
    GRPC
  }
}
