package io.conveyor.router.plan;

import io.conveyor.router.pipeline.Stage;
import io.conveyor.router.registry.SidecarRecord;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where one stage runs.
 *
 * @param hosts every sidecar whose pod runs a healthy service for the stage, draining ones included
 *     (they still finish what they hold)
 * @param targets the hosts that accept new batches: what other sidecars route to
 * @param hostIds the ids of {@code hosts}, for constant-time membership checks
 */
public record StagePlan(
    Stage stage, List<SidecarRecord> hosts, List<SidecarRecord> targets, Set<String> hostIds) {

  public StagePlan {
    hosts = List.copyOf(hosts);
    targets = List.copyOf(targets);
    hostIds = Set.copyOf(hostIds);
  }

  public StagePlan(Stage stage, List<SidecarRecord> hosts, List<SidecarRecord> targets) {
    this(
        stage,
        hosts,
        targets,
        hosts.stream().map(SidecarRecord::sidecarId).collect(Collectors.toSet()));
  }

  /** Number of replicas that can take traffic. */
  public int replicas() {
    return targets.size();
  }

  public boolean hostedBy(String sidecarId) {
    return hostIds.contains(sidecarId);
  }
}
