package io.conveyor.router.plan;

import io.conveyor.router.pipeline.Stage;
import io.conveyor.router.registry.SidecarRecord;
import java.util.List;

/**
 * Where one stage runs.
 *
 * @param hosts every sidecar whose pod runs a healthy service for the stage, draining ones included
 *     (they still finish what they hold), in sidecar id order
 * @param targets the hosts that accept new batches: what other sidecars route to; in id order
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
    return find(hosts, sidecarId) >= 0;
  }

  /** The host with this id; null when it is none. */
  SidecarRecord host(String sidecarId) {
    int at = find(hosts, sidecarId);
    return at >= 0 ? hosts.get(at) : null;
  }

  /** The target with this id; null when it is none. */
  SidecarRecord target(String sidecarId) {
    int at = find(targets, sidecarId);
    return at >= 0 ? targets.get(at) : null;
  }

  /**
   * Binary search by sidecar id in a list in id order: the index, or {@code -(insertion point) -
   * 1}.
   */
  static int find(List<SidecarRecord> sorted, String sidecarId) {
    int low = 0;
    int high = sorted.size() - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int cmp = sorted.get(mid).sidecarId().compareTo(sidecarId);
      if (cmp < 0) {
        low = mid + 1;
      } else if (cmp > 0) {
        high = mid - 1;
      } else {
        return mid;
      }
    }
    return -(low + 1);
  }
}
