package io.conveyor.router.plan;

import io.conveyor.router.pipeline.Stage;
import io.conveyor.router.registry.SidecarRecord;
import java.util.List;

/**
 * Where one stage runs.
 *
 * @param hosts every sidecar whose pod runs a healthy service for the stage, draining ones included
 *     (they still finish what they hold)
 * @param targets the hosts that accept new batches: what other sidecars route to
 */
public record StagePlan(Stage stage, List<SidecarRecord> hosts, List<SidecarRecord> targets) {

  public StagePlan {
    hosts = List.copyOf(hosts);
    targets = List.copyOf(targets);
  }

  /** Number of replicas that can take traffic. */
  public int replicas() {
    return targets.size();
  }

  public boolean hostedBy(String sidecarId) {
    return hosts.stream().anyMatch(h -> h.sidecarId().equals(sidecarId));
  }
}
