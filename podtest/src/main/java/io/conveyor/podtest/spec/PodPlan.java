package io.conveyor.podtest.spec;

import java.time.Duration;
import java.util.List;

/** A whole pod translated: its identity, volumes, and containers in the kubelet's start order. */
public record PodPlan(
    PodIdentity identity,
    PodLayout layout,
    List<VolumePlan> volumes,
    List<ContainerPlan> containers,
    Duration terminationGrace,
    String etcHosts,
    String resolvConf) {

  public ContainerPlan container(String name) {
    return containers.stream()
        .filter(c -> c.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no container " + name));
  }
}
